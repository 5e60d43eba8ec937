"""A Terraform plan as ``terraform show -json PLANFILE`` writes it, read for review.

Only what the detectors need: each resource change with its provider's region, the
configuration's expressions, the prior state and the drift terraform found while refreshing.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import sys
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from tapinfra.review.catalog import OWN_REGION_ATTRIBUTES
from tapinfra.review.shape import MAX_NESTING, nesting_problem, plan_problem

_INDEX = re.compile(r"\[[^\]]*\]")
GZIP_MAGIC = b"\x1f\x8b"
# A plan of a few thousand resources is tens of megabytes; a gzip bomb is refused before it fills memory.
MAX_PLAN_BYTES = 1024 * 1024 * 1024
_ARN_REGION = re.compile(r"^arn:[a-z-]+:[a-z0-9-]+:([a-z]{2}(?:-[a-z]+)+-[0-9]):")


class PlanError(ValueError):
    """The input is not a plan review can read; the message is one line for the user."""


@dataclass(frozen=True)
class Change:
    address: str
    mode: str  # "managed" or "data"
    type: str
    actions: tuple[str, ...]
    before: Any
    after: Any
    after_unknown: Any
    action_reason: str
    replace_paths: tuple[tuple[Any, ...], ...]
    provider_key: Optional[str]  # "aws.primary"; None when the configuration no longer has it
    config: dict[str, Any] = field(repr=False, compare=False)

    @property
    def kind(self) -> str:
        """create, update, replace, delete, read, no-op or forget."""
        if set(self.actions) == {"create", "delete"}:
            return "replace"
        if self.actions == ("delete",):
            return "delete"
        return self.actions[0] if len(self.actions) == 1 else "+".join(self.actions)

    @property
    def create_before_destroy(self) -> bool:
        return self.actions == ("create", "delete")

    @property
    def removes(self) -> bool:
        """The object that exists now goes away (delete or either order of replace)."""
        return "delete" in self.actions

    def before_value(self, attr: str) -> Any:
        return self.before.get(attr) if isinstance(self.before, dict) else None

    def after_value(self, attr: str) -> Any:
        """The planned value; None also when unknown (check ``unknown``)."""
        return self.after.get(attr) if isinstance(self.after, dict) else None

    def unknown(self, attr: str) -> bool:
        """True when any part of ``attr`` is known only after apply."""
        if self.after_unknown is True:  # the whole object is known only after apply
            return True
        marks = self.after_unknown.get(attr) if isinstance(self.after_unknown, dict) else None
        return _any_true(marks)

    def unknown_at(self, *path: str | int) -> bool:
        """True when the value at ``path`` (``"ttl", 0, "attribute_name"``), or any part of it, is known only after apply."""
        marks: Any = self.after_unknown
        for step in path:
            if marks is True:
                return True
            if isinstance(marks, dict) and isinstance(step, str):
                marks = marks.get(step)
            elif isinstance(marks, list) and isinstance(step, int) and 0 <= step < len(marks):
                marks = marks[step]
            else:
                return False
        return _any_true(marks)

    def before_list(self, attr: str) -> list[dict[str, Any]]:
        """A nested block's objects before (a block is a list of objects in a plan; anything else is none)."""
        return _blocks(self.before_value(attr))

    def after_list(self, attr: str) -> list[dict[str, Any]]:
        return _blocks(self.after_value(attr))

    def references(self, attr: str) -> list[str]:
        expr = self.config.get("expressions", {}).get(attr)
        refs = expr.get("references") if isinstance(expr, dict) else None
        return [r for r in refs if isinstance(r, str)] if isinstance(refs, list) else []

    def configured(self, attr: str) -> bool:
        """The configuration sets ``attr`` (a name the user chose, not one AWS generates)."""
        return attr in self.config.get("expressions", {})


