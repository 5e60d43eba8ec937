"""A small typed model of a deployment, read from its synthesized Terraform JSON.

The diagram, the price and the drill all read this model, and the model reads only the
synthesized stack (``cdk.tf.json``), never the config: what they show is what ``deploy``
creates. Resources are grouped by provider alias (``primary``, ``secondary`` and the
``us_east_1`` helper when there is one); features are recognised by the resources they
create.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional

from tapinfra.cli.exits import InputError
from tapinfra.config import CANARY_SCHEDULE_PATTERN, MonitoringConfig, canary_interval_seconds
from tapinfra.errors import Problem
from tapinfra.operator.stack_shape import document_problems
from tapinfra.strict_json import MAX_NESTING, Literal, join, read_json_file

from tapinfra import outputs as out
from tapinfra.outputs import ROLES
_REF = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$")
_CANARY_SCHEDULE_DOC = MonitoringConfig.__dataclass_fields__["canary_schedule"].metadata["doc"]


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    alias: Optional[str]          # provider alias ("primary", "secondary", "us_east_1"), None if unaliased
    body: Mapping[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default)


@dataclass(frozen=True)
class Region:
    """The resources one aliased AWS provider creates."""

    alias: str
    name: str                     # e.g. us-east-1
    resources: tuple[Resource, ...]

    def of(self, rtype: str) -> list[Resource]:
        return [r for r in self.resources if r.type == rtype]

    def count(self, rtype: str) -> int:
        return len(self.of(rtype))

    @property
    def role(self) -> Optional[str]:
        return self.alias if self.alias in ROLES else None


@dataclass(frozen=True)
class Architecture:
    """What a synthesized stack deploys: its regions, their resources, its outputs."""

    regions: Mapping[str, Region]         # alias -> Region, in the stack's provider order
    resources: tuple[Resource, ...]
    outputs: Mapping[str, Any]            # output name -> its synthesized value (a ${...} reference or a literal)

    # ------------------------------------------------------------ lookups

    def region(self, alias: str) -> Region:
        return self.regions[alias]

    @property
    def helpers(self) -> list[Region]:
        """Regions other than primary and secondary (the us-east-1 helper for Route 53)."""
        return [r for alias, r in self.regions.items() if alias not in ROLES]

    def of(self, rtype: str) -> list[Resource]:
        return [r for r in self.resources if r.type == rtype]

    def resolve(self, reference: Any) -> Optional[Resource]:
        """The resource a ``${type.name.attr}`` reference points at (None for literals)."""
        if not isinstance(reference, str):
            return None
        m = _REF.match(reference)
        if not m:
            return None
        return next((r for r in self.resources if r.type == m.group(1) and r.name == m.group(2)), None)

    # ------------------------------------------------------------ what is deployed

    def output_resource(self, spec: out.OutputSpec, role: Optional[str] = None) -> Optional[Resource]:
        """The resource the stack's output ``spec`` (of region ``role``) refers to, None without one."""
        return self.resolve(self.outputs.get(spec.key(role)))

    def function(self, role: str) -> Optional[Resource]:
        """The region's API function: the one its ``function_name`` output names (modules such as
        ingestion add functions of their own to the region)."""
        found = self.output_resource(out.FUNCTION_NAME, role) if role in self.regions else None
        return found if found is not None and found.type == "aws_lambda_function" else None

    def drain_parameter(self, role: str) -> Optional[Resource]:
        """The SSM parameter the region's function reads as its drain switch (its DRAIN_PARAMETER_NAME)."""
        fn = self.function(role)
        if fn is None:
            return None
        variables = (fn.get("environment") or {}).get("variables") or {}
        found = self.resolve(variables.get("DRAIN_PARAMETER_NAME"))
        return found if found is not None and found.type == "aws_ssm_parameter" else None

    def health_check(self, role: str) -> Optional[Resource]:
        """The Route 53 health check probing the region's endpoint (its ``health_check_id`` output)."""
        found = self.output_resource(out.HEALTH_CHECK_ID, role) if role in self.regions else None
        return found if found is not None and found.type == "aws_route53_health_check" else None

    @property
    def zone(self) -> Optional[Resource]:
        """The hosted zone the stack creates (its ``zone_name_servers`` output), None when it looks one up."""
        found = self.output_resource(out.ZONE_NAME_SERVERS)
        return found if found is not None and found.type == "aws_route53_zone" else None

    @property
    def routing_records(self) -> list[Resource]:
        """The custom domain's records (one per region, with a set identifier)."""
        return [r for r in self.of("aws_route53_record") if r.get("set_identifier")]

    @property
    def routing_policy(self) -> Optional[str]:
        for record in self.routing_records:
            for policy in ("latency", "failover", "weighted"):
                if record.get(f"{policy}_routing_policy"):
                    return policy
        return None

    @property
    def domain_name(self) -> Optional[str]:
        return next((r.get("name") for r in self.routing_records), None)

    @property
    def table(self) -> Optional[Resource]:
        found = self.output_resource(out.TABLE_NAME)
        return found if found is not None and found.type == "aws_dynamodb_table" else None

    @property
    def replication(self) -> Optional[Resource]:
        return next(iter(self.of("aws_s3_bucket_replication_configuration")), None)

    def replication_time_control(self) -> bool:
        config = self.replication
        return config is not None and any(
            ((rule.get("destination") or {}).get("replication_time") or {}).get("status") == "Enabled"
            for rule in config.get("rule") or [])

    def forwarding(self) -> list[tuple[str, str]]:
        """(from alias, to alias) for every event target that delivers to another region's bus."""
        pairs = []
        for target in self.of("aws_cloudwatch_event_target"):
            bus = self.resolve(target.get("arn"))
            if bus is not None and bus.type == "aws_cloudwatch_event_bus" and bus.alias != target.alias:
                pairs.append((target.alias, bus.alias))
        return pairs

    def replication_pairs(self) -> list[tuple[str, str]]:
        """(source alias, destination alias) of S3 replication."""
        pairs = []
        for config in self.of("aws_s3_bucket_replication_configuration"):
            for rule in config.get("rule") or []:
                bucket = self.resolve((rule.get("destination") or {}).get("bucket"))
                if bucket is not None:
                    pairs.append((config.alias, bucket.alias))
        return pairs

    def table_replica_aliases(self) -> list[str]:
        """Aliases whose region holds the global table or one of its replicas."""
        table = self.table
        if table is None:
            return []
        by_name = {r.name: alias for alias, r in self.regions.items()}
        aliases = [table.alias]
        aliases += [by_name[rep["region_name"]] for rep in table.get("replica") or [] if rep.get("region_name") in by_name]
        return aliases

    @property
    def features(self) -> frozenset[str]:
        """Which switchable features and optional modules the stack contains, by their resources."""
        found = set()
        checks = {
            "waf": "aws_wafv2_web_acl",
            "canaries": "aws_synthetics_canary",
            "dnssec": "aws_route53_hosted_zone_dnssec",
            "alarm_emails": "aws_sns_topic_subscription",
            "aurora": "aws_rds_cluster",
            "s3_replication": "aws_s3_bucket_replication_configuration",
        }
        found.update(name for name, rtype in checks.items() if self.of(rtype))
        if any(self.drain_parameter(role) for role in ROLES):
            found.add("drain_switch")
        if self.forwarding():
            found.add("event_forwarding")
        # health checks alone are no custom domain: a stack without one still checks each region
        if self.routing_records or self.of("aws_api_gateway_domain_name"):
            found.add("dns")
        if any(s.get("cache_cluster_enabled") for s in self.of("aws_api_gateway_stage")):
            found.add("api_cache")
        if any(t.get("service_namespace") == "dynamodb" for t in self.of("aws_appautoscaling_target")):
            found.add("table_autoscaling")
        if any(e.get("vpc_endpoint_type") == "Interface" for e in self.of("aws_vpc_endpoint")):
            found.add("vpc_endpoints")
        if self.replication_time_control():
            found.add("replication_time_control")
        return frozenset(found)


