"""The fixed monthly baseline matches figures computed by hand from the price table."""

from __future__ import annotations

import copy
import json
import re

import pytest

from tapinfra.config import API_CACHE_SIZES_GB, AWS_REGIONS
from tapinfra.operator import cost, diagram, model, price_refresh
from tests.synth import example_config, synth

PRICES = cost.load_prices()
HOURS = 730
# By hand, from prices.json (WAF, KMS, Route 53 and CloudWatch dashboards are priced in every region; Lambda
# provisioned concurrency, canary runs, alarms, cache and endpoints per region from AWS's calculator maps):
PC_2_X_512MB = 2 * (512 / 1024) * HOURS * 3600 * 0.0000041667      # 2,628,000 GB-s = 10.9500876 (us-east-1 and us-west-2 alike)
CANARY_5_MIN = (HOURS * 60 / 5) * 0.0012                             # 8,760 runs = 10.512 (us-east-1 and us-west-2 alike)
WAF = 5.00 + 6 * 1.00                                                # one web ACL, six rules (rate, body size, four groups)
HEALTH_CHECK = 0.50 + 2 * 1.00                                       # HTTPS + latency measurement
ALARMS_PRIMARY = (15 + 4 * 2) * 0.10                                 # 19 alarms: 15 read one metric, 4 metric-math read two
# (the release's new-version error rate and p99 duration are two of them)
ALARMS_SECONDARY = (11 + 4 * 2) * 0.10                               # 15 alarms, 19 metrics; us-west-2 bills 0.10 as us-east-1 does


def _estimate(doc) -> cost.Estimate:
    return cost.estimate(model.from_document(doc), PRICES)


def _example(name) -> cost.Estimate:
    return _estimate(synth(example_config(name)).doc)


def test_default_example_by_hand():
    est = _example("default")
    primary = PC_2_X_512MB + CANARY_5_MIN + WAF + 2 * 1.00 + ALARMS_PRIMARY + 3.00 + HEALTH_CHECK
    # 2 keys: the data key and the DNSSEC key (us-east-1 is the primary); one dashboard.
    secondary = PC_2_X_512MB + CANARY_5_MIN + WAF + 1.00 + ALARMS_SECONDARY + HEALTH_CHECK   # us-west-2: no dashboard
    assert est.subtotal("primary") == pytest.approx(primary) == pytest.approx(42.2620876)
    assert est.subtotal("secondary") == pytest.approx(secondary) == pytest.approx(37.8620876)
    assert est.subtotal("global") == pytest.approx(0.50)
    assert est.total == pytest.approx(80.6241752)
    unpriced = {(line.scope, line.item) for line in est.unpriced}
    assert unpriced == {("primary", "s3_replication_time_control")}
    reasons = {(line.scope, line.item): line.unpriced_reason for line in est.unpriced}
    assert reasons[("primary", "s3_replication_time_control")].startswith("AWS publishes no price for us-east-1")


def test_minimal_example_by_hand():
    est = _example("minimal")
    # examples/minimal.json: canaries on, routed through a created zone (DNSSEC key in us-east-1, the primary).
    assert est.subtotal("primary") == pytest.approx(
        PC_2_X_512MB + CANARY_5_MIN + WAF + 2 * 1.00 + ALARMS_PRIMARY + 3.00 + HEALTH_CHECK) == pytest.approx(42.2620876)
    assert est.subtotal("secondary") == pytest.approx(
        PC_2_X_512MB + CANARY_5_MIN + WAF + 1.00 + ALARMS_SECONDARY + HEALTH_CHECK) == pytest.approx(37.8620876)
    assert est.subtotal("global") == pytest.approx(0.50)
    assert [line.quantity for line in est.lines if line.item == "route53_hosted_zone"] == [1]


