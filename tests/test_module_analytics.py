"""Analytics (optional module): an enforcing Athena workgroup and a Glue table over the exports, per region."""

from __future__ import annotations

import re

import pytest

from tapinfra.config import ATHENA_MIN_BYTES_SCANNED_CUTOFF, config_from_dict
from tests.item_api import STORED_ATTRIBUTES
from tapinfra.errors import ConfigError
from tests.modules import assert_secure_bucket, key_arn
from tests.synth import REGIONS, example_config

SETTINGS = example_config("full").analytics


def data_bucket(tf, provider: str) -> str:
    (name,) = [b for b in tf.data_buckets() if tf.resources("aws_s3_bucket")[b]["provider"] == provider]
    return name


def test_each_region_has_a_workgroup_that_enforces_its_settings(full_tf):
    workgroups = full_tf.by_provider("aws_athena_workgroup")
    assert set(workgroups) == set(REGIONS)
    for provider, (_, wg) in workgroups.items():
        config = wg["configuration"]
        assert config["enforce_workgroup_configuration"] is True
        assert config["publish_cloudwatch_metrics_enabled"] is True
        assert config["bytes_scanned_cutoff_per_query"] == SETTINGS.bytes_scanned_cutoff_per_query
        assert wg["state"] == "ENABLED" and wg["force_destroy"] is False


def test_results_are_sse_kms_with_the_regions_key_in_a_dedicated_secure_bucket(full_tf):
    for provider, (_, wg) in full_tf.by_provider("aws_athena_workgroup").items():
        result = wg["configuration"]["result_configuration"]
        assert result["encryption_configuration"] == {"encryption_option": "SSE_KMS", "kms_key_arn": key_arn(full_tf, provider)}
        match = re.fullmatch(r"s3://(\$\{aws_s3_bucket\.[^}]+\.bucket\})/results/", result["output_location"])
        assert match, result["output_location"]
        results = full_tf.bucket_of(match.group(1))
        assert results != data_bucket(full_tf, provider) and results not in full_tf.log_buckets()
        assert_secure_bucket(full_tf, results, provider)
        (rule,) = full_tf.bucket_part("aws_s3_bucket_lifecycle_configuration", results)[1]["rule"]
        assert rule["expiration"] == [{"days": SETTINGS.results_expiration_days}]
        assert result["expected_bucket_owner"].startswith("${data.aws_caller_identity.")


def test_the_glue_table_reads_the_regions_data_bucket_exports(full_tf):
    databases = full_tf.by_provider("aws_glue_catalog_database")
    tables = full_tf.by_provider("aws_glue_catalog_table")
    assert set(databases) == set(tables) == set(REGIONS)
    for provider, (_, table) in tables.items():
        assert table["database_name"] == full_tf.ref("aws_glue_catalog_database", databases[provider][0], "name")
        bucket = full_tf.ref("aws_s3_bucket", data_bucket(full_tf, provider), "bucket")
        assert table["storage_descriptor"]["location"] == f"s3://{bucket}/exports/"
        params = table["parameters"]
        # "$${" is Terraform's escape: Athena, not Terraform, fills in the export id.
        assert params["storage.location.template"] == f"s3://{bucket}/exports/AWSDynamoDB/$${{export_id}}/data/"
        assert (params["projection.enabled"], params["projection.export_id.type"]) == ("true", "injected")
        assert [k["name"] for k in table["partition_keys"]] == ["export_id"]
        assert re.fullmatch(r"[a-z0-9_]+", databases[provider][1]["name"]), "Athena reads underscores unquoted"


def test_the_table_reads_dynamodb_json_lines_with_the_contracts_attributes(full_tf):
    for _, table in full_tf.by_provider("aws_glue_catalog_table").values():
        descriptor = table["storage_descriptor"]
        assert descriptor["ser_de_info"]["serialization_library"] == "org.openx.data.jsonserde.JsonSerDe"
        assert descriptor["input_format"] == "org.apache.hadoop.mapred.TextInputFormat"
        assert table["parameters"]["compressionType"] == "gzip"
        (column,) = descriptor["columns"]
        assert column["name"] == "item"  # the export's {"Item": {...}}: the SerDe ignores case
        fields = dict(re.findall(r"(\w+):struct<(\w):string>", column["type"]))
        assert fields == {name: kind.lower() for name, kind in STORED_ATTRIBUTES.items()}


def test_exports_reach_the_secondary_through_replication(full_tf):
    """Why both regions: the replication rule covers exports/, so the secondary's table has data."""
    (_, replication), = full_tf.resources("aws_s3_bucket_replication_configuration").items()
    for rule in replication["rule"]:
        assert rule["status"] == "Enabled"
        assert rule.get("filter", {}).get("prefix", "") in ("", None)


def test_outputs_name_each_regions_workgroup_and_database(full_tf):
    outputs = full_tf.doc["output"]
    for role in ("primary", "secondary"):
        for key in (f"{role}_athena_workgroup", f"{role}_glue_database", f"{role}_athena_results_bucket"):
            assert outputs[key]["description"], key


def test_analytics_is_off_by_default(default_tf, minimal_tf):
    for tf in (default_tf, minimal_tf):
        assert tf.resources("aws_athena_workgroup") == {}
        assert tf.resources("aws_glue_catalog_table") == {}


def test_the_scan_limit_is_at_least_athenas_minimum():
    raw = example_config("full").to_dict()
    raw["analytics"]["bytes_scanned_cutoff_per_query"] = ATHENA_MIN_BYTES_SCANNED_CUTOFF - 1
    with pytest.raises(ConfigError) as error:
        config_from_dict(raw)
    assert [p.path for p in error.value.problems] == ["analytics.bytes_scanned_cutoff_per_query"]
