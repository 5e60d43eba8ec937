"""Monitoring from specs: every alarm the examples create is a declared kind (the README's
generated table lists it), and every declared kind is created by some example."""

from __future__ import annotations

import re

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
