"""A Terraform plan as ``terraform show -json PLANFILE`` writes it, read for review.

Only what the detectors need: each resource change with its provider's region, the
configuration's expressions, the prior state and the drift terraform found while refreshing.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

_INDEX = re.compile(r"\[[^\]]*\]")
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
        marks = self.after_unknown.get(attr) if isinstance(self.after_unknown, dict) else None
        return _any_true(marks)

    def references(self, attr: str) -> list[str]:
        expr = self.config.get("expressions", {}).get(attr)
        return list(expr.get("references", ())) if isinstance(expr, dict) else []

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

    def managed(self) -> Iterator[Change]:
        return (c for c in self.changes if c.mode == "managed")

    def data_change(self, address: str) -> Optional[Change]:
        return next((c for c in self.changes if c.mode == "data" and c.address == address), None)

    def region_of(self, change: Change) -> Optional[str]:
        """The region a change lands in: its provider's, else the one its ARNs name.

        A resource removed from the configuration has no provider key left in the plan.
        """
        if change.provider_key and self.provider_regions.get(change.provider_key):
            return self.provider_regions[change.provider_key]
        for values in (change.after, change.before):
            region = own_region(values) or _arn_majority_region(values)
            if region:
                return region
        return None


def own_region(values: Any) -> Optional[str]:
    """The region of a resource's own ARN (or S3's ``region`` attribute); None for global ones."""
    if not isinstance(values, dict):
        return None
    arn = values.get("arn")
    match = _ARN_REGION.match(arn) if isinstance(arn, str) else None
    if match:
        return match.group(1)
    region = values.get("region")
    return region if isinstance(region, str) and region else None


def _arn_majority_region(values: Any) -> Optional[str]:
    """The region most of a resource's ARN-valued attributes name (e.g. a deployment's execution_arn)."""
    if not isinstance(values, dict):
        return None
    found = Counter(
        m.group(1) for v in values.values() if isinstance(v, str) for m in [_ARN_REGION.match(v)] if m
    )
    return found.most_common(1)[0][0] if found else None


def load_plan(path: str | Path) -> Plan:
    """Read and check a plan JSON file; ``-`` reads standard input."""
    try:
        text = sys.stdin.read() if str(path) == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise PlanError(f"{path} is not text: expected the JSON of `terraform show -json PLANFILE`") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(f"{path} is not JSON ({exc.msg} at line {exc.lineno}): expected `terraform show -json PLANFILE`") from None
    return parse_plan(doc, "standard input" if str(path) == "-" else str(path))


def parse_plan(doc: Any, name: str = "input") -> Plan:
    if not isinstance(doc, dict) or "format_version" not in doc:
        hint = " (that is a synthesized stack, not a plan)" if isinstance(doc, dict) and "resource" in doc else ""
        raise PlanError(f"{name} is not a terraform plan JSON{hint}: run `terraform plan -out=tfplan && terraform show -json tfplan`")
    if "planned_values" not in doc and "resource_changes" not in doc:
        raise PlanError(f"{name} is a terraform state, not a plan: run `terraform plan -out=tfplan && terraform show -json tfplan`")
    if not str(doc["format_version"]).startswith("1."):
        raise PlanError(f"{name}: plan format_version {doc['format_version']} is not supported (1.x is)")
    if doc.get("errored"):
        raise PlanError(f"{name}: the plan errored in terraform; fix the plan first")
    configuration = doc.get("configuration", {})
    config_resources = dict(_config_resources(configuration.get("root_module", {}), ""))
    regions = {key: _constant_region(cfg) for key, cfg in configuration.get("provider_config", {}).items()}

    def change(raw: dict[str, Any]) -> Change:
        key = _config_address(raw)
        config = config_resources.get(key, {})
        ch = raw.get("change", {})
        return Change(
            address=raw["address"],
            mode=raw.get("mode", "managed"),
            type=raw.get("type", ""),
            actions=tuple(ch.get("actions", ())),
            before=ch.get("before"),
            after=ch.get("after"),
            after_unknown=ch.get("after_unknown") or {},
            action_reason=raw.get("action_reason", ""),
            replace_paths=tuple(tuple(p) for p in ch.get("replace_paths", ())),
            provider_key=config.get("provider_config_key"),
            config=config,
        )

    try:
        changes = [change(r) for r in doc.get("resource_changes", ())]
        drift = [change(r) for r in doc.get("resource_drift", ())]
    except (KeyError, TypeError, AttributeError) as exc:
        raise PlanError(f"{name}: malformed resource_changes ({exc}); expected `terraform show -json PLANFILE`") from None
    prior_root = doc.get("prior_state", {}).get("values", {}).get("root_module", {})
    return Plan(
        terraform_version=str(doc.get("terraform_version", "?")),
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
    for res in module.get("resources", ()):
        yield prefix + res["address"], res
    for name, call in module.get("module_calls", {}).items():
        yield from _config_resources(call.get("module", {}), f"{prefix}module.{name}.")


def _state_resources(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources", ())
    for child in module.get("child_modules", ()):
        yield from _state_resources(child)


def _constant_region(provider: dict[str, Any]) -> Optional[str]:
    region = provider.get("expressions", {}).get("region", {})
    value = region.get("constant_value") if isinstance(region, dict) else None
    return value if isinstance(value, str) else None


def _any_true(marks: Any) -> bool:
    if marks is True:
        return True
    if isinstance(marks, dict):
        return any(_any_true(v) for v in marks.values())
    if isinstance(marks, list):
        return any(_any_true(v) for v in marks)
    return False
