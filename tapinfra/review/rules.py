"""The detectors: each reads a plan and yields findings (block the apply) and warnings (read them).

Every detector compares what exists (``before``, the prior state) with what the plan leaves
(``after``), so a plan that only adds things is quiet and a deployed setting that goes away
is not.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Iterator

from tapinfra.review import policy, protections
from tapinfra.review.catalog import (
    INLINE_POLICY_TYPES,
    NAME_ATTRIBUTES,
    POLICY_ATTRIBUTES,
    POLICY_DOCUMENT_DATA,
    stateful_types,
)
from tapinfra.review.plan import Change, Plan, config_address, own_region
from tapinfra.review.report import FINDING, UNJUDGED, WARNING, Finding, Result

_LOSS = {
    "table": "its items are lost: the new table starts empty",
    "table replica": "that region's copy of the items goes",
    "bucket": "its objects and their versions are lost",
    "key": "everything encrypted with it becomes unreadable once AWS deletes it",
    "zone": "its records go and a new zone gets new name servers (delegation and DNSSEC break)",
    "secret": "its value is lost",
}
_LOGGING_LEVELS = ("INFO", "ERROR")
SHOWN_GRANTS = 3


def stateful_loss(plan: Plan) -> Iterator[Result]:
    """A table, bucket, key, zone, secret or cluster deleted or replaced, or a table replica dropped."""
    types = stateful_types()
    for c in plan.managed():
        what = types.get(c.type)
        if what and c.removes:
            name = c.before_value(NAME_ATTRIBUTES.get(c.type, "id")) or c.before_value("id")
            how = "deleted" if c.kind == "delete" else f"replaced ({' then '.join(c.actions)})"
            loss = _LOSS.get(what, "the data it holds is lost")
            window = c.before_value("deletion_window_in_days")
            if what == "key" and isinstance(window, int) and not isinstance(window, bool):
                loss = f"it is scheduled for deletion and {loss} in {window} days"
            yield FINDING, Finding("stateful-resource", c.address, f"{what} {_q(name)} is {how}: {loss}{_why(c)}")
        if c.type == "aws_dynamodb_table" and c.kind == "update":
            gone = _replica_regions(c.before) - _replica_regions(c.after)
            for region in sorted(gone):
                yield FINDING, Finding(
                    "stateful-resource", c.address, f"table replica in {region} is removed: that region's copy of the data goes"
                )


def fixed_name_create_before_destroy(plan: Plan) -> Iterator[Result]:
    """A create-before-destroy replacement that keeps a fixed name: the create fails on the taken name."""
    for c in plan.managed():
        attr = NAME_ATTRIBUTES.get(c.type)
        if not (attr and c.create_before_destroy and c.configured(attr)):
            continue
        name = c.before_value(attr)
        if c.unknown(attr):
            yield WARNING, Finding(
                "fixed-name-create-before-destroy", c.address,
                f"replaced create-before-destroy and its {attr} is known only after apply: if it stays {_q(name)} the create fails",
            )
        elif c.after_value(attr) == name:
            yield FINDING, Finding(
                "fixed-name-create-before-destroy", c.address,
                f"replaced create-before-destroy but its {attr} {_q(name)} is fixed: the new one cannot be created "
                f"while the old one holds the name{_why(c)}",
            )


def policy_wildcards(plan: Plan) -> Iterator[Result]:
    """An existing IAM, key or resource policy that gains a wildcard action, resource or principal."""
    for c in plan.managed():
        if c.before is None or c.after is None or c.kind in ("no-op", "read"):
            continue
        if c.type in POLICY_ATTRIBUTES:
            attr, kind = POLICY_ATTRIBUTES[c.type]
            yield from _policy_change(plan, c, attr, kind, c.before_value(attr), attr)
        if c.type in INLINE_POLICY_TYPES:
            before = {p.get("name"): p.get("policy") for p in c.before_list("inline_policy")}
            for block in c.after_list("inline_policy"):
                yield from _policy_change(
                    plan, c, "inline_policy", "identity", before.get(block.get("name")), f"inline_policy {block.get('name')}",
                    after_text=block.get("policy"),
                )


def method_opened(plan: Plan) -> Iterator[Result]:
    """An API method that stops requiring an API key or loses its authorizer."""
    for c in plan.managed():
        if c.type != "aws_api_gateway_method" or c.before is None or c.after is None:
            continue
        method = c.before_value("http_method")
        for attr in ("api_key_required", "authorization"):
            if c.unknown(attr):
                yield UNJUDGED, Finding("method-opened", c.address, f"{attr} is known only after apply: could not judge whether {method} stays protected")
        if c.before_value("api_key_required") is True and c.after_value("api_key_required") is False:
            yield FINDING, Finding("method-opened", c.address, f"{method} stops requiring an API key (api_key_required goes from true to false)")
        auth_before, auth_after = c.before_value("authorization"), c.after_value("authorization")
        if auth_before not in (None, "NONE") and auth_after == "NONE":
            yield FINDING, Finding("method-opened", c.address, f"{method} loses its authorizer (authorization goes from {auth_before} to NONE)")
        elif c.before_value("authorizer_id") and c.after_value("authorizer_id") is None and not c.unknown("authorizer_id"):
            yield FINDING, Finding("method-opened", c.address, f"{method} loses its authorizer ({c.before_value('authorizer_id')})")


def protection_removed(plan: Plan) -> Iterator[Result]:
    """A WAF association, WAF logging, the stage's access logs or its execution logging removed."""
    for c in plan.managed():
        if c.type == "aws_wafv2_web_acl_association" and c.kind == "delete":
            yield FINDING, Finding("protection-removed", c.address, f"WAF no longer protects {c.before_value('resource_arn')}{_why(c)}")
        elif c.type == "aws_wafv2_web_acl_association" and c.actions == ("delete", "create"):
            yield WARNING, Finding("protection-removed", c.address, "WAF association is deleted before it is re-created: the stage is unprotected in between")
        elif c.type == "aws_wafv2_web_acl_logging_configuration" and c.kind == "delete":
            yield FINDING, Finding("protection-removed", c.address, f"WAF logging is removed{_why(c)}")
        elif c.type == "aws_api_gateway_stage" and c.before is not None and c.after is not None:
            if c.before_value("access_log_settings") and not c.after_value("access_log_settings") and not c.unknown("access_log_settings"):
                yield FINDING, Finding("protection-removed", c.address, f"stage {_q(c.before_value('stage_name'))} stops writing access logs")
        elif c.type == "aws_api_gateway_method_settings" and _logging(c.before) in _LOGGING_LEVELS:
            if c.kind == "delete":
                yield FINDING, Finding("protection-removed", c.address, f"stage execution logging ({_logging(c.before)}) is removed{_why(c)}")
            elif c.after is not None and _logging(c.after) not in _LOGGING_LEVELS and not c.unknown("settings"):
                yield FINDING, Finding(
                    "protection-removed", c.address, f"stage execution logging goes from {_logging(c.before)} to {_logging(c.after) or 'unset'}"
                )


