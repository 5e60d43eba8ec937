"""Detectors for a deployed protection switched off: a key, a table's recovery, a bucket's
lifecycle, the audit trail, the web ACL, a method's API key.

Like the other detectors they compare ``before`` (what is deployed) with ``after``; a value
the plan knows only after apply is reported as not judged (``UNJUDGED``), never passed.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional

from tapinfra.review.catalog import DELETION_PROTECTION, KMS_KEY_TYPES
from tapinfra.review.plan import Change, Plan
from tapinfra.review.report import FINDING, UNJUDGED, WARNING, Finding, Result

PREFLIGHT = "OPTIONS"  # CORS preflight: browsers send it without the API key, by design


def key_disabled(plan: Plan) -> Iterator[Result]:
    """A KMS key that is enabled now and disabled by the plan."""
    for c in _updates(plan, KMS_KEY_TYPES):
        if c.before_value("is_enabled") is not False and c.after_value("is_enabled") is False:
            yield FINDING, Finding(
                "key-disabled", c.address,
                "the key is disabled (is_enabled goes to false): nothing encrypted with it can be read or written until it is enabled again",
            )
        elif c.unknown("is_enabled"):
            yield UNJUDGED, Finding("key-disabled", c.address, "is_enabled is known only after apply: whether the key stays enabled could not be judged")


def data_protection_off(plan: Plan) -> Iterator[Result]:
    """Point-in-time recovery or deletion protection turned off on a table or database."""
    for c in _updates(plan, ("aws_dynamodb_table",)):
        if _pitr(c.before_list("point_in_time_recovery")) and _pitr(c.after_list("point_in_time_recovery")) is False:
            yield FINDING, Finding(
                "data-protection-off", c.address,
                "point-in-time recovery is turned off: the table's continuous backups (up to 35 days of restore points) are deleted",
            )
        elif _pitr(c.before_list("point_in_time_recovery")) and c.unknown_at("point_in_time_recovery", 0, "enabled"):
            yield UNJUDGED, Finding("data-protection-off", c.address, "point_in_time_recovery is known only after apply: could not judge whether it stays on")
    for c in _updates(plan, tuple(DELETION_PROTECTION)):
        attr = DELETION_PROTECTION[c.type]
        if c.before_value(attr) is True and c.after_value(attr) is False:
            yield FINDING, Finding("data-protection-off", c.address, f"deletion protection is turned off ({attr} goes from true to false): a delete is no longer refused")
        elif c.before_value(attr) is True and c.unknown(attr):
            yield UNJUDGED, Finding("data-protection-off", c.address, f"{attr} is known only after apply: could not judge whether deletion protection stays on")


def ttl_changed(plan: Plan) -> Iterator[Result]:
    """A table's time-to-live read from another attribute (or turned on or off)."""
    for c in _updates(plan, ("aws_dynamodb_table",)):
        before, after = _ttl(c.before_list("ttl")), _ttl(c.after_list("ttl"))
        if c.unknown_at("ttl", 0, "attribute_name") or c.unknown_at("ttl", 0, "enabled"):
            if before:
                yield UNJUDGED, Finding("ttl-changed", c.address, f"ttl is known only after apply: could not judge whether items still expire by {before}")
        elif before and after and before != after:
            yield FINDING, Finding(
                "ttl-changed", c.address,
                f"items expire by {after} instead of {before}: items that carry only {before} stop expiring, "
                f"and items whose {after} holds a past time are deleted",
            )
        elif before and not after:
            yield WARNING, Finding("ttl-changed", c.address, f"time to live is turned off: items stop expiring by {before} and the table grows")
        elif after and not before:
            yield WARNING, Finding("ttl-changed", c.address, f"time to live is turned on: every item whose {after} holds a past time is deleted")


def lifecycle_expires_all(plan: Plan) -> Iterator[Result]:
    """A lifecycle rule that expires every object of an existing bucket, new or sooner than before."""
    for c in plan.managed():
        if c.type != "aws_s3_bucket_lifecycle_configuration" or c.after is None or c.kind in ("no-op", "read"):
            continue
        if c.before is None and (c.unknown("bucket") or not c.after_value("bucket")):
            continue  # a new bucket's first lifecycle: nothing is stored yet
        if c.unknown("rule"):
            yield UNJUDGED, Finding("lifecycle-expires-all", c.address, "its rules are known only after apply: could not judge what they expire")
            continue
        before, after = _expires_all(c.before_list("rule")), _expires_all(c.after_list("rule"))
        if after is not None and (before is None or after[0] < before[0]):
            was = f" (was {before[1]})" if before else ""
            yield FINDING, Finding(
                "lifecycle-expires-all", c.address,
                f"rule {after[2]!r} expires every object of bucket {c.after_value('bucket') or c.before_value('bucket')} {after[1]}{was}: "
                "no filter or prefix limits it, and expired objects are deleted",
            )


