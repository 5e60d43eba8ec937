"""``cost --diff``: the baseline before and after a change, and the delta per line and region, by hand.

The plan fixtures are real plans of the minimal example (environment fx: us-east-1 primary,
us-west-2 secondary) made with terraform against moto, without provisioned concurrency and
canaries (the rehearsal's emulator gaps). Counted by hand in clean.json.gz, on each side:
primary: one web ACL with 6 rules, 1 KMS key, 12 alarms reading 15 metrics, 1 dashboard, one
replication rule with RTC; secondary: one web ACL with 6 rules, 1 KMS key, 10 alarms reading
13 metrics.
"""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import pytest

from tapinfra.operator import cost, cost_diff, model
from tapinfra.operator.plan_stack import normalize
from tapinfra.operator.stack_shape import RESOURCES
from tapinfra.review.plan import parse_plan
from tests.synth import example_config, synth

PRICES = cost.load_prices()
PLANS = Path(__file__).resolve().parent.parent / "fixtures" / "plans"
HOURS = 730
# By hand, from prices.json:
US_EAST_1 = 5.00 + 6 * 1.00 + 1.00 + 15 * 0.10 + 3.00   # web ACL, 6 rules, 1 key, 15 alarm metrics, dashboard = 16.50
US_WEST_2 = 5.00 + 6 * 1.00 + 1.00 + 13 * 0.10          # web ACL, 6 rules, 1 key, 13 alarm metrics = 13.30


def plan(name: str) -> str:
    return str(PLANS / f"{name}.json.gz")


def diff_of(name: str) -> cost_diff.Diff:
    return cost_diff.diff_files(plan(name), plan(name), PRICES)


def by_line(diff: cost_diff.Diff) -> dict:
    return {(line.region, line.item): line for line in diff.lines}


def test_clean_plan_adds_a_tenant_whose_keys_cost_nothing_fixed():
    diff = diff_of("clean")
    assert diff.subtotal("us-east-1", "before") == diff.subtotal("us-east-1", "after") == pytest.approx(US_EAST_1) == pytest.approx(16.50)
    assert diff.subtotal("us-west-2", "before") == diff.subtotal("us-west-2", "after") == pytest.approx(US_WEST_2) == pytest.approx(13.30)
    assert diff.total("before") == diff.total("after") == pytest.approx(29.80)
    assert diff.delta == 0 and not diff.undetermined
    lines = by_line(diff)
    assert lines[("us-east-1", "cloudwatch_alarm_metric")].quantity_after == 15
    assert lines[("us-west-2", "cloudwatch_alarm_metric")].monthly_after == pytest.approx(13 * 0.10)
    assert lines[("us-west-2", "cloudwatch_alarm_metric")].delta == 0                 # same quantity, same price
    # the tenant acme: one more API key and usage-plan key in each region, which no line prices
    assert set(diff.resource_changes()) == {(region, rtype, 1, 2) for region in ("us-east-1", "us-west-2")
                                            for rtype in ("aws_api_gateway_api_key", "aws_api_gateway_usage_plan_key")}


def test_clean_plan_as_text_json_and_markdown(capsys):
    assert cost.main(["--diff", plan("clean"), plan("clean")]) == 0
    text = capsys.readouterr().out
    assert "us-east-1 (primary)" in text and "us-west-2 (secondary)" in text
    assert "29.80" in text and "aws_api_gateway_api_key" in text and "1 -> 2" in text
    assert cost.main(["--diff", plan("clean"), "--json"]) == 0            # one plan: its prior state against its plan
    data = json.loads(capsys.readouterr().out)
    assert data["before"]["total"] == data["after"]["total"] == pytest.approx(29.80) and data["delta"] == 0
    assert {r["region"]: r["after"] for r in data["regions"]} == {"us-east-1": pytest.approx(16.50), "us-west-2": pytest.approx(13.30)}
    assert {(r["region"], r["type"], r["after"] - r["before"]) for r in data["resources"]} >= {("us-east-1", "aws_api_gateway_api_key", 1)}
    assert all(line["source"] and line["as_of"] for line in data["lines"])
    assert cost.main(["--diff", plan("clean"), "--markdown"]) == 0
    md = capsys.readouterr().out
    assert md.startswith(cost_diff.MARKER + "\n") and "| us-east-1 (primary) | 16.50 | 16.50 | 0.00 |" in md
    assert "| **total** | **29.80** | **29.80** | **0.00** |" in md and "`aws_api_gateway_api_key`" in md


