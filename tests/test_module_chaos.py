"""Chaos (optional module): FIS experiment templates per region, stopped by the region's alarms."""

from __future__ import annotations

import pytest

from tapinfra.config import config_from_dict, with_changes
from tapinfra.constructs.chaos import EXPERIMENTS, REPLICATION_PAUSED, output_name
from tapinfra.errors import ConfigError
from tests.modules import account_id, key_arn
from tests.synth import REGIONS, Tf, example_config, synth


@pytest.fixture(scope="module")
def templates(full_tf):
    """provider -> (name, body) of each region's replication-paused template."""
    return full_tf.by_provider("aws_fis_experiment_template", tags={"Experiment": REPLICATION_PAUSED})


def _alarm(tf: Tf, provider: str, stem: str) -> str:
    (name,) = [n for n, b in tf.in_region("aws_cloudwatch_metric_alarm", provider).items() if f"-{stem}-" in b["alarm_name"]]
    return tf.ref("aws_cloudwatch_metric_alarm", name, "arn")


def test_each_region_has_every_experiment_template(full_tf, templates):
    assert set(templates) == set(REGIONS)
    assert len(full_tf.resources("aws_fis_experiment_template")) == len(EXPERIMENTS) * 2


def test_the_stop_conditions_are_the_regions_own_5xx_and_error_rate_alarms(full_tf, templates):
    for provider, (_, body) in templates.items():
        assert [s["source"] for s in body["stop_condition"]] == ["aws:cloudwatch:alarm"] * 2
        assert [s["value"] for s in body["stop_condition"]] == [_alarm(full_tf, provider, "api-5xx-rate"),
                                                                _alarm(full_tf, provider, "lambda-error-rate")]
        alarms = {s["value"] for s in body["stop_condition"]}
        assert _alarm(full_tf, provider, "table-replication-latency") not in alarms, "a pause trips it on purpose"


def test_the_action_pauses_this_regions_replica_for_the_configured_duration(full_tf, templates):
    (table,) = full_tf.resources("aws_dynamodb_table")
    replica = {"aws.primary": full_tf.ref("aws_dynamodb_table", table, "arn")}
    for provider, (_, body) in templates.items():
        (action,) = body["action"]
        assert action["action_id"] == "aws:dynamodb:global-table-pause-replication"
        assert action["parameter"] == [{"key": "duration", "value": "PT10M"}]
        assert action["target"] == {"key": "Tables", "value": "target"}
        (target,) = body["target"]
        assert target["resource_type"] == "aws:dynamodb:global-table" and target["selection_mode"] == "ALL"
        region = full_tf.regions()[provider.split(".")[1]]
        expected = replica.get(provider) or f"arn:${{data.aws_partition.partition.partition}}:dynamodb:{region}:{account_id(full_tf)}:table/"
        assert target["resource_arns"][0].startswith(expected), (provider, target["resource_arns"])
        assert body["experiment_options"] == {"account_targeting": "single-account", "empty_target_resolution_mode": "fail"}


def test_the_role_is_trusted_by_fis_of_this_account_and_scoped_to_the_replica(full_tf, templates):
    for provider, (_, body) in templates.items():
        role_name = full_tf.referenced(body["role_arn"])[1]
        role = full_tf.resources("aws_iam_role")[role_name]
        (trust,) = full_tf.policy(role["assume_role_policy"])
        assert trust["principals"] == [{"type": "Service", "identifiers": ["fis.amazonaws.com"]}]
        conditions = {(c["test"], c["variable"]): c["values"] for c in trust["condition"]}
        assert conditions[("StringEquals", "aws:SourceAccount")] == [account_id(full_tf)]
        assert conditions[("ArnLike", "aws:SourceArn")][0].endswith(f":{account_id(full_tf)}:experiment/*")
        (policy,) = [b for b in full_tf.resources("aws_iam_role_policy").values() if b["role"] == full_tf.ref("aws_iam_role", role_name, "id")]
        statements = {s["sid"]: s for s in full_tf.policy(policy["policy"])}
        assert set(statements) == {"PauseThisReplica", "DeliverExperimentLogs"}
        pause = statements["PauseThisReplica"]
        assert pause["resources"] == [body["target"][0]["resource_arns"][0]], "only this region's replica"
        assert set(pause["actions"]) == {"dynamodb:DescribeTable", "dynamodb:GetResourcePolicy", "dynamodb:PutResourcePolicy",
                                         "dynamodb:DeleteResourcePolicy"}
        assert all(not a.endswith("*") for s in statements.values() for a in s["actions"]), "no wildcard action"