def trail_stopped(plan: Plan) -> Iterator[Result]:
    """A CloudTrail trail deleted, or its logging stopped."""
    for c in plan.managed():
        if c.type != "aws_cloudtrail" or c.before is None or c.before_value("enable_logging") is False:
            continue
        name = c.before_value("name")
        if c.kind == "delete":
            yield FINDING, Finding("trail-stopped", c.address, f"trail {name} is deleted: API activity stops being recorded{_removed(c)}")
        elif c.after is not None and c.after_value("enable_logging") is False:
            yield FINDING, Finding("trail-stopped", c.address, f"trail {name} stops logging (enable_logging goes to false): API activity is no longer recorded")
        elif c.after is not None and c.unknown("enable_logging"):
            yield UNJUDGED, Finding("trail-stopped", c.address, "enable_logging is known only after apply: could not judge whether the trail keeps logging")


def web_acl_opened(plan: Plan) -> Iterator[Result]:
    """A web ACL whose rules are all removed, or whose default action becomes allow."""
    for c in _updates(plan, ("aws_wafv2_web_acl",)):
        for attr in ("rule", "default_action"):
            if c.unknown(attr):
                yield UNJUDGED, Finding("web-acl-opened", c.address, f"{attr} is known only after apply: could not judge what the web ACL still blocks")
        before_rules = {str(r.get("name")) for r in c.before_list("rule")}
        after_rules = {str(r.get("name")) for r in c.after_list("rule")}
        if before_rules and not after_rules and not c.unknown("rule"):
            yield FINDING, Finding("web-acl-opened", c.address, f"all {len(before_rules)} rules are removed ({', '.join(sorted(before_rules))}): every request gets the default action")
        elif before_rules - after_rules and not c.unknown("rule"):
            yield WARNING, Finding("web-acl-opened", c.address, f"rules removed: {', '.join(sorted(before_rules - after_rules))}")
        if _default_action(c.before_list("default_action")) == "block" and _default_action(c.after_list("default_action")) == "allow":
            yield FINDING, Finding("web-acl-opened", c.address, "the default action goes from block to allow: requests no rule matches are let through")


def method_created_open(plan: Plan) -> Iterator[Result]:
    """A method created on an API without an API key and without an authorizer."""
    for c in plan.managed():
        if c.type != "aws_api_gateway_method" or c.kind != "create":
            continue
        method = c.after_value("http_method")
        if method == PREFLIGHT:
            continue
        unknown = [attr for attr in ("api_key_required", "authorization") if c.unknown(attr)]
        if unknown:
            yield UNJUDGED, Finding("method-created-open", c.address, f"{' and '.join(unknown)} known only after apply: could not judge whether {method} is open")
            continue
        if c.after_value("api_key_required") is True or c.after_value("authorization") not in (None, "NONE"):
            continue
        existing_api = isinstance(c.after_value("rest_api_id"), str) and not c.unknown("rest_api_id")
        level = FINDING if existing_api else WARNING
        where = f"API {c.after_value('rest_api_id')}" if existing_api else "a new API"
        yield level, Finding("method-created-open", c.address, f"{method} is created on {where} without an API key or authorizer: anyone can call it")


RULES = (key_disabled, data_protection_off, ttl_changed, lifecycle_expires_all, trail_stopped, web_acl_opened, method_created_open)


def _updates(plan: Plan, types: tuple[str, ...]) -> Iterator[Change]:
    """Changes of these types that keep a deployed object (update; replace compares its settings too)."""
    for c in plan.managed():
        if c.type in types and c.before is not None and c.after is not None and c.kind not in ("no-op", "read"):
            yield c


def _pitr(blocks: list[dict[str, Any]]) -> Optional[bool]:
    return blocks[0].get("enabled") if blocks and isinstance(blocks[0].get("enabled"), bool) else None


def _ttl(blocks: list[dict[str, Any]]) -> Optional[str]:
    """The attribute items expire by, when time to live is on."""
    block = blocks[0] if blocks else {}
    name = block.get("attribute_name")
    return name if block.get("enabled") is True and isinstance(name, str) and name else None


def _default_action(blocks: list[dict[str, Any]]) -> Optional[str]:
    block = blocks[0] if blocks else {}
    return next((kind for kind in ("allow", "block") if block.get(kind)), None)


def _expires_all(rules: list[dict[str, Any]]) -> Optional[tuple[float, str, str]]:
    """The soonest expiration of every current object: (days, as text, rule id); dates count as 0 days."""
    soonest: Optional[tuple[float, str, str]] = None
    for rule in rules:
        if rule.get("status") != "Enabled" or not _whole_bucket(rule):
            continue
        for expiration in _blocks(rule.get("expiration")):
            days, date = expiration.get("days"), expiration.get("date")
            if isinstance(days, int) and not isinstance(days, bool) and days > 0:
                found = (float(days), f"after {days} day(s)", str(rule.get("id")))
            elif isinstance(date, str) and date:
                found = (0.0, f"on {date}", str(rule.get("id")))
            else:
                continue
            if soonest is None or found[0] < soonest[0]:
                soonest = found
    return soonest


def _whole_bucket(rule: dict[str, Any]) -> bool:
    """No filter narrows the rule: no prefix (or an empty one), no tag, no size bound, no and-block."""
    if rule.get("prefix"):
        return False
    for block in _blocks(rule.get("filter")):
        if block.get("prefix") or any(block.get(k) for k in ("tag", "and", "object_size_greater_than", "object_size_less_than")):
            return False
    return True


def _blocks(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _removed(c: Change) -> str:
    return " (removed from the configuration)" if c.action_reason == "delete_because_no_resource_config" else ""
