"""``tapinfra review``: each detector on real plans (terraform against moto, see
tools/make_plan_fixtures.py) and on small hand-written plans for the edge logic."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from tapinfra.cli import review as review_cli
from tapinfra.review import parse_plan, review
from tapinfra.review import render
from tapinfra.review.policy import is_wildcard_resource

FIXTURES = Path(__file__).parent / "fixtures" / "plans"


def fixture(name: str) -> dict[str, Any]:
    with gzip.open(FIXTURES / f"{name}.json.gz", "rt", encoding="utf-8") as fh:
        return json.load(fh)


def rules_at(report, rule: str) -> set[str]:
    return {f.address for f in report.findings if f.rule == rule}


# ---------------------------------------------------------------- real plans


@pytest.fixture(scope="module")
def reports() -> dict[str, Any]:
    names = ("clean", "table-replaced", "policy-widened", "method-opened", "region-changed")
    return {name: review(parse_plan(fixture(name), name)) for name in names}


def test_clean_update_has_no_findings_and_counts_the_new_tenant(reports):
    report = reports["clean"]
    assert report.findings == [], report.findings
    assert report.exit_code == 0
    created = {r.type for r in report.rows if r.counts["create"]}
    assert "aws_api_gateway_api_key" in created, report.rows
    assert report.totals["replace"] == 0, report.totals
    deleted = {r.type for r in report.rows if r.counts["delete"]}
    assert deleted <= {"aws_api_gateway_deployment"}, f"a tenant added deletes nothing but superseded deployments: {deleted}"


def test_clean_update_summary_is_per_region(reports):
    placed = {(r.region, r.provider) for r in reports["clean"].rows}
    assert placed == {("us-east-1", "aws.primary"), ("us-west-2", "aws.secondary")}, placed


def test_replaced_table_is_a_stateful_finding(reports):
    report = reports["table-replaced"]
    tables = rules_at(report, "stateful-resource")
    assert any(a.startswith("aws_dynamodb_table.") for a in tables), report.findings
    assert report.totals["replace"] >= 1
    assert report.exit_code == 1


def test_widened_policy_names_the_new_wildcard(reports):
    report = reports["policy-widened"]
    found = [f for f in report.findings if f.rule == "policy-wildcard"]
    assert found, report.findings
    assert all(f.address.startswith("aws_iam_role_policy.") for f in found), found
    assert any("dynamodb:*" in f.reason for f in found), found
    assert {f.rule for f in report.findings} == {"policy-wildcard"}, report.findings


def test_opened_method_is_flagged(reports):
    report = reports["method-opened"]
    opened = rules_at(report, "method-opened")
    assert opened and all(a.startswith("aws_api_gateway_method.") for a in opened), report.findings
    assert any("API key" in f.reason for f in report.findings if f.rule == "method-opened")


def test_region_change_names_the_provider(reports):
    report = reports["region-changed"]
    assert rules_at(report, "provider-region-changed") == {"provider aws.secondary"}, report.findings
    reason = next(f.reason for f in report.findings if f.rule == "provider-region-changed")
    assert "us-west-2" in reason and "eu-west-1" in reason, reason


def test_cli_exit_codes_on_real_plans(tmp_path, capsys):
    for name, expected in (("clean", 0), ("table-replaced", 1)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(fixture(name)))
        assert review_cli.main([str(path)]) == expected, name
        assert capsys.readouterr().out.rstrip().endswith("no findings") is (expected == 0), name


def test_json_output_is_machine_readable(tmp_path, capsys):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(fixture("method-opened")))
    assert review_cli.main([str(path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False
    assert {f["rule"] for f in out["findings"]} == {"method-opened"}
    assert all({"region", "provider", "type", "create", "update", "replace", "delete"} <= set(row) for row in out["summary"])
    assert {"region": "us-east-1", "provider": "aws.primary", "type": "aws_api_gateway_method"}.items() <= next(
        row for row in out["summary"] if row["type"] == "aws_api_gateway_method"
    ).items()


def test_markdown_has_findings_and_the_summary_table(reports):
    md = render.markdown(reports["table-replaced"])
    assert md.startswith("<!-- tapinfra-review -->\n### ❌ tapinfra plan review")
    assert "#### Findings" in md and "| region | type | create | update | replace | delete |" in md
    assert render.markdown(reports["clean"]).startswith("<!-- tapinfra-review -->\n### ✅")


# ---------------------------------------------------------------- hand-written plans

PRIMARY = "aws.primary"


def plan(*changes: dict[str, Any], regions: dict[str, str] | None = None, prior: list | None = None, drift: list | None = None) -> Any:
    regions = regions or {PRIMARY: "us-east-1"}
    config = [
        {"address": _strip(c["address"]), "mode": c.get("mode", "managed"), "type": c["type"],
         "provider_config_key": c.get("provider", PRIMARY), "expressions": c.get("expressions", {})}
        for c in [*changes, *(drift or [])]
    ]
    doc = {
        "format_version": "1.2",
        "terraform_version": "1.11.0",
        "planned_values": {},
        "resource_changes": [_raw(c) for c in changes],
        "resource_drift": [_raw(c) for c in drift or ()],
        "prior_state": {"values": {"root_module": {"resources": prior or []}}},
        "configuration": {
            "provider_config": {k: {"name": "aws", "alias": k.split(".")[1], "expressions": {"region": {"constant_value": v}}} for k, v in regions.items()},
            "root_module": {"resources": config},
        },
    }
    return review(parse_plan(doc))


def _strip(address: str) -> str:
    return address.split("[")[0]


def _raw(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "address": c["address"], "mode": c.get("mode", "managed"), "type": c["type"], "name": c["address"].split(".")[-1],
        "action_reason": c.get("reason", ""),
        "change": {"actions": c["actions"], "before": c.get("before"), "after": c.get("after"),
                   "after_unknown": c.get("after_unknown", {}), "replace_paths": c.get("replace_paths", [])},
    }


def change(rtype: str, actions: list[str], before=None, after=None, name: str = "x", **extra) -> dict[str, Any]:
    return {"address": f"{rtype}.{name}", "type": rtype, "actions": actions, "before": before, "after": after, **extra}


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="arn:aws:dynamodb:us-east-1:111122223333:table/items", **extra) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def rules(report) -> list[str]:
    return [f.rule for f in report.findings]


@pytest.mark.parametrize("actions, expected", [(["delete"], True), (["delete", "create"], True), (["create", "delete"], True), (["update"], False)])
def test_table_deleted_or_replaced(actions, expected):
    table = {"name": "tap-items-dev", "replica": []}
    report = plan(change("aws_dynamodb_table", actions, before=table, after=None if actions == ["delete"] else table))
    assert ("stateful-resource" in rules(report)) is expected


def test_deleting_a_stateless_resource_is_not_a_finding():
    assert plan(change("aws_cloudwatch_metric_alarm", ["delete"], before={"alarm_name": "a"})).findings == []


def test_replica_removed_from_table_is_a_finding():
    before = {"name": "t", "replica": [{"region_name": "us-west-2"}]}
    report = plan(change("aws_dynamodb_table", ["update"], before=before, after={"name": "t", "replica": []}))
    assert rules(report) == ["stateful-resource"] and "us-west-2" in report.findings[0].reason


def test_replacement_reason_names_the_forcing_attribute():
    report = plan(change("aws_s3_bucket", ["delete", "create"], before={"bucket": "b"}, after={"bucket": "c"}, replace_paths=[["bucket"]]))
    assert "forced by bucket" in report.findings[0].reason


def test_create_before_destroy_with_fixed_name():
    role = {"name": "tap-role-dev"}
    fixed = change("aws_iam_role", ["create", "delete"], before=role, after=role, expressions={"name": {"constant_value": "tap-role-dev"}})
    assert rules(plan(fixed)) == ["fixed-name-create-before-destroy"]
    renamed = {**fixed, "after": {"name": "tap-role2-dev"}}
    assert plan(renamed).findings == []
    destroy_first = {**fixed, "actions": ["delete", "create"]}
    assert plan(destroy_first).findings == []
    generated = {**fixed, "expressions": {}}
    assert plan(generated).findings == []


def test_policy_gaining_wildcard_action_is_flagged_and_existing_one_is_not():
    before = doc(allow("dynamodb:GetItem"), allow("xray:PutTraceSegments", "*"))
    widened = doc(allow(["dynamodb:GetItem", "dynamodb:*"]), allow("xray:PutTraceSegments", "*"))
    report = plan(change("aws_iam_role_policy", ["update"], before={"policy": before}, after={"policy": widened}))
    assert rules(report) == ["policy-wildcard"] and "dynamodb:*" in report.findings[0].reason
    same = plan(change("aws_iam_role_policy", ["update"], before={"policy": before}, after={"policy": before}))
    assert same.findings == []


def test_policy_gaining_wildcard_resource():
    before = doc(allow("dynamodb:GetItem"))
    after = doc(allow("dynamodb:GetItem", ["arn:aws:dynamodb:us-east-1:111122223333:table/items", "arn:aws:dynamodb:us-east-1:111122223333:table/*"]))
    report = plan(change("aws_iam_role_policy", ["update"], before={"policy": before}, after={"policy": after}))
    assert rules(report) == ["policy-wildcard"] and "table/*" in report.findings[0].reason


def test_deny_statements_never_count_as_wildcards():
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]}
    report = plan(change("aws_s3_bucket_policy", ["update"], before={"policy": doc()}, after={"policy": doc(deny)}))
    assert report.findings == []


def test_key_policy_resource_star_is_the_key_but_a_new_principal_with_kms_star_is_flagged():
    root = allow("kms:*", "*", Principal={"AWS": "arn:aws:iam::111122223333:root"})
    extra = allow("kms:*", "*", Principal={"AWS": "arn:aws:iam::111122223333:role/app"})
    report = plan(change("aws_kms_key", ["update"], before={"policy": doc(root)}, after={"policy": doc(root, extra)}))
    assert rules(report) == ["policy-wildcard"]
    assert "role/app" in report.findings[0].reason and "resource *" not in report.findings[0].reason


def test_principal_star_only_without_condition():
    conditional = allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:q", Principal="*", Condition={"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:t"}})
    open_ = allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:q", Principal="*")
    assert plan(change("aws_sqs_queue_policy", ["update"], before={"policy": doc()}, after={"policy": doc(conditional)})).findings == []
    assert rules(plan(change("aws_sqs_queue_policy", ["update"], before={"policy": doc()}, after={"policy": doc(open_)}))) == ["policy-wildcard"]


def test_not_action_in_an_allow_is_a_wildcard():
    after = doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"})
    assert rules(plan(change("aws_iam_policy", ["update"], before={"policy": doc()}, after={"policy": after}))) == ["policy-wildcard"]


def test_created_policies_are_not_compared():
    after = doc(allow("xray:PutTraceSegments", "*"))
    assert plan(change("aws_iam_role_policy", ["create"], after={"policy": after})).findings == []


@pytest.mark.parametrize("resource, wildcard", [
    ("*", True),
    ("arn:aws:s3:::b/*", False),
    ("arn:aws:s3:::*", True),
    ("arn:aws:s3:::tap-*/*", True),
    ("arn:aws:dynamodb:us-east-1:111122223333:table/items/index/*", False),
    ("arn:aws:dynamodb:us-east-1:111122223333:table/*", True),
    ("arn:aws:dynamodb:*:111122223333:table/items", True),
    ("arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/f:*", False),
    ("arn:aws:logs:us-east-1:111122223333:log-group:*", True),
    ("arn:aws:sqs:us-east-1:111122223333:*", True),
    ("arn:aws:sqs:us-east-1:111122223333:q", False),
])
def test_wildcard_resource_definition(resource, wildcard):
    assert is_wildcard_resource(resource) is wildcard


POLICY_REF = {"policy": {"references": ["data.aws_iam_policy_document.p.json", "data.aws_iam_policy_document.p"]}}


def _unknown_policy(statements: list[dict[str, Any]] | None) -> Any:
    before = doc(allow("dynamodb:GetItem"))
    role_policy = change("aws_iam_role_policy", ["update"], before={"policy": before}, after={"policy": None},
                         after_unknown={"policy": True}, expressions=POLICY_REF)
    changes = [role_policy]
    if statements is not None:
        changes.append({"address": "data.aws_iam_policy_document.p", "mode": "data", "type": "aws_iam_policy_document",
                        "actions": ["read"], "before": None, "after": {"statement": statements}})
    return plan(*changes)


def test_unknown_policy_is_reported_as_not_judged_not_passed():
    report = _unknown_policy(None)
    assert report.findings == [] and report.warnings == []
    assert [w.rule for w in report.unjudged] == ["policy-wildcard"] and "known only after apply" in report.unjudged[0].reason


def test_unknown_policy_is_checked_through_its_planned_document():
    statement = {"effect": "Allow", "actions": ["dynamodb:GetItem", "dynamodb:*"], "resources": [None], "principals": [], "condition": []}
    widened = _unknown_policy([statement])
    assert rules(widened) == ["policy-wildcard"] and "dynamodb:*" in widened.findings[0].reason
    unchanged = _unknown_policy([{**statement, "actions": ["dynamodb:GetItem"]}])
    assert unchanged.findings == [] and unchanged.warnings


def test_method_losing_key_or_authorizer():
    keyed = {"http_method": "GET", "api_key_required": True, "authorization": "NONE", "authorizer_id": None}
    assert rules(plan(change("aws_api_gateway_method", ["update"], before=keyed, after={**keyed, "api_key_required": False}))) == ["method-opened"]
    iam = {**keyed, "authorization": "AWS_IAM"}
    assert rules(plan(change("aws_api_gateway_method", ["update"], before=iam, after={**iam, "authorization": "NONE"}))) == ["method-opened"]
    assert plan(change("aws_api_gateway_method", ["update"], before=keyed, after=keyed)).findings == []
    assert plan(change("aws_api_gateway_method", ["create"], after={**keyed, "api_key_required": False})).findings == []


def test_waf_association_deleted():
    before = {"resource_arn": "arn:aws:apigateway:us-east-1::/restapis/a/stages/v1", "web_acl_arn": "arn:aws:wafv2:us-east-1:111122223333:regional/webacl/w/1"}
    report = plan(change("aws_wafv2_web_acl_association", ["delete"], before=before, reason="delete_because_no_resource_config"))
    assert rules(report) == ["protection-removed"] and "removed from the configuration" in report.findings[0].reason


def test_stage_access_logs_removed():
    stage = {"stage_name": "v1", "access_log_settings": [{"destination_arn": "arn:aws:logs:us-east-1:111122223333:log-group:g", "format": "{}"}]}
    report = plan(change("aws_api_gateway_stage", ["update"], before=stage, after={**stage, "access_log_settings": []}))
    assert rules(report) == ["protection-removed"]


def test_method_settings_logging_off():
    on = {"settings": [{"logging_level": "INFO", "metrics_enabled": True}]}
    off = {"settings": [{"logging_level": "OFF", "metrics_enabled": True}]}
    assert rules(plan(change("aws_api_gateway_method_settings", ["update"], before=on, after=off))) == ["protection-removed"]
    assert plan(change("aws_api_gateway_method_settings", ["update"], before=off, after=off)).findings == []


def _key(region: str) -> dict[str, Any]:
    return {"arn": f"arn:aws:kms:{region}:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}


def test_region_change_seen_in_drift():
    gone = change("aws_kms_key", ["delete"], before=_key("us-east-1"))
    created = change("aws_kms_key", ["create"], after={"arn": None})
    report = plan(created, regions={PRIMARY: "eu-west-1"}, drift=[gone])
    assert rules(report) == ["provider-region-changed"] and "us-east-1 to eu-west-1" in report.findings[0].reason


def test_region_change_seen_in_prior_state():
    prior = [{"address": "aws_kms_key.x", "mode": "managed", "type": "aws_kms_key", "values": _key("us-east-1")}]
    kept = change("aws_kms_key", ["no-op"], before=_key("us-east-1"), after=_key("us-east-1"))
    assert plan(kept, prior=prior).findings == []
    assert rules(plan(kept, prior=prior, regions={PRIMARY: "eu-west-1"})) == ["provider-region-changed"]


def test_global_arns_do_not_count_as_regions():
    role = change("aws_iam_role", ["no-op"], before={"arn": "arn:aws:iam::111122223333:role/r"}, after={"arn": "arn:aws:iam::111122223333:role/r"})
    assert plan(role, regions={PRIMARY: "eu-west-1"}).findings == []


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("content, message", [
    ("not json", "is not JSON"),
    ('{"resource": {}}', "synthesized stack, not a plan"),
    ('{"format_version": "1.0", "values": {}}', "is a terraform state, not a plan"),
    ('{"format_version": "2.0", "planned_values": {}}', 'format_version: got "2.0"; expected 1.x'),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "in.json"
    path.write_text(content)
    assert review_cli.main([str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_missing_file_is_exit_2(tmp_path, capsys):
    assert review_cli.main([str(tmp_path / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