@dataclass
class Plan:
    terraform_version: str
    changes: list[Change]  # managed and data resources, in plan order
    drift: list[Change]  # what refresh found changed outside terraform (resource_drift)
    prior: list[dict[str, Any]]  # prior-state resources (address, type, values)
    provider_regions: dict[str, Optional[str]]  # provider config key -> constant region
    config_providers: dict[str, str]  # configuration address -> provider config key
    reading: Optional[Change] = field(default=None, repr=False, compare=False)  # the change a rule reads now

    def managed(self) -> Iterator[Change]:
        for c in self.changes:
            if c.mode == "managed":
                self.reading = c
                yield c

    def data_change(self, address: str) -> Optional[Change]:
        return next((c for c in self.changes if c.mode == "data" and c.address == address), None)

    def region_of(self, change: Change) -> Optional[str]:
        """The region a change lands in: its provider's, else the one its ARNs name.

        A resource removed from the configuration has no provider key left in the plan.
        """
        if change.provider_key and self.provider_regions.get(change.provider_key):
            return self.provider_regions[change.provider_key]
        for values in (change.after, change.before):
            region = own_region(change.type, values)
            if region is None and change.type not in OWN_REGION_ATTRIBUTES:  # none of its ARNs is its own
                region = _arn_majority_region(values)
            if region:
                return region
        return None


def own_region(rtype: str, values: Any) -> Optional[str]:
    """The region a resource itself lives in, from the attribute that says so for its type.

    That is the ``arn`` for most types, S3's ``region`` (a bucket's ARN names none), and
    nothing for types whose ``arn`` is another resource's (an event target's is its
    target's: the peer region's bus). None too for global resources.
    """
    if not isinstance(values, dict):
        return None
    attr = OWN_REGION_ATTRIBUTES.get(rtype, "arn")
    value = values.get(attr) if attr else None
    if not isinstance(value, str) or not value:
        return None
    if attr != "arn":
        return value
    match = _ARN_REGION.match(value)
    return match.group(1) if match else None


def _arn_majority_region(values: Any) -> Optional[str]:
    """The region most of a resource's ARN-valued attributes name (e.g. a deployment's execution_arn)."""
    if not isinstance(values, dict):
        return None
    found = Counter(
        m.group(1) for v in values.values() if isinstance(v, str) for m in [_ARN_REGION.match(v)] if m
    )
    return found.most_common(1)[0][0] if found else None


def load_plan(path: str | Path) -> Plan:
    """Read and check a plan JSON file; ``-`` reads standard input.

    Gzipped plans are read as they are, and text in any encoding JSON allows: UTF-8 with or
    without a BOM, UTF-16 or UTF-32 (what PowerShell's ``>`` writes).
    """
    name = "standard input" if str(path) == "-" else str(path)
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else Path(path).read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a path with a NUL byte
        raise PlanError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_plan(decode_json(data, name), name)


