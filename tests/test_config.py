"""Configuration: loading, overrides, every validation rule, schema, examples, the CLI's errors."""

import json
import subprocess
import sys
from dataclasses import FrozenInstanceError

import jsonschema
import pytest

from tapinfra.config import (
    LOG_RETENTION_DAYS, TapConfig, apply_env_overrides, config_from_dict, json_schema, load_config,
)
from tapinfra.errors import ConfigError
from tests.synth import EXAMPLES, EXAMPLE_NAMES, ROOT


def problems(raw):
    with pytest.raises(ConfigError) as exc:
        config_from_dict(raw)
    return {p.path: p for p in exc.value.problems}


def test_embedded_default_is_complete_and_frozen():
    cfg = load_config(environ={})
    assert cfg == TapConfig()
    assert (cfg.app, cfg.environment, cfg.regions.primary, cfg.regions.secondary) == ("tap", "dev", "us-east-1", "us-west-2")
    assert cfg.features.waf and cfg.features.canaries and cfg.features.event_forwarding
    assert cfg.features.dns and cfg.dns.create_zone_name == "example.com" and cfg.dns.zone_id is None
    with pytest.raises(FrozenInstanceError):
        cfg.app = "x"


def test_default_example_is_the_embedded_default_written_out():
    assert json.loads((EXAMPLES / "default.json").read_text()) == TapConfig().to_dict()


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_examples_validate_against_the_schema_and_load(name):
    raw = json.loads((EXAMPLES / f"{name}.json").read_text())
    jsonschema.validate(raw, json_schema())
    load_config(EXAMPLES / f"{name}.json", environ={})


def test_schema_rejects_what_the_loader_rejects():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"api": {"stage_nam": "v1"}}, json_schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"function": {"memory_mb": 64}}, json_schema())


def test_every_field_is_documented_with_its_default():
    def walk(node, path):
        assert node.get("description"), f"{path} has no description"
        if node.get("type") == "object":
            for key, child in node["properties"].items():
                if key != "$schema":  # the editors' pointer to the schema, not a setting
                    walk(child, f"{path}.{key}")
        else:
            assert "default" in node, f"{path} has no default"
    walk(json_schema(), "<root>")


def test_schema_cli_prints_the_schema():
    out = subprocess.run([sys.executable, "-m", "tapinfra", "schema"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == json.loads(json.dumps(json_schema()))


def test_env_overrides_win_over_the_file(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"environment": "stage", "regions": {"primary": "eu-west-1", "secondary": "eu-central-1"}}))
    cfg = load_config(path, environ={"TAP_ENVIRONMENT": "ci42", "TAP_PRIMARY_REGION": "us-east-2", "TAP_SECONDARY_REGION": "us-west-1"})
    assert (cfg.environment, cfg.regions.primary, cfg.regions.secondary) == ("ci42", "us-east-2", "us-west-1")


def test_tap_config_env_names_the_file(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"app": "shop"}))
    assert load_config(environ={"TAP_CONFIG": str(path)}).app == "shop"


def test_env_overrides_are_validated_too():
    with pytest.raises(ConfigError) as exc:
        load_config(environ={"TAP_PRIMARY_REGION": "us-moon-1"})
    assert exc.value.paths == ("regions.primary",)


def test_overrides_leave_non_objects_for_validation():
    assert apply_env_overrides([1], {"TAP_ENVIRONMENT": "x"}) == [1]


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="readable JSON file"):
        load_config(tmp_path / "missing.json", environ={})
    bad = tmp_path / "bad.json"
    bad.write_text("{ nope")
    with pytest.raises(ConfigError, match="valid JSON"):
        load_config(bad, environ={})


# ------------------------------------------------------------------ one test per rule

