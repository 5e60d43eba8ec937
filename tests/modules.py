"""Checks the optional modules' tests share (audit, analytics, ingestion)."""

from __future__ import annotations

from typing import Any

from tests.synth import REGIONS, Tf, example_config, synth

MODULES = ("audit", "analytics", "ingestion")


def modules_off_tf(name: str = "full") -> Tf:
    """An example with the three optional modules switched off (and nothing else changed)."""
    from tapinfra.config import with_changes

    return Tf(synth(with_changes(example_config(name), **{m: {"enabled": False} for m in MODULES})).doc)


def key_arn(tf: Tf, provider: str) -> str:
    return tf.ref("aws_kms_key", tf.region_keys()[provider], "arn")


def assert_secure_bucket(tf: Tf, bucket: str, provider: str) -> list[dict[str, Any]]:
    """``bucket`` has every guard SecureBucket gives, with ``provider``'s key; returns its policy's statements."""
    body = tf.resources("aws_s3_bucket")[bucket]
    assert body["provider"] == provider, bucket
    assert body["force_destroy"] is False, bucket
    assert tf.bucket_part("aws_s3_bucket_versioning", bucket)[1]["versioning_configuration"]["status"] == "Enabled"
    rule = tf.bucket_part("aws_s3_bucket_server_side_encryption_configuration", bucket)[1]["rule"][0]
    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "aws:kms", "kms_master_key_id": key_arn(tf, provider)}
    assert rule["bucket_key_enabled"] is True
    pab = tf.bucket_part("aws_s3_bucket_public_access_block", bucket)[1]
    assert all(pab[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    assert tf.bucket_part("aws_s3_bucket_ownership_controls", bucket)[1]["rule"]["object_ownership"] == "BucketOwnerEnforced"
    logging = tf.bucket_part("aws_s3_bucket_logging", bucket)[1]
    assert tf.bucket_of(logging["target_bucket"]) in tf.log_buckets()
    assert tf.resources("aws_s3_bucket")[tf.bucket_of(logging["target_bucket"])]["provider"] == provider
    statements = tf.policy(tf.bucket_part("aws_s3_bucket_policy", bucket)[1]["policy"])
    deny = [s for s in statements if s["effect"] == "Deny"]
    assert [s["sid"] for s in deny] == ["DenyInsecureTransport"]
    return statements


def bucket_arn_literal(tf: Tf, bucket: str) -> str:
    """The ARN a policy built before the bucket exists names it by (partition and name)."""
    (partition,) = tf.data("aws_partition")
    return f"arn:{tf.data_ref('aws_partition', partition, 'partition')}:s3:::{tf.resources('aws_s3_bucket')[bucket]['bucket']}"


def account_id(tf: Tf) -> str:
    (identity,) = tf.data("aws_caller_identity")
    return tf.data_ref("aws_caller_identity", identity, "account_id")


def role_statements(tf: Tf, function: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """sid -> statement of the inline policy of ``function``'s role (asserting it has exactly one)."""
    role_ref = function["role"].replace(".arn}", ".id}")
    (policy,) = [p for p in tf.resources("aws_iam_role_policy").values() if p["role"] == role_ref]
    statements = tf.policy(policy["policy"])
    assert len({s["sid"] for s in statements}) == len(statements)
    return {s["sid"]: s for s in statements}


__all__ = ["MODULES", "REGIONS", "modules_off_tf", "key_arn", "assert_secure_bucket", "bucket_arn_literal",
           "account_id", "role_statements"]
