"""The stack's outputs, declared once: what ``stack.py`` writes and the operator tools read.

An :class:`OutputSpec` is one output: its name, description, scope (one value for the stack,
or one per region, named ``<role>_<name>``), the kind of value ``terraform output -json`` gives,
and whether it is sensitive. ``TapStack`` writes an output with ``stack.output(*spec.output(
value, region))``; a tool reads the deployment's outputs with :meth:`StackOutputs.read` and asks
for ``outputs.get(spec, role)`` / ``outputs.require(spec, role)``: no output name is spelled
twice, and every bad value is reported as ``outputs.<name>``, the value and what is allowed.

A module (:mod:`tapinfra.modules`) declares its outputs the same way: ``register_output(
OutputSpec(...))`` at import, then returns ``spec.output(value, region)`` (an :class:`Output`)
from its ``outputs`` hook; the stack refuses a module's output that no registered spec declares.
This file loads no cdktf: the operator tools import it.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Literal, Mapping, NamedTuple, Optional, Union

from tapinfra.cli.exits import InputError
from tapinfra.errors import Problem

ROLES = ("primary", "secondary")
Scope = Literal["global", "regional"]


@dataclass(frozen=True)
class ValueKind:
    """What an output's value is, as ``terraform output -json`` gives it: ``check(value)`` and,
    for a message, ``allowed``."""

    allowed: str
    check: Callable[[Any], bool]


def _is_url(value: Any, schemes: tuple[str, ...] = ("https", "http")) -> bool:
    """An http(s) URL urllib can request: a host, no spaces or control characters."""
    if not isinstance(value, str) or not value.isascii() or not value.isprintable() or " " in value:
        return False
    parts = urllib.parse.urlsplit(value)
    return parts.scheme in schemes and bool(parts.hostname)


TEXT = ValueKind("a non-empty string", lambda v: isinstance(v, str) and bool(v))
URL = ValueKind("an http(s) URL with a host (as terraform output gives)", _is_url)
TEXT_MAP = ValueKind("an object of name -> string (as terraform output gives)",
                     lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()))
TEXT_LIST = ValueKind("a list of strings", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v))
OBJECT = ValueKind("a JSON object", lambda v: isinstance(v, dict))
ANY = ValueKind("any JSON value", lambda v: True)


class Output(NamedTuple):
    """One stack output, as :meth:`OutputSpec.output` makes it: the arguments of ``TapStack.output``
    (``stack.output(*spec.output(value, region))``), and what a module's ``outputs`` hook returns."""

    name: str
    value: Any           # a token or a literal
    description: str
    sensitive: bool = False


# A description: a template with {role}, {region} (its AWS name) and {where} ("the primary
# region (us-east-1)"), or one template per role.
Description = Union[str, Mapping[str, str]]


@dataclass(frozen=True)
class OutputSpec:
    """One output of the stack.

    :param name: its Terraform name; for ``scope="regional"`` the part after ``<role>_``.
    :param description: the description Terraform shows (default templates: module docstring).
    :param scope: ``"global"`` (default): one output; ``"regional"``: one per region.
    :param kind: what its value is (default :data:`TEXT`), checked when a tool reads it.
    :param sensitive: whether Terraform hides its value (default False).
    :param when: the config that writes it, in Markdown, for the README (default "": every stack).
    """

    name: str
    description: Description
    scope: Scope = "global"
    kind: ValueKind = TEXT
    sensitive: bool = False
    when: str = ""

    def __post_init__(self) -> None:
        if self.scope not in ("global", "regional"):
            raise ValueError(f"output {self.name!r}: scope {self.scope!r}; allowed: global, regional")
        if not self.name or not self.name.replace("_", "").isalnum() or self.name != self.name.lower():
            raise ValueError(f"output name {self.name!r}: lower-case letters, digits and _")

    def key(self, role: Optional[str] = None) -> str:
        """The output's name in the stack (``role`` given exactly when the spec is regional)."""
        if (role is not None) != (self.scope == "regional"):
            raise ValueError(f"output {self.name!r} is {self.scope}: "
                             + ("it needs a region role" if role is None else "it takes no region role"))
        return f"{role}_{self.name}" if role is not None else self.name

    def describe(self, region: Any = None, **fields: str) -> str:
        """The description for ``region`` (anything with ``role`` and ``name``; None when global),
        its template filled with ``fields`` too (``custom_domain_url``'s ``policy``)."""
        if region is None:
            return self.description.format(**fields) if isinstance(self.description, str) else self.description["global"]
        template = self.description if isinstance(self.description, str) else self.description[region.role]
        return template.format(role=region.role, region=region.name, where=f"the {region.role} region ({region.name})",
                               **fields)

    def output(self, value: Any, region: Any = None, **fields: str) -> Output:
        """This output with ``value`` (in ``region`` when regional): ``(name, value, description, sensitive)``."""
        return Output(self.key(None if region is None else region.role), value, self.describe(region, **fields),
                      self.sensitive)


