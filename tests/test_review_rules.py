"""The review rules on a real plan of every example (terraform against moto, see
tools/make_plan_fixtures.py), the protection rules on real edited plans and edge cases,
and IAM pattern coverage checked against brute-force matching."""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from tapinfra.review import parse_plan, review
from tapinfra.review.catalog import OWN_REGION_ATTRIBUTES
from tapinfra.review.patterns import action_covers, glob_covers, glob_matches, resource_covers
from tapinfra.review.plan import own_region
from tapinfra.review.policy import Grant, is_wildcard_resource, new_wildcards

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
EXAMPLES = ("minimal", "default", "full")


def fixture(name: str) -> dict[str, Any]:
    with gzip.open(FIXTURES / f"{name}.json.gz", "rt", encoding="utf-8") as fh:
        return json.load(fh)


def reviewed(name: str):
    return review(parse_plan(fixture(name), name))


# ---------------------------------------------------------------- every example, unchanged


@pytest.mark.parametrize("example", EXAMPLES)
def test_a_no_change_plan_of_every_example_has_no_findings(example):
    report = reviewed(f"unchanged-{example}")
    assert report.findings == [], report.findings
    assert report.exit_code == 0
    assert report.totals["replace"] == report.totals["delete"] == 0, report.totals


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_deployed_resource_is_placed_in_its_providers_region(example):
    """The attribute own_region reads is the resource's own, for every type an example deploys
    (an event target's arn names the peer region's bus: it must not count)."""
    doc = fixture(f"unchanged-{example}")
    plan = parse_plan(doc, example)
    misplaced = []
    for res in plan.prior:
        key = plan.config_providers.get(res["address"].split("[")[0])
        region = own_region(res.get("type", ""), res.get("values"))
        if region and key and plan.provider_regions.get(key) and region != plan.provider_regions[key]:
            misplaced.append(f"{res['address']}: {region} under {key} ({plan.provider_regions[key]})")
    assert misplaced == []


def test_the_default_examples_event_targets_are_read_for_their_own_region():
    plan = parse_plan(fixture("unchanged-default"), "default")
    targets = [r for r in plan.prior if r["type"] == "aws_cloudwatch_event_target"]
    assert targets, "the default example forwards events: the fixture must hold its targets"
    assert OWN_REGION_ATTRIBUTES["aws_cloudwatch_event_target"] is None


# ---------------------------------------------------------------- the protection rules on real plans


@pytest.mark.parametrize("name, rule, address_prefix, words", [
    ("key-disabled", "key-disabled", "aws_kms_key.primary-key", ["disabled"]),
    ("pitr-off", "data-protection-off", "aws_dynamodb_table.items-table", ["point-in-time recovery"]),
    ("ttl-switched", "ttl-changed", "aws_dynamodb_table.items-table", ["purge_at instead of expires_at"]),
    ("lifecycle-expires-all", "lifecycle-expires-all", "aws_s3_bucket_lifecycle_configuration.primary-data", ["after 1 day(s)"]),
    ("waf-emptied", "web-acl-opened", "aws_wafv2_web_acl.primary-waf", ["rules are removed"]),
    ("method-created-open", "method-created-open", "aws_api_gateway_method.primary-api_method-patch-items-fixture", ["PATCH", "without an API key"]),
    ("trail-stopped", "trail-stopped", "aws_cloudtrail.audit_trail", ["stops logging"]),
])
def test_each_protection_rule_fires_on_its_real_plan_and_only_there(name, rule, address_prefix, words):
    report = reviewed(name)
    found = [f for f in report.findings if f.rule == rule]
    assert found and all(f.address.startswith(address_prefix) for f in found), report.findings
    assert all(w in found[0].reason for w in words), found[0].reason
    assert {f.rule for f in report.findings} == {rule}, report.findings


def _edited(name: str, rtype: str, prefix: str, before: dict[str, Any], after: dict[str, Any], actions=("update",)) -> Any:
    """A real plan whose first matching change is edited (a no-op made an update)."""
    doc = fixture(name)
    raw = next(r for r in doc["resource_changes"] if r["type"] == rtype and r["address"].startswith(prefix))
    change = raw["change"]
    change["actions"] = list(actions)
    change["before"] = {**(change["before"] or {}), **before} if change["before"] is not None or before else None
    change["after"] = None if actions == ("delete",) else {**(change["after"] or change["before"] or {}), **after}
    return review(parse_plan(doc, name))