@pytest.mark.parametrize("raw, path, allowed", [
    ({"aap": "tap"}, "aap", "unknown key"),
    ({"api": {"stagename": "v1"}}, "api.stagename", "Allowed here: stage_name"),
    ([], "<root>", "a JSON object"),
    ({"api": []}, "api", "a JSON object"),
    ({"app": "Tap"}, "app", "matching"),
    ({"app": "t-a-p"}, "app", "matching"),
    ({"app": "abcdefghijklm"}, "app", "at most 12"),
    ({"environment": "production1"}, "environment", "at most 10"),
    ({"environment": 3}, "environment", "a string"),
    ({"regions": {"primary": "us-east-7"}}, "regions.primary", "one of"),
    ({"regions": {"secondary": "mars-1"}}, "regions.secondary", "one of"),
    ({"regions": {"primary": "us-west-2"}}, "regions.secondary", "other than regions.primary"),
    ({"function": {"memory_mb": 64}}, "function.memory_mb", "from 128 to 10240"),
    ({"function": {"memory_mb": 512.5}}, "function.memory_mb", "an integer"),
    ({"function": {"memory_mb": True}}, "function.memory_mb", "an integer"),
    ({"function": {"timeout_seconds": 30}}, "function.timeout_seconds", "from 1 to 29"),
    ({"function": {"provisioned_concurrency": 0}}, "function.provisioned_concurrency", "from 1 to 1000"),
    ({"function": {"runtime": "python3.8"}}, "function.runtime", "one of"),
    ({"function": {"log_retention_days": 10}}, "function.log_retention_days", "one of 1, 3, 5"),
    ({"api": {"log_retention_days": 0}}, "api.log_retention_days", "one of"),
    ({"api": {"throttle_rate_limit": 0}}, "api.throttle_rate_limit", "from 1 to 10000"),
    ({"api": {"throttle_burst_limit": 5001}}, "api.throttle_burst_limit", "from 1 to 5000"),
    ({"api": {"throttle_rate_limit": 10000, "throttle_burst_limit": 10}}, "api.throttle_burst_limit", "a tenth"),
    ({"api": {"quota_period": "WEEK"}}, "api.quota_period", "unless api.quota_limit"),
    ({"api": {"cors_allowed_origins": ["http://insecure.example"]}}, "api.cors_allowed_origins[0]", "matching"),
    ({"api": {"cors_allowed_origins": []}}, "api.cors_allowed_origins", "at least 1"),
    ({"api": {"cors_allowed_origins": "*"}}, "api.cors_allowed_origins", "a list of strings"),
    ({"api": {"tenants": ["a", "a"]}}, "api.tenants", "no duplicates"),
    ({"api": {"tenants": [7]}}, "api.tenants[0]", "a string"),
    ({"api": {"cache_size_gb": "2"}}, "api.cache_size_gb", "one of"),
    ({"api": {"stage_name": "v-1"}}, "api.stage_name", "matching"),
    ({"table": {"billing_mode": "ON_DEMAND"}}, "table.billing_mode", "one of"),
    ({"table": {"read_capacity": 1}}, "table.read_capacity", "from 5 to 40000"),
    ({"table": {"read_capacity": 50, "max_read_capacity": 20}}, "table.max_read_capacity", "at least table.read_capacity"),
    ({"table": {"write_capacity": 50, "max_write_capacity": 20}}, "table.max_write_capacity", "at least table.write_capacity"),
    ({"storage": {"transition_to_ia_days": 60, "transition_to_glacier_days": 70}}, "storage.transition_to_glacier_days", "+ 30"),
    ({"storage": {"expiration_days": 30}}, "storage.expiration_days", "more than"),
    ({"storage": {"replication_storage_class": "DEEP_ARCHIVE"}}, "storage.replication_storage_class", "one of"),
    ({"monitoring": {"alarm_emails": ["not-an-email"]}}, "monitoring.alarm_emails[0]", "matching"),
    ({"monitoring": {"canary_schedule": "cron(* * * * ? *)"}}, "monitoring.canary_schedule", "matching"),
    ({"features": {"waf": "yes"}}, "features.waf", "true or false"),
    ({"packaging": {"mode": "docker"}}, "packaging.mode", "one of"),
    ({"disposable": 1}, "disposable", "true or false"),
    ({"data_classification": "secret"}, "data_classification", "one of"),
    ({"backend": {"type": "s3"}}, "backend.bucket", "when backend.type is s3"),
    ({"backend": {"type": "s3", "bucket": "b-b-b", "lock": "dynamodb"}}, "backend.dynamodb_table", "when backend.lock is dynamodb"),
    ({"backend": {"bucket": "b-b-b"}}, "backend.type", "s3 when"),
    ({"backend": {"type": "gcs"}}, "backend.type", "one of"),
    ({"backend": {"type": "s3", "bucket": "b-b-b", "kms_key_id": "alias/x"}}, "backend.kms_key_id", "matching"),
    # dns consistency
    ({"dns": {"create_zone_name": None}}, "dns.zone_id", "exactly one of"),
    ({"dns": {"zone_id": "Z123"}}, "dns.zone_id", "exactly one of"),
    ({"features": {"dns": True}, "dns": {"zone_id": "Z1", "create_zone_name": "example.com", "domain_name": "api.example.com"}}, "dns.zone_id", "exactly one of"),
    ({"features": {"dns": True}, "dns": {"zone_id": "Z1", "create_zone_name": None, "domain_name": None}}, "dns.domain_name", "the API's domain name"),
    ({"features": {"dns": True}, "dns": {"create_zone_name": "example.com", "domain_name": "api.example.org"}}, "dns.domain_name", "inside dns.create_zone_name"),
    ({"features": {"dns": True}, "dns": {"zone_id": "Z1", "create_zone_name": None, "domain_name": "api.example.com", "routing_policy": "geolocation"}}, "dns.routing_policy", "one of latency, failover, weighted"),
    ({"features": {"dns": True}, "dns": {"zone_id": "Z1", "create_zone_name": None, "domain_name": "api.example.com", "routing_policy": "weighted"}}, "dns.primary_weight", "both dns.primary_weight"),
    ({"features": {"dns": True}, "dns": {"zone_id": "Z1", "create_zone_name": None, "domain_name": "api.example.com", "routing_policy": "weighted", "primary_weight": 0, "secondary_weight": 0}}, "dns.primary_weight", "not both 0"),
    ({"features": {"dns": True}, "dns": {"zone_id": "Z1", "create_zone_name": None, "domain_name": "api.example.com", "primary_weight": 10}}, "dns.primary_weight", "unless routing_policy is weighted"),
    ({"dns": {"health_check_regions": ["us-east-1", "us-west-2"]}}, "dns.health_check_regions", "at least 3"),
    ({"dns": {"health_check_regions": ["us-east-1", "us-west-2", "eu-north-1"]}}, "dns.health_check_regions[2]", "one of"),
    ({"dns": {"health_check_interval_seconds": 20}}, "dns.health_check_interval_seconds", "one of 10, 30"),
])
def test_each_rule_names_field_value_and_what_is_allowed(raw, path, allowed):
    found = problems(raw)
    assert path in found, f"expected a problem at {path}, got {list(found)}"
    text = str(found[path])
    assert allowed in text
    assert text.startswith(f"{path}: got ")


def test_all_problems_are_reported_at_once():
    found = problems({"app": "BAD", "function": {"memory_mb": 1, "timeout_seconds": 99}, "regions": {"primary": "us-east-1", "secondary": "us-east-1"}, "typo": 1})
    assert set(found) == {"app", "function.memory_mb", "function.timeout_seconds", "regions.secondary", "typo"}


def test_retention_set_is_cloudwatchs():
    assert LOG_RETENTION_DAYS[:6] == (1, 3, 5, 7, 14, 30) and LOG_RETENTION_DAYS[-1] == 3653


def test_main_prints_problems_and_exits_2_without_a_trace(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"app": "Bad_App", "function": {"memory_mb": 1}}))
    out = subprocess.run([sys.executable, "main.py", "--config", str(bad), "--outdir", str(tmp_path / "out")],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2
    assert "app: got \"Bad_App\"" in out.stderr
    assert "function.memory_mb: got 1; expected a number from 128 to 10240" in out.stderr
    assert "Traceback" not in out.stderr and "jsii" not in out.stderr
    assert not (tmp_path / "out").exists()
