"""AWS limits a configuration can pass the field rules and still break at deploy time.

Each check runs where the config is validated (``tapinfra.config._cross_checks`` calls
:func:`deploy_limit_problems`) and reports the field, the value, what is allowed and the
limit's source. Names are not re-typed here: :func:`stack_names` issues every name the stack
builds through the same pure-Python :class:`~tapinfra.naming.Namer` the constructs use, so a
rule added to ``tapinfra/naming.py`` applies to every name at once (a test compares this list
with the names a synthesized stack issued).
"""

from __future__ import annotations

import json
import re
import typing
from dataclasses import dataclass
from typing import Optional

from tapinfra.config import REGION_NAME_MAX, MonitoringConfig, TapConfig, canary_interval_seconds
from tapinfra.errors import Problem
from tapinfra.naming import NameRegistry, Namer

Ok = typing.Callable[..., bool]

# ---------------------------------------------------------------- names

# Where Route 53 publishes health-check metrics and takes its query-log resources.
ROUTE53_HOME_REGION = "us-east-1"
# The alarm kinds every region gets from its API, function and table (their alarm_specs; kinds declared in tapinfra/constructs/monitoring.py).
REGION_ALARMS = ("api-5xx-rate", "api-p99-latency", "lambda-error-rate", "lambda-throttles", "lambda-spillover",
                 "lambda-concurrency-headroom", "table-throttles", "table-system-errors", "table-replication-latency")

# SSM Parameter Store: "A parameter name can't be prefixed with "aws" or "ssm" (case-insensitive)"
# (Systems Manager API reference, PutParameter, Name). Path segments count: /aws... is refused too.
SSM_RESERVED = re.compile(r"^/?(aws|ssm)", re.IGNORECASE)
SSM_SOURCE = "SSM API reference, PutParameter: a parameter name can't be prefixed with aws or ssm, case-insensitive"


@dataclass(frozen=True)
class BuiltName:
    kind: str      # a tapinfra.naming.RULES key, or "ssm_parameter" for the drain switch's path
    name: str
    region: str


@dataclass(frozen=True)
class NameFailure:
    kind: str
    region: str
    resource: str
    reason: str


def _drain_parameter(config: TapConfig) -> str:
    """The drain switch's parameter (tapinfra/constructs/function.py: drain_switch)."""
    from tapinfra.function_environment import drain_parameter_name

    return drain_parameter_name(config.app, config.environment)