def test_full_example_by_hand_and_honest_about_what_it_cannot_price():
    est = _example("full")
    pc_5_x_1gb = 5 * 1.0 * HOURS * 3600                                               # 13,140,000 GB-s
    table_10_10 = 10 * HOURS                                                           # 10 RCU and 10 WCU (autoscaling minimum) per replica
    canary = HOURS * 60 / 5                                                            # 8,760 runs
    cache_1_6 = HOURS * 0.038                                                          # 1.6 GB cache: 0.038 in eu-west-1 and eu-central-1
    endpoints = 7 * 2 * HOURS                                                          # 7 interface endpoints × 2 AZ
    aurora = 2 * HOURS                                                                 # 2 db.r6g.large instances per region
    assert est.subtotal("primary") == pytest.approx(                                  # eu-west-1: 657.57104
        pc_5_x_1gb * 0.000004646 + canary * 0.0014 + WAF + 1.00 + cache_1_6 + 26 * 0.10 + 3.00 + HEALTH_CHECK
        + table_10_10 * (0.000147 + 0.000735) + endpoints * 0.011 + aurora * 0.286)    # 22 alarms, 26 metrics; one dashboard
    assert est.subtotal("secondary") == pytest.approx(                                # eu-central-1: 711.015838
        pc_5_x_1gb * 0.0000050147 + canary * 0.0016 + WAF + 1.00 + cache_1_6 + 23 * 0.10 + HEALTH_CHECK
        + table_10_10 * (0.0001586 + 0.000793) + endpoints * 0.012 + aurora * 0.313)   # 19 alarms, 23 metrics
    assert est.subtotal("us_east_1") == pytest.approx(2 * 1.00 + 2 * 0.10)           # DNSSEC + alarm-topic keys; 2 health alarms
    assert est.total == pytest.approx(657.57104 + 711.015838 + 2.20 + 0.50)           # + the zone = 1,371.286878
    lines = {(line.scope, line.item): line for line in est.lines}
    assert lines[("primary", "lambda_provisioned_concurrency")].quantity == pytest.approx(pc_5_x_1gb)
    assert lines[("primary", "api_cache_hour")].quantity == HOURS and lines[("primary", "api_cache_hour")].unit_price == 0.038
    assert {line.item for line in est.unpriced} == {"s3_replication_time_control"}
    assert lines[("secondary", "dynamodb_write_capacity_unit_hour")].quantity == 10 * HOURS
    assert json.loads(json.dumps(est.to_json()))["complete"] is False


def test_quantities_follow_the_stack_not_the_defaults():
    """A canary every minute and 10-second health checks show up as what they cost."""
    doc = copy.deepcopy(synth(example_config("default")).doc)
    canary = next(c for c in doc["resource"]["aws_synthetics_canary"].values() if c["provider"] == "aws.primary")
    canary["schedule"]["expression"] = "rate(1 minute)"
    check = next(c for c in doc["resource"]["aws_route53_health_check"].values() if c["provider"] == "aws.primary")
    check["request_interval"] = 10
    lines = {(line.scope, line.item): line for line in _estimate(doc).lines}
    assert lines[("primary", "synthetics_canary_run")].quantity == HOURS * 60
    assert lines[("primary", "route53_health_check_feature")].quantity == 3


def _with_optional_modules(doc):
    """Aurora and VPC interface endpoints as the optional modules will synthesize them."""
    doc = copy.deepcopy(doc)
    resources = doc["resource"]
    resources["aws_rds_cluster"] = {"db": {"provider": "aws.primary", "engine": "aurora-postgresql",
                                           "serverlessv2_scaling_configuration": {"min_capacity": 0.5, "max_capacity": 4}}}
    resources["aws_rds_cluster_instance"] = {
        "db-writer": {"provider": "aws.primary", "instance_class": "db.serverless", "cluster_identifier": "${aws_rds_cluster.db.id}"},
        "db-reader": {"provider": "aws.primary", "instance_class": "db.r6g.large", "cluster_identifier": "${aws_rds_cluster.db.id}"},
    }
    resources["aws_vpc_endpoint"] = {
        f"{role}-ddb": {"provider": f"aws.{role}", "vpc_endpoint_type": "Interface", "service_name": "com.amazonaws.x.dynamodb",
                        "subnet_ids": ["${aws_subnet.a.id}", "${aws_subnet.b.id}", "${aws_subnet.c.id}"]}
        for role in ("primary", "secondary")
    }
    resources["aws_vpc_endpoint"]["primary-s3-gateway"] = {"provider": "aws.primary", "vpc_endpoint_type": "Gateway",
                                                            "service_name": "com.amazonaws.x.s3"}
    return doc


def test_aurora_and_interface_endpoints_are_priced_when_they_appear():
    doc = _with_optional_modules(synth(example_config("minimal")).doc)
    est = _estimate(doc)
    lines = {(line.scope, line.item, line.what.split(":")[0]): line for line in est.lines}
    acu = next(line for line in est.lines if line.item == "aurora_serverless_v2_acu_hour")
    assert acu.quantity == pytest.approx(0.5 * HOURS) and acu.monthly == pytest.approx(0.5 * HOURS * 0.12)   # 43.80
    reader = next(line for line in est.lines if line.item == "rds_instance_hour")
    assert reader.quantity == HOURS and reader.unit_price == 0.26 and "db.r6g.large" in reader.what         # 189.80
    endpoints = [line for line in est.lines if line.item == "vpc_interface_endpoint_hour"]
    assert len(endpoints) == 2, "gateway endpoints are not interface endpoints"
    primary = next(line for line in endpoints if line.scope == "primary")
    assert primary.quantity == 3 * HOURS and primary.monthly == pytest.approx(3 * HOURS * 0.01)             # 21.90
    assert next(line for line in endpoints if line.scope == "secondary").monthly == pytest.approx(3 * HOURS * 0.01)  # us-west-2
    assert est.subtotal("primary") == pytest.approx(_example("minimal").subtotal("primary") + 43.80 + 189.80 + 21.90)
    arch = model.from_document(doc)
    assert {"aurora", "vpc_endpoints"} <= arch.features
    assert {"primary_rds_cluster", "primary_vpc_endpoint"} <= set(diagram.build(arch).nodes)
    assert lines  # every line keyed