def region_changed(plan: Plan) -> Iterator[Result]:
    """A provider whose region differs from where its deployed resources are.

    Terraform does not move resources: with a new region, refresh finds nothing there, the
    plan creates everything anew and the old resources are orphaned (still running, still
    billed, their data not copied). Deployed regions come from the resources' own ARNs in the
    prior state, in the drift refresh found, and in each change's ``before``.
    """
    seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for c in [*plan.drift, *plan.managed()]:
        region = own_region(c.type, c.before)
        key = plan.config_providers.get(config_address(c.address))
        if region and key:
            seen[key][region].add(c.address)
    for res in plan.prior:
        region = own_region(res.get("type", ""), res.get("values"))
        key = plan.config_providers.get(config_address(res.get("address", "")))
        if region and key and res.get("mode", "managed") == "managed":
            seen[key][region].add(res["address"])
    for key, regions in sorted(seen.items()):
        configured = plan.provider_regions.get(key)
        if not configured:
            continue
        for old in sorted(set(regions) - {configured}):
            count = len(regions[old])
            yield FINDING, Finding(
                "provider-region-changed", f"provider {key}",
                f"region changes from {old} to {configured}: {count} deployed resource(s) in {old} "
                f"(e.g. {min(regions[old])}) are not moved but recreated in {configured}; the old ones are orphaned with their data",
            )