class OutputRegistry:
    """Every declared output by name; a name is declared once."""

    def __init__(self) -> None:
        self._specs: dict[str, OutputSpec] = {}

    def register(self, spec: OutputSpec) -> OutputSpec:
        if spec.name in self._specs and self._specs[spec.name] != spec:
            raise ValueError(f"an output named {spec.name!r} is already declared")
        self._specs[spec.name] = spec
        return spec

    def unregister(self, name: str) -> None:
        self._specs.pop(name)

    def __iter__(self) -> Iterator[OutputSpec]:
        return iter(self._specs.values())

    def spec_of(self, key: str) -> Optional[tuple[OutputSpec, Optional[str]]]:
        """The spec (and role) an output name in the stack belongs to, None when undeclared."""
        for role in ROLES:
            if key.startswith(f"{role}_"):
                spec = self._specs.get(key[len(role) + 1:])
                if spec is not None and spec.scope == "regional":
                    return spec, role
        spec = self._specs.get(key)
        return (spec, None) if spec is not None and spec.scope == "global" else None


REGISTRY = OutputRegistry()


def register_output(spec: OutputSpec) -> OutputSpec:
    """Declare ``spec`` (a module's output, at import) so the stack writes it and the readers check
    it; returns it. A name is declared once (the same spec again is harmless)."""
    return REGISTRY.register(spec)


def unregister_output(name: str) -> None:
    """Remove an output declared with :func:`register_output` (a test's teardown)."""
    REGISTRY.unregister(name)


def declared(registry: OutputRegistry = REGISTRY) -> OutputRegistry:
    """``registry``; the global one with the built-in modules' outputs declared (their files
    declare them on import)."""
    if registry is REGISTRY:
        import tapinfra.modules  # noqa: F401
    return registry


# ---------------------------------------------------------------- the core outputs

VERSION = register_output(OutputSpec("tapinfra_version", "The tapinfra release that synthesized this stack."))
TABLE_NAME = register_output(OutputSpec("table_name", "Name of the DynamoDB global table (the same in both regions)."))
TABLE_ARN = register_output(OutputSpec("table_arn", "ARN of the global table in the primary region."))
REPLICATION_ROLE_ARN = register_output(OutputSpec("replication_role_arn", "IAM role S3 assumes to replicate the data bucket."))
DASHBOARD_NAME = register_output(OutputSpec(
    "dashboard_name", "CloudWatch dashboard with both regions' widgets (in the primary region)."))
CUSTOM_DOMAIN_URL = register_output(OutputSpec(
    "custom_domain_url", "The API behind Route 53 {policy} routing across both regions.", kind=URL,
    when="`features.dns`"))
ZONE_NAME_SERVERS = register_output(OutputSpec(
    "zone_name_servers", "Delegate the created zone to these name servers at its parent.", kind=TEXT_LIST,
    when="`dns.create_zone_name`"))
ZONE_DS_RECORD = register_output(OutputSpec("zone_ds_record", "DNSSEC DS record to publish at the parent zone.",
                                            when="`dns.create_zone_name`"))
WARNINGS = register_output(OutputSpec(
    "warnings", "What this deployment lacks that production needs, and the field that adds it.", kind=TEXT_LIST,
    when="a shortfall"))

DATA_BUCKET = register_output(OutputSpec("data_bucket", {
    "primary": "Data bucket in {where}; replicated to the secondary.",
    "secondary": "Data bucket in {where}; replica of the primary's."}, scope="regional"))
ACCESS_LOG_BUCKET = register_output(OutputSpec(
    "access_log_bucket", "Server-access-log bucket in {where}.", scope="regional"))
INVOKE_URL = register_output(OutputSpec("invoke_url", "Invoke URL of the API stage in {where}.", scope="regional", kind=URL))
API_ID = register_output(OutputSpec("api_id", "REST API id in {where}.", scope="regional"))
STAGE_NAME = register_output(OutputSpec("stage_name", "Stage name in {where}.", scope="regional"))
FUNCTION_NAME = register_output(OutputSpec("function_name", "Lambda function in {where}.", scope="regional"))
ALIAS_NAME = register_output(OutputSpec("alias_name", "Alias API Gateway invokes in {where}.", scope="regional"))
API_KEY_IDS = register_output(OutputSpec(
    "api_key_ids", "Tenant -> API key id in {where}; read a key's value with "
    "`aws apigateway get-api-key --include-value --api-key <id>`.", scope="regional", kind=TEXT_MAP))
