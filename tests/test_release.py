"""Releases in the synthesized stack: in every example each region has a CodeDeploy deployment group
that watches that region's rollback alarms and rolls back on failure and on alarm, a least-privilege
service role, and an alias Terraform does not move back; ``release.enabled: false`` builds none of it."""

from __future__ import annotations

import pytest

from tapinfra.config import with_changes
from tapinfra.rollout import PREDEFINED, deployment_config_name
from tests.synth import EXAMPLE_NAMES, REGIONS, Tf, example_config, synth

ROLLBACK_ALARM_STEMS = ("api-5xx-rate", "lambda-error-rate", "api-p99-latency", "release-error-rate", "release-p99-duration")


def _alarm_ref(tf: Tf, provider: str, stem: str, attribute: str) -> str:
    (name,) = [n for n, body in tf.in_region("aws_cloudwatch_metric_alarm", provider).items()
               if body["alarm_name"].split("-", 1)[1].rsplit("-", 1)[0] == stem]
    return f"${{aws_cloudwatch_metric_alarm.{name}.{attribute}}}"


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_each_region_has_a_deployment_group_watching_its_own_alarms_with_rollback(example):
    config = example_config(example)
    tf = Tf(synth(config).doc)
    for provider in REGIONS:
        app_name, app = tf.one("aws_codedeploy_app", provider)
        _, group = tf.one("aws_codedeploy_deployment_group", provider)
        assert app["compute_platform"] == "Lambda"
        assert group["app_name"] == f"${{aws_codedeploy_app.{app_name}.name}}"
        assert group["deployment_style"] == {"deployment_option": "WITH_TRAFFIC_CONTROL", "deployment_type": "BLUE_GREEN"}
        assert group["auto_rollback_configuration"]["enabled"] is True
        assert {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"} <= set(group["auto_rollback_configuration"]["events"])
        alarms = group["alarm_configuration"]
        assert alarms["enabled"] is True and alarms["ignore_poll_alarm_failure"] is False
        assert alarms["alarms"] == [_alarm_ref(tf, provider, stem, "alarm_name") for stem in ROLLBACK_ALARM_STEMS]
        assert group["deployment_config_name"] == deployment_config_name(config.release)


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_terraform_leaves_the_alias_to_the_release(example):
    tf = Tf(synth(example_config(example)).doc)
    for provider in REGIONS:
        _, alias = tf.one("aws_lambda_alias", provider)
        assert alias["lifecycle"]["ignore_changes"] == ["function_version", "routing_config"]


def test_the_new_versions_alarms_watch_the_version_terraform_published_last():
    tf = Tf(synth(example_config("default")).doc)
    for provider in REGIONS:
        fn_name, _ = tf.one("aws_lambda_function", provider)
        errors = tf.in_region("aws_cloudwatch_metric_alarm", provider)[_alarm_ref(tf, provider, "release-error-rate", "x").split(".")[1]]
        duration = tf.in_region("aws_cloudwatch_metric_alarm", provider)[_alarm_ref(tf, provider, "release-p99-duration", "x").split(".")[1]]
        version = f"${{aws_lambda_function.{fn_name}.version}}"
        assert duration["dimensions"]["ExecutedVersion"] == version and duration["extended_statistic"] == "p99"
        assert all(q["metric"]["dimensions"]["ExecutedVersion"] == version for q in errors["metric_query"] if "metric" in q)
        # minutes, not the stack's alarm period: a release step is judged within it
        assert all(q["metric"]["period"] == 60 for q in errors["metric_query"] if "metric" in q) and duration["period"] == 60
        assert errors["evaluation_periods"] == duration["evaluation_periods"] == 3


def test_the_service_role_may_only_move_this_alias_and_read_its_alarms():
    tf = Tf(synth(example_config("default")).doc)
    for provider in REGIONS:
        documents = {n: d for n, d in tf.data("aws_iam_policy_document").items()
                     if d["provider"] == provider and "release_service-role" in n}
        (trust,) = [d for n, d in documents.items() if n.split("_")[1].endswith("trust")]
        (permissions,) = [d for n, d in documents.items() if n.split("_")[1].endswith("permissions")]
        (statement,) = trust["statement"]
        assert statement["principals"] == [{"identifiers": ["codedeploy.amazonaws.com"], "type": "Service"}]
        assert statement["condition"][0]["variable"] == "aws:SourceAccount"
        actions = {a for s in permissions["statement"] for a in s["actions"]}
        assert actions == {"lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig", "cloudwatch:DescribeAlarms"}
        resources = [r for s in permissions["statement"] for r in s["resources"]]
        assert "*" not in resources and all(r.endswith(":function:tap-api-dev:live") or "aws_cloudwatch_metric_alarm" in r
                                            for r in resources)


def test_a_shape_aws_does_not_predefine_is_a_custom_config_replaced_before_it_is_deleted():
    config = with_changes(example_config("default"), release={"strategy": "linear", "percent": 20, "interval_minutes": 7})
    tf = Tf(synth(config).doc)
    for provider in REGIONS:
        name, custom = tf.one("aws_codedeploy_deployment_config", provider)
        _, group = tf.one("aws_codedeploy_deployment_group", provider)
        assert custom["compute_platform"] == "Lambda"
        assert custom["traffic_routing_config"] == {"type": "TimeBasedLinear", "time_based_linear": {"interval": 7, "percentage": 20}}
        assert custom["lifecycle"]["create_before_destroy"] is True
        assert group["deployment_config_name"] == f"${{aws_codedeploy_deployment_config.{name}.deployment_config_name}}"


def test_predefined_configs_are_used_by_name():
    config = example_config("default")
    assert deployment_config_name(config.release) == "CodeDeployDefault.LambdaCanary10Percent10Minutes"
    assert deployment_config_name(with_changes(config, release={"strategy": "all-at-once"}).release) == "CodeDeployDefault.LambdaAllAtOnce"
    assert PREDEFINED[("linear", 10, 1)] == "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"


def test_the_outputs_name_each_regions_application_group_and_alarms():
    doc = synth(example_config("default")).doc
    for role in ("primary", "secondary"):
        value = doc["output"][f"{role}_release"]["value"]
        assert set(value) == {"region", "function_name", "alias_name", "application", "deployment_group", "deployment_config", "alarms"}
        assert len(value["alarms"]) == len(ROLLBACK_ALARM_STEMS)


def test_releases_off_build_no_codedeploy_and_let_terraform_move_the_alias():
    doc = synth(with_changes(example_config("default"), release={"enabled": False})).doc
    tf = Tf(doc)
    assert not tf.resources("aws_codedeploy_app") and not tf.resources("aws_codedeploy_deployment_group")
    assert not any("release" in name for name in doc["output"])
    for provider in REGIONS:
        _, alias = tf.one("aws_lambda_alias", provider)
        assert "lifecycle" not in alias


def test_a_custom_deployment_config_is_valid_terraform(tmp_path_factory):
    """The examples use predefined configs (validated by tests/test_terraform.py); this validates the custom one."""
    import json

    from tests import tfcheck

    env = tfcheck.offline_cli_config(tmp_path_factory, checks="TERRAFORM CHECKS", workdir="tfcli-release")
    config = with_changes(example_config("minimal"), packaging={"mode": "asset"},
                          release={"strategy": "canary", "percent": 25, "interval_minutes": 3})
    stack_dir = synth(config).full_synth_dir()
    init = tfcheck.run(["init", "-backend=false", "-input=false", "-no-color"], stack_dir, env)
    assert init.returncode == 0, init.stdout + init.stderr
    report = json.loads(tfcheck.run(["validate", "-json", "-no-color"], stack_dir, env).stdout)
    assert report["valid"] and report["error_count"] == 0, json.dumps(report["diagnostics"], indent=1)