def stack_names(config: TapConfig) -> tuple[list[BuiltName], list[NameFailure]]:
    """Every name the stack built from ``config`` issues through its namer, and the ones the
    namer refuses (a name AWS reserves, one that breaks its pattern, a duplicate)."""
    registry = NameRegistry()
    built: list[BuiltName] = []
    failed: list[NameFailure] = []
    f, a = config.features, config.aurora
    primary, secondary = config.region_names
    namers = {region: Namer(config.app, config.environment, region, registry) for region in (primary, secondary)}

    def issue(region: str, resource: str, kind: str) -> None:
        namer = namers.get(region) or namers.setdefault(region, Namer(config.app, config.environment, region, registry))
        try:
            built.append(BuiltName(kind, namer.name(resource, kind), region))
        except ValueError as exc:  # ReservedName, DuplicateName, a pattern the name breaks
            failed.append(NameFailure(kind, region, resource, str(exc)))

    for region in (primary, secondary):
        issue(region, "key", "kms_alias")
    if config.networking.enabled:
        for region in (primary, secondary):
            for resource, kind in (("api-function", "security_group"), ("endpoints", "security_group"),
                                   ("vpc-flow-logs", "log_group"), ("vpc-flow-logs", "iam_role")):
                issue(region, resource, kind)
    issue(primary, "items", "dynamodb")
    if a.enabled:
        issue(primary, "aurora-global", "rds")
        issue(primary, "rds-monitoring", "iam_role")
        issue(primary, "aurora-master", "secret")
        for region in (primary, secondary):
            for resource in ("aurora", "aurora-subnets"):
                issue(region, resource, "rds")
            issue(region, "aurora", "security_group")
            issue(region, "aurora-params", "rds")
            if not config.disposable:
                issue(region, "aurora-final", "rds")
            for i in range(1, a.instances_per_region + 1):
                issue(region, f"aurora-{i}", "rds")
    for region in (primary, secondary):
        for resource, kind in (("access-logs", "s3"), ("data", "s3"), ("events", "event_bus"), ("events", "event_archive")):
            issue(region, resource, kind)
        for tenant in config.api.tenants:
            issue(region, f"key-{tenant}", "api_key")
        for resource, kind in (("apigw-logs", "iam_role"), ("api", "lambda"), ("api-dlq", "sqs"), ("api", "iam_role"),
                               ("api", "api"), ("api-access", "log_group"), ("tenants", "usage_plan")):
            issue(region, resource, kind)
        if f.waf:
            issue(region, "api", "waf")
            issue(region, "api", "waf_log_group")
        if f.canaries:
            for resource, kind in (("health", "canary"), ("canary", "s3"), ("canary", "iam_role")):
                issue(region, resource, kind)
        issue(region, "alarms", "sns")
        for key in REGION_ALARMS + (("canary-success",) if f.canaries and canary_alarm_period_seconds(config.monitoring) is not None else ()) + (("waf-blocked-spike",) if f.waf else ()):
            issue(region, key, "alarm")
        if a.enabled:
            issue(region, "aurora-cpu", "alarm")
            issue(region, "aurora-replication-lag", "alarm")
        if config.analytics.enabled:
            for resource, kind in (("athena-results", "s3"), ("analytics", "athena_workgroup"), ("analytics", "glue_database")):
                issue(region, resource, kind)
        if config.ingestion.enabled:
            for resource, kind in (("ingest", "s3"), ("ingest", "lambda"), ("ingest-dlq", "sqs"), ("ingest", "iam_role"),
                                   ("ingest-dead-letters", "alarm")):
                issue(region, resource, kind)
    issue(primary, "replication", "iam_role")
    for key in ("s3-replication-latency", "s3-replication-failed"):
        issue(primary, key, "alarm")
    if f.event_forwarding:
        for region in (primary, secondary):
            issue(region, "events-forward", "iam_role")
            issue(region, "forward-to-peer", "event_rule")
            issue(region, "forward-dlq", "sqs")
            for key in ("event-dead-letters", "event-dead-letter-failures"):
                issue(region, key, "alarm")
    if config.table.write_mode == "any-region":
        for region in (primary, secondary):
            issue(region, "write-conflicts", "alarm")
    if config.release.enabled:
        from tapinfra.rollout import deployment_config_name  # noqa: PLC0415 - stdlib-only, cdktf-free
        r = config.release
        for region in (primary, secondary):
            issue(region, "api", "codedeploy")
            issue(region, f"api-{config.function.alias_name}", "codedeploy")
            issue(region, "api-release", "iam_role")
            for key in ("release-error-rate", "release-p99-duration"):
                issue(region, key, "alarm")
            if deployment_config_name(r) is None:  # a custom canary or linear configuration
                issue(region, f"api-{r.strategy}-{r.percent}pct-{r.interval_minutes}min", "codedeploy")
    if config.chaos.enabled:
        for region in (primary, secondary):
            issue(region, "chaos", "log_group")
            issue(region, "chaos-fis", "iam_role")
    # Route 53 health checks, with or without a custom domain; their alarms where Route 53 publishes
    if ROUTE53_HOME_REGION not in (primary, secondary):  # the helper region: its key and alarm topic
        issue(ROUTE53_HOME_REGION, "key", "kms_alias")
        issue(ROUTE53_HOME_REGION, "alarms", "sns")
    for role, region in (("primary", primary), ("secondary", secondary)):
        issue(region, "api", "health_check")
        issue(ROUTE53_HOME_REGION, f"{role}-health-check", "alarm")
    if f.dns:
        issue(ROUTE53_HOME_REGION, "route53-query-logs", "log_group")
    if config.audit.enabled:
        for resource, kind in (("audit", "cloudtrail"), ("audit-trail", "s3"), ("audit-trail-logs", "iam_role"),
                               ("audit-trail-changes", "metric_filter"), ("audit-trail-changes", "alarm")):
            issue(primary, resource, kind)
    issue(primary, "overview", "dashboard")
    if f.drain_switch:
        for region in (primary, secondary):
            built.append(BuiltName("ssm_parameter", _drain_parameter(config), region))
    return built, failed


