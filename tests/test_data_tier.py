"""Issue 3: every bucket secured, replication KMS-aware on the source only, one global table."""

import pytest

from tapinfra.config import config_from_dict
from tests.synth import REGIONS, Tf, example_config, synth


def _bucket_parts(tf: Tf, rtype: str) -> dict[str, dict]:
    """Per-bucket companion resources, keyed by the bucket resource name they point at."""
    out = {}
    for body in tf.resources(rtype).values():
        _, name, _ = tf.referenced(body["bucket"])
        assert name not in out, f"two {rtype} for {name}"
        out[name] = body
    return out


def test_every_bucket_has_all_guards(any_tf):
    buckets = any_tf.resources("aws_s3_bucket")
    assert buckets
    parts = {t: _bucket_parts(any_tf, t) for t in (
        "aws_s3_bucket_versioning", "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_public_access_block", "aws_s3_bucket_ownership_controls", "aws_s3_bucket_policy",
        "aws_s3_bucket_lifecycle_configuration")}
    for name, bucket in buckets.items():
        assert bucket["force_destroy"] is False, name
        assert parts["aws_s3_bucket_versioning"][name]["versioning_configuration"]["status"] == "Enabled"
        pab = parts["aws_s3_bucket_public_access_block"][name]
        assert all(pab[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")), name
        assert parts["aws_s3_bucket_ownership_controls"][name]["rule"]["object_ownership"] == "BucketOwnerEnforced"
        rules = parts["aws_s3_bucket_lifecycle_configuration"][name]["rule"]
        assert rules[0]["status"] == "Enabled"
        assert rules[0]["abort_incomplete_multipart_upload"][0]["days_after_initiation"] >= 1
        assert rules[0]["noncurrent_version_expiration"][0]["noncurrent_days"] >= 1
        for part in parts.values():
            assert part[name]["provider"] == bucket["provider"], "a bucket's companion is in another region"


def test_every_bucket_denies_requests_without_tls(any_tf):
    for body in any_tf.resources("aws_s3_bucket_policy").values():
        _, bucket, _ = any_tf.referenced(body["bucket"])
        deny = [s for s in any_tf.policy(body["policy"]) if s["effect"] == "Deny"]
        assert len(deny) == 1, bucket
        (s,) = deny
        assert s["actions"] == ["s3:*"]
        assert s["principals"] == [{"type": "*", "identifiers": ["*"]}]
        assert s["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]
        arn = any_tf.ref("aws_s3_bucket", bucket, "arn")
        assert s["resources"] == [arn, f"{arn}/*"]


def test_data_buckets_use_their_regions_key_with_a_bucket_key(any_tf):
    keys = any_tf.region_keys()
    sse = _bucket_parts(any_tf, "aws_s3_bucket_server_side_encryption_configuration")
    kms_buckets = 0
    for name, body in sse.items():
        rule = body["rule"][0]
        default = rule["apply_server_side_encryption_by_default"]
        if name in any_tf.log_buckets():
            continue
        kms_buckets += 1
        assert default["sse_algorithm"] == "aws:kms", name
        assert default["kms_master_key_id"] == any_tf.ref("aws_kms_key", keys[body["provider"]], "arn"), name
        assert rule["bucket_key_enabled"] is True
    assert kms_buckets >= 2


def test_access_log_buckets_are_the_only_sse_s3_exception(any_tf):
    """S3 server access logging delivers only to SSE-S3 buckets: the log buckets are the one exception."""
    sse = _bucket_parts(any_tf, "aws_s3_bucket_server_side_encryption_configuration")
    exceptions = {n for n, b in sse.items() if b["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] != "aws:kms"}
    log_buckets = any_tf.log_buckets()
    assert exceptions == log_buckets
    assert {any_tf.resources("aws_s3_bucket")[n]["provider"] for n in log_buckets} == set(REGIONS)
    for n in exceptions:
        assert sse[n]["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"


def test_every_other_bucket_logs_to_its_regions_log_bucket(any_tf):
    buckets = any_tf.resources("aws_s3_bucket")
    logging = _bucket_parts(any_tf, "aws_s3_bucket_logging")
    log_bucket = {buckets[n]["provider"]: n for n in any_tf.log_buckets()}
    assert set(log_bucket) == set(REGIONS)
    for name, bucket in buckets.items():
        if name in log_bucket.values():
            assert name not in logging
            continue
        assert logging[name]["target_bucket"] == any_tf.ref("aws_s3_bucket", log_bucket[bucket["provider"]], "id")


def test_log_bucket_admits_only_s3_log_delivery_from_this_account(any_tf):
    for body in any_tf.resources("aws_s3_bucket_policy").values():
        _, bucket, _ = any_tf.referenced(body["bucket"])
        if bucket.startswith("audit_bucket_"):
            continue  # the audit trail's bucket admits this trail only: tests/test_module_audit.py
        if "access-logs" not in bucket:
            assert [s for s in any_tf.policy(body["policy"]) if s["effect"] == "Allow"] == []
            continue
        (allow,) = [s for s in any_tf.policy(body["policy"]) if s["effect"] == "Allow"]
        assert allow["principals"] == [{"type": "Service", "identifiers": ["logging.s3.amazonaws.com"]}]
        assert allow["actions"] == ["s3:PutObject"]
        assert {c["variable"] for c in allow["condition"]} == {"aws:SourceAccount", "aws:SourceArn"}


def test_bucket_names_are_regional_and_account_unique(any_tf):
    names = [b["bucket"] for b in any_tf.resources("aws_s3_bucket").values()]
    assert len(set(names)) == len(names)
    for name in names:
        assert name.endswith("-${data.aws_caller_identity.identity.account_id}")
        assert len(name.replace("${data.aws_caller_identity.identity.account_id}", "123456789012")) <= 63


def test_lifecycle_follows_the_storage_config(full_tf):
    cfg = example_config("full").storage
    data = [b for n, b in _bucket_parts(full_tf, "aws_s3_bucket_lifecycle_configuration").items() if n in full_tf.data_buckets()]
    assert len(data) == 2
    for body in data:
        rule = body["rule"][0]
        assert [(t["days"], t["storage_class"]) for t in rule["transition"]] == [
            (cfg.transition_to_ia_days, "STANDARD_IA"), (cfg.transition_to_glacier_days, "GLACIER_IR")]
        assert rule["expiration"] == [{"days": cfg.expiration_days}]
        assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": cfg.noncurrent_version_expiration_days}]


# ------------------------------------------------------------------ replication

def test_replication_is_configured_on_the_primary_source_only(any_tf):
    name, rep = any_tf.one("aws_s3_bucket_replication_configuration")
    assert rep["provider"] == "aws.primary"
    _, src, src_body = any_tf.referenced(rep["bucket"])
    assert src_body["provider"] == "aws.primary"
    (rule,) = rep["rule"]
    _, dst, dst_body = any_tf.referenced(rule["destination"]["bucket"])
    assert dst_body["provider"] == "aws.secondary"
    assert src != dst


def test_replication_rule_is_kms_aware_and_complete(any_tf):
    keys = any_tf.region_keys()
    _, rep = any_tf.one("aws_s3_bucket_replication_configuration")
    (rule,) = rep["rule"]
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {}
    assert rule["delete_marker_replication"] == {"status": "Enabled"}
    assert rule["source_selection_criteria"] == {"sse_kms_encrypted_objects": {"status": "Enabled"}}
    dest = rule["destination"]
    assert dest["encryption_configuration"] == {"replica_kms_key_id": any_tf.ref("aws_kms_key", keys["aws.secondary"], "arn")}
    assert dest["replication_time"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert dest["metrics"] == {"status": "Enabled", "event_threshold": {"minutes": 15}}


def test_replication_storage_class_from_config(default_tf, full_tf):
    assert default_tf.one("aws_s3_bucket_replication_configuration")[1]["rule"][0]["destination"]["storage_class"] == "STANDARD_IA"
    assert full_tf.one("aws_s3_bucket_replication_configuration")[1]["rule"][0]["destination"]["storage_class"] == "STANDARD"


def test_replication_waits_for_both_buckets_versioning(any_tf):
    _, rep = any_tf.one("aws_s3_bucket_replication_configuration")
    versioning = {f"aws_s3_bucket_versioning.{n}" for n in any_tf.resources("aws_s3_bucket_versioning")}
    src = any_tf.referenced(rep["bucket"])[1]
    dst = any_tf.referenced(rep["rule"][0]["destination"]["bucket"])[1]
    wanted = {f"aws_s3_bucket_versioning.{n}" for n, v in any_tf.resources("aws_s3_bucket_versioning").items()
              if any_tf.referenced(v["bucket"])[1] in (src, dst)}
    assert len(wanted) == 2 and wanted <= set(rep["depends_on"]) and wanted <= versioning


def test_replication_role_is_created_here_and_least_privilege(any_tf):
    keys = any_tf.region_keys()
    cfg_regions = any_tf.regions()
    _, rep = any_tf.one("aws_s3_bucket_replication_configuration")
    rtype, role_name, role = any_tf.referenced(rep["role"])
    assert rtype == "aws_iam_role"
    (trust,) = any_tf.policy(role["assume_role_policy"])
    assert trust["principals"] == [{"type": "Service", "identifiers": ["s3.amazonaws.com"]}]
    assert trust["actions"] == ["sts:AssumeRole"]
    (policy,) = [p for p in any_tf.resources("aws_iam_role_policy").values() if p["role"] == any_tf.ref("aws_iam_role", role_name, "id")]
    st = {s["sid"]: s for s in any_tf.policy(policy["policy"])}
    src = rep["bucket"].replace(".id}", ".arn}")
    dst = rep["rule"][0]["destination"]["bucket"]
    assert st["ReadReplicationConfiguration"]["resources"] == [src]
    assert st["ReadSourceObjectVersions"]["resources"] == [f"{src}/*"]
    assert sorted(st["WriteReplicas"]["actions"]) == ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"]
    assert st["WriteReplicas"]["resources"] == [f"{dst}/*"]
    assert st["DecryptSourceViaS3"]["actions"] == ["kms:Decrypt"]
    assert st["DecryptSourceViaS3"]["resources"] == [any_tf.ref("aws_kms_key", keys["aws.primary"], "arn")]
    assert st["DecryptSourceViaS3"]["condition"] == [{"test": "StringEquals", "variable": "kms:ViaService", "values": [f"s3.{cfg_regions['primary']}.amazonaws.com"]}]
    assert sorted(st["EncryptReplicasViaS3"]["actions"]) == ["kms:Encrypt", "kms:GenerateDataKey"]
    assert st["EncryptReplicasViaS3"]["resources"] == [any_tf.ref("aws_kms_key", keys["aws.secondary"], "arn")]
    assert st["EncryptReplicasViaS3"]["condition"] == [{"test": "StringEquals", "variable": "kms:ViaService", "values": [f"s3.{cfg_regions['secondary']}.amazonaws.com"]}]
    assert all("*" != r for s in st.values() for r in s["resources"])
    assert f"aws_iam_role_policy.{[n for n, p in any_tf.resources('aws_iam_role_policy').items() if p is policy][0]}" in rep["depends_on"]


# ------------------------------------------------------------------ table

def test_one_global_table_on_the_primary_with_a_secondary_replica(any_tf):
    cfg_regions = any_tf.regions()
    _, table = any_tf.one("aws_dynamodb_table")
    assert table["provider"] == "aws.primary"
    assert "aws_dynamodb_global_table" not in any_tf.doc["resource"]
    (replica,) = table["replica"]
    assert replica["region_name"] == cfg_regions["secondary"]
    assert replica["point_in_time_recovery"] is True
    assert replica["propagate_tags"] is True


def test_table_schema_streams_ttl_encryption_recovery(any_tf):
    keys = any_tf.region_keys()
    _, t = any_tf.one("aws_dynamodb_table")
    assert (t["hash_key"], t["range_key"]) == ("tenant_id", "item_id")
    assert sorted((a["name"], a["type"]) for a in t["attribute"]) == [("item_id", "S"), ("tenant_id", "S")]
    assert t["stream_enabled"] is True and t["stream_view_type"] == "NEW_AND_OLD_IMAGES"
    assert t["ttl"] == {"attribute_name": "expires_at", "enabled": True}
    assert t["server_side_encryption"] == {"enabled": True, "kms_key_arn": any_tf.ref("aws_kms_key", keys["aws.primary"], "arn")}
    assert t["replica"][0]["kms_key_arn"] == any_tf.ref("aws_kms_key", keys["aws.secondary"], "arn")
    assert t["point_in_time_recovery"] == {"enabled": True}


def test_table_is_protected_unless_disposable(default_tf):
    _, t = default_tf.one("aws_dynamodb_table")
    assert t["deletion_protection_enabled"] is True
    assert t["lifecycle"] == {"prevent_destroy": True}
    disposable = Tf(synth(config_from_dict({"environment": "tmp", "disposable": True})).doc)
    _, t = disposable.one("aws_dynamodb_table")
    assert t["deletion_protection_enabled"] is False
    assert "lifecycle" not in t
    assert all("lifecycle" not in b for b in disposable.resources("aws_s3_bucket").values())


def test_on_demand_by_default(default_tf):
    _, t = default_tf.one("aws_dynamodb_table")
    assert t["billing_mode"] == "PAY_PER_REQUEST"
    assert "read_capacity" not in t
    assert default_tf.resources("aws_appautoscaling_target") == {}


def test_provisioned_mode_autoscales_reads_and_writes_in_both_regions(full_tf):
    cfg = example_config("full").table
    _, t = full_tf.one("aws_dynamodb_table")
    assert t["billing_mode"] == "PROVISIONED"
    assert (t["read_capacity"], t["write_capacity"]) == (cfg.read_capacity, cfg.write_capacity)
    assert t["read_capacity"] >= 5 and t["write_capacity"] >= 5
    targets = full_tf.resources("aws_appautoscaling_target").values()
    assert sorted((x["provider"], x["scalable_dimension"]) for x in targets) == sorted(
        (p, f"dynamodb:table:{d}CapacityUnits") for p in REGIONS for d in ("Read", "Write"))
    for x in targets:
        assert (x["min_capacity"], x["resource_id"]) in ((cfg.read_capacity, f"table/{t['name']}"), (cfg.write_capacity, f"table/{t['name']}"))
    policies = full_tf.resources("aws_appautoscaling_policy").values()
    assert len(policies) == 4
    assert all(p["target_tracking_scaling_policy_configuration"]["target_value"] == cfg.autoscaling_target_percent for p in policies)


def test_data_buckets_are_protected_unless_disposable(default_tf):
    protected = {n for n, b in default_tf.resources("aws_s3_bucket").items() if b.get("lifecycle") == {"prevent_destroy": True}}
    assert protected == default_tf.data_buckets()
    assert len(protected) == 2


def test_data_tier_outputs_are_described(any_tf):
    outputs = any_tf.doc["output"]
    for name in ("table_name", "table_arn", "primary_data_bucket", "secondary_data_bucket",
                 "primary_access_log_bucket", "secondary_access_log_bucket", "replication_role_arn"):
        assert name in outputs
    assert all(o.get("description") for o in outputs.values())