# ---------------------------------------------------------------- reading a synthesized stack

def from_document(doc: Any, where: str = "<stack>") -> Architecture:
    """The architecture of a synthesized stack document (``cdk.tf.json`` or ``Testing.synth``).

    Every field the operator commands read is checked first (stack_shape.py), so what they
    compute from it cannot fail on a wrong type: bad input is an InputError naming its JSON path.
    """
    shape = document_problems(doc, where)
    if shape:
        raise InputError(shape)
    providers = doc.get("provider", {}).get("aws")
    if not isinstance(providers, list) or not all(p.get("alias") and p.get("region") for p in providers):
        raise InputError([Problem(where, _shape(doc), "a synthesized tapinfra stack (cdk.tf.json) with aliased AWS providers")])
    resources = tuple(_resources(doc))
    # every AWS resource of a tapinfra stack names its regional provider: the model groups by it
    unknown = [r for r in resources if (r.alias is not None or r.type.startswith("aws_"))
               and r.alias not in {p["alias"] for p in providers}]
    if unknown:
        r = unknown[0]
        raise InputError([Problem(f"{where} at {_path(r, 'provider')}", r.get("provider"),
                                  f"one of the stack's AWS providers ({', '.join('aws.' + p['alias'] for p in providers)})")])
    schedules = [(r, (r.get("schedule") or {}).get("expression")) for r in resources if r.type == "aws_synthetics_canary"]
    bad = [(r, e) for r, e in schedules if e is not None and not re.fullmatch(CANARY_SCHEDULE_PATTERN, e)]
    if bad:
        r, expression = bad[0]
        raise InputError([Problem(f"{where} at {_path(r, 'schedule', 'expression')}", expression,
                                  f"a schedule monitoring.canary_schedule accepts ({_CANARY_SCHEDULE_DOC})")])
    regions = {}
    for provider in providers:
        alias = provider["alias"]
        regions[alias] = Region(alias, provider["region"], tuple(r for r in resources if r.alias == alias))
    missing = [role for role in ROLES if role not in regions]
    if missing:
        raise InputError([Problem(where, sorted(regions), f"providers aliased {' and '.join(ROLES)}")])
    outputs = {name: body.get("value") for name, body in sorted(doc.get("output", {}).items())}
    return Architecture(regions=regions, resources=resources, outputs=outputs)


