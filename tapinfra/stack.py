"""TapStack: one Terraform stack, two aliased AWS providers, one Region context per region."""

from __future__ import annotations

from pathlib import Path

from cdktf import LocalBackend, S3Backend, TerraformOutput, TerraformStack
from constructs import Construct

from tapinfra.config import TapConfig, config_from_dict
from tapinfra.constructs.api import ApiGatewayAccount, RegionalApi, TenantKeys
from tapinfra.constructs.bucket import SecureBucket, access_log_bucket
from tapinfra.constructs.canary import HealthCanary
from tapinfra.constructs.dns import HEALTH_METRICS_REGION, HostedZone, RegionalDomain, UsEast1
from tapinfra.constructs.events import EventBus, EventForwarding
from tapinfra.constructs.monitoring import AlarmTopic, Metric, RegionAlarms, Watched, alarm, dashboard_body
from tapinfra.constructs.function import ApiFunction, drain_parameter
from tapinfra.constructs.keys import RegionKey, ServiceKeyGrant, logs_grant
from tapinfra.constructs.replication import BucketReplication
from tapinfra.constructs.table import GlobalTable
from tapinfra.constructs.waf import StageFirewall
from tapinfra.constructs.packaging import CodePackage
from tapinfra.emulator import provider_settings
from tapinfra.naming import NameRegistry, Namer
from tapinfra.provider import archive, aws
from tapinfra.region import Region

