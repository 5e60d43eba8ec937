"""What makes an apply, an update, a replacement and a destroy work (issue 10), in the JSON.

The rehearsal (tests/lifecycle/) proves these against the emulator; these assertions name
each guard so that removing one fails here first.
"""

from __future__ import annotations

import pytest

from tapinfra.config import with_changes
from tests.synth import REGIONS, Tf, example_config, synth

STATEFUL = ("aws_dynamodb_table", "aws_kms_key", "aws_route53_zone")


@pytest.fixture(scope="module")
def disposable_tf():
    return Tf(synth(with_changes(example_config("default"), disposable=True)).doc)


def _lifecycle(body) -> dict:
    return body.get("lifecycle") or {}


def test_nothing_is_create_before_destroy_but_the_certificates(any_tf):
    """create_before_destroy spreads to everything a resource depends on; only ACM
    certificates (no fixed name) may use it."""
    cbd = {rtype for kind, rtype, _, body in any_tf.all_blocks() if _lifecycle(body).get("create_before_destroy")}
    assert cbd <= {"aws_acm_certificate"}


def test_the_deployment_is_addressed_by_its_declaration_and_reaches_no_function(any_tf):
    for provider in REGIONS:
        deployments = {n: b for n, b in any_tf.resources("aws_api_gateway_deployment").items() if b["provider"] == provider}
        (name, body), = deployments.items()
        digest = body["description"].rsplit(" ", 1)[-1]
        assert len(digest) == 12 and f"deployment-{digest}" in name
        assert "triggers" not in body
    for integration in any_tf.resources("aws_api_gateway_integration").values():
        if integration["type"] == "AWS_PROXY":
            uri = integration["uri"]
            assert "${aws_" not in uri, "the integration must not reference the function resource"
            assert uri.startswith("arn:${data.aws_partition.partition.partition}:apigateway:")
            assert uri.endswith(":live/invocations")


def test_a_changed_declaration_gets_a_new_deployment_address():
    base = Tf(synth(example_config("default")).doc)
    changed = Tf(synth(with_changes(example_config("default"), api={"cors_allowed_origins": ["https://a.example.com"]})).doc)
    assert set(base.resources("aws_api_gateway_deployment")).isdisjoint(changed.resources("aws_api_gateway_deployment"))
    same = Tf(synth(with_changes(example_config("default"), function={"memory_mb": 1024})).doc)
    assert set(same.resources("aws_api_gateway_deployment")) == set(base.resources("aws_api_gateway_deployment"))


def test_the_stage_goes_live_after_its_execution_logs_and_the_alias(any_tf):
    groups = any_tf.resources("aws_cloudwatch_log_group")
    for provider, (_, stage) in any_tf.by_provider("aws_api_gateway_stage").items():
        deps = stage["depends_on"]
        assert any(d.startswith("aws_lambda_alias.") for d in deps)
        (execution,) = [d.split(".")[1] for d in deps if d.startswith("aws_cloudwatch_log_group.")]
        group = groups[execution]
        assert group["provider"] == provider
        assert group["name"].startswith("API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.")
        assert group["name"].endswith(f"/{stage['stage_name']}")
        assert group["kms_key_id"].startswith("${aws_kms_key.") and group["retention_in_days"] >= 1
    for settings in any_tf.resources("aws_api_gateway_method_settings").values():
        assert settings["depends_on"], "method settings turn logging on: they wait for the group"


def test_logging_waits_for_the_target_buckets_policy(any_tf):
    policies = {any_tf.bucket_of(b["bucket"]): n for n, b in any_tf.resources("aws_s3_bucket_policy").items()}
    for body in any_tf.resources("aws_s3_bucket_logging").values():
        target = any_tf.bucket_of(body["target_bucket"])
        assert f"aws_s3_bucket_policy.{policies[target]}" in body["depends_on"]


def test_autoscaled_capacities_are_left_to_the_scaler(full_tf, default_tf):
    (_, table), = full_tf.resources("aws_dynamodb_table").items()
    assert table["billing_mode"] == "PROVISIONED"
    assert set(table["lifecycle"]["ignore_changes"]) == {"read_capacity", "write_capacity"}
    (_, on_demand), = default_tf.resources("aws_dynamodb_table").items()
    assert "ignore_changes" not in _lifecycle(on_demand)


def test_canaries_take_their_functions_and_the_account_setting_is_reset(default_tf):
    assert all(c["delete_lambda"] is True for c in default_tf.resources("aws_synthetics_canary").values())
    assert all(a["reset_on_delete"] is True for a in default_tf.resources("aws_api_gateway_account").values())


def test_without_disposable_a_destroy_of_state_is_refused(default_tf):
    for rtype in STATEFUL:
        for name, body in default_tf.resources(rtype).items():
            assert _lifecycle(body).get("prevent_destroy") is True, (rtype, name)
    buckets = default_tf.resources("aws_s3_bucket")
    assert {n for n, b in buckets.items() if _lifecycle(b).get("prevent_destroy")} == default_tf.data_buckets()
    assert not any(b["force_destroy"] for b in buckets.values())
    assert default_tf.one("aws_route53_zone")[1].get("force_destroy") in (None, False)
    (_, table), = default_tf.resources("aws_dynamodb_table").items()
    assert table["deletion_protection_enabled"] is True


def test_disposable_means_a_destroy_succeeds(disposable_tf):
    for kind, rtype, name, body in disposable_tf.all_blocks():
        assert not _lifecycle(body).get("prevent_destroy"), (rtype, name)
    assert all(b["force_destroy"] is True for b in disposable_tf.resources("aws_s3_bucket").values())
    assert disposable_tf.one("aws_route53_zone")[1]["force_destroy"] is True
    (_, table), = disposable_tf.resources("aws_dynamodb_table").items()
    assert table["deletion_protection_enabled"] is False
    assert {k["deletion_window_in_days"] for k in disposable_tf.resources("aws_kms_key").values()} == {7}


def test_main_creates_a_nested_outdir_and_refuses_an_unwritable_one(tmp_path, capsys):
    import main

    from tests.synth import EXAMPLES

    assert main.main(["--config", str(EXAMPLES / "minimal.json"), "--outdir", str(tmp_path / "a" / "b")]) == 0
    assert (tmp_path / "a" / "b" / "stacks" / "tap-min" / "cdk.tf.json").is_file()
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main.main(["--outdir", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert "--outdir" in err and "cannot create" in err