ALARM_TOPIC_ARN = register_output(OutputSpec(
    "alarm_topic_arn", "SNS topic every alarm in {region} notifies.", scope="regional"))
CANARY_NAME = register_output(OutputSpec(
    "canary_name", "Synthetics canary probing /health in {region}.", scope="regional", when="`features.canaries`"))
HEALTH_CHECK_ID = register_output(OutputSpec(
    "health_check_id", "Route 53 health check probing {region}'s own endpoint.", scope="regional"))
RELEASE = register_output(OutputSpec(
    "release", "CodeDeploy application, deployment group and rollback alarms `tapinfra release` uses in {where}.",
    scope="regional", kind=OBJECT, when="`release.enabled`"))


def outputs_table(registry: OutputRegistry = REGISTRY) -> str:
    """The README's table of the declared outputs (tools/update_readme.py writes it)."""
    generic = {"role": "<role>", "region": "its region", "where": "the region", "policy": "`dns.routing_policy`"}
    rows = ["| output | meaning | written when |", "|---|---|---|"]
    for spec in declared(registry):
        if isinstance(spec.description, str):
            meaning = spec.description.format(**generic)
        else:
            meaning = " ".join(f"{role}: {text.format(**generic)}" for role, text in spec.description.items())
        name = f"<role>_{spec.name}" if spec.scope == "regional" else spec.name
        rows.append(f"| `{name}` | {meaning.replace('|', '/')} | {spec.when or 'always'} |")
    return "\n".join(rows) + "\n"


# ---------------------------------------------------------------- reading a deployment's outputs

class StackOutputs:
    """A deployment's outputs (``terraform output -json``, a cdktf outputs file or a flat map,
    unwrapped to name -> value), each declared one checked against its kind."""

    def __init__(self, values: Mapping[str, Any], registry: OutputRegistry = REGISTRY) -> None:
        self.values = dict(values)
        self._registry = registry

    @classmethod
    def parse(cls, mapping: Mapping[str, Any], registry: OutputRegistry = REGISTRY) -> tuple["StackOutputs", list[Problem]]:
        """The outputs of ``mapping``: ``{"name": {"value": v, ...}}`` or ``{"name": v}``, or either
        under one ``{"<stack>": ...}`` (cdktf's outputs file); and a Problem for each declared
        output whose value is not of its kind (``outputs.<name>``, the value, what is allowed)."""
        registry = declared(registry)
        if len(mapping) == 1:
            only = next(iter(mapping.values()))
            if isinstance(only, dict) and "value" not in only and registry.spec_of(next(iter(mapping))) is None:
                mapping = only
        values = {k: v["value"] if isinstance(v, dict) and "value" in v else v for k, v in mapping.items()}
        outputs = cls(values, registry)
        problems = [p for p in (outputs.problem(*found, required=False) for found in map(registry.spec_of, values)
                                if found is not None) if p is not None]
        return outputs, problems

    @classmethod
    def read(cls, mapping: Mapping[str, Any], registry: OutputRegistry = REGISTRY) -> "StackOutputs":
        """:meth:`parse`, raising InputError (exit 2) with its problems when there are any."""
        outputs, problems = cls.parse(mapping, registry)
        if problems:
            raise InputError(problems)
        return outputs

    def problem(self, spec: OutputSpec, role: Optional[str] = None, *, required: bool = True) -> Optional[Problem]:
        """Why the value of ``spec`` cannot be used (absent and ``required``, or not of its kind); None when it can."""
        key = spec.key(role)
        if key not in self.values:
            return Problem(f"outputs.{key}", None, f"{spec.kind.allowed}; terraform output -json gives it") if required else None
        value = self.values[key]
        return None if spec.kind.check(value) else Problem(f"outputs.{key}", value, spec.kind.allowed)

    def get(self, spec: OutputSpec, role: Optional[str] = None, default: Any = None) -> Any:
        """The value of ``spec`` (of region ``role`` when regional) when present and of its kind, else ``default``."""
        return default if self.problem(spec, role) is not None else self.values[spec.key(role)]

    def require(self, spec: OutputSpec, role: Optional[str] = None) -> Any:
        """The value of ``spec``; InputError (exit 2) naming it when absent or not of its kind."""
        problem = self.problem(spec, role)
        if problem is not None:
            raise InputError([problem])
        return self.values[spec.key(role)]
