"""The typed, validated, frozen configuration of a tapinfra deployment.

Every default lives in this module. A field's metadata carries its documentation and its
rule (bounds, allowed values, pattern); the loader, the validator and the JSON Schema are
all derived from those declarations, so they cannot drift apart.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import re
import typing
from pathlib import Path
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass, replace
from typing import Any, Mapping, Optional

from tapinfra.errors import ConfigError, Problem
from tapinfra.naming import S3_RESERVED_PREFIX, S3_RESERVED_SUFFIX
from tapinfra.runtime import SINGLE_WRITER, WRITE_MODES
from tapinfra.strict_json import deep_value_problem, join, read_json_file

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)

# Commercial AWS regions (aws partition) that the hashicorp/aws 5.100 provider knows.
AWS_REGIONS = (
    "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1",
    "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
    "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1",
    "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2",
    "us-west-1", "us-west-2",
)

# Regions Route 53 health checkers run from (HealthCheckRegion enum).
HEALTH_CHECKER_REGIONS = (
    "us-east-1", "us-west-1", "us-west-2", "eu-west-1",
    "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1",
)

LAMBDA_PYTHON_RUNTIMES = ("python3.11", "python3.12", "python3.13")
ROUTING_POLICIES = ("latency", "failover", "weighted")
S3_REPLICA_STORAGE_CLASSES = (
    "STANDARD", "STANDARD_IA", "INTELLIGENT_TIERING", "ONEZONE_IA", "GLACIER_IR",
)
API_CACHE_SIZES_GB = ("0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237")
ACCOUNT_LOGGING_ROLE_MODES = ("create", "existing")
IAM_ROLE_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$"

# A TCP port, 1..65535, as a regex (so the JSON Schema says the same as the loader).
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
# Synthetics rate() expressions: rate(1 minute) .. rate(60 minutes) or rate(1 hour); rate(0 minute)
# and rate(0 hour) run once. Synthetics refuses other units, hours beyond 1, and plural 0/1.
CANARY_SCHEDULE_PATTERN = r"^rate\((0 minute|0 hour|1 minute|([2-9]|[1-5][0-9]|60) minutes|1 hour)\)$"
# Names S3 reserves for other features (general purpose bucket naming rules).
_S3_RESERVED = S3_RESERVED_PREFIX + "|" + S3_RESERVED_SUFFIX + r"|\.\.|^[0-9]+(\.[0-9]+){3}$"
# WAF body inspection sizes a regional web ACL can set for API Gateway (AssociationConfig), in KB.
WAF_BODY_INSPECTION_KB = (16, 32, 48, 64)
# The body limit keeps every item storable: JSON text never takes more than twice its length
# as a DynamoDB item (one-digit numbers and brackets: 2 bytes per character), and the
# item's own attributes take well under 16 KB; 2 x 192 KiB + 16 KB < 400 KB.
MAX_BODY_BYTES_LIMIT = 192 * 1024
# Lambda keeps this much account concurrency unreserved in each region.
LAMBDA_UNRESERVED_MINIMUM = 100

# Field metadata keys. ``doc`` is required on every field.
_RULE_KEYS = ("minimum", "maximum", "choices", "pattern", "not_pattern", "max_length", "item_choices", "item_pattern", "min_items", "max_items")


def setting(default: Any, doc: str, **rules: Any) -> Any:
    """A config field: its default, what it means, and what values are allowed."""
    unknown = set(rules) - set(_RULE_KEYS)
    if unknown:
        raise TypeError(f"unknown rule(s) {sorted(unknown)}")
    meta = {"doc": doc, **rules}
    if isinstance(default, (list, dict, set)):
        raise TypeError("mutable defaults are not allowed; use a tuple")
    if is_dataclass(default):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)


_NAME_RULE = dict(pattern=r"^[a-z][a-z0-9]*$")


@dataclass(frozen=True)
class RegionsConfig:
    """The two regions the service runs in."""

    primary: str = setting("us-east-1", "Primary region: holds the global table's source, the replication source bucket, and the failover primary.", choices=AWS_REGIONS)
    secondary: str = setting("us-west-2", "Secondary region: replica table, replica bucket, failover secondary. Must differ from primary.", choices=AWS_REGIONS)


@dataclass(frozen=True)
class ApiConfig:
    """The regional REST API in front of the function."""

    stage_name: str = setting("v1", "Stage name; part of every invoke URL and health-check path.", pattern=r"^[a-zA-Z0-9_]+$", max_length=64)
    throttle_rate_limit: int = setting(1000, "Stage-wide steady-state requests per second (method settings */*).", minimum=1, maximum=10000)
    throttle_burst_limit: int = setting(2000, "Stage-wide burst (method settings */*).", minimum=1, maximum=5000)
    usage_plan_rate_limit: int = setting(1000, "Per-API-key requests per second in the usage plan.", minimum=1, maximum=10000)
    usage_plan_burst_limit: int = setting(2000, "Per-API-key burst in the usage plan.", minimum=1, maximum=5000)
    quota_limit: Optional[int] = setting(None, "Requests per quota period per API key; null means no quota.", minimum=1, maximum=1_000_000_000)
    quota_period: str = setting("DAY", "Quota period when quota_limit is set.", choices=("DAY", "WEEK", "MONTH"))
    cors_allowed_origins: tuple[str, ...] = setting(("*",), "Origins allowed by CORS (preflight and responses). '*' or https:// origins.", item_pattern=r"^(\*|https://[a-z0-9.-]{1,253}(:" + _PORT + r")?)$", min_items=1, max_items=20)
    cache_enabled: bool = setting(False, "Stage cache (encrypted when on).")
    cache_size_gb: str = setting("0.5", "Stage cache cluster size in GB.", choices=API_CACHE_SIZES_GB)
    cache_ttl_seconds: int = setting(300, "Cache entry lifetime.", minimum=0, maximum=3600)
    tenants: tuple[str, ...] = setting(("demo",), "Tenants that get an API key (same key value in both regions).", item_pattern=r"^[a-z][a-z0-9-]{0,31}$", min_items=1, max_items=100)
    log_retention_days: int = setting(365, "Retention of the stage's access-log group and the WAF log group.", choices=LOG_RETENTION_DAYS)
    waf_rate_limit: int = setting(2000, "WAF: requests per client IP per 5 minutes before it is blocked.", minimum=100, maximum=2_000_000_000)
    max_body_bytes: int = setting(16384, "Largest request body the function accepts (413 above). At most 192 KiB, so any accepted body fits one DynamoDB item; with features.waf at most api.waf_body_inspection_kb KB.", minimum=1024, maximum=MAX_BODY_BYTES_LIMIT)
    waf_body_inspection_kb: int = setting(16, "WAF: how much of a request body the web ACL inspects, in KB (API Gateway's default is 16; 32, 48 and 64 bill extra). api.max_body_bytes must fit in it when features.waf is on.", choices=WAF_BODY_INSPECTION_KB)
    account_logging_role: str = setting("create", "API Gateway's CloudWatch role is one setting per account and region, shared by every API there. create: this environment owns it (creates the role and sets it; one environment per account and region should). existing: another environment or the account's baseline owns it; this one only checks that api.account_logging_role_arn exists before its stages log.", choices=ACCOUNT_LOGGING_ROLE_MODES)
    account_logging_role_arn: Optional[str] = setting(None, "existing: the role the account's API Gateway setting names (the owner's); required then, null otherwise.", pattern=IAM_ROLE_ARN_PATTERN)
    reset_account_logging_on_destroy: bool = setting(True, "create: clear the account's setting when this environment is destroyed, since the role it names goes with it (false leaves the setting naming a deleted role). Unless disposable, the role and the setting are protected from destroy anyway: every API in the account and region logs through them. existing never changes the setting, so this is not read then.")


@dataclass(frozen=True)
class FunctionConfig:
    """The Lambda function that serves the API, one per region."""

    runtime: str = setting("python3.12", "Lambda runtime.", choices=LAMBDA_PYTHON_RUNTIMES)
    memory_mb: int = setting(512, "Memory in MB.", minimum=128, maximum=10240)
    timeout_seconds: int = setting(15, "Timeout; at most 29 s, API Gateway's integration limit. The code's AWS calls retry for up to ~14 s.", minimum=1, maximum=29)
    alias_name: str = setting("live", "Alias API Gateway invokes (never $LATEST).", pattern=r"^[a-zA-Z][a-zA-Z0-9_-]{0,31}$")
    provisioned_concurrency: int = setting(2, "Provisioned concurrent executions on the alias.", minimum=1, maximum=1000)
    reserved_concurrency: int = setting(100, "Concurrency reserved for (and capping) the function; at least provisioned_concurrency, and at most function.account_concurrency_limit - 100.", minimum=1, maximum=10000)
    account_concurrency_limit: int = setting(1000, "The account's Lambda concurrent-executions quota in each of the two regions (AWS's default is 1000; new accounts may have less). Lambda keeps 100 of it unreserved, so reserved_concurrency may be at most this - 100.", minimum=LAMBDA_UNRESERVED_MINIMUM + 1, maximum=1_000_000)
    log_retention_days: int = setting(365, "Retention of /aws/lambda/<name>.", choices=LOG_RETENTION_DAYS)
    dlq_retention_days: int = setting(14, "How long failed asynchronous invocations wait in the dead-letter queue.", minimum=1, maximum=14)
    powertools_layer_version: int = setting(27, "Version number of the AWS-managed layer AWSLambdaPowertoolsPythonV3-<runtime>-x86_64 (account 017000801446) matching powertools_version (check: aws lambda get-layer-version-by-arn ... --query Description).", minimum=1, maximum=1000)
    powertools_version: str = setting("3.23.0", "Powertools for AWS Lambda (Python) version the layer carries; tests install the same.", pattern=r"^3\.[0-9]+\.[0-9]+$")


@dataclass(frozen=True)
class TableConfig:
    """The DynamoDB global table that holds the items."""

    billing_mode: str = setting("PAY_PER_REQUEST", "On-demand or provisioned capacity.", choices=("PAY_PER_REQUEST", "PROVISIONED"))
    read_capacity: int = setting(5, "Provisioned mode: minimum read units (autoscaled up to max_read_capacity).", minimum=5, maximum=40000)
    write_capacity: int = setting(5, "Provisioned mode: minimum write units (autoscaled up to max_write_capacity).", minimum=5, maximum=40000)
    max_read_capacity: int = setting(100, "Provisioned mode: autoscaling ceiling for reads.", minimum=5, maximum=40000)
    max_write_capacity: int = setting(100, "Provisioned mode: autoscaling ceiling for writes.", minimum=5, maximum=40000)
    autoscaling_target_percent: int = setting(70, "Provisioned mode: target utilisation.", minimum=20, maximum=90)
    item_retention_days: int = setting(365, "GDPR retention: every item expires this many days after its last write.", minimum=1, maximum=3650)
    write_mode: str = setting(SINGLE_WRITER, "How writes stay correct while both regions serve. single-writer: every write (POST, PUT, DELETE and their version and If-Match checks) runs on one region's replica, the writer: the primary, or the secondary while the primary's drain switch is on; the other region's function sends its writes there, so a stale version is refused whichever region the racing writes enter. any-region: each region writes its own replica and concurrent writes to one item are resolved last-writer-wins by replication: one is lost, counted (metric WriteConflicts, alarm write-conflicts).", choices=WRITE_MODES)


@dataclass(frozen=True)
class StorageConfig:
    """Buckets: lifecycle and replication."""

    transition_to_ia_days: int = setting(30, "Days before current objects move to STANDARD_IA.", minimum=30, maximum=3650)
    transition_to_glacier_days: int = setting(90, "Days before current objects move to GLACIER_IR; must exceed transition_to_ia_days by 30.", minimum=60, maximum=3650)
    expiration_days: Optional[int] = setting(275, "Days before current objects in the data buckets expire (then noncurrent_version_expiration_days more as noncurrent versions). The data buckets hold the table's exports, copies of the items: the two together may not exceed table.item_retention_days, so no copy outlives the items' retention (275 + 90 = 365).", minimum=1, maximum=36500)
    noncurrent_version_expiration_days: int = setting(90, "Days before noncurrent versions are deleted.", minimum=1, maximum=3650)
    abort_incomplete_upload_days: int = setting(7, "Days before incomplete multipart uploads are aborted.", minimum=1, maximum=365)
    access_log_expiration_days: int = setting(365, "Days server access logs are kept.", minimum=1, maximum=3650)
    replication_storage_class: str = setting("STANDARD_IA", "Storage class of replicas in the secondary region.", choices=S3_REPLICA_STORAGE_CLASSES)


@dataclass(frozen=True)
class DnsConfig:
    """Custom domain and Route 53 routing (used when features.dns is on); the health-check settings apply either way."""

    zone_id: Optional[str] = setting(None, "Existing public hosted zone id; exclusive with create_zone_name.", pattern=r"^Z[A-Z0-9]{1,31}$")
    create_zone_name: Optional[str] = setting("example.com", "Zone to create (the default is a reserved documentation domain: delegate your own instead); exclusive with zone_id, so set it to null when you give zone_id.", pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", max_length=253)
    domain_name: Optional[str] = setting("api.example.com", "The API's name, inside the zone; at most 64 characters (ACM's limit for a certificate's domain name).", pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", max_length=64)
    routing_policy: str = setting("latency", "latency (active-active), failover (primary/secondary) or weighted.", choices=ROUTING_POLICIES)
    primary_weight: Optional[int] = setting(None, "weighted: the primary record's weight.", minimum=0, maximum=255)
    secondary_weight: Optional[int] = setting(None, "weighted: the secondary record's weight.", minimum=0, maximum=255)
    health_check_interval_seconds: int = setting(30, "Route 53 health check interval.", choices=(10, 30))
    health_check_failure_threshold: int = setting(3, "Consecutive failures before unhealthy.", minimum=1, maximum=10)
    health_check_regions: tuple[str, ...] = setting(("us-east-1", "us-west-2", "eu-west-1"), "Route 53 checker regions (at least 3).", item_choices=HEALTH_CHECKER_REGIONS, min_items=3, max_items=8)


@dataclass(frozen=True)
class MonitoringConfig:
    """Alarms, notifications, canaries."""

    alarm_emails: tuple[str, ...] = setting(("ops@example.com",), "E-mail addresses subscribed to each region's alarm topic; at least one unless disposable (a topic nobody subscribes to pages no one). The default is a reserved documentation address: put your on-call's.", item_pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", max_items=20)
    api_5xx_rate_percent: float = setting(1.0, "Alarm when 5xx exceed this percent of requests.", minimum=0.1, maximum=100)
    api_p99_latency_ms: int = setting(2000, "Alarm when p99 latency exceeds this.", minimum=50, maximum=29000)
    lambda_error_rate_percent: float = setting(1.0, "Alarm when errors / invocations x 100 exceeds this.", minimum=0.1, maximum=100)
    lambda_throttles: int = setting(1, "Alarm when the function is throttled this many times in a period.", minimum=1, maximum=100000)
    dynamodb_throttled_requests: int = setting(1, "Alarm when the table throttles this many requests in a period.", minimum=1, maximum=100000)
    table_replication_latency_ms: int = setting(60000, "Alarm when global-table replication lags more than this.", minimum=1000, maximum=3600000)
    s3_replication_latency_seconds: int = setting(900, "Alarm when S3 replication lags more than this (RTC promises 900).", minimum=60, maximum=86400)
    waf_blocked_requests: int = setting(500, "Alarm when WAF blocks more requests than this in a period (an attack or a broken client).", minimum=1, maximum=10_000_000)
    alarm_period_seconds: int = setting(300, "Period of every alarm's metric.", choices=(60, 300, 900, 3600))
    alarm_evaluation_periods: int = setting(2, "Consecutive breaching periods before an alarm fires.", minimum=1, maximum=24)
    canary_runtime: str = setting("syn-nodejs-puppeteer-9.1", "Synthetics runtime version.", pattern=r"^syn-nodejs-puppeteer-[0-9]+\.[0-9]+$")
    canary_schedule: str = setting("rate(5 minutes)", "Canary schedule: rate(1 minute) to rate(60 minutes), rate(1 hour), or rate(0 minute) to run once.", pattern=CANARY_SCHEDULE_PATTERN)
    canary_timeout_seconds: int = setting(60, "Canary run timeout; at most the schedule's interval.", minimum=3, maximum=840)
    canary_success_percent: int = setting(90, "Alarm when SuccessPercent drops below this.", minimum=1, maximum=100)
    canary_retention_days: int = setting(31, "Days canary runs (success and failure) are kept.", minimum=1, maximum=455)
    canary_artifact_expiration_days: int = setting(90, "Days canary artifacts (logs, HAR files) stay in their bucket.", minimum=1, maximum=3650)
    canary_log_retention_days: int = setting(365, "Retention of the log group of the Lambda function Synthetics runs each canary in (/aws/lambda/cwsyn-<canary>-<id>); the stack creates that group once the canary exists.", choices=LOG_RETENTION_DAYS)


@dataclass(frozen=True)
class FeaturesConfig:
    """Modules that can be switched off; optional ones are off by default."""

    waf: bool = setting(True, "WAFv2 web ACL on each stage.")
    canaries: bool = setting(True, "A Synthetics canary per region.")
    drain_switch: bool = setting(True, "An SSM parameter per region that makes /health answer 503, to fail a region over on purpose.")
    event_forwarding: bool = setting(True, "Forward application events to the peer region's bus.")
    dns: bool = setting(True, "Custom domain, certificates and Route 53 routing (the dns section). Off: clients use each region's invoke URL and nothing fails them over (the stack's warnings output says so); the Route 53 health checks and their alarms stay.")


_HANDLER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$"


@dataclass(frozen=True)
class ApplicationConfig:
    """The API the stack deploys: your function's source, its handler and its OpenAPI document."""

    source_dir: Optional[str] = setting(None, "Folder holding the function's source, relative to the config file; every file in it is zipped. null: tapinfra's reference item API (shipped in the package).", max_length=1024)
    handler: str = setting("app.handler", "The function's entry point, module.function (a module of source_dir).", pattern=_HANDLER_PATTERN, max_length=128)
    openapi: Optional[str] = setting(None, "The API's OpenAPI 3.0/3.1 document (JSON, or YAML with .yaml/.yml), relative to the config file. Routes, API-key requirements, request models, path and query parameters and cacheable reads come from it; GET /health is tapinfra's own. null: openapi.json in source_dir.", max_length=1024)
    event_source: str = setting("tap.items", "The source of the events the function puts on its region's bus (the EVENT_SOURCE variable); the forwarding rules match it. EventBridge refuses sources starting aws.", pattern=r"^[a-z][a-z0-9.-]*[a-z0-9]$", not_pattern=r"^aws\.", max_length=32)


