"""Issue 13: the Aurora global database. A global cluster, a primary cluster in the primary region and
a secondary cluster in the secondary (created after the primary's instances), each under its region's
key, in the private subnets, protected unless disposable, with backups, alarms and outputs; the master
password is generated at apply time and is never in the config, the plan or the state."""

from __future__ import annotations

import json

import pytest

from tapinfra.config import TapConfig, with_changes
from tapinfra.constructs.aurora import CLUSTER_PARAMETERS, LOG_EXPORTS, PORTS
HANDLER = "app.handler"  # the item API's function (application.handler)
from tapinfra.errors import ConfigError
from tests.modules import key_arn, role_statements
from tests.synth import REGIONS, Tf, example_config, synth

FULL = example_config("full")
DB = FULL.aurora
EPHEMERAL_PASSWORD = "ephemeral.aws_secretsmanager_random_password.aurora-master-password.random_password"
EPHEMERAL_SECRET = "ephemeral.aws_secretsmanager_secret_version.aurora-master-secret"


@pytest.fixture(scope="module")
def disposable_tf():
    """The minimal example, disposable, with both modules on and one instance per region."""
    config = with_changes(example_config("minimal"), disposable=True, networking={"enabled": True},
                          aurora={"enabled": True, "instances_per_region": 1},
                          table={"write_mode": "any-region"})  # single-writer needs NAT gateways in a VPC
    return Tf(synth(config).doc)


def cluster(tf: Tf, provider: str) -> tuple[str, dict]:
    return tf.one("aws_rds_cluster", provider)


def secret(tf: Tf) -> tuple[str, dict]:
    return tf.one("aws_secretsmanager_secret")


# ------------------------------------------------------------------ clusters

def test_a_global_cluster_with_a_primary_and_a_secondary_cluster_of_the_configured_engine(full_tf):
    (gname, glob), = full_tf.resources("aws_rds_global_cluster").items()
    assert glob["provider"] == "aws.primary"
    assert (glob["engine"], glob["engine_version"], glob["database_name"]) == (DB.engine, DB.engine_version, DB.database_name)
    assert glob["storage_encrypted"] is True
    for provider in REGIONS:
        _, body = cluster(full_tf, provider)
        assert body["global_cluster_identifier"] == full_tf.ref("aws_rds_global_cluster", gname, "id")
        assert (body["engine"], body["engine_version"]) == (DB.engine, DB.engine_version)
        assert body["port"] == PORTS[DB.engine] == 5432
        # upgrades go through the global cluster, so a member never fights it over the version
        assert "engine_version" in body["lifecycle"]["ignore_changes"]


def test_storage_is_encrypted_with_each_regions_key(full_tf):
    for provider in REGIONS:
        _, body = cluster(full_tf, provider)
        assert body["storage_encrypted"] is True
        assert body["kms_key_id"] == key_arn(full_tf, provider)
        for instance in full_tf.in_region("aws_rds_cluster_instance", provider).values():
            assert instance["performance_insights_enabled"] is True
            assert instance["performance_insights_kms_key_id"] == key_arn(full_tf, provider)


def test_the_secondary_joins_after_the_primarys_instances_and_takes_no_credentials(full_tf):
    primary_name, primary = cluster(full_tf, "aws.primary")
    _, secondary = cluster(full_tf, "aws.secondary")
    primary_instances = {f"aws_rds_cluster_instance.{n}" for n in full_tf.in_region("aws_rds_cluster_instance", "aws.primary")}
    assert primary_instances and primary_instances <= set(secondary["depends_on"])
    assert not {"master_username", "master_password", "master_password_wo", "database_name"} & set(secondary)
    assert "replication_source_identifier" in secondary["lifecycle"]["ignore_changes"]  # AWS sets it on a secondary
    assert primary["master_username"] == DB.master_username and primary["database_name"] == DB.database_name


def test_instances_per_region_of_the_configured_class_never_public(full_tf):
    for provider in REGIONS:
        cname, _ = cluster(full_tf, provider)
        instances = full_tf.in_region("aws_rds_cluster_instance", provider).values()
        assert len(instances) == DB.instances_per_region == 2
        for instance in instances:
            assert instance["cluster_identifier"] == full_tf.ref("aws_rds_cluster", cname, "id")
            assert instance["instance_class"] == DB.instance_class
            assert instance["publicly_accessible"] is False
            assert instance["monitoring_interval"] == 60
            role = full_tf.referenced(instance["monitoring_role_arn"])[2]
            assert full_tf.policy(role["assume_role_policy"])[0]["principals"] == [
                {"type": "Service", "identifiers": ["monitoring.rds.amazonaws.com"]}]


