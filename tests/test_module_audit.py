"""Audit trail (optional module): a multi-region CloudTrail, encrypted, validated, delivered, watched."""

from __future__ import annotations

import re

import pytest

from tapinfra.config import config_from_dict
from tapinfra.constructs.audit import TRAIL_CHANGE_EVENTS
from tapinfra.errors import ConfigError
from tests.modules import account_id, assert_secure_bucket, bucket_arn_literal, key_arn, modules_off_tf
from tests.synth import example_config


@pytest.fixture(scope="module")
def trail(full_tf):
    name, body = full_tf.one("aws_cloudtrail")
    return name, body


def trail_arn(tf, body) -> str:
    (partition,) = tf.data("aws_partition")
    region = tf.regions()["primary"]
    return f"arn:{tf.data_ref('aws_partition', partition, 'partition')}:cloudtrail:{region}:{account_id(tf)}:trail/{body['name']}"


def test_one_multi_region_trail_in_the_primary_with_validation_and_the_primary_key(full_tf, trail):
    _, body = trail
    assert body["provider"] == "aws.primary"
    assert body["is_multi_region_trail"] is True
    assert body["include_global_service_events"] is True
    assert body["enable_log_file_validation"] is True
    assert body["enable_logging"] is True
    assert body["kms_key_id"] == key_arn(full_tf, "aws.primary")


def test_the_primary_key_lets_only_this_trail_of_this_account_encrypt(full_tf, trail):
    _, body = trail
    keys = full_tf.region_keys()
    arn = trail_arn(full_tf, body)
    statements = {s["sid"]: s for s in full_tf.policy(full_tf.resources("aws_kms_key")[keys["aws.primary"]]["policy"])}
    encrypt, describe = statements["CloudTrailEncryptLogs"], statements["CloudTrailDescribeKey"]
    for statement in (encrypt, describe):
        assert statement["principals"] == [{"type": "Service", "identifiers": ["cloudtrail.amazonaws.com"]}]
        conditions = {(c["test"], c["variable"]): c["values"] for c in statement["condition"]}
        assert conditions[("StringEquals", "aws:SourceArn")] == [arn]
        assert conditions[("StringEquals", "aws:SourceAccount")] == [account_id(full_tf)]
    assert encrypt["actions"] == ["kms:GenerateDataKey*"]
    assert describe["actions"] == ["kms:DescribeKey"]
    context = {c["variable"]: c["values"] for c in encrypt["condition"]}["kms:EncryptionContext:aws:cloudtrail:arn"]
    assert context == [f"arn:{arn.split(':')[1]}:cloudtrail:*:{account_id(full_tf)}:trail/*"]
    secondary = full_tf.policy(full_tf.resources("aws_kms_key")[keys["aws.secondary"]]["policy"])
    assert not [s for s in secondary if "CloudTrail" in s["sid"]]


def test_the_key_policy_is_untouched_when_audit_is_off(full_tf):
    off = modules_off_tf()
    for provider, key in off.region_keys().items():
        on = full_tf.policy(full_tf.resources("aws_kms_key")[full_tf.region_keys()[provider]]["policy"])
        assert off.policy(off.resources("aws_kms_key")[key]["policy"]) == [s for s in on if "CloudTrail" not in s["sid"]]
    assert off.resources("aws_cloudtrail") == {}


def test_the_trail_bucket_is_secure_and_admits_only_this_trail(full_tf, trail):
    _, body = trail
    bucket = full_tf.bucket_of(body["s3_bucket_name"])
    statements = {s["sid"]: s for s in assert_secure_bucket(full_tf, bucket, "aws.primary")}
    arn = trail_arn(full_tf, body)
    bucket_arn = bucket_arn_literal(full_tf, bucket)
    service = [{"type": "Service", "identifiers": ["cloudtrail.amazonaws.com"]}]

    acl = statements["CloudTrailAclCheck"]
    assert (acl["effect"], acl["actions"], acl["resources"], acl["principals"]) == ("Allow", ["s3:GetBucketAcl"], [bucket_arn], service)
    assert acl["condition"] == [{"test": "StringEquals", "variable": "aws:SourceArn", "values": [arn]}]

    write = statements["CloudTrailWrite"]
    assert (write["actions"], write["principals"]) == (["s3:PutObject"], service)
    assert write["resources"] == [f"{bucket_arn}/AWSLogs/{account_id(full_tf)}/*"]
    assert {(c["variable"], tuple(c["values"])) for c in write["condition"]} == {
        ("s3:x-amz-acl", ("bucket-owner-full-control",)), ("aws:SourceArn", (arn,))}
    assert set(statements) == {"DenyInsecureTransport", "CloudTrailAclCheck", "CloudTrailWrite"}

    # CloudTrail checks the bucket policy when the trail is created.
    policy_name, _ = full_tf.bucket_part("aws_s3_bucket_policy", bucket)
    assert f"aws_s3_bucket_policy.{policy_name}" in body["depends_on"]


