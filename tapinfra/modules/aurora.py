"""Aurora global database module (``aurora``, needs ``networking``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tapinfra.errors import Problem
from tapinfra.fields import LOG_RETENTION_DAYS, setting
from tapinfra.modules.base import FunctionParts, Module, Output, StackContext
from tapinfra.outputs import OutputSpec, register_output


AURORA_ENGINES = ("aurora-postgresql", "aurora-mysql")
# The lowest version of each major that Aurora global databases support ("Supported Regions and DB
# engines for Aurora global databases", Aurora User Guide); majors past standard support are left out.
AURORA_GLOBAL_FLOORS: dict[str, tuple[tuple[int, ...], ...]] = {
    "aurora-postgresql": ((14, 3), (15, 2), (16, 1), (17, 4)),
    "aurora-mysql": ((3, 1, 0),),  # 8.0.mysql_aurora.3.01.0
}
AURORA_VERSION_PATTERN = r"^([0-9]{2}\.[0-9]{1,2}|8\.0\.mysql_aurora\.3\.[0-9]{2}\.[0-9])$"
# Memory-optimized classes: Aurora global databases take no burstable (db.t*) class.
AURORA_INSTANCE_CLASS_PATTERN = r"^db\.(r5|r6g|r6gd|r6i|r6id|r7g|r7i|r8g|r8gd|x2g)\.(large|xlarge|(2|4|8|12|16|24|32|48)xlarge)$"

_ON = "`aurora.enabled`"
AURORA_GLOBAL_CLUSTER_ID = register_output(OutputSpec(
    "aurora_global_cluster_id", "Aurora global database identifier.", when=_ON))
AURORA_WRITER_ENDPOINT = register_output(OutputSpec(
    "aurora_writer_endpoint", "The global writer endpoint: follows the writer across a switchover or failover.", when=_ON))
AURORA_ENDPOINT = register_output(OutputSpec("aurora_endpoint", {
    "primary": "Cluster endpoint in {region} (the writer).",
    "secondary": "Cluster endpoint in {region} (answers writes only after a switchover or failover)."},
    scope="regional", when=_ON))
AURORA_READER_ENDPOINT = register_output(OutputSpec(
    "aurora_reader_endpoint", "Reader endpoint in {region}.", scope="regional", when=_ON))
AURORA_SECRET_ARN = register_output(OutputSpec(
    "aurora_secret_arn", "Master user secret (JSON username/password) in {region}; the function there may read it.",
    scope="regional", when=_ON))


@dataclass(frozen=True)
class AuroraConfig:
    """Aurora global database (optional module, off by default): a writer cluster in the primary region, a replica cluster in the secondary."""

    enabled: bool = setting(False, "Build an Aurora global database in the private subnets (needs networking.enabled): a primary cluster, a secondary cluster in regions.secondary, each region's key, backups, deletion protection and a final snapshot unless disposable, alarms on replication lag and CPU. The function gets the master secret's ARN and may read that secret.")
    engine: str = setting("aurora-postgresql", "Database engine.", choices=AURORA_ENGINES)
    engine_version: str = setting("16.6", "Engine version, one that Aurora global databases support: aurora-postgresql 14.3+, 15.2+, 16.1+, 17.4+; aurora-mysql 8.0.mysql_aurora.3.01.0+.", pattern=AURORA_VERSION_PATTERN)
    instance_class: str = setting("db.r6g.large", "Class of every instance: memory-optimized (Aurora global databases take no burstable db.t* class).", pattern=AURORA_INSTANCE_CLASS_PATTERN)
    instances_per_region: int = setting(2, "Instances per cluster: the primary's writer plus readers it fails over to within the region; the secondary's serve reads and take over after a global failover.", minimum=1, maximum=15)
    backup_retention_days: int = setting(14, "Days of automated backups (point-in-time restore window).", minimum=1, maximum=35)
    database_name: str = setting("tap", "Database created in the cluster.", pattern=r"^[a-zA-Z][a-zA-Z0-9_]{0,62}$")
    master_username: str = setting("tapadmin", "Master user. Its password is generated at apply time and kept only in Secrets Manager: never in the config, the plan or the state.", pattern=r"^[a-zA-Z][a-zA-Z0-9_]{0,15}$", not_pattern=r"^rds")
    master_password_version: int = setting(1, "Raise by one to rotate the master password: the next apply generates a new one and writes it to the secret, then to the cluster.", minimum=1, maximum=1_000_000)
    log_retention_days: int = setting(365, "Retention of the clusters' exported database logs.", choices=LOG_RETENTION_DAYS)
    replication_lag_alarm_ms: int = setting(1000, "Alarm when a secondary trails the primary (AuroraGlobalDBReplicationLag) by more than this many milliseconds.", minimum=100, maximum=3_600_000)
    cpu_alarm_percent: int = setting(80, "Alarm when a cluster's CPU utilisation exceeds this percent.", minimum=1, maximum=100)


def aurora_version_supported(engine: str, version: str) -> bool:
    """True when ``version`` of ``engine`` can be part of an Aurora global database."""
    if engine == "aurora-mysql":
        match = re.fullmatch(r"8\.0\.mysql_aurora\.(3)\.([0-9]{2})\.([0-9])", version)
    else:
        match = re.fullmatch(r"([0-9]{2})\.([0-9]{1,2})", version)
    if match is None:
        return False
    parts = tuple(int(x) for x in match.groups())
    return any(parts[0] == floor[0] and parts >= floor for floor in AURORA_GLOBAL_FLOORS[engine])


class AuroraModule(Module):
    """Builds the :class:`~tapinfra.constructs.aurora.GlobalDatabase` (``aurora``) in the
    networking module's private subnets, gives each region's function the secret there (its
    ARN and read access, through the secretsmanager endpoint), and watches both clusters."""

    name = "aurora"
    constructs = "tapinfra.constructs.aurora"

    def name_rules(self):
        from tapinfra.naming import NameRule

        return {
            # RDS identifiers (clusters, instances, subnet and parameter groups, snapshots): a letter first,
            # no double or trailing hyphen; the 63 of a cluster's identifier bounds them all.
            "rds": NameRule(63, r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", False, lowercase=True, single_hyphens=True),
            "secret": NameRule(512, r"^[\w/+=.@-]+$", False),
        }

    def enabled(self, config) -> bool:
        return config.aurora.enabled

    def interface_services(self, config) -> tuple[str, ...]:
        return ("secretsmanager",)

    def checks(self, c, ok) -> list[Problem]:
        """The database lives in the private subnets, on an engine version global databases support."""
        p: list[Problem] = []
        a = c.aurora
        if ok("networking.enabled") and not c.networking.enabled:
            p.append(Problem("aurora.enabled", a.enabled, "false unless networking.enabled true: the database lives in the private subnets"))
        if ok("aurora.engine", "aurora.engine_version") and not aurora_version_supported(a.engine, a.engine_version):
            floors = {"aurora-postgresql": "14.3+, 15.2+, 16.1+ or 17.4+ (e.g. 16.6)",
                      "aurora-mysql": "8.0.mysql_aurora.3.01.0 or later (e.g. 8.0.mysql_aurora.3.08.0)"}
            p.append(Problem("aurora.engine_version", a.engine_version,
                             f"a version of {a.engine} that Aurora global databases support: {floors[a.engine]}"))
        return p

    def build_global(self, ctx: StackContext):
        from tapinfra.constructs.aurora import GlobalDatabase, GlobalDatabaseProps

        primary, secondary = ctx.regions
        return GlobalDatabase(ctx.stack, "aurora", GlobalDatabaseProps(
            primary=primary, secondary=secondary, networks=ctx.parts["networking"], settings=ctx.config.aurora,
            protection=ctx.protection))

    def function_parts(self, ctx: StackContext, region) -> FunctionParts:
        from tapinfra.runtime import Env

        secret = ctx.parts[self.name].result.in_region(region).secret
        return FunctionParts(statements=(secret.grant_read("ReadDatabaseSecret"),),
                             environment={Env.DATABASE_SECRET_ARN: secret.arn})

    def build_links(self, ctx: StackContext) -> None:
        database = ctx.parts[self.name]
        for service in ctx.services:
            service.monitor.watch(database.alarm_specs(service.region), database.dashboard_rows(service.region))

    def outputs(self, ctx: StackContext) -> list[Output]:
        db = ctx.parts[self.name].result
        out = [AURORA_GLOBAL_CLUSTER_ID.output(db.global_cluster_id), AURORA_WRITER_ENDPOINT.output(db.writer_endpoint)]
        for regional in db.regions:
            region = regional.region
            out += [AURORA_ENDPOINT.output(regional.endpoint, region),
                    AURORA_READER_ENDPOINT.output(regional.reader_endpoint, region),
                    AURORA_SECRET_ARN.output(regional.secret.arn, region)]
        return out

    def diagram(self, d, arch, region) -> None:
        count = region.count("aws_rds_cluster")
        if count:
            d.node(f"{region.alias}_rds_cluster", f"Aurora cluster ({count})", region.alias)

    def cost(self, arch, add, hours: float) -> None:
        for alias, region in arch.regions.items():
            for instance in region.of("aws_rds_cluster_instance"):
                klass = instance.get("instance_class", "")
                if klass == "db.serverless":
                    cluster = arch.resolve(instance.get("cluster_identifier"))
                    floor = ((cluster.get("serverlessv2_scaling_configuration") or {}) if cluster is not None else {}).get("min_capacity", 0)
                    add(alias, region.name, "aurora_serverless_v2_acu_hour",
                        f"Aurora Serverless v2 instance: {floor} ACU minimum × {hours:g} h", floor * hours)
                else:
                    add(alias, region.name, "rds_instance_hour", f"Aurora instance {klass} × {hours:g} h", hours, variant=klass)
