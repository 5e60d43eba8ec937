"""The stack's foundation: providers, tags, backend, keys, explicit providers everywhere."""

import json

import pytest

from tapinfra.config import TapConfig, config_from_dict
from tapinfra.stack import default_tags
from tests.synth import REGIONS, Tf, example_config, synth

REGIONAL_PROVIDERS = set(REGIONS)


def test_two_aliased_aws_providers_and_no_default_one(any_tf):
    providers = any_tf.doc["provider"]["aws"]
    assert {"primary", "secondary"} <= {p.get("alias") for p in providers}
    assert all(p.get("alias") for p in providers), "an unaliased default aws provider exists"
    extra = [p for p in providers if p["alias"] not in ("primary", "secondary")]
    assert all(p == {**p, "alias": "us_east_1", "region": "us-east-1"} for p in extra)


@pytest.mark.parametrize("name", ["default", "full"])
def test_provider_regions_follow_the_config(name):
    cfg = example_config(name)
    providers = Tf(synth(cfg).doc).regions()
    assert providers["primary"] == cfg.regions.primary
    assert providers["secondary"] == cfg.regions.secondary


def test_default_tags_on_every_aws_provider(any_tf):
    for p in any_tf.doc["provider"]["aws"]:
        tags = p["default_tags"][0]["tags"]
        assert set(tags) == {"Environment", "Application", "Owner", "CostCenter", "DataClassification", "ManagedBy"}
        assert tags["ManagedBy"] == "tapinfra"


def test_tags_carry_the_config_values(full_tf):
    cfg = example_config("full")
    for p in full_tf.doc["provider"]["aws"]:
        assert p["default_tags"][0]["tags"] == default_tags(cfg)
    assert default_tags(cfg)["CostCenter"] == "cc-4711"


def test_every_resource_and_data_source_names_its_provider(any_tf):
    allowed = REGIONAL_PROVIDERS | {"archive.packaging", "aws.us_east_1"}
    missing = [(kind, t, n) for kind, t, n, body in any_tf.all_blocks() if body.get("provider") not in allowed]
    assert missing == []


def test_archive_data_sources_use_the_packaging_provider(default_tf):
    assert default_tf.data("archive_file"), "default config packages with archive_file"
    for body in default_tf.data("archive_file").values():
        assert body["provider"] == "archive.packaging"


def test_local_backend_by_default(default_tf):
    assert default_tf.doc["terraform"]["backend"] == {"local": {"path": "terraform.tfstate"}}


def test_s3_backend_is_encrypted_and_locked(full_tf):
    backend = full_tf.doc["terraform"]["backend"]["s3"]
    assert backend["encrypt"] is True
    assert backend["use_lockfile"] is True
    assert backend["bucket"] == "tapinfra-state-example"
    assert backend["region"] == "eu-west-1"


def test_s3_backend_with_dynamodb_lock():
    cfg = config_from_dict({"backend": {"type": "s3", "bucket": "state-bucket", "lock": "dynamodb", "dynamodb_table": "tf-locks"}})
    backend = synth(cfg).doc["terraform"]["backend"]["s3"]
    assert backend["dynamodb_table"] == "tf-locks"
    assert "use_lockfile" not in backend
    assert backend["region"] == cfg.regions.primary


def test_provider_versions_are_pinned(any_tf):
    required = any_tf.doc["terraform"]["required_providers"]
    assert required["aws"]["version"] == "5.100.0"


# ------------------------------------------------------------------ KMS

def _keys(tf: Tf):
    return {provider: (name, tf.resources("aws_kms_key")[name]) for provider, name in tf.region_keys().items()}


def test_one_rotating_key_per_region(any_tf):
    keys = _keys(any_tf)
    assert set(keys) == REGIONAL_PROVIDERS
    for _, body in keys.values():
        assert body["enable_key_rotation"] is True
        assert body["deletion_window_in_days"] == 30


def test_an_alias_per_region_targets_that_regions_key(any_tf):
    keys = _keys(any_tf)
    aliases = {body["provider"]: body for body in any_tf.resources("aws_kms_alias").values() if body["provider"] in REGIONAL_PROVIDERS}
    assert set(aliases) == REGIONAL_PROVIDERS
    for provider, alias in aliases.items():
        assert alias["name"].startswith("alias/")
        assert alias["target_key_id"] == any_tf.ref("aws_kms_key", keys[provider][0], "key_id")


def test_key_policy_grants_the_account_and_logs_of_its_own_region(full_tf):
    cfg = example_config("full")
    regions = {"aws.primary": cfg.regions.primary, "aws.secondary": cfg.regions.secondary}
    for provider, (_, key) in _keys(full_tf).items():
        statements = {s["sid"]: s for s in full_tf.policy(key["policy"])}
        admin = statements["AccountAdministration"]
        assert admin["principals"] == [{"type": "AWS", "identifiers": ["arn:${data.aws_partition.partition.partition}:iam::${data.aws_caller_identity.identity.account_id}:root"]}]
        logs = statements["CloudWatchLogs"]
        assert logs["principals"] == [{"type": "Service", "identifiers": [f"logs.{regions[provider]}.amazonaws.com"]}]
        assert "kms:*" not in logs["actions"]
        (cond,) = logs["condition"]
        assert cond["variable"] == "kms:EncryptionContext:aws:logs:arn"
        assert cond["values"] == [f"arn:${{data.aws_partition.partition.partition}}:logs:{regions[provider]}:${{data.aws_caller_identity.identity.account_id}}:log-group:*"]
        services = {i for s in statements.values() for p in s.get("principals", []) if p["type"] == "Service" for i in p["identifiers"]}
        for service in services:
            assert ".amazonaws.com" in service
            if service.startswith("logs."):
                assert service == f"logs.{regions[provider]}.amazonaws.com", "a key grants another region's service"
        # nothing is granted to everyone
        assert all(p["identifiers"] != ["*"] for s in statements.values() for p in s.get("principals", []))


def test_no_machine_path_in_the_synthesized_json(any_tf):
    text = json.dumps(any_tf.doc)
    for marker in ("/tmp/", "/work/", "/root/", "/home/", "tapinfra-tests-"):
        assert marker not in text


def test_a_config_built_in_code_is_validated_too():
    from cdktf import App
    from tapinfra.config import RegionsConfig
    from tapinfra.errors import ConfigError
    from tapinfra.stack import TapStack

    with pytest.raises(ConfigError, match="regions.secondary"):
        TapStack(App(), "bad", TapConfig(regions=RegionsConfig(primary="us-east-1", secondary="us-east-1")))


def test_provider_bindings_are_imported_only_through_the_seam():
    import re
    from tests.synth import ROOT

    offenders = []
    for path in [ROOT / "main.py", *(ROOT / "tapinfra").rglob("*.py")]:
        rel = path.relative_to(ROOT).as_posix()
        if rel == "tapinfra/provider.py" or rel.startswith("tapinfra/_fastimport/"):
            continue
        if re.search(r"^\s*(from|import)\s+cdktf_cdktf_provider_", path.read_text(), re.M):
            offenders.append(rel)
    assert offenders == []