def test_backups_deletion_protection_and_a_final_snapshot_when_not_disposable(full_tf):
    assert FULL.disposable is False
    (_, glob), = full_tf.resources("aws_rds_global_cluster").items()
    assert glob["deletion_protection"] is True and glob["lifecycle"]["prevent_destroy"] is True
    snapshots = set()
    for provider in REGIONS:
        _, body = cluster(full_tf, provider)
        assert body["backup_retention_period"] == DB.backup_retention_days
        assert body["copy_tags_to_snapshot"] is True
        assert body["deletion_protection"] is True and body["lifecycle"]["prevent_destroy"] is True
        assert body["skip_final_snapshot"] is False
        snapshots.add(body["final_snapshot_identifier"])
    assert snapshots == {f"{FULL.app}-aurora-final-{FULL.environment}"}  # one per region (snapshots are regional)
    (_, body), = full_tf.resources("aws_secretsmanager_secret").items()
    assert body["recovery_window_in_days"] == 30


def test_a_disposable_database_can_be_destroyed(disposable_tf):
    (_, glob), = disposable_tf.resources("aws_rds_global_cluster").items()
    assert glob["deletion_protection"] is False and "lifecycle" not in glob
    for provider in REGIONS:
        _, body = cluster(disposable_tf, provider)
        assert body["deletion_protection"] is False and body["skip_final_snapshot"] is True
        assert "final_snapshot_identifier" not in body
        assert body["lifecycle"].get("prevent_destroy") is False
        assert len(disposable_tf.in_region("aws_rds_cluster_instance", provider)) == 1
    (_, body), = disposable_tf.resources("aws_secretsmanager_secret").items()
    assert body["recovery_window_in_days"] == 0


def test_clusters_live_in_the_private_subnets_behind_a_group_only_the_function_reaches(full_tf):
    for provider in REGIONS:
        _, body = cluster(full_tf, provider)
        group = full_tf.referenced(body["db_subnet_group_name"].replace(".name}", ".id}"))[2]
        assert set(group["subnet_ids"]) == {full_tf.ref("aws_subnet", n, "id") for n in full_tf.in_region("aws_subnet", provider)}
        (sg_ref,) = body["vpc_security_group_ids"]
        ingress = [r for r in full_tf.resources("aws_vpc_security_group_ingress_rule").values() if r["security_group_id"] == sg_ref]
        (fn,) = [f for f in full_tf.in_region("aws_lambda_function", provider).values() if f["handler"] == HANDLER]
        assert [(r["from_port"], r["to_port"], r["referenced_security_group_id"]) for r in ingress] == [
            (5432, 5432, fn["vpc_config"]["security_group_ids"][0])]


def test_parameters_force_tls_and_log_ddl_and_slow_statements(full_tf):
    for provider in REGIONS:
        _, body = cluster(full_tf, provider)
        group = full_tf.referenced(body["db_cluster_parameter_group_name"].replace(".name}", ".id}"))[2]
        assert group["family"] == "aurora-postgresql16"
        assert {p["name"]: p["value"] for p in group["parameter"]} == CLUSTER_PARAMETERS[DB.engine]
        assert CLUSTER_PARAMETERS[DB.engine]["rds.force_ssl"] == "1"


def test_exported_logs_go_to_kms_log_groups_created_first(full_tf):
    for provider in REGIONS:
        _, body = cluster(full_tf, provider)
        assert body["enabled_cloudwatch_logs_exports"] == list(LOG_EXPORTS[DB.engine])
        for kind in LOG_EXPORTS[DB.engine]:
            (gname, group), = [(n, g) for n, g in full_tf.in_region("aws_cloudwatch_log_group", provider).items()
                               if g["name"] == f"/aws/rds/cluster/{body['cluster_identifier']}/{kind}"]
            assert group["kms_key_id"] == key_arn(full_tf, provider)
            assert group["retention_in_days"] == DB.log_retention_days
            assert f"aws_cloudwatch_log_group.{gname}" in body["depends_on"]


# ------------------------------------------------------------------ the master password