def test_replaced_table_changes_no_fixed_line():
    diff = diff_of("table-replaced")
    assert diff.delta == 0 and diff.total("after") == pytest.approx(29.80)
    assert diff.after.plan.actions[("us-east-1", "aws_dynamodb_table", "replace")] == 1


def test_emptied_web_acl_drops_its_six_rules():
    diff = diff_of("waf-emptied")
    assert diff.delta == pytest.approx(-6 * 1.00) and diff.region_delta("us-west-2") == 0
    assert by_line(diff)[("us-east-1", "waf_rule")].quantity_after == 0


def test_moved_secondary_is_priced_in_its_new_region_and_says_what_refresh_lost():
    diff = diff_of("region-changed")
    # eu-west-1 gains the secondary's web ACL, rules, key and 13 alarm metrics (0.10 there as in us-west-2)
    assert diff.region_delta("eu-west-1") == pytest.approx(US_WEST_2) and diff.delta == pytest.approx(13.30)
    assert diff.undetermined == []
    assert diff.before.plan.gone_at_refresh == {"us-west-2": 73}
    assert any("73 resource(s) in us-west-2" in note for note in cost_diff.notes(diff))
    assert model.from_document(diff.before.plan.before).region("secondary").name == "us-west-2"
    assert model.from_document(diff.after.plan.after).region("secondary").name == "eu-west-1"


# every plan fixture: the delta is the sum of its lines, each line's delta is after minus before
EXPECTED_DELTA = {"clean": 0, "key-disabled": 0, "lifecycle-expires-all": 0, "method-created-open": 0, "method-opened": 0,
                  "pitr-off": 0, "policy-widened": 0, "region-changed": 13.30, "table-replaced": 0, "ttl-switched": 0,
                  "unchanged-default": 0, "unchanged-minimal": 0, "waf-emptied": -6.00,
                  # the full example (eu-west-1, eu-central-1 and the us-east-1 helper): CloudTrail has no fixed line
                  "unchanged-full": 0, "trail-stopped": 0}
FIXTURES = sorted(p.name.removesuffix(".json.gz") for p in PLANS.glob("*.json.gz"))


def test_the_table_covers_every_plan_fixture():
    """A new plan fixture fails here until its expected delta is stated."""
    assert set(FIXTURES) <= set(EXPECTED_DELTA) and "clean" in FIXTURES


@pytest.mark.parametrize("name", FIXTURES)
def test_every_fixture_delta_adds_up(name):
    diff = diff_of(name)
    assert diff.delta == pytest.approx(EXPECTED_DELTA[name])
    assert sum(diff.region_delta(r) for r in diff.regions) == pytest.approx(diff.delta)
    for line in diff.lines:
        if line.monthly_before is not None and line.monthly_after is not None:
            assert line.delta == pytest.approx(line.monthly_after - line.monthly_before), (line.region, line.item)
        elif line.quantity_before != line.quantity_after:
            assert line.delta is None and line.reason, (line.region, line.item)
    unpriced = sum((line.monthly_after or 0) - (line.monthly_before or 0) for line in diff.undetermined)
    assert diff.total("after") - diff.total("before") == pytest.approx(diff.delta + unpriced)


# ---------------------------------------------------------------- synthesized stacks