def test_trail_log_files_expire_after_the_configured_days(full_tf, trail):
    bucket = full_tf.bucket_of(trail[1]["s3_bucket_name"])
    (rule,) = full_tf.bucket_part("aws_s3_bucket_lifecycle_configuration", bucket)[1]["rule"]
    assert rule["expiration"] == [{"days": example_config("full").audit.log_file_expiration_days}]
    assert full_tf.resources("aws_s3_bucket")[bucket]["lifecycle"] == {"prevent_destroy": True}


def test_the_trail_delivers_to_an_encrypted_log_group_with_retention(full_tf, trail):
    _, body = trail
    group_ref = body["cloud_watch_logs_group_arn"]
    assert group_ref.endswith(".arn}:*")
    _, group_name, group = full_tf.referenced(group_ref[: -len(":*")])
    assert group["retention_in_days"] == example_config("full").audit.log_retention_days
    assert group["kms_key_id"] == key_arn(full_tf, "aws.primary") and group["provider"] == "aws.primary"

    role_ref = body["cloud_watch_logs_role_arn"]
    _, role_name, role = full_tf.referenced(role_ref)
    assert full_tf.policy(role["assume_role_policy"])[0]["principals"] == [
        {"type": "Service", "identifiers": ["cloudtrail.amazonaws.com"]}]
    (policy_name, policy), = [(n, p) for n, p in full_tf.resources("aws_iam_role_policy").items()
                              if p["role"] == role_ref.replace(".arn}", ".id}")]
    (statement,) = full_tf.policy(policy["policy"])
    assert statement["actions"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["resources"] == [f"{full_tf.ref('aws_cloudwatch_log_group', group_name, 'arn')}:log-stream:*"]
    assert f"aws_iam_role_policy.{policy_name}" in body["depends_on"]


def test_an_alarm_fires_on_one_change_to_any_trail(full_tf, trail):
    _, body = trail
    _, group_name, _ = full_tf.referenced(body["cloud_watch_logs_group_arn"][: -len(":*")])
    (_, metric_filter), = full_tf.resources("aws_cloudwatch_log_metric_filter").items()
    assert metric_filter["log_group_name"] == full_tf.ref("aws_cloudwatch_log_group", group_name, "name")
    pattern = metric_filter["pattern"]
    assert '($.eventSource = "cloudtrail.amazonaws.com")' in pattern
    assert sorted(re.findall(r'\$\.eventName = "(\w+)"', pattern)) == sorted(TRAIL_CHANGE_EVENTS)
    assert set(TRAIL_CHANGE_EVENTS) >= {"StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors"}
    transformation = metric_filter["metric_transformation"]

    (alarm,) = [a for a in full_tf.resources("aws_cloudwatch_metric_alarm").values()
                if a.get("metric_name") == transformation["name"] and a.get("namespace") == transformation["namespace"]]
    assert alarm["provider"] == "aws.primary"
    assert (alarm["threshold"], alarm["comparison_operator"], alarm["evaluation_periods"]) == (1, "GreaterThanOrEqualToThreshold", 1)
    assert alarm["statistic"] == "Sum" and transformation["value"] == "1"
    primary_topic = full_tf.by_provider("aws_sns_topic")["aws.primary"][0]
    assert alarm["alarm_actions"] == [full_tf.ref("aws_sns_topic", primary_topic, "arn")]


def test_outputs_name_the_trail_its_bucket_and_log_group(full_tf):
    outputs = full_tf.doc["output"]
    for key in ("audit_trail_arn", "audit_bucket", "audit_log_group"):
        assert outputs[key]["description"], key


def test_audit_is_off_by_default(default_tf, minimal_tf):
    for tf in (default_tf, minimal_tf):
        assert tf.resources("aws_cloudtrail") == {}
        assert tf.resources("aws_cloudwatch_log_metric_filter") == {}
        assert "audit_trail_arn" not in tf.doc.get("output", {})


def test_trail_files_must_outlive_the_glacier_transition():
    raw = example_config("full").to_dict()
    raw["audit"]["log_file_expiration_days"] = raw["storage"]["transition_to_glacier_days"]
    with pytest.raises(ConfigError) as error:
        config_from_dict(raw)
    assert [p.path for p in error.value.problems] == ["audit.log_file_expiration_days"]
    raw["audit"]["log_file_expiration_days"] = None  # keep forever
    assert config_from_dict(raw).audit.log_file_expiration_days is None