def test_every_price_states_its_source_and_date():
    entries = list(PRICES.data["fixed"].items()) + [(v["what"], v) for v in PRICES.variable]
    for key, entry in entries:
        assert entry["source"].startswith("https://aws.amazon.com/") or entry["source"] == price_refresh.SOURCE, key
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["as_of"]), f"{key}: as_of must be a date"
        tables = [entry.get("prices") or {}] + list((entry.get("prices_by_size") or entry.get("prices_by_class") or {}).values())
        values = [v for table in tables for v in table.values()]
        assert all(isinstance(v, (int, float)) and v > 0 for v in values), f"{key}: prices must be positive numbers"
        if values:
            assert entry.get("read_in"), f"{key}: say where the figure was read"
        for region, own in (entry.get("sources") or {}).items():
            assert own.get("read_in") and re.fullmatch(r"\d{4}-\d{2}-\d{2}", own.get("as_of", "")), (key, region)
    for v in PRICES.variable:
        assert v["prices"] or v.get("not_found"), f"{v['what']}: neither a price nor a statement that none was found"


def _variants(key, entry):
    """(variant, prices, reasons) of a line: one table, or one per cache size, or one for every instance class."""
    if "prices_by_size" in entry:
        return [(size, entry["prices_by_size"].get(size, {}), entry.get("unpriced_by_size", {}).get(size, {})) for size in API_CACHE_SIZES_GB]
    if "prices_by_class" in entry:
        classes = set(entry["prices_by_class"]) | set(entry.get("unpriced_by_class", {}))
        return [(c, entry["prices_by_class"].get(c, {}), entry.get("unpriced_by_class", {}).get(c, {})) for c in sorted(classes | {"*"})]
    return [(None, entry.get("prices", {}), entry.get("unpriced", {}))]


@pytest.mark.parametrize("key", sorted(PRICES.data["fixed"]))
def test_every_accepted_region_has_a_price_or_says_why_not(key):
    """Adding a region to AWS_REGIONS fails here until every line prices it or states its reason."""
    entry = PRICES.data["fixed"][key]
    for variant, prices, unpriced in _variants(key, entry):
        reasons = {}
        for reason, regions in unpriced.items():
            for region in regions:
                assert region not in reasons, (key, variant, region, "listed twice")
                reasons[region] = reason
        if "*" in prices:
            assert not reasons, (key, variant, "priced in every region yet listed as unpriced")
            continue
        if variant == "*" and "prices_by_class" in entry:
            prices = {}
        missing = [r for r in AWS_REGIONS if r not in prices and r not in reasons]
        assert not missing, f"{key} {variant or ''}: no price and no reason for {missing}"
        assert not set(prices) & set(reasons), (key, variant, "both a price and a reason")
        assert set(prices) | set(reasons) <= set(AWS_REGIONS) | {"*"}, (key, variant, "a region the config does not accept")
        for region, reason in reasons.items():
            assert reason == cost.NOT_FOUND or reason.startswith(cost.NO_PRICE.format(region=region)), (key, region, reason)


def test_a_line_with_a_region_missing_is_caught(monkeypatch):
    """The completeness check above can fail: a region dropped from a line's reasons is reported."""
    entry = copy.deepcopy(PRICES.data["fixed"]["cloudwatch_alarm_metric"])
    entry["prices"] = {region: price for region, price in entry["prices"].items() if region != "mx-central-1"}
    monkeypatch.setitem(PRICES.data["fixed"], "cloudwatch_alarm_metric", entry)
    with pytest.raises(AssertionError, match="mx-central-1"):
        test_every_accepted_region_has_a_price_or_says_why_not("cloudwatch_alarm_metric")


def test_command_prints_a_table_and_json(tmp_path, capsys):
    stack = tmp_path / "cdk.tf.json"
    stack.write_text(json.dumps(synth(example_config("default")).doc))
    assert cost.main(["--stack-json", str(stack)]) == 0
    text = capsys.readouterr().out
    assert "primary · us-east-1" in text and "TOTAL (priced lines)" in text and "80.62" in text
    assert "the total is a floor" in text and "Variable costs" in text
    assert cost.main(["--stack-json", str(stack), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"] == pytest.approx(80.6241752)
    assert data["scopes"]["secondary"]["region"] == "us-west-2"
    assert all(line["source"] and line["as_of"] for scope in data["scopes"].values() for line in scope["lines"])


def test_command_reports_a_missing_stack_as_a_config_error(capsys):
    assert cost.main(["--stack-json", "/nonexistent/cdk.tf.json"]) == 2
    err = capsys.readouterr().err
    assert "--stack-json" in err and "Traceback" not in err