@pytest.fixture(scope="module")
def default_doc():
    return synth(example_config("default")).doc


def _write(tmp_path, name, doc) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_two_stacks_by_hand(tmp_path, default_doc):
    after = copy.deepcopy(default_doc)
    res = after["resource"]
    pc = next(c for c in res["aws_lambda_provisioned_concurrency_config"].values() if c["provider"] == "aws.primary")
    fn = model.from_document(default_doc).resolve(pc["function_name"])
    assert fn.get("memory_size") == 512
    pc["provisioned_concurrent_executions"] += 3
    canary = next(c for c in res["aws_synthetics_canary"].values() if c["provider"] == "aws.primary")
    assert canary["schedule"]["expression"] == "rate(5 minutes)"
    canary["schedule"]["expression"] = "rate(1 minute)"
    acl = next(a for a in res["aws_wafv2_web_acl"].values() if a["provider"] == "aws.secondary")
    acl["rule"] = acl["rule"] + [dict(acl["rule"][0], name="extra", priority=99)]
    del res["aws_route53_zone"]
    diff = cost_diff.diff_files(_write(tmp_path, "before.json", default_doc), _write(tmp_path, "after.json", after), PRICES)
    pc_delta = 3 * (512 / 1024) * HOURS * 3600 * 0.0000041667      # 16.4251314
    canary_delta = (HOURS * 60 - HOURS * 12) * 0.0012                # 43,800 - 8,760 runs = 42.048
    lines = by_line(diff)
    assert lines[("us-east-1", "lambda_provisioned_concurrency")].delta == pytest.approx(pc_delta)
    assert lines[("us-east-1", "synthetics_canary_run")].delta == pytest.approx(canary_delta)
    assert lines[("us-west-2", "waf_rule")].delta == pytest.approx(1.00)
    assert lines[("global", "route53_hosted_zone")].delta == pytest.approx(-0.50)
    assert diff.region_delta("us-east-1") == pytest.approx(pc_delta + canary_delta)
    assert diff.delta == pytest.approx(pc_delta + canary_delta + 1.00 - 0.50) == pytest.approx(58.9731314)
    assert any(t == "aws_route53_zone" and b == 1 and a == 0 for _, t, b, a in diff.resource_changes())


def test_minimal_against_default_stacks(tmp_path, default_doc):
    minimal_doc = synth(example_config("minimal")).doc
    diff = cost_diff.diff_files(_write(tmp_path, "min.json", minimal_doc), _write(tmp_path, "def.json", default_doc), PRICES)
    before, after = (cost.estimate(model.from_document(d), PRICES) for d in (minimal_doc, default_doc))
    assert diff.total("before") == pytest.approx(before.total) and diff.total("after") == pytest.approx(after.total)
    zones = len(default_doc["resource"].get("aws_route53_zone", {})) - len(minimal_doc["resource"].get("aws_route53_zone", {}))
    zone_line = by_line(diff).get(("global", "route53_hosted_zone"))
    assert (zone_line.delta if zone_line else 0) == pytest.approx(zones * 0.50)
    assert cost.main(["--diff", str(tmp_path / "min.json"), str(tmp_path / "def.json"), "--markdown"]) == 0


def test_one_stack_against_itself_changes_nothing(tmp_path, default_doc):
    path = _write(tmp_path, "cdk.tf.json", default_doc)
    diff = cost_diff.diff_files(path, path, PRICES)
    assert diff.delta == 0 and not diff.undetermined and not diff.resource_changes()


def test_a_stack_against_a_plan(tmp_path):
    """Either side may be either kind: the plan's planned objects against a stack document made from its prior state."""
    parsed = parse_plan(json.loads(gzip.open(plan("waf-emptied")).read()), "waf-emptied")
    from tapinfra.operator.plan_stack import plan_sides

    before = _write(tmp_path, "prior.json", plan_sides(parsed).before)
    diff = cost_diff.diff_files(before, plan("waf-emptied"), PRICES)
    assert diff.before.kind == "stack" and diff.after.kind == "plan (planned)" and diff.delta == pytest.approx(-6.00)