def _name_problems(c: TapConfig, ok: Ok) -> list[Problem]:
    if not ok("app", "environment", "regions", "features", "api.tenants", "table.write_mode", "networking.enabled", "aurora.enabled",
              "aurora.instances_per_region", "analytics.enabled", "ingestion.enabled", "audit.enabled", "disposable"):
        return []
    built, failed = stack_names(c)
    p: list[Problem] = []
    reasons = sorted({failure.reason for failure in failed})
    if reasons:
        p.append(Problem("app", c.app, "an app and environment from which every derived name is one AWS accepts: " + "; ".join(reasons[:2])))
    ssm = [b.name for b in built if b.kind == "ssm_parameter" and SSM_RESERVED.search(b.name)]
    if ssm:
        p.append(Problem("app", c.app, f"an app name that does not start with aws or ssm while features.drain_switch is on: "
                                       f"the switch is the SSM parameter {ssm[0]}, and SSM reserves those prefixes ({SSM_SOURCE})"))
    return p


# ---------------------------------------------------------------- IAM policy sizes

# IAM and AWS STS quotas (IAM User Guide, "IAM and AWS STS quotas", IAM object quotas): the inline
# policies of one role total at most 10,240 characters, a managed policy 6,144, a role trust
# policy 2,048 by default; "IAM doesn't count white space when calculating the size of a policy".
ROLE_INLINE_POLICY_CHARS = 10_240
MANAGED_POLICY_CHARS = 6_144
ROLE_TRUST_POLICY_CHARS = 2_048
# KMS quotas (KMS Developer Guide, "Quotas", key policy document size): 32 KB.
KMS_KEY_POLICY_BYTES = 32_768
# S3 bucket policies are limited to 20 KB (S3 User Guide, "Bucket policies for Amazon S3").
S3_BUCKET_POLICY_BYTES = 20_480
# VPC quotas (Amazon VPC User Guide, "AWS PrivateLink quotas"): an endpoint policy is at most
# 20,480 characters, white space included.
VPC_ENDPOINT_POLICY_CHARS = 20_480

# Bounds for the parts of an ARN a config does not fix: the longest partition name
# ("aws-us-gov"), an account id, a region.
PARTITION_MAX = len("aws-us-gov")
ACCOUNT_ID_LENGTH = 12
# What the ingestion role holds besides the tenant prefixes (that statement's own Sid and actions,
# the table, key, own log group, dead-letter queue, X-Ray statements), not counting network
# statements: measured at 985 on a synthesized stack with 12-character app, 10-character
# environment and every reference at its longest; tests check the bound holds and is close.
INGEST_ROLE_OTHER_CHARS = 1_250
# With networking: the three ENI statements (measured 675 at the same bounds), plus one subnet ARN per zone.
INGEST_ROLE_NETWORK_CHARS = 800
SUBNET_ARN_CHARS = len(f'"arn:{"p" * PARTITION_MAX}:ec2:{"r" * REGION_NAME_MAX}:{"0" * ACCOUNT_ID_LENGTH}:subnet/subnet-{"0" * 17}",')


def policy_chars(document: typing.Any) -> int:
    """A policy's size as IAM counts it: its JSON without white space (outside strings too)."""
    return len(re.sub(r"\s", "", json.dumps(document, separators=(",", ":"))))


def ingest_bucket_arn(config: TapConfig, region: str) -> str:
    """The ingest bucket's ARN in ``region`` at its longest: the longest partition, the namer's
    name, ``-<account id>`` (tapinfra/constructs/bucket.py: SecureBucket)."""
    name = Namer(config.app, config.environment, region).name("ingest", "s3")
    return f"arn:{'p' * PARTITION_MAX}:s3:::{name}-{'0' * ACCOUNT_ID_LENGTH}"


def ingest_role_policy_chars(config: TapConfig) -> int:
    """An upper bound on the ingestion processor's inline policy in either region, in IAM's
    characters: one resource per tenant prefix (``<bucket arn>/<tenant>/*``,
    tapinfra/constructs/ingestion.py) plus the bounded rest of its statements."""
    tenants = max(
        policy_chars([f"{ingest_bucket_arn(config, region)}/{tenant}/*" for tenant in config.api.tenants])
        for region in config.region_names
    )
    network = INGEST_ROLE_NETWORK_CHARS + SUBNET_ARN_CHARS * config.networking.az_count if config.networking.enabled else 0
    return tenants + INGEST_ROLE_OTHER_CHARS + network