def rules(report) -> list[str]:
    return [f.rule for f in report.findings]


def test_deletion_protection_turned_off_on_a_real_table_and_cluster():
    table = _edited("unchanged-minimal", "aws_dynamodb_table", "aws_dynamodb_table.items", {"deletion_protection_enabled": True}, {"deletion_protection_enabled": False})
    assert rules(table) == ["data-protection-off"]
    cluster = _edited("unchanged-full", "aws_rds_cluster", "aws_rds_cluster.aurora_primary", {"deletion_protection": True}, {"deletion_protection": False})
    assert rules(cluster) == ["data-protection-off"] and "deletion_protection" in cluster.findings[0].reason
    kept = _edited("unchanged-full", "aws_rds_cluster", "aws_rds_cluster.aurora_primary", {"deletion_protection": True}, {"deletion_protection": True})
    assert kept.findings == []


def test_a_trail_deleted_and_a_default_action_switched_to_allow_on_real_plans():
    deleted = _edited("unchanged-full", "aws_cloudtrail", "aws_cloudtrail.audit", {"enable_logging": True}, {}, actions=("delete",))
    assert any(f.rule == "trail-stopped" and "is deleted" in f.reason for f in deleted.findings), deleted.findings
    allow = _edited("unchanged-minimal", "aws_wafv2_web_acl", "aws_wafv2_web_acl.primary", {"default_action": [{"allow": [], "block": [{}]}]},
                    {"default_action": [{"allow": [{}], "block": []}]})
    assert rules(allow) == ["web-acl-opened"] and "block to allow" in allow.findings[0].reason


def test_a_key_scheduled_for_deletion_names_its_waiting_period():
    report = _edited("unchanged-minimal", "aws_kms_key", "aws_kms_key.primary", {"deletion_window_in_days": 30}, {}, actions=("delete",))
    assert rules(report) == ["stateful-resource"] and "scheduled for deletion" in report.findings[0].reason and "30 days" in report.findings[0].reason


# ---------------------------------------------------------------- edge cases, hand-written


def _one(rtype: str, before, after, actions=("update",), after_unknown=None, address=None):
    doc = {
        "format_version": "1.2", "terraform_version": "1.11.0", "planned_values": {},
        "resource_changes": [{"address": address or f"{rtype}.x", "mode": "managed", "type": rtype, "name": "x",
                              "change": {"actions": list(actions), "before": before, "after": after, "after_unknown": after_unknown or {}}}],
        "configuration": {"provider_config": {}, "root_module": {"resources": []}},
    }
    return review(parse_plan(doc))


def _levels(report) -> dict[str, list[str]]:
    return {"finding": rules(report), "warning": [w.rule for w in report.warnings], "unjudged": [u.rule for u in report.unjudged]}