# ---------------------------------------------------------------- reading a plan's sides

def _plan_doc(prior, changes, config):
    return {"format_version": "1.2", "terraform_version": "1.11.4",
            "configuration": {"provider_config": {
                "aws.primary": {"name": "aws", "alias": "primary", "expressions": {"region": {"constant_value": "eu-west-1"}}},
                "aws.secondary": {"name": "aws", "alias": "secondary", "expressions": {"region": {"constant_value": "us-west-2"}}}},
                "root_module": {"resources": config}},
            "prior_state": {"format_version": "1.0", "values": {"root_module": {"resources": prior}}},
            "resource_changes": changes}


def _state(address, values):
    rtype, name = address.split(".")
    return {"address": address, "mode": "managed", "type": rtype, "name": name,
            "provider_name": "registry.terraform.io/hashicorp/aws", "values": values}


def _change(address, actions, before, after):
    rtype, name = address.split(".")
    return {"address": address, "mode": "managed", "type": rtype, "name": name,
            "provider_name": "registry.terraform.io/hashicorp/aws", "change": {"actions": actions, "before": before, "after": after}}


def test_a_plan_reads_references_and_places_what_the_configuration_dropped(tmp_path):
    fn = {"function_name": "f", "memory_size": 1024, "arn": "arn:aws:lambda:eu-west-1:123456789012:function:f"}
    pc_before = {"function_name": "f", "provisioned_concurrent_executions": 1, "qualifier": "live"}
    pc_after = dict(pc_before, provisioned_concurrent_executions=3)
    key = {"arn": "arn:aws:kms:eu-west-1:123456789012:key/0f4c7b2e-9d51-4d6a-8a8e-2b7f0c3d1e55", "is_enabled": True}
    doc = _plan_doc(
        prior=[_state("aws_lambda_function.fn", fn), _state("aws_lambda_provisioned_concurrency_config.pc", pc_before),
               _state("aws_kms_key.old", key)],
        changes=[_change("aws_lambda_function.fn", ["no-op"], fn, fn),
                 _change("aws_lambda_provisioned_concurrency_config.pc", ["update"], pc_before, pc_after),
                 _change("aws_kms_key.old", ["delete"], key, None)],
        config=[{"address": "aws_lambda_function.fn", "mode": "managed", "type": "aws_lambda_function", "name": "fn",
                 "provider_config_key": "aws.primary", "expressions": {"memory_size": {"constant_value": 1024}}},
                {"address": "aws_lambda_provisioned_concurrency_config.pc", "mode": "managed",
                 "type": "aws_lambda_provisioned_concurrency_config", "name": "pc", "provider_config_key": "aws.primary",
                 "expressions": {"function_name": {"references": ["aws_lambda_function.fn.function_name", "aws_lambda_function.fn"]},
                                 "provisioned_concurrent_executions": {"constant_value": 3}}}])
    path = _write(tmp_path, "plan.json", doc)
    lines = by_line(cost_diff.diff_files(path, path, PRICES))
    gb_month = 1 * HOURS * 3600 * 0.000004646        # 1 GB (1024 MB read through the reference) in eu-west-1 = 12.209688
    pc = lines[("eu-west-1", "lambda_provisioned_concurrency")]
    assert pc.monthly_before == pytest.approx(gb_month) and pc.monthly_after == pytest.approx(3 * gb_month)
    # the key the configuration no longer has sits in the region its ARN names, and goes
    assert lines[("eu-west-1", "kms_key")].delta == pytest.approx(-1.00)