Rule = Callable[[Plan], Iterator[Result]]
RULES: tuple[Rule, ...] = (
    stateful_loss,
    fixed_name_create_before_destroy,
    policy_wildcards,
    method_opened,
    protection_removed,
    region_changed,
    *protections.RULES,
)


def _policy_change(plan: Plan, c: Change, attr: str, kind: str, before_text: Any, label: str, after_text: Any = None) -> Iterator[Result]:
    try:
        before = policy.parse_document(before_text) if before_text else {}
    except ValueError:
        yield WARNING, Finding("policy-wildcard", c.address, f"{label}: the deployed policy is not a JSON policy document; not compared")
        return
    if attr != "inline_policy" and c.unknown(attr):
        doc = _planned_document(plan, c, attr)
        if doc is None:
            yield UNJUDGED, Finding("policy-wildcard", c.address, f"{label} is known only after apply: whether it widens could not be judged")
            return
        after = policy.statement_grants(doc.after.get("statement"))
        yield WARNING, Finding(
            "policy-wildcard", c.address, f"{label} becomes unknown until apply; the known parts of {doc.address} were checked"
        )
    else:
        text = c.after_value(attr) if after_text is None else after_text
        try:
            after = policy.parse_document(text) if text else {}
        except ValueError:
            yield WARNING, Finding("policy-wildcard", c.address, f"{label}: the planned policy is not a JSON policy document; not compared")
            return
    lines = policy.new_wildcards(before, after, kind)
    if lines:
        more = f"; and {len(lines) - SHOWN_GRANTS} more" if len(lines) > SHOWN_GRANTS else ""
        yield FINDING, Finding(
            "policy-wildcard", c.address, f"{label} gains {len(lines)} wildcard grant(s): {'; '.join(lines[:SHOWN_GRANTS])}{more}"
        )


def _planned_document(plan: Plan, c: Change, attr: str) -> Change | None:
    """The ``aws_iam_policy_document`` read whose ``json`` feeds ``attr``, if the plan shows its statements."""
    for ref in c.references(attr):
        parts = ref.split(".")
        if parts[:2] == ["data", POLICY_DOCUMENT_DATA] and len(parts) >= 3:
            doc = plan.data_change(".".join(parts[:3]))
            if doc is not None and isinstance(doc.after, dict) and doc.after.get("statement") is not None:
                return doc
    return None


def _replica_regions(values: Any) -> set[str]:
    replicas = values.get("replica") if isinstance(values, dict) else None
    return {str(r["region_name"]) for r in replicas if isinstance(r, dict) and r.get("region_name")} if isinstance(replicas, list) else set()


def _logging(values: Any) -> str | None:
    settings = values.get("settings") if isinstance(values, dict) else None
    first = settings[0] if isinstance(settings, list) and settings else None
    return first.get("logging_level") if isinstance(first, dict) else None


def _why(c: Change) -> str:
    if c.replace_paths:
        return f" (forced by {', '.join('.'.join(map(str, p)) for p in c.replace_paths)})"
    reasons = {
        "delete_because_no_resource_config": " (removed from the configuration)",
        "delete_because_no_module": " (its module was removed)",
        "replace_by_request": " (replacement requested with -replace)",
        "replace_by_triggers": " (replace_triggered_by)",
        "replace_because_tainted": " (tainted)",
    }
    return reasons.get(c.action_reason, "")


def _q(value: Any) -> str:
    return f'"{value}"' if value is not None else "(unnamed)"