@pytest.mark.parametrize("rtype, before, after, unknown, expected", [
    # KMS
    ("aws_kms_key", {"is_enabled": True}, {"is_enabled": False}, {}, {"finding": ["key-disabled"]}),
    ("aws_kms_key", {"is_enabled": False}, {"is_enabled": False}, {}, {}),
    ("aws_kms_key", {"is_enabled": True}, {"is_enabled": None}, {"is_enabled": True}, {"unjudged": ["key-disabled"]}),
    ("aws_kms_replica_key", {"enabled": True, "is_enabled": True}, {"is_enabled": False}, {}, {"finding": ["key-disabled"]}),
    # PITR and deletion protection
    ("aws_dynamodb_table", {"point_in_time_recovery": [{"enabled": True}]}, {"point_in_time_recovery": [{"enabled": False}]}, {}, {"finding": ["data-protection-off"]}),
    ("aws_dynamodb_table", {"point_in_time_recovery": [{"enabled": False}]}, {"point_in_time_recovery": [{"enabled": False}]}, {}, {}),
    ("aws_dynamodb_table", {"point_in_time_recovery": [{"enabled": True}]}, {"point_in_time_recovery": [{"enabled": True}]}, {"point_in_time_recovery": [{"recovery_period_in_days": True}]}, {}),
    ("aws_dynamodb_table", {"point_in_time_recovery": [{"enabled": True}]}, {"point_in_time_recovery": None}, {"point_in_time_recovery": True}, {"unjudged": ["data-protection-off"]}),
    ("aws_db_instance", {"deletion_protection": True}, {"deletion_protection": False}, {}, {"finding": ["data-protection-off"]}),
    ("aws_db_instance", {"deletion_protection": False}, {"deletion_protection": True}, {}, {}),
    # TTL
    ("aws_dynamodb_table", {"ttl": [{"attribute_name": "a", "enabled": True}]}, {"ttl": [{"attribute_name": "b", "enabled": True}]}, {}, {"finding": ["ttl-changed"]}),
    ("aws_dynamodb_table", {"ttl": [{"attribute_name": "a", "enabled": True}]}, {"ttl": [{"attribute_name": "", "enabled": False}]}, {}, {"warning": ["ttl-changed"]}),
    ("aws_dynamodb_table", {"ttl": [{"attribute_name": "", "enabled": False}]}, {"ttl": [{"attribute_name": "b", "enabled": True}]}, {}, {"warning": ["ttl-changed"]}),
    ("aws_dynamodb_table", {"ttl": [{"attribute_name": "a", "enabled": True}]}, {"ttl": [{"attribute_name": None, "enabled": True}]}, {"ttl": [{"attribute_name": True}]}, {"unjudged": ["ttl-changed"]}),
    # CloudTrail
    ("aws_cloudtrail", {"name": "t", "enable_logging": True}, {"name": "t", "enable_logging": False}, {}, {"finding": ["trail-stopped"]}),
    ("aws_cloudtrail", {"name": "t", "enable_logging": False}, {"name": "t", "enable_logging": False}, {}, {}),
    ("aws_cloudtrail", {"name": "t", "enable_logging": True}, {"name": "t", "enable_logging": None}, {"enable_logging": True}, {"unjudged": ["trail-stopped"]}),
    # WAF
    ("aws_wafv2_web_acl", {"rule": [{"name": "a"}, {"name": "b"}], "default_action": [{"allow": [{}]}]}, {"rule": [], "default_action": [{"allow": [{}]}]}, {}, {"finding": ["web-acl-opened"]}),
    ("aws_wafv2_web_acl", {"rule": [{"name": "a"}, {"name": "b"}]}, {"rule": [{"name": "a"}]}, {}, {"warning": ["web-acl-opened"]}),
    ("aws_wafv2_web_acl", {"rule": [{"name": "a"}], "default_action": [{"block": [{}]}]}, {"rule": [{"name": "a"}], "default_action": [{"allow": [{}]}]}, {}, {"finding": ["web-acl-opened"]}),
    ("aws_wafv2_web_acl", {"rule": [{"name": "a"}]}, {"rule": None}, {"rule": True}, {"unjudged": ["web-acl-opened"]}),
])
def test_protection_rules_edge_cases(rtype, before, after, unknown, expected):
    got = {k: v for k, v in _levels(_one(rtype, before, after, after_unknown=unknown)).items() if v}
    assert got == expected


def _lifecycle(*rules_: dict[str, Any]) -> dict[str, Any]:
    return {"bucket": "tap-data", "rule": list(rules_)}


def _rule(days=None, date=None, prefix=None, filter_=None, status="Enabled", rule_id="r"):
    rule = {"id": rule_id, "status": status, "expiration": [{"days": days, "date": date}] if days or date else [], "filter": filter_ if filter_ is not None else [{}]}
    if prefix is not None:
        rule["prefix"] = prefix
    return rule


@pytest.mark.parametrize("before, after, fires", [
    (_lifecycle(), _lifecycle(_rule(days=1)), True),                                   # a new whole-bucket expiration
    (_lifecycle(_rule(days=365)), _lifecycle(_rule(days=30)), True),                    # sooner than before
    (_lifecycle(_rule(days=30)), _lifecycle(_rule(days=365)), False),                   # later: keeps more
    (_lifecycle(_rule(days=30)), _lifecycle(_rule(days=30)), False),
    (_lifecycle(), _lifecycle(_rule(days=1, filter_=[{"prefix": "tmp/"}])), False),     # a prefix limits it
    (_lifecycle(), _lifecycle(_rule(days=1, filter_=[{"prefix": ""}])), True),          # an empty prefix does not
    (_lifecycle(), _lifecycle(_rule(days=1, filter_=[{"tag": [{"key": "k", "value": "v"}]}])), False),
    (_lifecycle(), _lifecycle(_rule(days=1, filter_=[{"and": [{"prefix": "a/"}]}])), False),
    (_lifecycle(), _lifecycle(_rule(days=1, prefix="logs/", filter_=[])), False),       # the legacy prefix
    (_lifecycle(), _lifecycle(_rule(days=1, filter_=[])), True),                        # no filter at all
    (_lifecycle(), _lifecycle(_rule(days=1, status="Disabled")), False),
    (_lifecycle(), _lifecycle(_rule(date="2026-01-01T00:00:00Z")), True),               # a date: everything at once
])
def test_lifecycle_expires_everything(before, after, fires):
    report = _one("aws_s3_bucket_lifecycle_configuration", before, after)
    assert (rules(report) == ["lifecycle-expires-all"]) is fires, report.findings