# CloudWatch alarms publish to KMS-encrypted SNS topics only if the key lets CloudWatch use it.
ALARMS_TO_ENCRYPTED_TOPICS = ServiceKeyGrant(
    sid="CloudWatchAlarmsToEncryptedTopics", service="cloudwatch.amazonaws.com",
    actions=("kms:Decrypt", "kms:GenerateDataKey*"),
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_DIR = PROJECT_ROOT / "lambda"
CANARY_DIR = PROJECT_ROOT / "canary" / "nodejs" / "node_modules"


def default_tags(config: TapConfig) -> dict[str, str]:
    return {
        "Environment": config.environment,
        "Application": config.app,
        "Owner": config.owner,
        "CostCenter": config.cost_center,
        "DataClassification": config.data_classification,
        "ManagedBy": "tapinfra",
    }


class TapStack(TerraformStack):
    """The whole two-region service for one :class:`TapConfig` (default: the embedded default).

    ``TapStack(App(), "tap-dev")`` is a complete deployment; any default can be overridden
    through the config.

    Attributes: ``primary`` and ``secondary`` (:class:`Region`), ``regions`` (both, primary
    first), and the constructs of each concern.
    """

    def __init__(self, scope: Construct, id_: str, config: TapConfig | None = None) -> None:
        # A TapConfig built in code skips the loader: validate it here too (ConfigError).
        config = config_from_dict((config or TapConfig()).to_dict())
        super().__init__(scope, id_)
        self.config = config
        self._backend(config)
        tags = default_tags(config)
        registry = NameRegistry()
        providers = {
            role: aws.provider.AwsProvider(
                self, f"aws-{role}", alias=role, region=name,
                default_tags=[aws.provider.AwsProviderDefaultTags(tags=tags)],
                **provider_settings(config.emulator),
            )
            for role, name in (("primary", config.regions.primary), ("secondary", config.regions.secondary))
        }
        identity = aws.data_aws_caller_identity.DataAwsCallerIdentity(self, "identity", provider=providers["primary"])
        partition = aws.data_aws_partition.DataAwsPartition(self, "partition", provider=providers["primary"])
        self.account_id = identity.account_id
        self.partition = partition.partition

        regions = []
        for role, name, peer in (("primary", config.regions.primary, config.regions.secondary),
                                 ("secondary", config.regions.secondary, config.regions.primary)):
            namer = Namer(config.app, config.environment, name, registry)
            key = RegionKey(
                self, f"{role}-key",
                provider=providers[role], region=name, namer=namer,
                account_id=self.account_id, partition=self.partition,
                grants=[logs_grant(name, self.account_id, self.partition), ALARMS_TO_ENCRYPTED_TOPICS],
            )
            regions.append(Region(role=role, name=name, peer_name=peer, provider=providers[role], namer=namer,
                                  key=key.key, account_id=self.account_id, partition=self.partition))
        self.primary, self.secondary = regions
        self.regions = tuple(regions)

        archive_provider = None
        if config.packaging.mode == "archive_file":
            archive_provider = archive.provider.ArchiveProvider(self, "archive", alias="packaging")
        self.packaging_provider = archive_provider
        self.function_package = CodePackage(
            self, "function-package", source_dir=LAMBDA_DIR, name="function",
            mode=config.packaging.mode, provider=archive_provider,
        )
        self._data_tier(config)
        self._api_tier(config)
        self._operations(config)
        if config.features.dns:
            self._dns(config, tags)

    def _data_tier(self, config: TapConfig) -> None:
        storage, protect = config.storage, not config.disposable
        self.log_buckets = {
            r.role: access_log_bucket(self, f"{r.role}-access-logs", region=r, storage=storage) for r in self.regions
        }
        self.data_buckets = {
            r.role: SecureBucket(
                self, f"{r.role}-data", region=r, name=r.namer.name("data", "s3"), storage=storage,
                log_bucket=self.log_buckets[r.role], protect=protect, expiration_days=storage.expiration_days,
            )
            for r in self.regions
        }
        self.replication = BucketReplication(
            self, "data-replication",
            source_region=self.primary, destination_region=self.secondary,
            source=self.data_buckets["primary"], destination=self.data_buckets["secondary"],
            storage_class=storage.replication_storage_class,
        )
        self.table = GlobalTable(self, "items-table", primary=self.primary, secondary=self.secondary,
                                 settings=config.table, disposable=config.disposable)
        self.output("table_name", self.table.table.name, "Name of the DynamoDB global table (the same in both regions).")
        self.output("table_arn", self.table.table.arn, "ARN of the global table in the primary region.")
        for r in self.regions:
            self.output(f"{r.role}_data_bucket", self.data_buckets[r.role].name,
                        f"Data bucket in the {r.role} region ({r.name})" + ("; replicated to the secondary." if r.is_primary else "; replica of the primary's."))
            self.output(f"{r.role}_access_log_bucket", self.log_buckets[r.role].name,
                        f"Server-access-log bucket in the {r.role} region ({r.name}).")
        self.output("replication_role_arn", self.replication.role.arn, "IAM role S3 assumes to replicate the data bucket.")

    def _api_tier(self, config: TapConfig) -> None:
        self.buses, self.drain_parameters, self.tenant_keys = {}, {}, {}
        self.functions, self.apis, self.firewalls = {}, {}, {}
        for r in self.regions:
            role = r.role
            self.buses[role] = EventBus(self, f"{role}-events", region=r)
            self.drain_parameters[role] = drain_parameter(self, f"{role}-drain", region=r) if config.features.drain_switch else None
            self.tenant_keys[role] = TenantKeys(self, f"{role}-tenant-keys", region=r, tenants=config.api.tenants,
                                                values_from=None if r.is_primary else self.tenant_keys["primary"])
            account = ApiGatewayAccount(self, f"{role}-apigw-account", region=r)
            fn = self.functions[role] = ApiFunction(
                self, f"{role}-function", region=r, settings=config.function, api=config.api, table=config.table,
                package=self.function_package, table_name=self.table.name, table_arn=self.table.arn_in(r),
                bus=self.buses[role], tenant_key_ids=self.tenant_keys[role].ids, drain_parameter=self.drain_parameters[role],
            )
            api = self.apis[role] = RegionalApi(self, f"{role}-api", region=r, settings=config.api,
                                                invoke_arn=fn.alias.invoke_arn, keys=self.tenant_keys[role], account=account)
            fn.allow_invoke_from(r, api.execution_arn, api.stage_name)
            if config.features.waf:
                self.firewalls[role] = StageFirewall(
                    self, f"{role}-waf", region=r, stage_arn=api.stage.arn, stage=api.stage,
                    rate_limit=config.api.waf_rate_limit, log_retention_days=config.api.log_retention_days)
            where = f"the {role} region ({r.name})"
            self.output(f"{role}_invoke_url", api.invoke_url, f"Invoke URL of the API stage in {where}.")
            self.output(f"{role}_api_id", api.rest_api.id, f"REST API id in {where}.")
            self.output(f"{role}_stage_name", api.stage.stage_name, f"Stage name in {where}.")
            self.output(f"{role}_function_name", fn.function.function_name, f"Lambda function in {where}.")
            self.output(f"{role}_alias_name", fn.alias.name, f"Alias API Gateway invokes in {where}.")
            self.output(f"{role}_api_key_ids", self.tenant_keys[role].ids,
                        f"Tenant -> API key id in {where}; read a key's value with `aws apigateway get-api-key --include-value --api-key <id>`.")

    def _operations(self, config: TapConfig) -> None:
        features, monitoring = config.features, config.monitoring
        self.canaries, self.forwarding, self.topics, self.alarms = {}, {}, {}, {}
        if features.canaries:
            self.canary_package = CodePackage(
                self, "canary-package", source_dir=CANARY_DIR, name="canary", prefix="nodejs/node_modules/",
                mode=config.packaging.mode, provider=self.packaging_provider,
            )
        for r in self.regions:
            role, api = r.role, self.apis[r.role]
            if features.event_forwarding:
                peer = "secondary" if r.is_primary else "primary"
                self.forwarding[role] = EventForwarding(self, f"{role}-forwarding", region=r,
                                                        bus=self.buses[role], peer_bus=self.buses[peer])
            if features.canaries:
                self.canaries[role] = HealthCanary(
                    self, f"{role}-canary", region=r, settings=monitoring, storage=config.storage,
                    package=self.canary_package, health_url=f"{api.invoke_url}/health", log_bucket=self.log_buckets[role],
                )
            self.topics[role] = AlarmTopic(self, f"{role}-alarm-topic", provider=r.provider, name=r.namer.name("alarms", "sns"),
                                           key_arn=r.key.arn, emails=monitoring.alarm_emails)
        watched = {r.role: self._watched(r) for r in self.regions}
        for r in self.regions:
            self.alarms[r.role] = RegionAlarms(self, f"{r.role}-alarms", region=r, settings=monitoring,
                                               topic_arn=self.topics[r.role].arn, watched=watched[r.role])
        self.dashboard = aws.cloudwatch_dashboard.CloudwatchDashboard(
            self, "dashboard", provider=self.primary.provider, dashboard_name=self.primary.namer.name("overview", "dashboard"),
            dashboard_body=dashboard_body([(r, watched[r.role]) for r in self.regions]),
        )
        self.output("dashboard_name", self.dashboard.dashboard_name, "CloudWatch dashboard with both regions' widgets (in the primary region).")
        for r in self.regions:
            self.output(f"{r.role}_alarm_topic_arn", self.topics[r.role].arn, f"SNS topic every alarm in {r.name} notifies.")
            if r.role in self.canaries:
                self.output(f"{r.role}_canary_name", self.canaries[r.role].canary.name, f"Synthetics canary probing /health in {r.name}.")

    def _dns(self, config: TapConfig, tags: dict[str, str]) -> None:
        settings = config.dns
        east, topic_arn = self._us_east_1(config, tags)
        self.zone = HostedZone(self, "zone", provider=self.primary.provider, settings=settings, east=east,
                               log_retention_days=config.api.log_retention_days)
        self.domains = {
            r.role: RegionalDomain(self, f"{r.role}-domain", region=r, zone_id=self.zone.zone_id, settings=settings, api=self.apis[r.role])
            for r in self.regions
        }
        for r in self.regions:
            check = self.domains[r.role].health_check
            alarm(self, f"{r.role}-health-check-alarm", provider=east.provider,
                  name=east.namer.name(f"{r.role}-health-check", "alarm"),
                  description=f"Route 53 health check of {r.name} failing", topic_arn=topic_arn,
                  settings=config.monitoring, threshold=1, comparison="LessThanThreshold",
                  metric=Metric("AWS/Route53", "HealthCheckStatus", {"HealthCheckId": check.id}, "Minimum"))
            self.output(f"{r.role}_health_check_id", check.id, f"Route 53 health check probing {r.name}'s own endpoint.")
        self.output("custom_domain_url", f"https://{settings.domain_name}",
                    f"The API behind Route 53 {settings.routing_policy} routing across both regions.")
        if self.zone.name_servers is not None:
            self.output("zone_name_servers", self.zone.name_servers, "Delegate the created zone to these name servers at its parent.")
            self.output("zone_ds_record", self.zone.ds_record, "DNSSEC DS record to publish at the parent zone.")

    def _us_east_1(self, config: TapConfig, tags: dict[str, str]) -> tuple[UsEast1, str]:
        """Route 53 publishes health-check metrics and takes DNSSEC keys and query logs only in
        us-east-1: use that region's context when it is one of ours, else a third aliased provider."""
        home = next((r for r in self.regions if r.name == HEALTH_METRICS_REGION), None)
        if home is not None:
            east = UsEast1(home.provider, home.namer, home.key.arn, self.account_id, self.partition)
            return east, self.topics[home.role].arn
        provider = aws.provider.AwsProvider(
            self, "aws-us-east-1", alias="us_east_1", region=HEALTH_METRICS_REGION,
            default_tags=[aws.provider.AwsProviderDefaultTags(tags=tags)],
            **provider_settings(config.emulator),
        )
        namer = Namer(config.app, config.environment, HEALTH_METRICS_REGION, self.primary.namer.registry)
        key = RegionKey(self, "us-east-1-key", provider=provider, region=HEALTH_METRICS_REGION, namer=namer,
                        account_id=self.account_id, partition=self.partition,
                        grants=[logs_grant(HEALTH_METRICS_REGION, self.account_id, self.partition), ALARMS_TO_ENCRYPTED_TOPICS])
        topic = AlarmTopic(self, "us-east-1-alarm-topic", provider=provider, name=namer.name("alarms", "sns"),
                           key_arn=key.key.arn, emails=config.monitoring.alarm_emails)
        return UsEast1(provider, namer, key.key.arn, self.account_id, self.partition), topic.arn

    def _watched(self, r: Region) -> Watched:
        api, fn = self.apis[r.role], self.functions[r.role]
        replication = None
        if r.is_primary:
            replication = (self.data_buckets["primary"].name, self.data_buckets["secondary"].name, self.replication.RULE_ID)
        return Watched(
            api_name=api.rest_api.name, stage_name=api.stage_name, function_name=fn.name, alias_name=self.config.function.alias_name,
            table_name=self.table.name,
            waf_name=self.firewalls[r.role].acl.name if r.role in self.firewalls else None,
            canary_name=self.canaries[r.role].name if r.role in self.canaries else None,
            s3_replication=replication,
        )

    def _backend(self, config: TapConfig) -> None:
        b = config.backend
        if b.type == "local":
            LocalBackend(self, path="terraform.tfstate")
            return
        backend = S3Backend(
            self,
            bucket=b.bucket,
            key=b.key,
            region=b.region or config.regions.primary,
            encrypt=True,
            kms_key_id=b.kms_key_id,
            dynamodb_table=b.dynamodb_table if b.lock == "dynamodb" else None,
        )
        if b.lock == "lockfile":
            backend.add_override("use_lockfile", True)

    def output(self, id_: str, value: str, description: str, sensitive: bool = False) -> TerraformOutput:
        return TerraformOutput(self, id_, value=value, description=description, sensitive=sensitive)