@dataclass(frozen=True)
class PackagingConfig:
    """How code folders become zips."""

    mode: str = setting("archive_file", "archive_file: data \"archive_file\" with inline sources (needs hashicorp/archive). asset: the same zip built at synth time, for air-gapped use.", choices=("archive_file", "asset"))


@dataclass(frozen=True)
class BackendConfig:
    """Where Terraform keeps state."""

    type: str = setting("local", "local, or s3 (encrypted, locked).", choices=("local", "s3"))
    bucket: Optional[str] = setting(None, "s3: state bucket.", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", not_pattern=_S3_RESERVED)
    key: str = setting("tapinfra/terraform.tfstate", "s3: state object key.", pattern=r"^[A-Za-z0-9!_.*'()/-]+$", max_length=1024)
    region: Optional[str] = setting(None, "s3: bucket region (default: regions.primary).", choices=AWS_REGIONS)
    kms_key_id: Optional[str] = setting(None, "s3: KMS key ARN for state encryption (default: SSE-S3).", pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+$")
    lock: str = setting("lockfile", "s3: lockfile (S3-native, Terraform >= 1.10) or dynamodb.", choices=("lockfile", "dynamodb"))
    dynamodb_table: Optional[str] = setting(None, "s3 with lock=dynamodb: the lock table.", pattern=r"^[a-zA-Z0-9_.-]{3,255}$")


# A VPC range: a dotted-quad network with a /16../22 prefix (cut into 16 subnets: /20../26).
_CIDR = (r"^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
         r"/(1[6-9]|2[0-2])$")


@dataclass(frozen=True)
class NetworkingConfig:
    """Private networking (optional module, off by default): a VPC per region that the function runs in."""

    enabled: bool = setting(False, "Run the function in a VPC per region: private subnets with no route out (no NAT gateway, no internet gateway), gateway endpoints for S3 and DynamoDB, interface endpoints with private DNS for what the function calls (policies scoped to this stack's resources), flow logs to a KMS-encrypted log group.")
    primary_cidr: str = setting("10.10.0.0/16", "The primary region's VPC range: RFC 1918, /16 to /22, cut into 16 equal subnets.", pattern=_CIDR)
    secondary_cidr: str = setting("10.20.0.0/16", "The secondary region's VPC range: like primary_cidr, and not overlapping it (so the two can be peered later).", pattern=_CIDR)
    az_count: int = setting(2, "Availability zones per region, one private subnet each; interface endpoints bill per zone. The plan fails if a region offers fewer.", minimum=2, maximum=6)
    nat_gateways: bool = setting(False, "One NAT gateway per zone (public subnets, an internet gateway) and egress on 443 to the internet for the function, for an application that calls outside AWS. Off: nothing in the VPC reaches the internet.")
    flow_log_retention_days: int = setting(365, "Retention of the VPC flow-log group (a year: an investigation often starts months after the traffic).", choices=LOG_RETENTION_DAYS)


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


@dataclass(frozen=True)
class AuditConfig:
    """Audit trail (optional module, off by default): one multi-region CloudTrail in the primary region."""

    enabled: bool = setting(False, "Build the audit trail: a multi-region CloudTrail (global service events, log file validation, the primary's key), its secure bucket, delivery to a CloudWatch log group, and an alarm on changes to the trail itself.")
    log_retention_days: int = setting(365, "Retention of the trail's CloudWatch log group.", choices=LOG_RETENTION_DAYS)
    log_file_expiration_days: Optional[int] = setting(2557, "Days log files stay in the trail bucket (2557: seven years); null keeps them. Must exceed storage.transition_to_glacier_days.", minimum=1, maximum=36500)


# Athena refuses a per-query scan limit below 10 MB.
ATHENA_MIN_BYTES_SCANNED_CUTOFF = 10_485_760


@dataclass(frozen=True)
class AnalyticsConfig:
    """Analytics (optional module, off by default): Athena over the table's exports, in each region."""

    enabled: bool = setting(False, "Build analytics in each region: an Athena workgroup that enforces its settings (SSE-KMS results in a dedicated secure bucket, a scan limit per query) and a Glue table over the data bucket's exports/ prefix (DynamoDB exports to S3).")
    bytes_scanned_cutoff_per_query: int = setting(10 * 1024**3, "Athena cancels a query once it has scanned this many bytes (10 GiB: about USD 0.05 at USD 5 per TB).", minimum=ATHENA_MIN_BYTES_SCANNED_CUTOFF, maximum=1024**5)
    results_expiration_days: int = setting(30, "Days query results stay in the results bucket.", minimum=1, maximum=3650)


@dataclass(frozen=True)
class IngestionConfig:
    """S3 ingestion pipeline (optional module, off by default): objects uploaded under <tenant>/ become items, in each region."""

    enabled: bool = setting(False, "Build the pipeline in each region: an ingest bucket whose new objects (JSON lines, one CreateItem per line, under <tenant>/) invoke a processor that validates them and writes the items to the table; rejected objects go to a KMS-encrypted dead-letter queue with a depth alarm.")
    max_object_bytes: int = setting(1_048_576, "Largest object the processor reads; a larger one goes to the dead-letter queue unread.", minimum=1024, maximum=10_485_760)
    max_items_per_object: int = setting(1000, "Most items (lines) one object may hold; an object with more is rejected whole.", minimum=1, maximum=10000)
    memory_mb: int = setting(256, "Processor memory in MB.", minimum=128, maximum=10240)
    timeout_seconds: int = setting(300, "Processor timeout (S3 invokes it asynchronously, so up to Lambda's 900 s).", minimum=10, maximum=900)
    reserved_concurrency: int = setting(10, "Concurrency reserved for (and capping) the processor, so a burst of uploads cannot starve the API; with function.reserved_concurrency at most function.account_concurrency_limit - 100.", minimum=1, maximum=10000)
    object_expiration_days: int = setting(30, "Days an uploaded object stays in the ingest bucket (processed or not).", minimum=1, maximum=3650)
    dlq_retention_days: int = setting(14, "How long a rejected object's message waits in the dead-letter queue.", minimum=1, maximum=14)
    dlq_alarm_threshold: int = setting(1, "Alarm when at least this many messages wait in the dead-letter queue.", minimum=1, maximum=100000)
    log_retention_days: int = setting(365, "Retention of the processor's log group.", choices=LOG_RETENTION_DAYS)


@dataclass(frozen=True)
class TapConfig:
    """One deployment: the two-region API for one application and environment."""

    app: str = setting("tap", "Application name: first part of every resource name.", max_length=12, **_NAME_RULE)
    environment: str = setting("dev", "Environment name: last part of every resource name. Env TAP_ENVIRONMENT overrides.", max_length=10, **_NAME_RULE)
    owner: str = setting("platform-team", "Owner tag.", pattern=r"^[\w .:/=+@-]{1,128}$")
    cost_center: str = setting("engineering", "CostCenter tag.", pattern=r"^[\w .:/=+@-]{1,128}$")
    data_classification: str = setting("confidential", "DataClassification tag.", choices=("public", "internal", "confidential", "restricted"))
    disposable: bool = setting(False, "True lets terraform destroy stateful resources (no prevent_destroy, no deletion protection). Only for throwaway environments.")
    application: ApplicationConfig = setting(ApplicationConfig(), "The application: its function's source and its OpenAPI document.")
    regions: RegionsConfig = setting(RegionsConfig(), "Regions.")
    api: ApiConfig = setting(ApiConfig(), "REST API.")
    function: FunctionConfig = setting(FunctionConfig(), "Lambda function.")
    table: TableConfig = setting(TableConfig(), "DynamoDB global table.")
    storage: StorageConfig = setting(StorageConfig(), "Buckets.")
    dns: DnsConfig = setting(DnsConfig(), "Custom domain and routing.")
    monitoring: MonitoringConfig = setting(MonitoringConfig(), "Monitoring.")
    features: FeaturesConfig = setting(FeaturesConfig(), "Feature switches.")
    packaging: PackagingConfig = setting(PackagingConfig(), "Code packaging.")
    backend: BackendConfig = setting(BackendConfig(), "Terraform state backend.")
    emulator: Optional[str] = setting(None, "Endpoint of a local AWS emulator (moto server, LocalStack) for a deploy rehearsal: every provider then talks to it with test credentials and skips account checks. null (the default) deploys to AWS.", pattern=r"^https?://[A-Za-z0-9.-]+(:" + _PORT + r")?/?$", max_length=200)
    audit: AuditConfig = setting(AuditConfig(), "Audit trail (optional module).")
    analytics: AnalyticsConfig = setting(AnalyticsConfig(), "Analytics (optional module).")
    ingestion: IngestionConfig = setting(IngestionConfig(), "S3 ingestion pipeline (optional module).")
    networking: NetworkingConfig = setting(NetworkingConfig(), "Private networking (optional module).")
    aurora: AuroraConfig = setting(AuroraConfig(), "Aurora global database (optional module).")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        return json.loads(json.dumps(asdict(self)))

    @property
    def region_names(self) -> tuple[str, str]:
        return (self.regions.primary, self.regions.secondary)

    @property
    def stack_id(self) -> str:
        """The stack's id (and its folder under ``cdktf.out/stacks/``): ``<app>-<environment>``."""
        return f"{self.app}-{self.environment}"


# ---------------------------------------------------------------- loading

ENV_OVERRIDES = {
    "TAP_ENVIRONMENT": ("environment",),
    "TAP_PRIMARY_REGION": ("regions", "primary"),
    "TAP_SECONDARY_REGION": ("regions", "secondary"),
}
SCHEMA_KEY = "$schema"  # editors add it to point at the published schema; ignored


def load_config(path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> TapConfig:
    """Load from a JSON file (or the embedded default), apply env overrides, validate."""
    environ = os.environ if environ is None else environ
    if path is None:
        path = environ.get("TAP_CONFIG") or None
    raw: Any = {}
    found: list[Problem] = []
    if path is not None:
        raw, found = read_json_file(path)
        if raw is None and found:
            raise ConfigError(found)
        raw = relative_to(raw, Path(path).parent)
    return _validate(apply_env_overrides(raw, environ), found)


APPLICATION_PATHS = ("source_dir", "openapi")


def relative_to(raw: Any, base: Path) -> Any:
    """A copy of ``raw`` whose application paths are resolved against ``base`` (the config
    file's folder), so the config means the same wherever the command runs."""
    section = raw.get("application") if isinstance(raw, dict) else None
    if not isinstance(section, dict):
        return raw
    resolved = {key: str((base / value).resolve()) if key in APPLICATION_PATHS and isinstance(value, str)
                and value and "\x00" not in value else value for key, value in section.items()}
    return {**raw, "application": resolved}


def apply_env_overrides(raw: Any, environ: Mapping[str, str]) -> Any:
    """A copy of ``raw`` with the TAP_* variables applied (only the objects on their paths are copied)."""
    if not isinstance(raw, dict):
        return raw
    raw = dict(raw)
    for var, keys in ENV_OVERRIDES.items():
        value = environ.get(var)
        if not value:
            continue
        node = raw
        for key in keys[:-1]:
            child = node.get(key, {})
            if not isinstance(child, dict):
                break  # validation reports the section
            node[key] = node = dict(child)
        else:
            node[keys[-1]] = value
    return raw


def config_from_dict(raw: Any) -> TapConfig:
    """Validate a plain dict and build the frozen config, or raise one ConfigError with every problem."""
    return _validate(raw, [])


def _validate(raw: Any, found: list[Problem]) -> TapConfig:
    too_deep = deep_value_problem(raw)
    if too_deep is not None:
        raise ConfigError([*found, too_deep])
    problems = list(found)
    config = _build(TapConfig, raw, "", problems)
    invalid = {problem.path for problem in problems}
    problems.extend(p for p in _cross_checks(config, invalid) if p.path not in invalid)
    if problems:
        raise ConfigError(problems)
    return config


def _build(cls: type, raw: Any, path: str, problems: list[Problem]) -> Any:
    if not isinstance(raw, dict):
        problems.append(Problem(path or "<root>", raw, _section_allowed(cls, path)))
        return cls()
    hints = typing.get_type_hints(cls)
    known = [f.name for f in fields(cls)]
    for key in raw:
        if cls is TapConfig and key == SCHEMA_KEY:
            if not isinstance(raw[key], str):
                problems.append(Problem(SCHEMA_KEY, raw[key], "a string (the URL or path of this file's JSON Schema)"))
        elif key not in known:
            problems.append(Problem(_join(path, key), raw[key], f"a known key; unknown key (typo?). Allowed here: {', '.join(known)}"))
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in raw:
            continue
        where = _join(path, f.name)
        value = _convert(hints[f.name], raw[f.name], where, f.metadata, problems)
        if value is not _INVALID:
            values[f.name] = value
    return cls(**values)


_INVALID = object()


def _join(path: str, key: Any) -> str:
    return join(path, key if isinstance(key, str) else str(key))


def _section_allowed(cls: type, path: str) -> str:
    doc = (cls.__doc__ or "").strip().rstrip(".")
    names = ", ".join(f.name for f in fields(cls))
    if not path:
        return f"a JSON object: {doc[:1].lower()}{doc[1:]} (keys: {names})"
    return (f"a JSON object: the {path} section, {doc[:1].lower()}{doc[1:]} (keys: {names}); "
            f"leave {path} out to use its defaults")


# Terraform evaluates "${...}" and "%{...}" in every string of its JSON; control characters and
# unpaired surrogates make invalid JSON or invalid AWS names. No config string needs any of them.
_UNSAFE_TEXT = re.compile(r"[$%]\{|[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
UNSAFE_TEXT_ALLOWED = "a string without \"${\" or \"%{\" (Terraform template syntax) and without control characters"


def _safe_text(value: str, where: str, problems: list[Problem]) -> bool:
    if _UNSAFE_TEXT.search(value):
        problems.append(Problem(where, value, UNSAFE_TEXT_ALLOWED))
        return False
    return True


def _convert(hint: Any, value: Any, where: str, meta: Mapping[str, Any], problems: list[Problem]) -> Any:
    optional = False
    if typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        hint, optional = args[0], True
    if is_dataclass(hint):
        if value is None:
            problems.append(Problem(where, value, _section_allowed(hint, where)))
            return _INVALID
        return _build(hint, value, where, problems)
    if value is None:
        if optional:
            return None
        problems.append(Problem(where, value, _describe(hint, meta)))
        return _INVALID
    if typing.get_origin(hint) is tuple:
        return _convert_list(value, where, meta, problems)
    if hint is bool:
        if not isinstance(value, bool):
            problems.append(Problem(where, value, "true or false"))
            return _INVALID
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(Problem(where, value, _describe(hint, meta)))
            return _INVALID
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float) and not math.isfinite(value)):
            problems.append(Problem(where, value, _describe(hint, meta)))
            return _INVALID
        if not _check_scalar(value, where, meta, problems):  # before float(): 10**400 has no float
            return _INVALID
        return float(value)
    elif hint is str:
        if not isinstance(value, str):
            problems.append(Problem(where, value, _describe(hint, meta)))
            return _INVALID
        if not _safe_text(value, where, problems):
            return _INVALID
    return value if _check_scalar(value, where, meta, problems) else _INVALID


def _convert_list(value: Any, where: str, meta: Mapping[str, Any], problems: list[Problem]) -> Any:
    if not isinstance(value, list):
        problems.append(Problem(where, value, "a list of strings"))
        return _INVALID
    ok = True
    item_rules = {"choices": meta.get("item_choices"), "pattern": meta.get("item_pattern")}
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(item, str):
            problems.append(Problem(at, item, "a string"))
            ok = False
        elif not (_safe_text(item, at, problems) and _check_scalar(item, at, item_rules, problems)):
            ok = False
    if "min_items" in meta and len(value) < meta["min_items"]:
        problems.append(Problem(where, value, f"at least {meta['min_items']} item(s)"))
        ok = False
    if "max_items" in meta and len(value) > meta["max_items"]:
        problems.append(Problem(where, value, f"at most {meta['max_items']} item(s)"))
        ok = False
    strings = [item for item in value if isinstance(item, str)]  # lists and objects are unhashable
    if len(set(strings)) != len(strings):
        problems.append(Problem(where, value, "no duplicates"))
        ok = False
    return tuple(value) if ok else _INVALID


def _check_scalar(value: Any, where: str, meta: Mapping[str, Any], problems: list[Problem]) -> bool:
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        problems.append(Problem(where, value, "one of " + ", ".join(map(str, choices))))
        return False
    if "minimum" in meta and value < meta["minimum"] or "maximum" in meta and value > meta["maximum"]:
        problems.append(Problem(where, value, f"a number from {meta.get('minimum')} to {meta.get('maximum')}"))
        return False
    if "max_length" in meta and len(value) > meta["max_length"]:
        problems.append(Problem(where, value, f"at most {meta['max_length']} characters"))
        return False
    pattern = meta.get("pattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        problems.append(Problem(where, value, f"a string matching {pattern}"))
        return False
    reserved = meta.get("not_pattern")
    if reserved is not None and re.search(reserved, value):
        problems.append(Problem(where, value, f"a name AWS does not reserve (nothing matching {reserved})"))
        return False
    return True


def _describe(hint: Any, meta: Mapping[str, Any]) -> str:
    if typing.get_origin(hint) is tuple:
        return "a list of strings"
    kind = {int: "an integer", float: "a finite number", str: "a string", bool: "true or false"}.get(hint, "a value")
    if "minimum" in meta:
        kind += f" from {meta['minimum']} to {meta['maximum']}"
    if "choices" in meta:
        kind += " (one of " + ", ".join(map(str, meta["choices"])) + ")"
    return kind


# ---------------------------------------------------------------- limits AWS enforces at deploy

LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096  # all of a function's variables, measured as their JSON
API_KEY_ID_LENGTH = 10  # API Gateway key ids, e.g. "a1b2c3d4e5"
# Bounds for values the constructs derive: the middle part of a resource name
# (tapinfra/naming.py: <app>-<resource>-<env>) and the application's event source.
RESOURCE_PART_MAX = 24
EVENT_SOURCE_MAX = 32
LOG_LEVEL_MAX = 8  # "CRITICAL"
REGION_NAME_MAX = max(len(r) for r in AWS_REGIONS)


def function_environment(config: TapConfig) -> dict[str, str]:
    """The API function's environment variables, each at its longest for this config.

    Mirrors tapinfra/constructs/function.py (a test compares the two on a synthesized
    stack): values the config gives are exact; API key ids and derived names are padded
    to their bounds, so the size of this dict never understates the deployed one.
    """
    app, env = config.app, config.environment
    name = "n" * (len(app) + len(env) + 2 + RESOURCE_PART_MAX)
    tenant_keys = "{" + ",".join(f'"{"k" * API_KEY_ID_LENGTH}":"{tenant}"' for tenant in config.api.tenants) + "}"
    return {
        "TABLE_NAME": name,
        "EVENT_BUS_NAME": name,
        "EVENT_SOURCE": "s" * EVENT_SOURCE_MAX,
        "RETENTION_DAYS": str(config.table.item_retention_days),
        "TENANT_KEYS": tenant_keys,
        "DRAIN_PARAMETER_NAME": f"/{app}/{env}/drain" if config.features.drain_switch else "",
        "CORS_ALLOWED_ORIGINS": ",".join(config.api.cors_allowed_origins),
        "MAX_BODY_BYTES": str(config.api.max_body_bytes),
        "POWERTOOLS_SERVICE_NAME": app,
        "POWERTOOLS_METRICS_NAMESPACE": f"{app}-{env}",
        "POWERTOOLS_LOG_LEVEL": "l" * LOG_LEVEL_MAX,
        "WRITE_MODE": config.table.write_mode,
        # the writer preference list: primary, then secondary
        "WRITE_REGIONS": f"{config.regions.primary},{config.regions.secondary}",
        # the secret's ARN in the function's region: the longest region name, a 6-character suffix
        **({"DATABASE_SECRET_ARN": f"arn:aws:secretsmanager:{'r' * REGION_NAME_MAX}:{'0' * 12}:secret:{name}-{'s' * 6}"}
           if config.aurora.enabled else {}),
    }


def environment_bytes(variables: Mapping[str, str]) -> int:
    """Size of a Lambda environment as Lambda measures it: the variables as a JSON object (spaced, to be safe)."""
    return len(json.dumps(dict(variables), ensure_ascii=False).encode("utf-8"))


def canary_interval_seconds(schedule: str) -> int | None:
    """Seconds between canary runs for a valid ``rate()`` schedule; None when it runs once."""
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour)\)", schedule)
    if match is None:
        raise ValueError(f"not a canary rate expression: {schedule!r}")
    count = int(match.group(1))
    if count == 0:
        return None
    return count * (3600 if match.group(2) == "hour" else 60)


# ---------------------------------------------------------------- rules across fields

def _cross_checks(c: TapConfig, invalid: frozenset[str] | set[str] = frozenset()) -> list[Problem]:
    """Rules that involve more than one field; a rule is skipped when a field it reads was invalid."""
    def ok(*paths: str) -> bool:
        return _usable(invalid, paths)

    p: list[Problem] = []
    if ok("regions.primary", "regions.secondary") and c.regions.primary == c.regions.secondary:
        p.append(Problem("regions.secondary", c.regions.secondary, f"a region other than regions.primary ({c.regions.primary})"))
    if ok("api.throttle_burst_limit", "api.throttle_rate_limit") and c.api.throttle_burst_limit < c.api.throttle_rate_limit // 10:
        p.append(Problem("api.throttle_burst_limit", c.api.throttle_burst_limit, f"at least a tenth of api.throttle_rate_limit ({c.api.throttle_rate_limit})"))
    if ok("api.quota_limit", "api.quota_period") and c.api.quota_limit is None and c.api.quota_period != "DAY":
        p.append(Problem("api.quota_period", c.api.quota_period, "left at DAY unless api.quota_limit is set"))
    p.extend(_api_limits(c, ok))
    p.extend(_function_limits(c, ok))
    if ok("table.max_read_capacity", "table.read_capacity") and c.table.max_read_capacity < c.table.read_capacity:
        p.append(Problem("table.max_read_capacity", c.table.max_read_capacity, f"at least table.read_capacity ({c.table.read_capacity})"))
    if ok("table.max_write_capacity", "table.write_capacity") and c.table.max_write_capacity < c.table.write_capacity:
        p.append(Problem("table.max_write_capacity", c.table.max_write_capacity, f"at least table.write_capacity ({c.table.write_capacity})"))
    s = c.storage
    if ok("storage.transition_to_glacier_days", "storage.transition_to_ia_days") and s.transition_to_glacier_days < s.transition_to_ia_days + 30:
        p.append(Problem("storage.transition_to_glacier_days", s.transition_to_glacier_days, f"at least storage.transition_to_ia_days + 30 ({s.transition_to_ia_days + 30})"))
    if (ok("storage.expiration_days", "storage.transition_to_glacier_days") and s.expiration_days is not None
            and s.expiration_days <= s.transition_to_glacier_days):
        p.append(Problem("storage.expiration_days", s.expiration_days, f"more than storage.transition_to_glacier_days ({s.transition_to_glacier_days}), or null"))
    from tapinfra.limits import deploy_limit_problems  # it reads TapConfig: imported here, not at the top

    p.extend(deploy_limit_problems(c, ok))  # names AWS reserves, policy sizes, backend, Aurora, alarm periods
    p.extend(_canary_checks(c, ok))
    p.extend(_dns_checks(c, ok))
    p.extend(_backend_checks(c, ok))
    p.extend(_module_checks(c, ok))
    p.extend(_private_data_checks(c, ok))
    p.extend(_seed_failure_checks(c, ok))
    if ok("application"):
        from tapinfra.application import application_problems  # reads the document and the source

        p.extend(application_problems(c))
    return p


def _usable(invalid: frozenset[str] | set[str], paths: tuple[str, ...]) -> bool:
    """False when one of ``paths`` (or its section, or the whole document) was reported invalid."""
    for bad in invalid:
        if bad in ("<root>", "<file>"):
            return False
        for path in paths:
            if bad == path or bad.startswith((path + ".", path + "[")) or path.startswith(bad + "."):
                return False
    return True


def _api_limits(c: TapConfig, ok: typing.Callable[..., bool]) -> list[Problem]:
    p: list[Problem] = []
    a = c.api
    if ok("features.waf", "api.max_body_bytes", "api.waf_body_inspection_kb") and c.features.waf:
        inspected = a.waf_body_inspection_kb * 1024
        if a.max_body_bytes > inspected:
            enough = [str(kb) for kb in WAF_BODY_INSPECTION_KB if kb * 1024 >= a.max_body_bytes]
            remedy = (f"or set api.waf_body_inspection_kb to {' or '.join(enough)}" if enough
                      else f"or turn features.waf off (a web ACL inspects at most {WAF_BODY_INSPECTION_KB[-1]} KB)")
            p.append(Problem("api.max_body_bytes", a.max_body_bytes,
                             f"at most api.waf_body_inspection_kb x 1024 = {inspected} when features.waf is on "
                             f"(the web ACL inspects no more of a body), {remedy}"))
    env_fields = ("app", "environment", "api.tenants", "api.cors_allowed_origins", "api.max_body_bytes",
                  "table.item_retention_days", "table.write_mode", "regions.primary", "regions.secondary",
                  "features.drain_switch", "aurora.enabled")
    if ok(*env_fields):
        size = environment_bytes(function_environment(c))
        if size > LAMBDA_ENVIRONMENT_LIMIT_BYTES:
            tenants = sum(len(t) + API_KEY_ID_LENGTH + 8 for t in a.tenants)
            origins = sum(len(o) + 1 for o in a.cors_allowed_origins)
            path, value = ("api.tenants", a.tenants) if tenants >= origins else ("api.cors_allowed_origins", a.cors_allowed_origins)
            p.append(Problem(path, value,
                             f"fewer or shorter entries: the function's environment would take up to {size} bytes "
                             f"(tenant key map and CORS origins included); Lambda allows {LAMBDA_ENVIRONMENT_LIMIT_BYTES}"))
    return p


def _function_limits(c: TapConfig, ok: typing.Callable[..., bool]) -> list[Problem]:
    p: list[Problem] = []
    f = c.function
    if ok("function.reserved_concurrency", "function.provisioned_concurrency") and f.reserved_concurrency < f.provisioned_concurrency:
        p.append(Problem("function.reserved_concurrency", f.reserved_concurrency, f"at least function.provisioned_concurrency ({f.provisioned_concurrency})"))
    ceiling = f.account_concurrency_limit - LAMBDA_UNRESERVED_MINIMUM
    if ok("function.reserved_concurrency", "function.account_concurrency_limit") and f.reserved_concurrency > ceiling:
        p.append(Problem("function.reserved_concurrency", f.reserved_concurrency,
                         f"at most function.account_concurrency_limit - {LAMBDA_UNRESERVED_MINIMUM} = {ceiling} "
                         f"(Lambda keeps {LAMBDA_UNRESERVED_MINIMUM} of the account's concurrency unreserved; "
                         "raise the quota and account_concurrency_limit, or reserve less)"))
    return p


def _canary_checks(c: TapConfig, ok: typing.Callable[..., bool]) -> list[Problem]:
    m = c.monitoring
    if not (ok("features.canaries", "monitoring.canary_schedule", "monitoring.canary_timeout_seconds") and c.features.canaries):
        return []
    interval = canary_interval_seconds(m.canary_schedule)
    if interval is not None and m.canary_timeout_seconds > interval:
        return [Problem("monitoring.canary_timeout_seconds", m.canary_timeout_seconds,
                        f"at most the interval of monitoring.canary_schedule ({m.canary_schedule}: {interval} s)")]
    return []


def _backend_checks(c: TapConfig, ok: typing.Callable[..., bool]) -> list[Problem]:
    p: list[Problem] = []
    b = c.backend
    if ok("backend.type", "backend.bucket") and b.type == "s3" and b.bucket is None:
        p.append(Problem("backend.bucket", None, "a bucket name when backend.type is s3"))
    if ok("backend.type", "backend.lock", "backend.dynamodb_table") and b.type == "s3" and b.lock == "dynamodb" and b.dynamodb_table is None:
        p.append(Problem("backend.dynamodb_table", None, "a table name when backend.lock is dynamodb"))
    if (ok("backend.type", "backend.bucket", "backend.dynamodb_table", "backend.kms_key_id", "backend.region")
            and b.type == "local" and (b.bucket or b.dynamodb_table or b.kms_key_id or b.region)):
        p.append(Problem("backend.type", b.type, "s3 when bucket, region, kms_key_id or dynamodb_table are set"))
    return p


def _module_checks(c: TapConfig, ok: typing.Callable[..., bool]) -> list[Problem]:
    """The optional modules (audit, analytics, ingestion): rules that apply only when one is on."""
    p: list[Problem] = []
    a, i, f = c.audit, c.ingestion, c.function
    if (ok("audit.enabled", "audit.log_file_expiration_days", "storage.transition_to_glacier_days") and a.enabled
            and a.log_file_expiration_days is not None and a.log_file_expiration_days <= c.storage.transition_to_glacier_days):
        p.append(Problem("audit.log_file_expiration_days", a.log_file_expiration_days,
                         f"more than storage.transition_to_glacier_days ({c.storage.transition_to_glacier_days}; "
                         "S3 refuses an expiration before a transition), or null"))
    ceiling = f.account_concurrency_limit - LAMBDA_UNRESERVED_MINIMUM
    if (ok("ingestion.enabled", "ingestion.reserved_concurrency", "function.reserved_concurrency", "function.account_concurrency_limit")
            and i.enabled and f.reserved_concurrency + i.reserved_concurrency > ceiling):
        p.append(Problem("ingestion.reserved_concurrency", i.reserved_concurrency,
                         f"at most function.account_concurrency_limit - {LAMBDA_UNRESERVED_MINIMUM} - function.reserved_concurrency "
                         f"= {ceiling - f.reserved_concurrency} (both functions reserve from the same regional pool)"))
    return p


_RFC1918 = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


def _private_data_checks(c: TapConfig, ok: typing.Callable[..., bool]) -> list[Problem]:
    """Private networking and the Aurora global database: rules that apply when they are on."""
    p: list[Problem] = []
    n, a = c.networking, c.aurora
    if ok("aurora.enabled", "networking.enabled") and a.enabled and not n.enabled:
        p.append(Problem("aurora.enabled", a.enabled, "false unless networking.enabled true: the database lives in the private subnets"))
    if ok("networking.enabled") and n.enabled:
        ranges = {}
        for path, value in (("networking.primary_cidr", n.primary_cidr), ("networking.secondary_cidr", n.secondary_cidr)):
            if not ok(path):
                continue
            network = ipaddress.ip_network(value, strict=False)
            if str(network) != value:
                p.append(Problem(path, value, f"a network address with no host bits set ({network})"))
            elif not any(network.subnet_of(ipaddress.ip_network(block)) for block in _RFC1918):
                p.append(Problem(path, value, "a private (RFC 1918) range inside " + ", ".join(_RFC1918)))
            else:
                ranges[path] = network
        if len(ranges) == 2 and ranges["networking.primary_cidr"].overlaps(ranges["networking.secondary_cidr"]):
            p.append(Problem("networking.secondary_cidr", n.secondary_cidr, f"a range that does not overlap networking.primary_cidr ({n.primary_cidr})"))
    if (ok("table.write_mode", "networking.enabled", "networking.nat_gateways") and n.enabled and not n.nat_gateways
            and c.table.write_mode == SINGLE_WRITER):
        p.append(Problem("table.write_mode", c.table.write_mode,
                         "any-region, or networking.nat_gateways true: in single-writer mode each region's function "
                         "calls the other region's table and drain switch, which private subnets without a NAT gateway "
                         "cannot reach (VPC endpoints serve their own region only)"))
    if ok("aurora.enabled", "aurora.engine", "aurora.engine_version") and a.enabled and not aurora_version_supported(a.engine, a.engine_version):
        floors = {"aurora-postgresql": "14.3+, 15.2+, 16.1+ or 17.4+ (e.g. 16.6)",
                  "aurora-mysql": "8.0.mysql_aurora.3.01.0 or later (e.g. 8.0.mysql_aurora.3.08.0)"}
        p.append(Problem("aurora.engine_version", a.engine_version,
                         f"a version of {a.engine} that Aurora global databases support: {floors[a.engine]}"))
    return p


def _seed_failure_checks(c: TapConfig, ok: typing.Callable[..., bool]) -> list[Problem]:
    """Settings that would repeat a seed's failure: exports outliving the items they copy, alarms
    nobody receives, and an account-wide setting that two environments would fight over."""
    p: list[Problem] = []
    s, retention = c.storage, c.table.item_retention_days
    if ok("storage.expiration_days", "storage.noncurrent_version_expiration_days", "table.item_retention_days"):
        room = retention - s.noncurrent_version_expiration_days
        why = (f"the data buckets hold the table's exports, copies of items that expire {retention} days "
               f"(table.item_retention_days) after their last write, and the primary's replicates them to the secondary's, "
               f"which expires them on the same lifecycle; an expired export stays "
               f"{s.noncurrent_version_expiration_days} more days as a noncurrent version")
        if room < 1 or (s.expiration_days is not None and s.expiration_days > room) or s.expiration_days is None:
            allowed = (f"at most table.item_retention_days - storage.noncurrent_version_expiration_days = {room}"
                       if room >= 1 else "a value that fits: lower storage.noncurrent_version_expiration_days below table.item_retention_days")
            p.append(Problem("storage.expiration_days", s.expiration_days, f"{allowed} ({why}, so no copy outlives the items' retention)"))
    if ok("disposable", "monitoring.alarm_emails") and not c.disposable and not c.monitoring.alarm_emails:
        p.append(Problem("monitoring.alarm_emails", list(c.monitoring.alarm_emails),
                         "at least one address (your on-call's) unless disposable is true: every alarm notifies its "
                         "region's topic, and a topic nobody subscribes to pages no one"))
    a = c.api
    if ok("api.account_logging_role", "api.account_logging_role_arn"):
        if a.account_logging_role == "existing" and a.account_logging_role_arn is None:
            p.append(Problem("api.account_logging_role_arn", None, "the ARN of the role the account's API Gateway setting names "
                                                                   "when api.account_logging_role is existing"))
        elif a.account_logging_role == "create" and a.account_logging_role_arn is not None:
            p.append(Problem("api.account_logging_role_arn", a.account_logging_role_arn,
                             "null when api.account_logging_role is create (this environment creates the role)"))
    return p


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


def _dns_checks(c: TapConfig, ok: typing.Callable[..., bool]) -> list[Problem]:
    d, p = c.dns, []
    if not (ok("features.dns") and c.features.dns):
        return p  # the section is not used
    if ok("dns.zone_id", "dns.create_zone_name") and bool(d.zone_id) == bool(d.create_zone_name):
        p.append(Problem("dns.zone_id", d.zone_id, "exactly one of dns.zone_id or dns.create_zone_name when features.dns is on"))
    if ok("dns.domain_name") and d.domain_name is None:
        p.append(Problem("dns.domain_name", None, "the API's domain name when features.dns is on"))
    elif (ok("dns.domain_name", "dns.create_zone_name") and d.domain_name and d.create_zone_name
            and not (d.domain_name == d.create_zone_name or d.domain_name.endswith("." + d.create_zone_name))):
        p.append(Problem("dns.domain_name", d.domain_name, f"a name inside dns.create_zone_name ({d.create_zone_name})"))
    weights = (d.primary_weight, d.secondary_weight)
    if not ok("dns.routing_policy", "dns.primary_weight", "dns.secondary_weight"):
        return p
    if d.routing_policy == "weighted":
        if None in weights:
            p.append(Problem("dns.primary_weight", d.primary_weight, "both dns.primary_weight and dns.secondary_weight when routing_policy is weighted"))
        elif sum(weights) == 0:
            p.append(Problem("dns.primary_weight", d.primary_weight, "weights that are not both 0"))
    elif weights != (None, None):
        p.append(Problem("dns.primary_weight", d.primary_weight, f"null unless routing_policy is weighted (it is {d.routing_policy})"))
    return p


# ---------------------------------------------------------------- schema

def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the config file, derived from the declarations above."""
    schema = _schema_for(TapConfig)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "tapinfra configuration"
    schema["properties"] = {
        SCHEMA_KEY: {"type": "string", "description": "The JSON Schema this file follows (editors add it); not used by tapinfra."},
        **schema["properties"],
    }
    return schema


def _text_rules(node: dict[str, Any], reserved: str | None = None) -> dict[str, Any]:
    """A string node plus the rules every config string follows (and a field's reserved names)."""
    unsafe = {"type": "string", "pattern": _UNSAFE_TEXT.pattern}  # "pattern" alone would also match null
    node["not"] = unsafe if reserved is None else {"anyOf": [unsafe, {"type": "string", "pattern": reserved}]}
    return node


def _schema_for(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    props = {}
    for f in fields(cls):
        props[f.name] = _field_schema(hints[f.name], f)
    return {"type": "object", "description": (cls.__doc__ or "").strip(), "properties": props, "additionalProperties": False}


def _field_schema(hint: Any, f: Any) -> dict[str, Any]:
    meta = f.metadata
    nullable = False
    if typing.get_origin(hint) is typing.Union:
        hint, nullable = [a for a in typing.get_args(hint) if a is not type(None)][0], True
    if is_dataclass(hint):
        out = _schema_for(hint)
        out["description"] = meta["doc"]
        return out
    out: dict[str, Any] = {"description": meta["doc"]}
    default = f.default if f.default is not MISSING else None
    if typing.get_origin(hint) is tuple:
        item: dict[str, Any] = _text_rules({"type": "string"})
        if "item_choices" in meta:
            item["enum"] = list(meta["item_choices"])
        if "item_pattern" in meta:
            item["pattern"] = meta["item_pattern"]
        out.update(type="array", items=item, uniqueItems=True, default=list(default))
        if "min_items" in meta:
            out["minItems"] = meta["min_items"]
        if "max_items" in meta:
            out["maxItems"] = meta["max_items"]
        return out
    kind = {bool: "boolean", int: "integer", float: "number", str: "string"}[hint]
    out["type"] = [kind, "null"] if nullable else kind
    out["default"] = default
    if "choices" in meta:
        out["enum"] = list(meta["choices"]) + ([None] if nullable else [])
    for rule, key in (("minimum", "minimum"), ("maximum", "maximum"), ("pattern", "pattern"), ("max_length", "maxLength")):
        if rule in meta:
            out[key] = meta[rule]
    return _text_rules(out, meta.get("not_pattern")) if hint is str else out


def config_reference() -> str:
    """The configuration reference as Markdown (the README embeds it; a test keeps it current)."""
    lines: list[str] = []

    def describe(node: dict[str, Any]) -> str:
        allowed = []
        if "enum" in node and [v for v in node["enum"] if v is not None] == list(AWS_REGIONS):
            allowed.append("a commercial AWS region")
        elif "enum" in node:
            allowed.append("one of " + ", ".join(f"`{json.dumps(v)}`" for v in node["enum"]))
        if "minimum" in node:
            allowed.append(f"{node['minimum']}..{node['maximum']}")
        if "pattern" in node:
            allowed.append(f"`{node['pattern']}`".replace("|", "\\|"))
        if "maxLength" in node:
            allowed.append(f"at most {node['maxLength']} chars")
        for reserved in node.get("not", {}).get("anyOf", [])[1:]:
            allowed.append(f"nothing matching `{reserved['pattern']}`".replace("|", "\\|"))
        if "items" in node:
            item = node["items"]
            if "enum" in item:
                allowed.append("items: " + ", ".join(f"`{v}`" for v in item["enum"]))
            if "pattern" in item:
                allowed.append(f"items `{item['pattern']}`".replace("|", "\\|"))
        return "; ".join(allowed)

    def section(name: str, node: dict[str, Any]) -> None:
        lines.append(f"### `{name}`\n")
        lines.append(node["description"] + "\n")
        lines.append("| field | default | allowed | meaning |")
        lines.append("|---|---|---|---|")
        for key, child in node["properties"].items():
            if child.get("type") == "object" or key == SCHEMA_KEY:
                continue
            lines.append(f"| `{key}` | `{json.dumps(child.get('default'))}` | {describe(child)} | {child['description']} |")
        lines.append("")

    schema = json_schema()
    lines.append("Every string, list items included, refuses `${` and `%{` (Terraform would evaluate them) and "
                 f"control characters. A top-level `\"{SCHEMA_KEY}\"` key (editors add it) is allowed and ignored.\n")
    section("(top level)", schema)
    for key, child in schema["properties"].items():
        if child.get("type") == "object":
            section(key, child)
    return "\n".join(lines)


def with_changes(config: TapConfig, **sections: Mapping[str, Any] | Any) -> TapConfig:
    """A copy with some fields or section fields replaced, re-validated (handy in tests and examples)."""
    raw = config.to_dict()
    for key, value in sections.items():
        if isinstance(value, Mapping):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    return config_from_dict(raw)


__all__ = [
    "TapConfig", "RegionsConfig", "ApiConfig", "FunctionConfig", "TableConfig", "StorageConfig",
    "DnsConfig", "MonitoringConfig", "FeaturesConfig", "PackagingConfig", "BackendConfig",
    "AuditConfig", "AnalyticsConfig", "IngestionConfig", "NetworkingConfig", "AuroraConfig",
    "load_config", "config_from_dict", "json_schema", "with_changes", "replace",
]