def test_lifecycle_of_a_bucket_created_in_the_same_plan_is_not_judged_as_an_expiry():
    report = _one("aws_s3_bucket_lifecycle_configuration", None, {"bucket": None, "rule": [_rule(days=1)]}, actions=("create",), after_unknown={"bucket": True})
    assert report.findings == []


@pytest.mark.parametrize("after, unknown, expected", [
    ({"http_method": "GET", "api_key_required": False, "authorization": "NONE", "rest_api_id": "abc123"}, {}, {"finding": ["method-created-open"]}),
    ({"http_method": "GET", "api_key_required": False, "authorization": "NONE", "rest_api_id": None}, {"rest_api_id": True}, {"warning": ["method-created-open"]}),
    ({"http_method": "GET", "api_key_required": True, "authorization": "NONE", "rest_api_id": "abc123"}, {}, {}),
    ({"http_method": "GET", "api_key_required": False, "authorization": "AWS_IAM", "rest_api_id": "abc123"}, {}, {}),
    ({"http_method": "OPTIONS", "api_key_required": False, "authorization": "NONE", "rest_api_id": "abc123"}, {}, {}),
    ({"http_method": "GET", "api_key_required": None, "authorization": "NONE", "rest_api_id": "abc123"}, {"api_key_required": True}, {"unjudged": ["method-created-open"]}),
])
def test_method_created_without_a_key(after, unknown, expected):
    got = {k: v for k, v in _levels(_one("aws_api_gateway_method", None, after, actions=("create",), after_unknown=unknown)).items() if v}
    assert got == expected


def test_an_existing_methods_key_requirement_known_only_after_apply_is_not_judged():
    before = {"http_method": "GET", "api_key_required": True, "authorization": "NONE"}
    report = _one("aws_api_gateway_method", before, {**before, "api_key_required": None}, after_unknown={"api_key_required": True})
    assert report.findings == [] and [u.rule for u in report.unjudged] == ["method-opened"]


# ---------------------------------------------------------------- policy widening by what patterns match

ACCOUNT = "111122223333"


def _logs(group: str) -> str:
    return f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}"