def _path(r: Resource, *keys: str) -> str:
    """The JSON path of a field of a resource, in the notation of every Problem."""
    path = "resource"
    for key in (r.type, r.name, *keys):
        path = join(path, key)
    return path


def _resources(doc: Mapping[str, Any]) -> Iterator[Resource]:
    for rtype, items in sorted(doc.get("resource", {}).items()):
        for name, body in sorted(items.items()):
            provider = body.get("provider")
            alias = provider.split(".", 1)[1] if isinstance(provider, str) and provider.startswith("aws.") else None
            yield Resource(rtype, name, alias, body)


def _shape(doc: Any) -> Any:
    return sorted(doc)[:8] if isinstance(doc, dict) else type(doc).__name__


def read_stack_json(path: str | Path) -> Architecture:
    """The architecture of a ``cdk.tf.json`` read with the config's strict loader (encoding, depth, big numbers)."""
    where = f"--stack-json {path}"
    doc, problems = read_json_file(path)
    if problems:
        raise InputError([_as_stack_problem(p, where) for p in problems])
    return from_document(doc, where)


def _as_stack_problem(problem: Problem, where: str) -> Problem:
    """A loader problem, named for the stack file (the loader's wording speaks of a config)."""
    if problem.path == "<file>":
        return Problem("--stack-json", problem.value, problem.allowed.replace("JSON file", "cdk.tf.json"))
    allowed = problem.allowed
    if isinstance(problem.value, Literal) and "nested over" in problem.value.text:
        allowed = f"at most {MAX_NESTING} levels of nesting (a synthesized stack has about 12)"
    return Problem(f"{where} at {problem.path}", problem.value, allowed)


def synthesize(config: Any) -> dict[str, Any]:
    """Synthesize ``config`` in-process into a temporary directory (removed afterwards); the stack document."""
    from tapinfra.app import synth_app  # the jsii kernel starts only when a stack is needed

    outdir = Path(tempfile.mkdtemp(prefix="tapinfra-operator-"))
    try:
        return json.loads(synth_app(config, outdir).read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


def canary_runs_per_month(expression: str, hours_per_month: float) -> float:
    """Runs a month of a schedule the config accepts, read by the config's own parser; a run-once schedule runs once."""
    interval = canary_interval_seconds(expression)
    return 1.0 if interval is None else hours_per_month * 3600 / interval


# ---------------------------------------------------------------- command-line plumbing

def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config F`` (synthesized here) or ``--stack-json cdk.tf.json`` (already synthesized)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--config", help="JSON config file to synthesize (default: $TAP_CONFIG, else the embedded default)")
    group.add_argument("--stack-json", help="an already synthesized cdk.tf.json (cdktf.out/stacks/<app>-<env>/cdk.tf.json)")


def architecture_from_args(args: argparse.Namespace) -> Architecture:
    if getattr(args, "stack_json", None) is not None:  # given, even empty: never silently the default config
        return read_stack_json(args.stack_json)
    from tapinfra.config import load_config

    return from_document(synthesize(load_config(args.config)))
