"""An Aurora global database: a writer cluster in the primary region, a replica cluster in the secondary.

The master password is never in the config, the plan or the state. AWS does not let RDS
manage it in Secrets Manager for clusters in a global database (manage_master_user_password
is refused there), so tapinfra does the same with Terraform's write-only attributes: at apply
time an ephemeral generated password is written once to a secret (replicated to the secondary
under its key), and the primary cluster's password is read back from that secret, ephemerally.
The secret is the one source: a failed apply retried, or a rotation (``master_password_version``),
always leaves cluster and secret agreeing. The secondary cluster has no password of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Sequence

from cdktf import Fn, TerraformResourceLifecycle, TerraformStack
from constructs import Construct

from tapinfra.config import AuroraConfig
from tapinfra.constructs.logs import log_group
from tapinfra.constructs.monitoring import AlarmSpec, DashboardRow, Metric, alarm_doc
from tapinfra.constructs.network import PrivateNetwork
from tapinfra.policy import Condition, Statement, service_role
from tapinfra.protection import Protection
from tapinfra.provider import aws
from tapinfra.region import Region

PORTS = {"aurora-postgresql": 5432, "aurora-mysql": 3306}
LOG_EXPORTS = {"aurora-postgresql": ("postgresql",), "aurora-mysql": ("audit", "error", "slowquery")}
# TLS only, and the logs an investigation needs (DDL and slow statements; MySQL's audit of connections and DDL).
CLUSTER_PARAMETERS = {
    "aurora-postgresql": {"rds.force_ssl": "1", "log_statement": "ddl", "log_min_duration_statement": "1000"},
    "aurora-mysql": {"require_secure_transport": "ON", "slow_query_log": "1", "long_query_time": "1",
                     "server_audit_logging": "1", "server_audit_events": "CONNECT,QUERY_DDL"},
}
# RDS refuses /, " and @ in a master password; ' and \ would need quoting in every client.
PASSWORD_EXCLUDED = "/\"@'\\"
PASSWORD_LENGTH = 32
PERFORMANCE_INSIGHTS_FREE_DAYS = 7
ENHANCED_MONITORING_SECONDS = 60
AURORA_CPU = alarm_doc("aurora-cpu", "a cluster's CPU exceeds `aurora.cpu_alarm_percent`",
                       "queries outgrow the instance class: tune them or raise `aurora.instance_class`", "`aurora` on")
AURORA_LAG = alarm_doc("aurora-replication-lag", "the secondary trails the writer by more than `aurora.replication_lag_alarm_ms`",
                       "replication is degraded: a failover now would lose the lag's writes", "`aurora` on")


def parameter_family(engine: str, version: str) -> str:
    return f"{engine}{version.split('.')[0]}" if engine == "aurora-postgresql" else "aurora-mysql8.0"


@dataclass(frozen=True)
class SecretAccess:
    """The master secret as one region sees it (the primary's, or its replica)."""

    arn: str

    def grant_read(self, sid: str) -> Statement:
        """Reading the secret's value, and nothing else (its key is the region's, granted apart)."""
        return Statement(sid=sid, actions=["secretsmanager:GetSecretValue"], resources=[self.arn])


@dataclass(frozen=True)
class RegionalDatabase:
    """One region's cluster: its identifier, endpoints and the secret there."""

    region: Region
    cluster_id: str
    endpoint: str          # the cluster's writer endpoint (a secondary's answers only once promoted)
    reader_endpoint: str
    secret: SecretAccess


@dataclass(frozen=True)
class GlobalDatabaseResult:
    global_cluster_id: str
    writer_endpoint: str   # follows the writer across a switchover or failover
    regions: tuple[RegionalDatabase, RegionalDatabase]

    def in_region(self, region: Region) -> RegionalDatabase:
        return next(r for r in self.regions if r.region.role == region.role)

    def grant_read_secret(self, region: Region, sid: str = "ReadDatabaseSecret") -> Statement:
        return self.in_region(region).secret.grant_read(sid)


@dataclass(frozen=True)
class GlobalDatabaseProps:
    """What the global database is built from.

    :param primary: the writer's region (the global cluster, the secret and the monitoring
        role live there). Required.
    :param secondary: the replica cluster's region. Required.
    :param networks: the serving regions' private networks, primary first: the clusters live in
        their private subnets and admit the function's security group on the engine's port. Required.
    :param settings: the ``aurora`` section: engine, instances, backups, alarms. Required.
    :param protection: the deployment's :class:`~tapinfra.protection.Protection`: when disposable,
        no deletion protection, no final snapshot, no ``prevent_destroy``, the secret deleted
        without a recovery window. Default: protected (a database outlives a mistaken destroy).
    """

    primary: Region
    secondary: Region
    networks: tuple[PrivateNetwork, PrivateNetwork]
    settings: AuroraConfig
    protection: Protection = Protection()


class GlobalDatabase(Construct):
    """The global cluster, both regional clusters with their instances, subnet groups, security
    groups, parameter groups and log groups, the master secret, from :class:`GlobalDatabaseProps`;
    :meth:`alarm_specs` watch each cluster, ``result`` is what others may use.
    """

    def __init__(self, scope: Construct, id_: str, props: GlobalDatabaseProps) -> None:
        super().__init__(scope, id_)
        self.props = props
        primary, secondary, networks = props.primary, props.secondary, props.networks
        settings, protection = props.settings, props.protection
        self.settings, self.protection = settings, protection
        self.port = PORTS[settings.engine]
        # Write-only attributes need Terraform 1.11 (README); not declared as required_version,
        # which checkov's JSON parser cannot read.
        stack = TerraformStack.of(self)

        secret_arn, password = self._secret(stack, primary, secondary)
        self.global_cluster = aws.rds_global_cluster.RdsGlobalCluster(
            self, "global-cluster", provider=primary.provider,
            global_cluster_identifier=primary.namer.name("aurora-global", "rds"),
            engine=settings.engine, engine_version=settings.engine_version, database_name=settings.database_name,
            storage_encrypted=True, deletion_protection=protection.deletion_protection, lifecycle=protection.lifecycle(),
        )
        self.global_cluster_id = self.global_cluster.id
        self.monitoring_role, _ = service_role(
            self, "monitoring-role", provider=primary.provider, name=primary.namer.name("rds-monitoring", "iam_role"),
            services=["monitoring.rds.amazonaws.com"],
            conditions=[Condition("StringEquals", "aws:SourceAccount", [primary.account_id])],
            statements=_enhanced_monitoring_statements(primary),
        )
        self.monitoring_role_arn = self.monitoring_role.arn
        self.clusters: dict[str, aws.rds_cluster.RdsCluster] = {}
        self.instances: dict[str, list] = {}
        for region, network in zip((primary, secondary), networks):
            extra = dict(
                master_username=settings.master_username, database_name=settings.database_name,
                master_password_wo=password, master_password_wo_version=settings.master_password_version,
            ) if region.is_primary else {}
            # The secondary joins once the primary has its writer.
            after = [] if region.is_primary else self.instances[primary.role]
            self._cluster(region, network, extra, after)

        secondary_secret = Fn.replace(secret_arn, f":{primary.name}:", f":{secondary.name}:")
        self.result = GlobalDatabaseResult(
            global_cluster_id=self.global_cluster_id,
            writer_endpoint=self.global_cluster.endpoint,
            regions=tuple(
                RegionalDatabase(region=region, cluster_id=self.clusters[region.role].cluster_identifier,
                                 endpoint=self.clusters[region.role].endpoint,
                                 reader_endpoint=self.clusters[region.role].reader_endpoint,
                                 secret=SecretAccess(secret_arn if region.is_primary else secondary_secret))
                for region in (primary, secondary)
            ),
        )

    def _secret(self, stack: TerraformStack, primary: Region, secondary: Region) -> tuple[str, str]:
        """The secret (primary's key, a replica under the secondary's), its one written version,
        and the password read back from it, as a write-only expression."""
        s = self.settings
        self.secret = aws.secretsmanager_secret.SecretsmanagerSecret(
            self, "secret", provider=primary.provider, name=primary.namer.name("aurora-master", "secret"),
            description=f"Master user of the {s.engine} global database (written by Terraform at apply time, never stored in its state).",
            kms_key_id=primary.key.arn, recovery_window_in_days=self.protection.secret_recovery_window_days,
            replica=[aws.secretsmanager_secret.SecretsmanagerSecretReplica(region=secondary.name, kms_key_id=secondary.key.arn)],
        )
        generated, current = "aurora-master-password", "aurora-master-secret"
        provider_fqn = primary.provider.fqn
        stack.add_override(f"ephemeral.aws_secretsmanager_random_password.{generated}", {
            "provider": provider_fqn, "password_length": PASSWORD_LENGTH,
            "exclude_characters": PASSWORD_EXCLUDED, "require_each_included_type": True,
        })
        value = f"ephemeral.aws_secretsmanager_random_password.{generated}.random_password"
        self.secret_version = aws.secretsmanager_secret_version.SecretsmanagerSecretVersion(
            self, "secret-version", provider=primary.provider, secret_id=self.secret.id,
            secret_string_wo=f"${{jsonencode({{username = {json.dumps(s.master_username)}, password = {value}}})}}",
            secret_string_wo_version=s.master_password_version,
        )
        # Read back after the version is written (its secret_id makes the dependency).
        stack.add_override(f"ephemeral.aws_secretsmanager_secret_version.{current}", {
            "provider": provider_fqn, "secret_id": self.secret_version.secret_id,
        })
        password = f"${{jsondecode(ephemeral.aws_secretsmanager_secret_version.{current}.secret_string).password}}"
        return self.secret.arn, password

    def _cluster(self, region: Region, network: PrivateNetwork, extra: dict, after: Sequence) -> None:
        s, role, p, namer = self.settings, region.role, region.provider, region.namer
        name = namer.name("aurora", "rds")
        subnets = aws.db_subnet_group.DbSubnetGroup(
            self, f"{role}-subnet-group", provider=p, name=namer.name("aurora-subnets", "rds"),
            subnet_ids=list(network.result.private_subnet_ids), description="The private subnets of this region's VPC",
        )
        security_group = aws.security_group.SecurityGroup(
            self, f"{role}-security-group", provider=p, vpc_id=network.result.vpc_id,
            name=namer.name("aurora", "security_group"),
            description=f"The {s.engine} cluster: port {self.port} in from the API function only",
        )
        security_group_id = security_group.id
        network.admit_function_into("database", security_group_id, self.port, f"{s.engine} from the API function")
        parameters = aws.rds_cluster_parameter_group.RdsClusterParameterGroup(
            self, f"{role}-parameters", provider=p, name=namer.name("aurora-params", "rds"),
            family=parameter_family(s.engine, s.engine_version), description="TLS only; DDL and slow statements logged",
            parameter=[aws.rds_cluster_parameter_group.RdsClusterParameterGroupParameter(name=k, value=v)
                       for k, v in sorted(CLUSTER_PARAMETERS[s.engine].items())],
        )
        # RDS would create these itself, unencrypted and kept forever.
        logs = [log_group(self, f"{role}-log-{kind}", region=region, name=f"/aws/rds/cluster/{name}/{kind}",
                          retention_days=s.log_retention_days) for kind in LOG_EXPORTS[s.engine]]
        cluster = aws.rds_cluster.RdsCluster(
            self, f"{role}-cluster", provider=p, cluster_identifier=name,
            engine=s.engine, engine_version=s.engine_version,
            global_cluster_identifier=self.global_cluster_id,
            storage_encrypted=True, kms_key_id=region.key.arn,
            db_subnet_group_name=subnets.name, vpc_security_group_ids=[security_group_id],
            db_cluster_parameter_group_name=parameters.name, port=self.port,
            backup_retention_period=s.backup_retention_days, copy_tags_to_snapshot=True,
            deletion_protection=self.protection.deletion_protection, skip_final_snapshot=self.protection.skip_final_snapshot,
            final_snapshot_identifier=self.protection.final_snapshot_identifier(lambda: namer.name("aurora-final", "rds")),
            iam_database_authentication_enabled=True,
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS[s.engine]),
            depends_on=[*logs, *after],
            # Upgrades go through the global cluster; a secondary's source is AWS's to set.
            # prevent_destroy is written even when false (protection.lifecycle() would drop it).
            lifecycle=TerraformResourceLifecycle(
                prevent_destroy=self.protection.prevent_destroy,
                ignore_changes=["engine_version"] + ([] if region.is_primary else ["replication_source_identifier"]),
            ),
            **extra,
        )
        self.clusters[role] = cluster
        cluster_id, engine = cluster.id, cluster.engine
        self.instances[role] = [
            aws.rds_cluster_instance.RdsClusterInstance(
                self, f"{role}-instance-{i}", provider=p, identifier=namer.name(f"aurora-{i}", "rds"),
                cluster_identifier=cluster_id, engine=engine, instance_class=s.instance_class,
                publicly_accessible=False, copy_tags_to_snapshot=True, auto_minor_version_upgrade=True,
                performance_insights_enabled=True, performance_insights_kms_key_id=region.key.arn,
                performance_insights_retention_period=PERFORMANCE_INSIGHTS_FREE_DAYS,
                monitoring_interval=ENHANCED_MONITORING_SECONDS, monitoring_role_arn=self.monitoring_role_arn,
            )
            for i in range(1, s.instances_per_region + 1)
        ]

    def alarm_specs(self, region: Region) -> list[AlarmSpec]:
        """CPU and replication lag on ``region``'s cluster. Only the cluster that is secondary at
        the time reports lag, so the pair stays right across a switchover."""
        s, role = self.settings, region.role
        common = dict(comparison="GreaterThanThreshold", missing_data="notBreaching", scope=self)
        return [
            AlarmSpec(AURORA_CPU, f"Aurora CPU above {s.cpu_alarm_percent}% ({region.name})", s.cpu_alarm_percent,
                      metric=self.metric(region, "CPUUtilization"), id=f"{role}-cpu-alarm", **common),
            AlarmSpec(AURORA_LAG, f"Aurora global replication into {region.name} lags more than {s.replication_lag_alarm_ms} ms",
                      s.replication_lag_alarm_ms, metric=self.metric(region, "AuroraGlobalDBReplicationLag"),
                      id=f"{role}-replication-lag-alarm", **common),
        ]

    def metric(self, region: Region, name: str, stat: str = "Maximum") -> Metric:
        """One of ``region``'s cluster metrics (``AWS/RDS``, by ``DBClusterIdentifier``)."""
        return Metric("AWS/RDS", name, {"DBClusterIdentifier": self.result.in_region(region).cluster_id}, stat)

    def dashboard_rows(self, region: Region) -> list[DashboardRow]:
        return [DashboardRow.of("Aurora CPU and replication lag",
                                [self.metric(region, "CPUUtilization"), self.metric(region, "AuroraGlobalDBReplicationLag")],
                                "Maximum")]


def _enhanced_monitoring_statements(region: Region) -> list[Statement]:
    """What AWS's AmazonRDSEnhancedMonitoringRole allows, on the RDSOSMetrics group of any region."""
    group = region.arn("logs", "log-group:RDSOSMetrics", region="*")
    return [
        Statement(sid="EnhancedMonitoringGroup", actions=["logs:CreateLogGroup", "logs:PutRetentionPolicy"], resources=[group]),
        Statement(sid="EnhancedMonitoringStreams",
                  actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:GetLogEvents"],
                  resources=[f"{group}:log-stream:*"]),
    ]