def _policy_problems(c: TapConfig, ok: Ok) -> list[Problem]:
    if not (ok("ingestion.enabled", "app", "environment", "regions", "api.tenants", "networking.enabled", "networking.az_count")
            and c.ingestion.enabled):
        return []
    size = ingest_role_policy_chars(c)
    if size <= ROLE_INLINE_POLICY_CHARS:
        return []
    return [Problem("api.tenants", c.api.tenants,
                    f"fewer or shorter tenants while ingestion.enabled is on: the ingestion role's policy names each "
                    f"tenant's prefix of the ingest bucket and would take up to {size} characters; IAM allows "
                    f"{ROLE_INLINE_POLICY_CHARS} per role (IAM User Guide, IAM and AWS STS quotas: role policy size)")]


# ---------------------------------------------------------------- the S3 state backend

# Terraform's S3 backend refuses a key that starts or ends with "/" or contains "//"
# (hashicorp/terraform internal/backend/remote-state/s3: validateStringS3Path,
# validateStringDoesNotContain("//")): S3 strips a leading slash, and a trailing one names a folder.
BACKEND_KEY_SOURCE = "Terraform S3 backend: key must not start or end with / nor contain //"
# SSE-KMS takes a key in the bucket's own region (S3 User Guide, "Using server-side encryption with
# AWS KMS keys": the KMS key must be in the same Region as the bucket); every region tapinfra
# accepts is in the aws partition.
BACKEND_KMS_SOURCE = "S3 User Guide, SSE-KMS: the KMS key must be in the bucket's region"
_KMS_ARN = re.compile(r"^arn:(?P<partition>[a-z-]+):kms:(?P<region>[a-z0-9-]+):")


def backend_key_problem(key: str) -> Optional[str]:
    """Why Terraform's S3 backend refuses ``key``, or None."""
    if key.startswith("/"):
        return "starts with /"
    if key.endswith("/"):
        return "ends with /"
    if "//" in key:
        return "has an empty segment (//)"
    return None


def _backend_problems(c: TapConfig, ok: Ok) -> list[Problem]:
    b, p = c.backend, []
    if not (ok("backend.type") and b.type == "s3"):
        return p
    if ok("backend.key") and (why := backend_key_problem(b.key)) is not None:
        p.append(Problem("backend.key", b.key, f"an object key that does not start or end with / and has no empty "
                                               f"segment (this one {why}; {BACKEND_KEY_SOURCE})"))
    if ok("backend.kms_key_id", "backend.region", "regions.primary") and b.kms_key_id:
        match = _KMS_ARN.match(b.kms_key_id)
        bucket_region = b.region or c.regions.primary
        if match and (match["partition"] != "aws" or match["region"] != bucket_region):
            p.append(Problem("backend.kms_key_id", b.kms_key_id,
                             f"a KMS key ARN in the state bucket's region and partition (arn:aws:kms:{bucket_region}:...; "
                             f"backend.region, else regions.primary; {BACKEND_KMS_SOURCE})"))
    return p


# ---------------------------------------------------------------- Aurora names