def test_experiment_logs_go_to_an_encrypted_log_group_with_retention(full_tf, templates):
    for provider, (_, body) in templates.items():
        config = body["log_configuration"]
        assert config["log_schema_version"] == 2
        ref = config["cloudwatch_logs_configuration"]["log_group_arn"]
        assert ref.endswith(":*")
        _, name, group = full_tf.referenced(ref[: -len(":*")])
        assert group["provider"] == provider
        assert group["kms_key_id"] == key_arn(full_tf, provider)
        assert group["retention_in_days"] == 365
        assert group["name"].startswith("/aws/vendedlogs/fis/")


def test_outputs_name_each_template_id_per_region(full_tf, templates):
    for provider, (name, _) in templates.items():
        role = provider.split(".")[1]
        assert full_tf.doc["output"][output_name(role, REPLICATION_PAUSED)]["value"] == full_tf.ref(
            "aws_fis_experiment_template", name, "id")
        assert f"{role}_chaos_log_group" in full_tf.doc["output"]


def test_every_experiment_declares_its_template_id_output():
    """The drill reads a template id through its spec: each experiment built has one, registered."""
    from tapinfra.modules.chaos import TEMPLATE_IDS, template_id_output
    from tapinfra.outputs import REGISTRY

    assert set(TEMPLATE_IDS) == {e.name for e in EXPERIMENTS}
    for experiment in EXPERIMENTS:
        spec = template_id_output(experiment.name)
        assert REGISTRY.spec_of(output_name("secondary", experiment.name)) == (spec, "secondary")
    with pytest.raises(ValueError, match="'meteor-strike' declares no template id output"):
        template_id_output("meteor-strike")


def test_the_diagram_draws_the_experiments_in_both_regions(full_tf):
    from tapinfra.operator.diagram import build
    from tapinfra.operator.model import from_document

    nodes = build(from_document(full_tf.doc)).nodes
    for role in ("primary", "secondary"):
        assert REPLICATION_PAUSED in nodes[f"{role}_chaos"].label and nodes[f"{role}_chaos"].cluster == role


def _without_chaos(doc: dict) -> dict:
    """``doc`` minus what the chaos module adds: its resources, policy documents and outputs."""
    out = {k: v for k, v in doc.items() if k not in ("resource", "data", "output")}
    for section in ("resource", "data"):
        out[section] = {}
        for rtype, items in doc.get(section, {}).items():
            kept = {n: b for n, b in items.items() if "-chaos-" not in n and rtype != "aws_fis_experiment_template"}
            if kept:
                out[section][rtype] = kept
    out["output"] = {n: b for n, b in doc["output"].items() if "_chaos_" not in n}
    return out


def test_off_by_default_and_off_it_changes_nothing_else(full_tf, default_tf, minimal_tf):
    assert config_from_dict({}).chaos.enabled is False
    for tf in (default_tf, minimal_tf):
        assert not tf.resources("aws_fis_experiment_template")
        assert not [o for o in tf.doc["output"] if "chaos" in o]
    off = synth(with_changes(example_config("full"), chaos={"enabled": False})).doc
    assert not off["resource"].get("aws_fis_experiment_template")
    assert _without_chaos(full_tf.doc) == off, "the module adds its own parts and changes no other"


@pytest.mark.parametrize("field, value", [("duration_minutes", 0), ("duration_minutes", 721), ("log_retention_days", 42),
                                          ("enabled", "yes")])
def test_bad_chaos_settings_are_refused_naming_the_field(field, value):
    with pytest.raises(ConfigError) as raised:
        config_from_dict({"chaos": {"enabled": True, field: value}})
    assert f"chaos.{field}" in raised.value.paths
