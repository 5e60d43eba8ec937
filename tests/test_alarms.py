"""Monitoring from specs: every alarm the examples create is a declared kind (the README's
generated table lists it), and every declared kind is created by some example; each owner
(API, function, table, canary, WAF) offers its metrics, alarm specs and dashboard rows, and the
region's collector watches exactly those."""

from __future__ import annotations

import re

import pytest

from tests.synth import EXAMPLE_NAMES, Tf, example_config, synth


def _created_keys() -> set[str]:
    keys = set()
    for name in EXAMPLE_NAMES:
        config = example_config(name)
        for body in Tf(synth(config).doc).resources("aws_cloudwatch_metric_alarm").values():
            m = re.fullmatch(rf"{config.app}-(.+)-{config.environment}", body["alarm_name"])
            assert m, body["alarm_name"]
            keys.add(re.sub(r"^(primary|secondary)-health-check$", "<role>-health-check", m.group(1)))
    return keys


def test_every_alarm_is_a_declared_kind_and_every_kind_is_built_somewhere():
    from tapinfra.constructs.monitoring import ALARM_DOCS, alarm_table

    table = alarm_table()  # imports every construct: every kind declared
    declared = {key for key, doc in ALARM_DOCS.items() if doc.declared_in.startswith("tapinfra.")}
    created = _created_keys()
    assert created - declared == set(), "alarms without an alarm_doc (not in the README table)"
    assert declared - created == set(), "declared alarm kinds no example builds"
    assert all(f"| `{key}` |" in table for key in declared)


def test_the_dashboard_shows_each_modules_row_in_the_full_example():
    import json

    (dashboard,) = Tf(synth(example_config("full")).doc).resources("aws_cloudwatch_dashboard").values()
    titles = [w["properties"]["title"] for w in json.loads(dashboard["dashboard_body"])["widgets"]]
    for row in ("Ingestion: processed, failed, dead letters", "Aurora CPU and replication lag"):
        assert sum(t.startswith(row) for t in titles) == 2, row   # both regions
    assert [t for t in titles if t.startswith("Audit")] == ["Audit: changes to any trail — primary (eu-west-1)"]


def test_an_alarm_spec_needs_a_metric_or_an_expression_with_inputs():
    import pytest

    from tapinfra.constructs.monitoring import API_5XX, AlarmSpec, Metric

    with pytest.raises(ValueError, match="api-5xx-rate"):
        AlarmSpec(API_5XX, "no metric", 1, "notBreaching")
    with pytest.raises(ValueError, match="api-5xx-rate"):
        AlarmSpec(API_5XX, "both", 1, "notBreaching", metric=Metric("A", "B", {}), expression="a", inputs={"a": Metric("A", "B", {})})
    with pytest.raises(ValueError, match="api-5xx-rate"):
        AlarmSpec(API_5XX, "no inputs", 1, "notBreaching", expression="a + b")


def test_a_kind_is_declared_once():
    import pytest

    from tapinfra.constructs.monitoring import alarm_doc

    with pytest.raises(ValueError, match="declared twice"):
        alarm_doc("api-5xx-rate", "something else", "something else")


# ---------------------------------------------------------------- the owners offer their metrics, specs and rows

def _owners(stack, role: str) -> dict:
    """The region's core constructs, by the ids RegionalService gives them (``<role>-<part>``)."""
    find = stack.node.try_find_child
    return {part: find(f"{role}-{part}") for part in ("api", "function", "canary", "waf", "alarms")}


def _kinds(specs) -> list[str]:
    return [spec.doc.key for spec in specs]


def _regions(stack):
    return (stack.primary, stack.secondary)


@pytest.mark.parametrize("example", ["default", "full"])
def test_each_owner_offers_the_alarms_of_its_own_kinds_on_its_own_metrics(example):
    config = example_config(example)
    stack, m = synth(config).stack, config.monitoring
    table = stack.table
    for region in _regions(stack):
        o = _owners(stack, region.role)
        api, fn, canary, waf = o["api"].endpoint, o["function"], o["canary"], o["waf"]

        five, latency = o["api"].alarm_specs(m)
        assert _kinds([five, latency]) == ["api-5xx-rate", "api-p99-latency"]
        assert five.inputs == {"errors": api.metric_5xx(), "requests": api.metric_count()}
        assert latency.metric == api.metric_latency() and latency.metric.stat == "p99"
        assert latency.metric.dimensions == {"ApiName": api.name, "Stage": config.api.stage_name}

        alias = {"FunctionName": fn.name, "Resource": f"{fn.name}:{config.function.alias_name}"}
        specs = fn.alarm_specs(m)
        conflicts = ["write-conflicts"] if config.table.write_mode == "any-region" else []
        assert _kinds(specs) == ["lambda-error-rate", "lambda-throttles", "lambda-spillover",
                                 "lambda-concurrency-headroom", *conflicts]
        errors, throttles, spillover, headroom = specs[:4]
        assert errors.inputs == {"errors": fn.metric_errors(), "invocations": fn.metric_invocations()}
        assert all(metric.dimensions == alias for metric in errors.inputs.values())
        assert throttles.metric == fn.metric_throttles() and throttles.metric.dimensions == alias
        assert spillover.metric == fn.metric_spillover() and spillover.metric.dimensions == alias
        # reserved concurrency is the function's, so is the headroom it is measured against
        assert headroom.metric == fn.metric_concurrent_executions()
        assert headroom.metric.dimensions == {"FunctionName": fn.name} and headroom.metric.stat == "Maximum"

        throttled, system, replication = table.alarm_specs(region, m)
        assert _kinds([throttled, system, replication]) == ["table-throttles", "table-system-errors",
                                                             "table-replication-latency"]
        assert throttled.inputs == {"reads": table.metric_read_throttles(region), "writes": table.metric_write_throttles(region)}
        assert system.metric == table.metric_system_errors(region)
        assert system.metric.dimensions == {"TableName": table.name}
        assert replication.metric == table.metric_replication_latency(region)
        assert replication.metric.dimensions == {"TableName": table.name, "ReceivingRegion": region.peer_name}

        (success,) = canary.alarm_specs(m)
        assert success.doc.key == "canary-success" and success.metric == canary.metric_success_percent()
        assert success.metric.dimensions == {"CanaryName": canary.name} and success.missing_data == "breaching"

        (blocked,) = waf.alarm_specs(m)
        assert blocked.doc.key == "waf-blocked-spike" and blocked.metric == waf.metric_blocked_requests()
        assert blocked.metric.dimensions == {"WebACL": waf.name, "Region": region.name, "Rule": "ALL"}