@pytest.mark.parametrize("rtype", sorted(RESOURCES))
def test_normalize_unwraps_exactly_the_blocks_the_readers_read_as_objects(rtype):
    shape = RESOURCES[rtype]
    for field, inner in shape.fields.items():
        if type(inner).__name__ == "Obj":
            assert normalize({field: [{"a": 1}]}, shape) == {field: {"a": 1}}
            assert normalize({field: []}, shape) == {}
        else:
            assert normalize({field: [1, 2]}, shape) == {field: [1, 2]}
    assert normalize({"unread": [{"a": None, "b": 2}]}, shape) == {"unread": [{"b": 2}]}


# ---------------------------------------------------------------- bad input: exit 2, one message naming the file

def _bad_files(tmp_path):
    plan_doc = json.loads(gzip.open(plan("clean")).read())
    cases = {
        "missing": str(tmp_path / "nope.json"),
        "a directory": str(tmp_path),
        "not JSON": "text",
        "a JSON list": "[]",
        "a config, not a stack": json.dumps(json.loads(Path("examples/minimal.json").read_text())),
        "a state, not a plan": json.dumps({"format_version": "1.0", "values": {}}),
        "an errored plan": json.dumps(dict(plan_doc, errored=True)),
        "resource_changes a string": json.dumps(dict(plan_doc, resource_changes="x")),
        "a stack without aliased providers": json.dumps({"provider": {"aws": [{"region": "us-east-1"}]}, "resource": {}}),
        "a stack field of the wrong type": json.dumps({"provider": {"aws": [{"alias": "primary", "region": "us-east-1"},
                                                                            {"alias": "secondary", "region": "us-west-2"}]},
                                                      "resource": {"aws_wafv2_web_acl": {"a": {"provider": "aws.primary", "rule": 3}}}}),
        "a broken gzip": b"\x1f\x8b\x08\x00broken",
        "not UTF-8": b"\xff\xfe\x00{",
    }
    paths = {}
    for label, content in cases.items():
        if label in ("missing", "a directory"):
            paths[label] = content
            continue
        path = tmp_path / (label.replace(" ", "-").replace(",", "") + ".json")
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        paths[label] = str(path)
    return paths


def test_bad_files_are_exit_2_with_one_line_naming_the_side_and_file(tmp_path, capsys):
    for label, path in _bad_files(tmp_path).items():
        for argv, side in ((["--diff", path, plan("clean")], "BEFORE"), (["--diff", plan("clean"), path], "AFTER")):
            assert cost.main(argv) == 2, label
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and "Traceback" not in err, (label, err)
            assert f"cost --diff {side}" in err and path in err, (label, err)


@pytest.mark.parametrize("argv", [
    ["--diff", "a", "b", "c"],
    ["--diff", "a", "--stack-json", "b"],
    ["--diff", "a", "--config", "b"],
    ["--markdown"],
    ["--diff", "a", "--json", "--markdown"],
    ["--refresh-prices", "--diff", "a"],
])
def test_bad_usage_is_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cost.main(argv)
    assert exit_.value.code == 2 and "error:" in capsys.readouterr().err


def test_a_bad_price_table_is_exit_2(tmp_path, capsys):
    for content in ("nope", "[]", json.dumps({"currency": "USD"})):
        table = tmp_path / "prices.json"
        table.write_text(content)
        assert cost.main(["--diff", plan("clean"), "--prices", str(table)]) == 2
        err = capsys.readouterr().err
        assert "--prices" in err and "Traceback" not in err


def test_the_reviews_plan_gives_the_same_section():
    """What ``review`` holds (a parsed plan) renders the same Markdown section as the two-file command."""
    from tapinfra.review import load_plan

    section = cost_diff.markdown_section(cost_diff.plan_diff(load_plan(plan("waf-emptied")), PRICES, plan("waf-emptied")))
    assert section == cost_diff.markdown_section(diff_of("waf-emptied"))
    assert "#### 💰 Fixed monthly baseline: -6.00 USD" in section and "| us-east-1 (primary) | 16.50 | 10.50 | -6.00 |" in section
