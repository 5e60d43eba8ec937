"""The module seam, used from outside the package as a user would: a module defined here
registers through ``tapinfra``'s public names and appears in both regions with its alarm,
dashboard row, output and diagram node, without a file under ``tapinfra/`` knowing it. Its output
is declared here and registered only while a test builds with it (the README's outputs table
lists what is registered)."""

from __future__ import annotations

import json

import pytest
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue

import tapinfra
from tapinfra import (AlarmSpec, DashboardRow, Metric, Module, OutputSpec, alarm_doc, register_module, register_output,
                      unregister_module, unregister_output)
from tests.synth import Tf, example_config, scratch_app

PARKING_DEPTH = alarm_doc("parking-depth", "at least one message waits in the parking queue",
                          "a consumer is down: drain the queue", "`parking` module")
PARKING_QUEUE_URL = OutputSpec("parking_queue_url", "Parking queue in {region}.", scope="regional",
                               when="the `parking` module")


class ParkingModule(Module):
    """Per region: a KMS-encrypted SQS queue the API function may send to, its depth alarm and row."""

    name = "parking"

    def build_region(self, ctx):
        region = ctx.region
        queue = SqsQueue(ctx.scope, f"{region.role}-parking-queue", provider=region.provider,
                         name=region.namer.name("parking", "sqs"), kms_master_key_id=region.key.arn)
        depth = Metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": queue.name}, "Maximum")
        ctx.monitor.watch([AlarmSpec(PARKING_DEPTH, f"Messages wait in the parking queue ({region.name})", 1,
                                     "notBreaching", metric=depth, scope=ctx.scope, id=f"{region.role}-parking-alarm")],
                          [DashboardRow.of("Parking queue depth", [depth], "Maximum")])
        return queue

    def outputs(self, ctx):
        return [PARKING_QUEUE_URL.output(s.modules[self.name].url, s.region) for s in ctx.services]

    def stateful_types(self):
        return {"aws_sqs_queue": "queue"}

    def diagram(self, d, arch, region):
        if any("-parking-" in str(q.get("name")) for q in region.of("aws_sqs_queue")):
            d.node(f"{region.alias}_parking", "SQS parking queue", region.alias)


@pytest.fixture(scope="module")
def parked():
    """The minimal example synthesized with the parking module registered (and unregistered after)."""
    from cdktf import Testing

    module = register_module(ParkingModule())
    register_output(PARKING_QUEUE_URL)
    try:
        stack = tapinfra.TapStack(scratch_app(), "seam", example_config("minimal"))
        doc = json.loads(Testing.synth(stack))
    finally:
        unregister_module(module.name)
        unregister_output(PARKING_QUEUE_URL.name)
    return stack, Tf(doc)


def test_the_seam_is_public():
    for name in ("Module", "register_module", "unregister_module", "AlarmSpec", "DashboardRow", "Metric", "Output",
                 "OutputSpec", "register_output", "unregister_output", "StackContext", "RegionContext", "FunctionParts",
                 "RegionMonitor", "alarm_doc"):
        assert name in tapinfra.__all__, name
        assert getattr(tapinfra, name) is not None


def test_an_outside_module_builds_in_both_regions(parked):
    _, tf = parked
    queues = {body["provider"]: body for body in tf.resources("aws_sqs_queue").values() if "-parking-" in body["name"]}
    assert set(queues) == {"aws.primary", "aws.secondary"}


def test_its_alarm_is_on_each_regions_topic(parked):
    _, tf = parked
    alarms = {b["provider"]: b for b in tf.resources("aws_cloudwatch_metric_alarm").values() if "-parking-depth-" in b["alarm_name"]}
    assert set(alarms) == {"aws.primary", "aws.secondary"}
    topics = {b["provider"]: name for name, b in tf.resources("aws_sns_topic").items()}
    for provider, body in alarms.items():
        assert body["alarm_actions"] == [tf.ref("aws_sns_topic", topics[provider], "arn")]
        assert body["metric_name"] == "ApproximateNumberOfMessagesVisible"
        assert body["treat_missing_data"] == "notBreaching"


def test_its_row_is_on_the_dashboard_in_each_region(parked):
    _, tf = parked
    (dashboard,) = tf.resources("aws_cloudwatch_dashboard").values()
    titles = [w["properties"]["title"] for w in json.loads(dashboard["dashboard_body"])["widgets"]]
    parking = [t for t in titles if t.startswith("Parking queue depth")]
    assert len(parking) == 2 and any("primary" in t for t in parking) and any("secondary" in t for t in parking)