@pytest.mark.parametrize("example", ["default", "full"])
def test_the_regions_collector_watches_what_the_owners_offer_in_their_order(example):
    """RegionalService asks each owner (API, function, table, canary, WAF) and adds nothing of its own;
    what others add (the stack's links, the release, the modules) comes after."""
    config = example_config(example)
    stack, m = synth(config).stack, config.monitoring
    for region in _regions(stack):
        o = _owners(stack, region.role)
        specs = [*o["api"].alarm_specs(m), *o["function"].alarm_specs(m), *stack.table.alarm_specs(region, m),
                 *o["canary"].alarm_specs(m), *o["waf"].alarm_specs(m)]
        rows = [*o["api"].dashboard_rows(), *o["function"].dashboard_rows(), *stack.table.dashboard_rows(region),
                *o["canary"].dashboard_rows(), *o["waf"].dashboard_rows()]
        monitor = o["alarms"]
        assert monitor.specs[:len(specs)] == specs
        assert monitor.rows[:len(rows)] == rows
        assert [r.title for r in rows] == ["API requests and errors", "API latency p99", "Function invocations, errors, throttles",
                                           "Table throttles and replication", "Canary success percent", "WAF blocked requests"]


def test_the_dashboard_rows_show_the_metrics_the_alarms_watch():
    config = example_config("default")
    stack = synth(config).stack
    region = stack.primary
    o = _owners(stack, region.role)
    api, fn, table = o["api"].endpoint, o["function"], stack.table
    requests, latency = o["api"].dashboard_rows()
    assert requests.metrics == tuple(mt.widget_line() for mt in (api.metric_count(), api.metric_4xx(), api.metric_5xx()))
    assert latency.metrics == (api.metric_latency().widget_line(stat="p99"),) and latency.stat == "p99"
    (function_row,) = fn.dashboard_rows()
    assert function_row.metrics == tuple(mt.widget_line() for mt in (
        fn.metric_invocations(), fn.metric_errors(), fn.metric_throttles(), fn.metric_spillover()))
    (table_row,) = table.dashboard_rows(region)
    assert table_row.metrics[-1] == table.metric_replication_latency(region).widget_line(stat="Average", yAxis="right")


def test_a_canary_whose_runs_no_alarm_period_spans_has_a_row_but_no_alarm():
    from tapinfra.config import with_changes

    config = with_changes(example_config("default"), monitoring={"canary_schedule": "rate(0 minute)"})
    canary = _owners(synth(config).stack, "primary")["canary"]
    assert canary.alarm_specs(config.monitoring) == []
    assert [r.title for r in canary.dashboard_rows()] == ["Canary success percent"]


def test_the_table_has_metrics_only_where_it_has_a_copy():
    from dataclasses import replace

    stack = synth(example_config("default")).stack
    elsewhere = replace(stack.primary, name="ap-south-1", peer_name=None)
    with pytest.raises(ValueError, match="no copy in ap-south-1"):
        stack.table.metric_system_errors(elsewhere)


def test_the_release_alarms_watch_the_functions_metrics_of_its_newest_version():
    config = example_config("default")
    stack = synth(config).stack
    fn, monitor = _owners(stack, "primary")["function"], _owners(stack, "primary")["alarms"]
    by_key = {spec.doc.key: spec for spec in monitor.specs}
    newest = fn.version
    assert by_key["release-error-rate"].inputs == {"errors": fn.metric_errors(version=newest),
                                                   "invocations": fn.metric_invocations(version=newest)}
    assert by_key["release-p99-duration"].metric == fn.metric_duration(version=newest)
    assert fn.metric_errors(version=newest).dimensions == {**fn.metric_errors().dimensions, "ExecutedVersion": newest}


def test_ordering_goes_through_the_owners_typed_attributes():
    """The stage waits for the function's alias, the firewall's association for the endpoint's stage,
    and the canary output is the canary's attribute (a reference, not the literal name)."""
    doc = synth(example_config("default")).doc
    tf = Tf(doc)
    for role, provider in (("primary", "aws.primary"), ("secondary", "aws.secondary")):
        alias, _ = tf.one("aws_lambda_alias", provider)
        stage, body = tf.one("aws_api_gateway_stage", provider)
        canary, _ = tf.one("aws_synthetics_canary", provider)
        _, association = tf.one("aws_wafv2_web_acl_association", provider)
        assert f"aws_lambda_alias.{alias}" in body["depends_on"]
        assert association["depends_on"] == [f"aws_api_gateway_stage.{stage}"]
        assert doc["output"][f"{role}_canary_name"]["value"] == tf.ref("aws_synthetics_canary", canary, "name")