def _walk(value, path=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")
    yield path, value


def test_no_password_in_the_config_the_plan_or_the_state(full_tf):
    assert [p for p, _ in _walk(FULL.to_dict()) if "password" in p] == [".aurora.master_password_version"]
    for path, value in _walk(full_tf.doc.get("resource", {})):
        key = path.rsplit(".", 1)[-1]
        # a password may only reach a resource through a write-only argument (never stored)
        assert key not in ("master_password", "password", "secret_string"), path
        if isinstance(value, str) and "ephemeral." in value:
            assert key in ("master_password_wo", "secret_string_wo"), path
    assert not [p for p, v in _walk(full_tf.doc.get("output", {})) if isinstance(v, str) and "ephemeral." in v]
    # RDS cannot manage the password of a global database's clusters (AWS refuses it there)
    assert not [c for c in full_tf.resources("aws_rds_cluster").values() if "manage_master_user_password" in c]


def test_the_password_is_generated_once_into_the_secret_and_read_back_from_it(full_tf):
    ephemeral = full_tf.doc["ephemeral"]
    generator = ephemeral["aws_secretsmanager_random_password"]["aurora-master-password"]
    assert generator["provider"] == "aws.primary" and generator["password_length"] >= 32
    assert set('/"@') <= set(generator["exclude_characters"])  # RDS refuses these
    vname, version = full_tf.one("aws_secretsmanager_secret_version")
    sname, _ = secret(full_tf)
    assert version["secret_id"] == full_tf.ref("aws_secretsmanager_secret", sname, "id")
    assert version["secret_string_wo"] == (
        f'${{jsonencode({{username = "{DB.master_username}", password = {EPHEMERAL_PASSWORD}}})}}')
    assert version["secret_string_wo_version"] == DB.master_password_version
    # read back after the version is written: the reference to it orders the read
    reader = ephemeral["aws_secretsmanager_secret_version"]["aurora-master-secret"]
    assert reader["secret_id"] == full_tf.ref("aws_secretsmanager_secret_version", vname, "secret_id")
    _, primary = cluster(full_tf, "aws.primary")
    assert primary["master_password_wo"] == f"${{jsondecode({EPHEMERAL_SECRET}.secret_string).password}}"
    assert primary["master_password_wo_version"] == DB.master_password_version


def test_raising_the_password_version_rewrites_secret_and_cluster_together():
    tf = Tf(synth(with_changes(FULL, aurora={"master_password_version": 2})).doc)
    _, version = tf.one("aws_secretsmanager_secret_version")
    _, primary = cluster(tf, "aws.primary")
    assert version["secret_string_wo_version"] == primary["master_password_wo_version"] == 2


def test_the_secret_is_kept_under_the_primarys_key_and_replicated_under_the_secondarys(full_tf):
    _, body = secret(full_tf)
    assert body["provider"] == "aws.primary" and body["kms_key_id"] == key_arn(full_tf, "aws.primary")
    assert body["replica"] == [{"region": full_tf.regions()["secondary"], "kms_key_id": key_arn(full_tf, "aws.secondary")}]


# ------------------------------------------------------------------ the function

def test_the_function_gets_its_regions_secret_arn_and_may_only_read_that_secret(full_tf):
    sname, _ = secret(full_tf)
    arn = full_tf.ref("aws_secretsmanager_secret", sname, "arn")
    regions = full_tf.regions()
    expected = {"aws.primary": arn,
                "aws.secondary": f'${{replace({arn[2:-1]}, ":{regions["primary"]}:", ":{regions["secondary"]}:")}}'}
    for provider in REGIONS:
        (fn,) = [f for f in full_tf.in_region("aws_lambda_function", provider).values() if f["handler"] == HANDLER]
        assert fn["environment"]["variables"]["DATABASE_SECRET_ARN"] == expected[provider]
        statements = role_statements(full_tf, fn)
        secret_statements = [s for s in statements.values() if any(a.startswith("secretsmanager:") for a in s["actions"])]
        assert secret_statements == [statements["ReadDatabaseSecret"]]
        assert statements["ReadDatabaseSecret"]["actions"] == ["secretsmanager:GetSecretValue"]
        assert statements["ReadDatabaseSecret"]["resources"] == [expected[provider]]
        # the secret's key is the region's, which the role already uses
        assert statements["UseThisRegionsKey"]["resources"] == [key_arn(full_tf, provider)]


def test_off_by_default_nothing_of_the_database_exists(default_tf):
    assert TapConfig().aurora.enabled is False
    for rtype in ("aws_rds_global_cluster", "aws_rds_cluster", "aws_rds_cluster_instance", "aws_db_subnet_group",
                  "aws_secretsmanager_secret", "aws_secretsmanager_secret_version"):
        assert default_tf.resources(rtype) == {}, rtype
    assert "ephemeral" not in default_tf.doc
    for fn in default_tf.resources("aws_lambda_function").values():
        assert "DATABASE_SECRET_ARN" not in fn["environment"]["variables"]


# ------------------------------------------------------------------ alarms and outputs

def test_replication_lag_and_cpu_alarms_on_both_clusters_notify_their_regions_topic(full_tf):
    for provider in REGIONS:
        cname, _ = cluster(full_tf, provider)
        (topic,) = [n for n, t in full_tf.in_region("aws_sns_topic", provider).items()]
        alarms = {a["metric_name"]: a for a in full_tf.in_region("aws_cloudwatch_metric_alarm", provider).values()
                  if a.get("namespace") == "AWS/RDS"}
        assert set(alarms) == {"AuroraGlobalDBReplicationLag", "CPUUtilization"}
        for metric, threshold in (("AuroraGlobalDBReplicationLag", DB.replication_lag_alarm_ms), ("CPUUtilization", DB.cpu_alarm_percent)):
            a = alarms[metric]
            assert a["dimensions"] == {"DBClusterIdentifier": full_tf.ref("aws_rds_cluster", cname, "cluster_identifier")}
            assert (a["threshold"], a["comparison_operator"]) == (threshold, "GreaterThanThreshold")
            assert a["alarm_actions"] == [full_tf.ref("aws_sns_topic", topic, "arn")]


def test_outputs_give_endpoints_and_secret_arns_never_a_password(full_tf):
    out = full_tf.doc["output"]
    (gname, _), = full_tf.resources("aws_rds_global_cluster").items()
    assert out["aurora_writer_endpoint"]["value"] == full_tf.ref("aws_rds_global_cluster", gname, "endpoint")
    assert out["aurora_global_cluster_id"]["value"] == full_tf.ref("aws_rds_global_cluster", gname, "id")
    for provider in REGIONS:
        role, (cname, _) = provider.split(".")[1], cluster(full_tf, provider)
        assert out[f"{role}_aurora_endpoint"]["value"] == full_tf.ref("aws_rds_cluster", cname, "endpoint")
        assert out[f"{role}_aurora_reader_endpoint"]["value"] == full_tf.ref("aws_rds_cluster", cname, "reader_endpoint")
        (fn,) = [f for f in full_tf.in_region("aws_lambda_function", provider).values() if f["handler"] == HANDLER]
        assert out[f"{role}_aurora_secret_arn"]["value"] == fn["environment"]["variables"]["DATABASE_SECRET_ARN"]
    assert all(o.get("description") for o in out.values())


# ------------------------------------------------------------------ config

def test_the_database_needs_the_private_network_naming_both_switches():
    with pytest.raises(ConfigError) as caught:
        with_changes(TapConfig(), aurora={"enabled": True})
    (problem,) = caught.value.problems
    assert (problem.path, problem.value) == ("aurora.enabled", True)
    assert "networking.enabled true" in problem.allowed


@pytest.mark.parametrize("raw, path", [
    ({"engine_version": "17.2"}, "aurora.engine_version"),                 # 17 joins global databases from 17.4
    ({"engine_version": "13.9"}, "aurora.engine_version"),                 # past standard support
    ({"engine": "aurora-mysql"}, "aurora.engine_version"),                 # 16.6 is no MySQL version
    ({"engine": "aurora-mysql", "engine_version": "5.7.mysql_aurora.2.12.1"}, "aurora.engine_version"),
    ({"instance_class": "db.t4g.medium"}, "aurora.instance_class"),        # no burstable class in a global database
    ({"instances_per_region": 16}, "aurora.instances_per_region"),
    ({"backup_retention_days": 0}, "aurora.backup_retention_days"),
    ({"master_username": "rdsadmin"}, "aurora.master_username"),
    ({"master_username": "1admin"}, "aurora.master_username"),
])
def test_what_a_global_database_cannot_take_is_refused_naming_the_field(raw, path):
    with pytest.raises(ConfigError) as caught:
        with_changes(TapConfig(), networking={"enabled": True}, aurora={"enabled": True, **raw}, table={"write_mode": "any-region"})
    assert [p.path for p in caught.value.problems] == [path]


@pytest.mark.parametrize("engine, version", [("aurora-postgresql", "14.3"), ("aurora-postgresql", "17.4"),
                                             ("aurora-mysql", "8.0.mysql_aurora.3.01.0"), ("aurora-mysql", "8.0.mysql_aurora.3.08.2")])
def test_versions_global_databases_support_are_accepted(engine, version):
    config = with_changes(TapConfig(), networking={"enabled": True}, aurora={"enabled": True, "engine": engine, "engine_version": version},
                          table={"write_mode": "any-region"})
    assert config.aurora.engine_version == version