def test_its_outputs_and_result(parked):
    stack, tf = parked
    assert {"primary_parking_queue_url", "secondary_parking_queue_url"} <= set(tf.doc["output"])
    assert tf.doc["output"]["secondary_parking_queue_url"]["description"] == f"Parking queue in {stack.secondary.name}."
    assert [s.modules.get("parking") is not None for s in stack.services] == [True, True]


def test_an_output_no_registered_spec_declares_is_refused():
    from tapinfra import Output

    class Undeclared(ParkingModule):
        name = "parking_undeclared"

        def outputs(self, ctx):
            return [Output(f"{s.region.role}_parking_queue_url", s.modules[self.name].url, "Parking queue.")
                    for s in ctx.services]

    register_module(Undeclared())
    try:
        with pytest.raises(ValueError, match="module output 'primary_parking_queue_url': no registered OutputSpec"):
            tapinfra.TapStack(scratch_app(), "seam-undeclared", example_config("minimal"))
    finally:
        unregister_module("parking_undeclared")


def test_its_diagram_node_is_drawn_in_both_regions(parked):
    from tapinfra.operator.diagram import build
    from tapinfra.operator.model import from_document

    module = register_module(ParkingModule())  # the diagram asks the registry, as `tapinfra diagram` does
    try:
        diagram = build(from_document(parked[1].doc))
    finally:
        unregister_module(module.name)
    assert {"primary_parking", "secondary_parking"} <= set(diagram.nodes)
    assert diagram.nodes["primary_parking"].cluster == "primary"


def test_the_registry_refuses_a_second_module_of_one_name_and_a_non_module():
    module = register_module(ParkingModule())
    try:
        with pytest.raises(ValueError, match="already registered"):
            register_module(ParkingModule())
    finally:
        unregister_module(module.name)
    with pytest.raises(TypeError, match="Module instance"):
        register_module(object())
    with pytest.raises(ValueError, match="non-empty identifier"):
        register_module(Module())


def test_a_disabled_module_contributes_nothing():
    from cdktf import Testing

    class Off(ParkingModule):
        name = "parking_off"

        def enabled(self, config):
            return False

    register_module(Off())
    try:
        stack = tapinfra.TapStack(scratch_app(), "seam-off", example_config("minimal"))
        doc = json.loads(Testing.synth(stack))
    finally:
        unregister_module("parking_off")
    assert not any("-parking-" in b["name"] for b in doc["resource"].get("aws_sqs_queue", {}).values())
    assert "primary_parking_queue_url" not in doc["output"]


def test_review_flags_the_deletion_of_a_type_the_module_declares_stateful():
    from tapinfra.review import parse_plan, review

    doc = {"format_version": "1.2", "terraform_version": "1.11.0", "planned_values": {},
           "resource_changes": [{"address": "aws_sqs_queue.primary-parking-queue", "mode": "managed", "type": "aws_sqs_queue",
                                 "name": "primary-parking-queue",
                                 "change": {"actions": ["delete"], "before": {"name": "tap-parking-dev"}, "after": None,
                                            "after_unknown": {}}}],
           "configuration": {"provider_config": {}, "root_module": {"resources": []}}}
    assert [f.rule for f in review(parse_plan(doc)).findings] == []  # not registered: a queue is not stateful
    module = register_module(ParkingModule())
    try:
        findings = review(parse_plan(doc)).findings
    finally:
        unregister_module(module.name)
    assert [f.rule for f in findings] == ["stateful-resource"] and 'queue "tap-parking-dev" is deleted' in findings[0].reason


def test_the_full_examples_diagram_draws_every_built_in_module(full_tf):
    from tapinfra.operator.diagram import build
    from tapinfra.operator.model import from_document

    nodes = build(from_document(full_tf.doc)).nodes
    for role in ("primary", "secondary"):
        for part in ("ingest", "ingest_fn", "athena", "vpc_endpoint", "rds_cluster"):
            assert f"{role}_{part}" in nodes, (role, part)
    assert "primary_cloudtrail" in nodes and "secondary_cloudtrail" not in nodes  # one trail, homed in the primary


def test_the_readmes_example_module_is_this_one_and_registers():
    import inspect
    import re

    from tests.synth import ROOT

    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Writing a module", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.S)
    ours = inspect.getsource(ParkingModule)
    for method in ("build_region", "outputs", "diagram"):
        body = inspect.getsource(getattr(ParkingModule, method))
        assert body in code, f"README's {method} differs from the tested one"
    assert "stateful_types" in ours
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 (our own README)
    try:
        from tapinfra.modules import registered_modules

        assert [m.name for m in registered_modules()][-1] == "parking"
        assert namespace["PARKING_QUEUE_URL"] == PARKING_QUEUE_URL
    finally:
        unregister_module("parking")
        unregister_output(PARKING_QUEUE_URL.name)