def decode_json(data: bytes, name: str) -> Any:
    """The JSON value of a file's bytes (gunzipped if gzipped); PlanError names what is wrong."""
    if data[:2] == GZIP_MAGIC:
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
                data = fh.read(MAX_PLAN_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise PlanError(f"{name} is not a readable gzip file ({exc}): expected a gzipped `terraform show -json PLANFILE`") from None
        if len(data) > MAX_PLAN_BYTES:
            raise PlanError(f"{name} unpacks to more than {MAX_PLAN_BYTES} bytes: expected a plan of at most that size")
    encoding = json.detect_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise PlanError(f"{name} is not text (byte {exc.start} is not {encoding}): expected the JSON of `terraform show -json PLANFILE`") from None
    try:
        return json.loads(text, parse_int=_parse_int, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise PlanError(f"{name} is not JSON ({exc.msg} at line {exc.lineno}): expected `terraform show -json PLANFILE`") from None
    except RecursionError:
        raise PlanError(f"{name} nests deeper than JSON can be read here: expected at most {MAX_NESTING} levels, as in terraform's plans") from None
    except _NotAPlanNumber as exc:
        raise PlanError(f"{name}: {exc}") from None


class _NotAPlanNumber(ValueError):
    pass


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than sys.get_int_max_str_digits()
        raise _NotAPlanNumber(f"an integer of {len(text.lstrip('-'))} digits: expected numbers terraform can write") from None


def _refuse_constant(text: str) -> Any:
    raise _NotAPlanNumber(f"the number {text}: expected numbers JSON allows (terraform never writes NaN or Infinity)")


def parse_plan(doc: Any, name: str = "input") -> Plan:
    if not isinstance(doc, dict) or "format_version" not in doc:
        hint = " (that is a synthesized stack, not a plan)" if isinstance(doc, dict) and "resource" in doc else ""
        raise PlanError(f"{name} is not a terraform plan JSON{hint}: run `terraform plan -out=tfplan && terraform show -json tfplan`")
    problem = nesting_problem(doc) or plan_problem(doc)
    if problem is not None:
        raise PlanError(f"{name}: {problem}")
    if "planned_values" not in doc and "resource_changes" not in doc:
        raise PlanError(f"{name} is a terraform state, not a plan: run `terraform plan -out=tfplan && terraform show -json tfplan`")
    if not doc["format_version"].startswith("1."):
        raise PlanError(f"{name}: format_version: got {json.dumps(doc['format_version'])[:80]}; expected 1.x (the plan format this review reads)")
    if doc.get("errored"):
        raise PlanError(f"{name}: the plan errored in terraform; fix the plan first")
    configuration = doc.get("configuration") or {}
    config_resources = dict(_config_resources(configuration.get("root_module") or {}, ""))
    regions = {key: _constant_region(cfg) for key, cfg in (configuration.get("provider_config") or {}).items()}

    def change(raw: dict[str, Any]) -> Change:
        config = config_resources.get(_config_address(raw), {})
        ch = raw["change"]
        return Change(
            address=raw["address"],
            mode=raw.get("mode", "managed"),
            type=raw.get("type", ""),
            actions=tuple(ch["actions"]),
            before=ch.get("before"),
            after=ch.get("after"),
            after_unknown=ch.get("after_unknown") or {},
            action_reason=raw.get("action_reason", ""),
            replace_paths=tuple(tuple(p) for p in ch.get("replace_paths") or ()),
            provider_key=config.get("provider_config_key"),
            config=config,
        )

    changes = [change(r) for r in doc.get("resource_changes") or ()]
    drift = [change(r) for r in doc.get("resource_drift") or ()]
    prior_root = ((doc.get("prior_state") or {}).get("values") or {}).get("root_module") or {}
    return Plan(
        terraform_version=doc.get("terraform_version", "?"),
        changes=changes,
        drift=drift,
        prior=list(_state_resources(prior_root)),
        provider_regions=regions,
        config_providers={addr: cfg.get("provider_config_key", "") for addr, cfg in config_resources.items()},
    )


def config_address(address: str) -> str:
    """A resource instance's address without instance keys: where it sits in the configuration."""
    return _INDEX.sub("", address)


def _config_address(raw: dict[str, Any]) -> str:
    return config_address(raw["address"])


def _config_resources(module: dict[str, Any], prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for res in module.get("resources") or ():
        yield prefix + res["address"], res
    for name, call in (module.get("module_calls") or {}).items():
        yield from _config_resources(call.get("module") or {}, f"{prefix}module.{name}.")


def _state_resources(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources") or ()
    for child in module.get("child_modules") or ():
        yield from _state_resources(child)


def _constant_region(provider: dict[str, Any]) -> Optional[str]:
    region = (provider.get("expressions") or {}).get("region", {})
    value = region.get("constant_value") if isinstance(region, dict) else None
    return value if isinstance(value, str) else None


def _blocks(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _any_true(marks: Any) -> bool:
    if marks is True:
        return True
    if isinstance(marks, dict):
        return any(_any_true(v) for v in marks.values())
    if isinstance(marks, list):
        return any(_any_true(v) for v in marks)
    return False