# CreateDBCluster refuses a MasterUsername or DatabaseName that is "a reserved word for the chosen
# database engine" (RDS API reference, CreateDBCluster). The engines' reserved key words:
# PostgreSQL 16 documentation, Appendix C "SQL Key Words", the words marked reserved in PostgreSQL.
POSTGRESQL_RESERVED = frozenset("""
all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate
collation column concurrently constraint create cross current_catalog current_date current_role
current_schema current_time current_timestamp current_user default deferrable desc distinct do else end
except false fetch for foreign freeze from full grant group having ilike in initially inner intersect into
is isnull join lateral leading left like limit localtime localtimestamp natural not notnull null offset on
only or order outer overlaps placing primary references returning right select session_user similar some
symmetric system_user table tablesample then to trailing true union unique user using variadic verbose
when where window with
""".split())
# MySQL 8.0 Reference Manual, 11.3 "Keywords and Reserved Words", the words marked (R).
MYSQL_RESERVED = frozenset("""
accessible add all alter analyze and as asc asensitive before between bigint binary blob both by call
cascade case change char character check collate column condition constraint continue convert create
cross cube cume_dist current_date current_time current_timestamp current_user cursor database databases
day_hour day_microsecond day_minute day_second dec decimal declare default delayed delete dense_rank desc
describe deterministic distinct distinctrow div double drop dual each else elseif empty enclosed escaped
except exists exit explain false fetch first_value float float4 float8 for force foreign from fulltext
function generated get grant group grouping groups having high_priority hour_microsecond hour_minute
hour_second if ignore in index infile inner inout insensitive insert int int1 int2 int3 int4 int8 integer
intersect interval into io_after_gtids io_before_gtids is iterate join json_table key keys kill lag
last_value lateral lead leading leave left like limit linear lines load localtime localtimestamp lock long
longblob longtext loop low_priority master_bind master_ssl_verify_server_cert match maxvalue mediumblob
mediumint mediumtext middleint minute_microsecond minute_second mod modifies natural not no_write_to_binlog
nth_value ntile null numeric of on optimize optimizer_costs option optionally or order out outer outfile
over partition percent_rank precision primary procedure purge range rank read reads read_write real
recursive references regexp release rename repeat replace require resignal restrict return revoke right
rlike row rows row_number schema schemas second_microsecond select sensitive separator set show signal
smallint spatial specific sql sqlexception sqlstate sqlwarning sql_big_result sql_calc_found_rows
sql_small_result ssl starting stored straight_join system table terminated then tinyblob tinyint tinytext
to trailing trigger true undo union unique unlock unsigned update usage use using utc_date utc_time
utc_timestamp values varbinary varchar varcharacter varying virtual when where while window with write
xor year_month zerofill
""".split())
ENGINE_RESERVED = {"aurora-postgresql": POSTGRESQL_RESERVED, "aurora-mysql": MYSQL_RESERVED}
# Beyond the key words. RDS keeps rdsadmin on every engine, and Aurora PostgreSQL refuses admin as
# the master user (cfn-lint #4425 checked both against CloudFormation; the MasterUsername "admin ...
# reserved word used by the engine" error is aws-cdk #5076/#10597). PostgreSQL refuses the role names
# public and none and any beginning pg_ (PostgreSQL docs, CREATE ROLE and "Database Roles").
MASTER_USER_RESERVED = {
    "aurora-postgresql": (frozenset({"rdsadmin", "admin", "public", "none"}), ("pg_",)),
    "aurora-mysql": (frozenset({"rdsadmin"}), ()),
}
# Databases every cluster has already (the PostgreSQL templates, RDS's rdsadmin; MySQL's system
# schemas) and admin, which Aurora PostgreSQL refuses as a DatabaseName (awslabs/aws-saas-boost #180).
DATABASE_RESERVED = {
    "aurora-postgresql": (frozenset({"rdsadmin", "admin", "template0", "template1"}), ("pg_",)),
    "aurora-mysql": (frozenset({"rdsadmin", "mysql", "information_schema", "performance_schema", "sys"}), ()),
}
AURORA_NAMES_SOURCE = "RDS API reference, CreateDBCluster: can't be a word the engine reserves"


def aurora_name_reserved(engine: str, name: str, extra: dict[str, tuple[frozenset[str], tuple[str, ...]]]) -> bool:
    """True when ``engine`` (or RDS) refuses ``name``; identifiers fold case, so compare lower."""
    words, prefixes = extra[engine]
    folded = name.lower()
    return folded in ENGINE_RESERVED[engine] or folded in words or folded.startswith(prefixes)


def _aurora_problems(c: TapConfig, ok: Ok) -> list[Problem]:
    a, p = c.aurora, []
    if not (ok("aurora.enabled", "aurora.engine") and a.enabled):
        return p
    for path, value, extra in (("aurora.master_username", a.master_username, MASTER_USER_RESERVED),
                               ("aurora.database_name", a.database_name, DATABASE_RESERVED)):
        if ok(path) and aurora_name_reserved(a.engine, value, extra):
            words, prefixes = extra[a.engine]
            p.append(Problem(path, value, f"a name {a.engine} does not reserve: not one of its SQL reserved words, "
                                          f"{', '.join(sorted(words))}" + (f" or anything starting {', '.join(prefixes)}" if prefixes else "")
                                          + f" ({AURORA_NAMES_SOURCE})"))
    return p


