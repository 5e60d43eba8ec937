"""One region's whole tier, behind one typed props value and one typed result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from constructs import Construct

from tapinfra.application import Application
from tapinfra.config import TapConfig
from tapinfra.constructs.analytics import Analytics, AnalyticsResult
from tapinfra.constructs.api import ApiEndpoint, ApiGatewayAccount, RegionalApi, TenantKeys
from tapinfra.constructs.bucket import SecureBucket, access_log_bucket
from tapinfra.constructs.canary import HealthCanary
from tapinfra.constructs.events import EventBus
from tapinfra.constructs.function import ApiFunction, DrainSwitch, drain_switch
from tapinfra.constructs.ingestion import IngestionResult, IngestPipeline
from tapinfra.constructs.monitoring import AlarmTopic, RegionAlarms, Watched
from tapinfra.constructs.packaging import CodePackage
from tapinfra.constructs.table import GlobalTable
from tapinfra.constructs.waf import StageFirewall
from tapinfra.policy import Statement
from tapinfra.region import Region
from tapinfra.runtime import HEALTH_PATH

if TYPE_CHECKING:
    from tapinfra.constructs.aurora import RegionalDatabase
    from tapinfra.constructs.network import PrivateNetwork


@dataclass(frozen=True)
class RegionalServiceProps:
    """What a region's tier is built from.

    :param region: the region's context (provider, namer, key).
    :param config: the deployment's config (its sections say what to build).
    :param table: the global table; the function uses its copy in ``region``.
    :param application: what the function runs and the API serves.
    :param function_package: the application's zip (shared by both regions).
    :param canary_package: the canary's zip; None when ``features.canaries`` is off.
    :param network: the region's private network; None when ``networking`` is off.
    :param database: the global database's cluster in ``region``; None when ``aurora`` is off.
    """

    region: Region
    config: TapConfig
    table: GlobalTable
    application: Application
    function_package: CodePackage
    canary_package: Optional[CodePackage] = None
    network: Optional["PrivateNetwork"] = None
    database: Optional["RegionalDatabase"] = None


@dataclass(frozen=True)
class RegionalServiceResult:
    """What the cross-region links, the outputs and the dashboard need of one region."""

    region: Region
    api: ApiEndpoint
    function_name: str        # token of the function's name
    alias_name: str           # token of the alias's name
    topic_arn: str            # the SNS topic every alarm of the region notifies
    data_bucket: SecureBucket
    access_log_bucket: SecureBucket
    bus: EventBus
    tenant_keys: TenantKeys
    alarms: RegionAlarms
    watched: Watched          # names the dashboard shows
    drain: Optional[DrainSwitch]
    canary_name: Optional[str]  # token of the canary's name
    analytics: Optional[AnalyticsResult] = None   # when the analytics module is on
    ingestion: Optional[IngestionResult] = None   # when the ingestion module is on


class RegionalService(Construct):
    """Key-protected buckets, bus, drain switch, function, API, WAF, canary, alarm topic and
    alarms of one region. ``result`` is everything others may use.

    Its parts are created in the enclosing scope under ``<role>-<part>`` ids: Terraform
    addresses stay what they were before this construct existed, so upgrading tapinfra never
    plans a replacement of a deployed resource for a refactor.
    """

    def __init__(self, scope: Construct, id_: str, props: RegionalServiceProps) -> None:
        super().__init__(scope, id_)
        region, config = props.region, props.config
        role, features = region.role, config.features
        storage = config.storage

        log_bucket = access_log_bucket(scope, f"{role}-access-logs", region=region, storage=storage,
                                       disposable=config.disposable)
        data_bucket = SecureBucket(
            scope, f"{role}-data", region=region, name=region.namer.name("data", "s3"), storage=storage,
            log_bucket=log_bucket, protect=not config.disposable, expiration_days=storage.expiration_days,
            disposable=config.disposable,
        )
        application = props.application
        bus = EventBus(scope, f"{role}-events", region=region, source=application.event_source)
        drain = drain_switch(scope, f"{role}-drain", region=region) if features.drain_switch else None
        tenant_keys = TenantKeys(scope, f"{role}-tenant-keys", region=region, tenants=config.api.tenants)
        account = ApiGatewayAccount(scope, f"{role}-apigw-account", region=region, settings=config.api,
                                    disposable=config.disposable)
        function = ApiFunction(
            scope, f"{role}-function", region=region, settings=config.function, api=config.api,
            table_settings=config.table, package=props.function_package, handler=application.handler,
            table=props.table, bus=bus,
            tenant_key_ids=tenant_keys.ids, drain=drain,
            network=props.network.result.placement if props.network is not None else None,
            database_secret=props.database.secret if props.database is not None else None,
        )
        if props.network is not None:
            # The endpoints pass what the function may do, and the data bucket (S3's gateway).
            props.network.admit([*function.statements, Statement(
                sid="ThisRegionsDataBucket", actions=["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                resources=[data_bucket.arn, f"{data_bucket.arn}/*"])])
        api = RegionalApi(scope, f"{role}-api", region=region, settings=config.api, target=function,
                          keys=tenant_keys, account=account, application=application)
        endpoint = api.endpoint
        function.allow_invoke_from(region, endpoint.execution_arn, endpoint.stage_name)
        firewall = None
        if features.waf:
            firewall = StageFirewall(scope, f"{role}-waf", region=region, stage=api.stage, stage_arn=endpoint.stage_arn,
                                     rate_limit=config.api.waf_rate_limit, max_body_bytes=config.api.max_body_bytes,
                                     inspection_kb=config.api.waf_body_inspection_kb,
                                     log_retention_days=config.api.log_retention_days)
        canary = None
        if props.canary_package is not None:
            canary = HealthCanary(
                scope, f"{role}-canary", region=region, settings=config.monitoring, storage=storage,
                package=props.canary_package, health_url=f"{endpoint.invoke_url}{HEALTH_PATH}", log_bucket=log_bucket,
                disposable=config.disposable,
            )
        topic = AlarmTopic(scope, f"{role}-alarm-topic", region=region, emails=config.monitoring.alarm_emails)
        watched = Watched(
            api_name=endpoint.name, stage_name=endpoint.stage_name, function_name=function.name,
            alias_name=config.function.alias_name, table_name=props.table.name,
            reserved_concurrency=config.function.reserved_concurrency,
            waf_name=firewall.name if firewall is not None else None,
            canary_name=canary.name if canary is not None else None,
        )
        alarms = RegionAlarms(scope, f"{role}-alarms", region=region, settings=config.monitoring,
                              topic_arn=topic.arn, watched=watched)
        function.watch_write_conflicts(topic_arn=topic.arn, settings=config.monitoring)  # any-region mode only
        analytics = ingestion = None
        if config.analytics.enabled:
            analytics = Analytics(scope, f"{role}-analytics", region=region, settings=config.analytics, storage=storage,
                                  data_bucket=data_bucket, log_bucket=log_bucket, disposable=config.disposable,
                                  table_attributes=application.api.table_attributes).result
        if config.ingestion.enabled:
            pipeline = IngestPipeline(
                scope, f"{role}-ingestion", region=region, settings=config.ingestion, function=config.function,
                storage=storage, monitoring=config.monitoring, package=props.function_package, table=props.table,
                retention_days=config.table.item_retention_days, tenants=config.api.tenants,
                max_body_bytes=config.api.max_body_bytes, log_bucket=log_bucket, topic_arn=topic.arn,
                disposable=config.disposable, network=props.network.result.placement if props.network is not None else None,
            )
            if props.network is not None:
                props.network.admit(pipeline.processor.statements)
            ingestion = pipeline.result
        self.result = RegionalServiceResult(
            region=region, api=endpoint, function_name=function.function_name, alias_name=function.alias_name,
            topic_arn=topic.arn, data_bucket=data_bucket, access_log_bucket=log_bucket, bus=bus,
            tenant_keys=tenant_keys, alarms=alarms, watched=watched, drain=drain,
            canary_name=canary.canary.name if canary is not None else None,
            analytics=analytics, ingestion=ingestion,
        )
