"""The two sides of a Terraform plan as synthesized-stack documents, so the model can read them.

``cost --diff`` prices what exists before a plan and what exists after it with the same
estimate it gives a ``cdk.tf.json``. A plan (``terraform show -json``) holds both sides:
BEFORE is ``prior_state`` (the state as terraform refreshed it), AFTER is each resource
change's ``after`` (creates, updates, replacements and no-ops; deletes drop out). Both are
turned into the shape ``model.from_document`` reads:

- the provider of a resource is its configuration's ``provider_config_key`` (``aws.primary``);
  a resource the configuration no longer has is placed by the region its ARNs name;
- the region of an alias is the configuration's constant for AFTER, and for BEFORE the region
  the alias's resources themselves name (a plan that moves a region shows both);
- nested blocks terraform writes as one-item lists become the objects ``cdk.tf.json`` has,
  for exactly the fields ``stack_shape.RESOURCES`` declares as objects; nulls are dropped;
- an attribute the configuration sets from another resource's attribute becomes the
  ``${type.name.attr}`` reference the synthesized stack had, when the values agree (so the
  model finds a provisioned-concurrency config's function and its memory size).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from tapinfra.operator.stack_shape import RESOURCES, Items, Obj, Shape
from tapinfra.review.plan import Change, Plan, _arn_majority_region, config_address, own_region

AWS_PROVIDER_SUFFIX = "hashicorp/aws"


@dataclass(frozen=True)
class PlanSides:
    before: dict[str, Any]        # a stack document of prior_state
    after: dict[str, Any]         # a stack document of the planned objects
    gone_at_refresh: Counter      # region -> resources the refresh found gone (resource_drift deletes)
    unplaced: int                 # prior resources with neither a provider nor a region to place them by
    actions: Counter              # (region, type, action) -> count, for create/delete/replace/update


def plan_sides(plan: Plan) -> PlanSides:
    """BEFORE and AFTER of a parsed plan (``tapinfra.review.plan.parse_plan``) as stack documents."""
    after_regions = {key.split(".", 1)[1]: region for key, region in plan.provider_regions.items()
                     if key.startswith("aws.") and region}
    changes = {c.address: c for c in plan.changes if c.mode == "managed"}

    after_items = []
    for change in changes.values():
        if not isinstance(change.after, dict) or change.actions in (("delete",), ("forget",)):
            continue
        alias = _alias(change.provider_key)
        if alias in after_regions:
            after_items.append((change.type, change.address, alias, change.after, change))

    prior = [r for r in plan.prior if r.get("mode", "managed") == "managed" and isinstance(r.get("type"), str)
             and str(r.get("provider_name", "")).endswith(AWS_PROVIDER_SUFFIX) and isinstance(r.get("values"), dict)]
    placed: list[tuple[dict[str, Any], Optional[str]]] = [
        (r, _alias(plan.config_providers.get(config_address(r["address"])))) for r in prior]
    found: dict[str, Counter] = {}
    for r, alias in placed:
        region = _own_region(r["type"], r["values"])
        if alias in after_regions and region:
            found.setdefault(alias, Counter())[region] += 1
    before_regions = {alias: (found[alias].most_common(1)[0][0] if alias in found else region)
                      for alias, region in after_regions.items()}
    by_region = {region: alias for alias, region in before_regions.items()}
    before_items, unplaced = [], 0
    for r, alias in placed:
        if alias not in before_regions:
            alias = by_region.get(_own_region(r["type"], r["values"]) or "")
        if alias is None:
            unplaced += 1
            continue
        before_items.append((r["type"], r["address"], alias, r["values"], changes.get(r["address"])))

    gone = Counter()
    for drift in plan.drift:
        if drift.mode == "managed" and drift.actions == ("delete",):
            gone[_own_region(drift.type, drift.before) or before_regions.get(_alias(drift.provider_key) or "") or "an unknown region"] += 1
    actions = Counter()
    for change in changes.values():
        if change.kind in ("create", "delete", "replace", "update"):
            region = after_regions.get(_alias(change.provider_key) or "") or _own_region(change.type, change.before) or "unknown region"
            actions[(region, change.type, change.kind)] += 1
    return PlanSides(_document(before_regions, before_items), _document(after_regions, after_items), gone, unplaced, actions)


def _alias(provider_key: Optional[str]) -> Optional[str]:
    return provider_key.split(".", 1)[1] if isinstance(provider_key, str) and provider_key.startswith("aws.") else None


def _own_region(rtype: str, values: Any) -> Optional[str]:
    return own_region(rtype, values) or _arn_majority_region(values)


def _document(regions: dict[str, str], items: Iterable[tuple[str, str, str, dict[str, Any], Optional[Change]]]) -> dict[str, Any]:
    items = list(items)
    values_at = {address: values for _, address, _, values, _ in items}
    resources: dict[str, dict[str, Any]] = {}
    for rtype, address, alias, values, change in items:
        body = normalize(values, RESOURCES.get(rtype))
        for attr, target in _references(change):
            if attr not in body or body[attr] == (values_at.get(target[0]) or {}).get(target[1]):
                body[attr] = "${%s.%s}" % target
        body["provider"] = f"aws.{alias}"
        name = address.split(".", 1)[1] if "." in address else address
        resources.setdefault(rtype, {})[name] = body
    return {"provider": {"aws": [{"alias": alias, "region": region} for alias, region in regions.items()]},
            "resource": resources}


def normalize(value: Any, shape: Optional[Shape]) -> Any:
    """A plan value in ``cdk.tf.json``'s shape: nulls dropped, a one-item block list where an object is read unwrapped."""
    if isinstance(shape, Obj) and isinstance(value, list) and len(value) <= 1:
        value = value[0] if value else None
    if isinstance(value, dict):
        fields = shape.fields if isinstance(shape, Obj) else {}
        inner = shape.values if isinstance(shape, Obj) else None
        return {k: normalize(v, fields.get(k, inner)) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [normalize(v, shape.item if isinstance(shape, Items) else None) for v in value]
    return value


def _references(change: Optional[Change]) -> Iterable[tuple[str, tuple[str, str]]]:
    """(attribute, (resource address, attribute)) for each top-level attribute set from one managed resource's attribute."""
    if change is None:
        return
    for attr, expression in (change.config.get("expressions") or {}).items():
        refs = expression.get("references") if isinstance(expression, dict) else None
        first = refs[0] if isinstance(refs, list) and refs and isinstance(refs[0], str) else ""
        parts = first.split(".")
        if len(parts) == 3 and parts[0].startswith("aws_"):
            yield attr, (f"{parts[0]}.{parts[1]}", parts[2])