# ---------------------------------------------------------------- alarm periods

# How often each alarmed metric is published, in seconds (None: only when an event happens). An
# alarm whose period is shorter than this sees empty periods between data points, so one that
# treats missing data as breaching fires between them. Sources: the CloudWatch metrics pages of
# API Gateway, Lambda, DynamoDB, WAF, SQS, RDS ("sent every minute"), Route 53 health checks
# (HealthCheckStatus every minute), S3 replication metrics (per minute once enabled) and
# EventBridge ("EventBridge sends metrics to Amazon CloudWatch every minute": its monitoring
# page; InvocationsFailedToBeSentToDlq among them). S3's daily storage metrics
# (BucketSizeBytes, NumberOfObjects) are not alarmed.
METRIC_CADENCE_SECONDS: dict[str, Optional[int]] = {
    "AWS/ApiGateway": 60, "AWS/Lambda": 60, "AWS/DynamoDB": 60, "AWS/WAFV2": 60, "AWS/SQS": 60,
    "AWS/RDS": 60, "AWS/Route53": 60, "AWS/S3": 60, "AWS/Events": 60,
}
CANARY_NAMESPACE = "CloudWatchSynthetics"  # SuccessPercent: one data point per canary run


def metric_cadence_seconds(namespace: str) -> Optional[int]:
    """Seconds between data points of an alarmed metric; None for our own namespaces, which only
    CloudWatch Logs metric filters write (a data point only when a log event matches). An AWS
    namespace missing from the table raises KeyError: its cadence must be looked up first."""
    if not namespace.startswith("AWS/"):
        return None
    return METRIC_CADENCE_SECONDS[namespace]


def canary_alarm_period_seconds(monitoring: MonitoringConfig) -> Optional[int]:
    """The period the canary's SuccessPercent alarm needs, or None when it must not exist.

    The canary publishes once per run, so the period is at least the schedule's interval (a
    multiple of 60, so CloudWatch takes it): with missing data breaching, a shorter period
    alarms between runs. A run-once schedule (``rate(0 minute)``) publishes one data point
    ever; its alarm would stay in ALARM from then on, so it gets none. Derived rather than
    refused: every schedule Synthetics accepts stays valid with any monitoring.alarm_period_seconds.
    """
    interval = canary_interval_seconds(monitoring.canary_schedule)
    if interval is None:
        return None
    return max(monitoring.alarm_period_seconds, interval)


def _alarm_problems(c: TapConfig, ok: Ok) -> list[Problem]:
    """Every alarm except the canary's (derived above) uses monitoring.alarm_period_seconds."""
    if not ok("monitoring.alarm_period_seconds"):
        return []
    period = c.monitoring.alarm_period_seconds
    slow = {ns: s for ns, s in METRIC_CADENCE_SECONDS.items() if s is not None and s > period}
    if not slow:
        return []
    return [Problem("monitoring.alarm_period_seconds", period,
                    f"at least {max(slow.values())} s, the interval {', '.join(sorted(slow))} publish at "
                    "(a shorter period sees empty periods between data points)")]


# ---------------------------------------------------------------- entry point

def deploy_limit_problems(c: TapConfig, ok: Ok) -> list[Problem]:
    """Every deploy-time limit above, for one config (``ok`` skips rules on fields already invalid)."""
    return [*_name_problems(c, ok), *_policy_problems(c, ok), *_backend_problems(c, ok),
            *_aurora_problems(c, ok), *_alarm_problems(c, ok)]


__all__ = [
    "BuiltName", "stack_names", "policy_chars", "ingest_role_policy_chars", "backend_key_problem",
    "aurora_name_reserved", "canary_alarm_period_seconds", "deploy_limit_problems",
    "ROLE_INLINE_POLICY_CHARS", "KMS_KEY_POLICY_BYTES", "S3_BUCKET_POLICY_BYTES", "VPC_ENDPOINT_POLICY_CHARS",
]
