"""The typed, validated, frozen configuration of a tapinfra deployment.

Every default lives in this module, but the optional modules' sections, which live with their
modules (tapinfra/modules/). A field's metadata carries its documentation and its
rule (bounds, allowed values, pattern); the loader, the validator and the JSON Schema are
all derived from those declarations, so they cannot drift apart.
"""

from __future__ import annotations

import json
import math
import os
import re
import functools
import typing
from pathlib import Path
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass, replace
from typing import Any, Mapping, Optional

from tapinfra.errors import ConfigError, Problem
from tapinfra.fields import LOG_RETENTION_DAYS, RULE_KEYS as _RULE_KEYS, setting
# The optional modules' sections live with their modules (tapinfra/modules/); TapConfig holds them.
from tapinfra.modules.analytics import ATHENA_MIN_BYTES_SCANNED_CUTOFF, AnalyticsConfig
from tapinfra.modules.audit import AuditConfig
from tapinfra.modules.aurora import AURORA_ENGINES, AuroraConfig, aurora_version_supported
from tapinfra.modules.chaos import ChaosConfig
from tapinfra.modules.ingestion import IngestionConfig
from tapinfra.modules.networking import NetworkingConfig
from tapinfra.naming import S3_RESERVED_PREFIX, S3_RESERVED_SUFFIX
from tapinfra.runtime import SINGLE_WRITER, WRITE_MODES
from tapinfra.strict_json import deep_value_problem, join, read_json_file

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
QUERY_LOG_POLICY_MODES = ("create", "existing")
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


RELEASE_STRATEGIES = ("canary", "linear", "all-at-once")


@dataclass(frozen=True)
class ReleaseConfig:
    """How a new function version reaches callers: CodeDeploy shifts the alias and rolls back on alarms."""

    enabled: bool = setting(True, "CodeDeploy releases each new function version (tapinfra release): traffic moves gradually, secondary region first, and goes back on its own when an alarm fires; Terraform then leaves the alias's version to the release. false: terraform apply moves the alias to the new version at once, in both regions.")
    strategy: str = setting("canary", "canary: release.percent of traffic for release.interval_minutes, then the rest. linear: release.percent more every release.interval_minutes. all-at-once: every request at once (the alarms can still roll it back).", choices=RELEASE_STRATEGIES)
    percent: int = setting(10, "canary: the share the new version takes first; linear: the share added at each step.", minimum=1, maximum=99)
    interval_minutes: int = setting(10, "canary: how long the first share runs before the rest moves; linear: minutes between steps. Long enough for the rollback alarms to judge a step: the new version's own alarms need 3 minutes, the alias-wide ones monitoring.alarm_period_seconds x alarm_evaluation_periods (10 minutes by default).", minimum=1, maximum=1440)


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
    query_log_policy: str = setting("create", "A created zone logs its queries to /aws/route53/<zone> in us-east-1, which needs a CloudWatch Logs resource policy letting route53.amazonaws.com write there (one of at most 10 per account and region, shared by every zone). create: this environment creates one for /aws/route53/* and owns it (protected from destroy unless disposable: other environments' zones may log through it). existing: the account already has such a policy (another environment's or the baseline's); none is created, and Route 53 refuses the query-log config if it is missing. Unused with zone_id.", choices=QUERY_LOG_POLICY_MODES)


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
    release: ReleaseConfig = setting(ReleaseConfig(), "Gradual releases of new function versions (CodeDeploy).")
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
    chaos: ChaosConfig = setting(ChaosConfig(), "Failures rehearsed on purpose: FIS experiments (optional module).")

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


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """A section's field types, resolved once per class: a third of a validation's time otherwise."""
    return typing.get_type_hints(cls)


def _build(cls: type, raw: Any, path: str, problems: list[Problem]) -> Any:
    if not isinstance(raw, dict):
        problems.append(Problem(path or "<root>", raw, _section_allowed(cls, path)))
        return cls()
    hints = _hints(cls)
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

    Built by the builder the construct uses (tapinfra/function_environment.py), from the
    config: values the config gives are exact; API key ids and derived names are padded to
    their bounds, so the size of this dict never understates the deployed one.
    """
    from tapinfra.function_environment import api_function_environment, drain_parameter_name
    from tapinfra.runtime import Env

    app, env = config.app, config.environment
    name = "n" * (len(app) + len(env) + 2 + RESOURCE_PART_MAX)
    variables = api_function_environment(
        app=app, environment=env, table_name=name, bus_name=name, event_source="s" * EVENT_SOURCE_MAX,
        retention_days=config.table.item_retention_days,
        tenant_key_ids={tenant: "k" * API_KEY_ID_LENGTH for tenant in config.api.tenants},
        drain_parameter=drain_parameter_name(app, env) if config.features.drain_switch else "",
        cors_allowed_origins=config.api.cors_allowed_origins, max_body_bytes=config.api.max_body_bytes,
        write_mode=config.table.write_mode, write_regions=config.region_names, log_level="l" * LOG_LEVEL_MAX,
    )
    if config.aurora.enabled:
        # the secret's ARN in the function's region: the longest region name, a 6-character suffix
        variables[Env.DATABASE_SECRET_ARN] = f"arn:aws:secretsmanager:{'r' * REGION_NAME_MAX}:{'0' * 12}:secret:{name}-{'s' * 6}"
    return variables


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
    """Each enabled module's own rules (``Module.checks``, tapinfra/modules/)."""
    from tapinfra.modules.base import enabled_modules  # the modules read TapConfig: imported here

    return [problem for module in enabled_modules(c) for problem in module.checks(c, ok)]


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
    hints = _hints(cls)
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