@pytest.mark.parametrize("old, new, widens", [
    (_logs("/aws/lambda/f:*"), _logs("/aws/lambda/*:*"), True),          # partial-segment wildcard: every function's group
    (_logs("/aws/lambda/f:*"), _logs("/aws/*"), True),
    (_logs("/aws/lambda/*:*"), _logs("/aws/lambda/f:*"), False),         # narrower than before
    (f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/tap/dev/*", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/tap/*", True),  # every environment
    (f"arn:aws:iam::{ACCOUNT}:role/service-role/tap-dev", f"arn:aws:iam::{ACCOUNT}:role/service-role/*", True),
    (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/items", f"arn:aws:dynamodb:us-east-1:11112222333?:table/items", True),  # ? in the account
    (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/items", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/item?", True),   # ? in the resource
    (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/item?", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/items", False),
    (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/*", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t?", False),          # covered
    (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/items", f"arn:aws:dynamodb:us-west-2:{ACCOUNT}:table/items", False),    # moved with its region
    (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/items", f"arn:aws:dynamodb:*:{ACCOUNT}:table/items", True),
])
def test_a_resource_pattern_widens_when_it_matches_more(old, new, widens):
    action = "iam:PassRole" if ":iam::" in new else "dynamodb:GetItem"
    lines = new_wildcards({Grant("", action, old): False}, {Grant("", action, new): False}, "identity")
    assert bool(lines) is widens, lines


@pytest.mark.parametrize("old, new, widens", [
    ("s3:GetObject", "s3:Get*", True),
    ("s3:GetObject", "s3:GetObjec?", True),
    ("s3:*", "s3:Get*", False),
    ("s3:get*", "S3:GetObject?", False),      # actions ignore case
    ("s3:GetObject", "s?:GetObject", True),   # ? in the service
    ("*", "iam:*", False),
])
def test_an_action_pattern_widens_when_it_matches_more(old, new, widens):
    resource = "arn:aws:s3:::b/*"
    assert bool(new_wildcards({Grant("", old, resource): False}, {Grant("", new, resource): False}, "identity")) is widens


def test_a_condition_dropped_from_a_public_grant_widens_it():
    grant = Grant("*", "sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:q")
    assert new_wildcards({grant: True}, {grant: False}, "resource")
    assert not new_wildcards({grant: False}, {grant: True}, "resource")


@pytest.mark.parametrize("resource, wildcard", [
    (_logs("/aws/lambda/*:*"), True), (_logs("/aws/*"), True), (_logs("/aws/lambda/f:*"), False), (_logs("/aws/lambda/f:log-stream:*"), False),
    (f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/tap/*", True), (f"arn:aws:iam::{ACCOUNT}:role/service-role/*", True),
    (f"arn:aws:s3:::tap-dat?", True), ("arn:aws:s3:::b/tenant-?/*", False), (f"arn:aws:dynamodb:us-east-1:11112222333?:table/t", True),
    (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t/index/*", False), (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t?/index/*", True),
])
def test_partial_and_question_mark_wildcards_count_as_wildcards(resource, wildcard):
    assert is_wildcard_resource(resource) is wildcard


ALPHABET = "ab"
STRINGS = ["".join(t) for n in range(7) for t in itertools.product(ALPHABET + "c", repeat=n)]
PATTERN = st.text(alphabet=ALPHABET + "*?", max_size=4)


@settings(max_examples=300, deadline=None)
@given(a=PATTERN, b=PATTERN)
def test_covers_agrees_with_brute_force_matching(a, b):
    """a covers b exactly when every string b matches (over an alphabet with a character
    neither names, up to a length past both patterns) is matched by a."""
    brute = all(glob_matches(a, s) for s in STRINGS if glob_matches(b, s))
    assert glob_covers(a, b) is brute


SEGMENT = st.text(alphabet="ab*?", max_size=2)
RESOURCE = st.text(alphabet="a:/*?", max_size=3)
SEGMENT_STRINGS = ["".join(t) for n in range(3) for t in itertools.product("abc", repeat=n)]
RESOURCE_STRINGS = ["".join(t) for n in range(4) for t in itertools.product("a:/c", repeat=n)]


def arn_matches(pattern: str, arn: str) -> bool:
    """IAM's definition: the first five segments match one by one (a wildcard never spans a
    colon there), the resource part is matched whole, colons and slashes included."""
    p, a = pattern.split(":", 5), arn.split(":", 5)
    return len(p) == len(a) == 6 and all(glob_matches(x, y) for x, y in zip(p, a))


@settings(max_examples=150, deadline=None)
@given(a=st.tuples(SEGMENT, SEGMENT, RESOURCE), b=st.tuples(SEGMENT, SEGMENT, RESOURCE))
def test_arn_coverage_agrees_with_brute_force_matching_per_segment(a, b):
    """resource_covers(A, B) exactly when every concrete ARN B matches (regions, accounts and
    resources enumerated over an alphabet with a character neither names) is matched by A."""
    arn_a, arn_b = (f"arn:aws:s3:{r}:{acct}:{res}" for r, acct, res in (a, b))
    candidates = (
        f"arn:aws:s3:{r}:{acct}:{res}"
        for r in SEGMENT_STRINGS if glob_matches(b[0], r)
        for acct in SEGMENT_STRINGS if glob_matches(b[1], acct)
        for res in RESOURCE_STRINGS if glob_matches(b[2], res)
    )
    brute = all(arn_matches(arn_a, arn) for arn in candidates)
    assert resource_covers(arn_a, arn_b) is brute


def test_action_patterns_ignore_case_and_split_at_the_service():
    assert action_covers("S3:*", "s3:GetObject") and action_covers("*", "iam:PassRole")
    assert not action_covers("s3:*", "s3x:GetObject") and action_covers("s?:*", "s3:Get*")
