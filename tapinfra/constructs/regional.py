"""One region's whole tier, behind one typed props value and one typed result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Optional

from constructs import Construct

from tapinfra.application import Application
from tapinfra.config import TapConfig
from tapinfra.constructs.api import ApiEndpoint, ApiGatewayAccount, RegionalApi, TenantKeys
from tapinfra.constructs.bucket import SecureBucket, access_log_bucket
from tapinfra.constructs.canary import HealthCanary
from tapinfra.constructs.events import EventBus
from tapinfra.constructs.function import ApiFunction, DrainSwitch, drain_switch
from tapinfra.constructs.monitoring import AlarmTopic, RegionMonitor
from tapinfra.constructs.packaging import CodePackage
from tapinfra.constructs.release import Release
from tapinfra.constructs.table import GlobalTable
from tapinfra.constructs.waf import StageFirewall
from tapinfra.modules.base import FunctionParts, RegionContext, enabled_modules
from tapinfra.policy import Statement
from tapinfra.protection import Protection
from tapinfra.region import Region
from tapinfra.runtime import HEALTH_PATH

if TYPE_CHECKING:
    from tapinfra.modules.base import StackContext


@dataclass(frozen=True)
class RegionalServiceProps:
    """What a region's tier is built from.

    :param region: the region's context (provider, namer, key).
    :param config: the deployment's config (its sections say what to build).
    :param table: the global table; the function uses its copy in ``region``.
    :param application: what the function runs and the API serves.
    :param function_package: the application's zip (shared by both regions).
    :param canary_package: the canary's zip; None when ``features.canaries`` is off.
    :param modules: the stack's context for the enabled modules' hooks (``tapinfra.modules``);
        None builds the core tier alone.
    """

    region: Region
    config: TapConfig
    table: GlobalTable
    application: Application
    function_package: CodePackage
    canary_package: Optional[CodePackage] = None
    modules: Optional["StackContext"] = None


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
    monitor: RegionMonitor    # the region's alarms and dashboard rows: add yours with monitor.watch(...)
    drain: Optional[DrainSwitch]
    canary_name: Optional[str]  # token of the canary's name
    modules: Mapping[str, Any] = field(default_factory=dict)  # module name -> its build_region result
    release: Optional[Release] = None  # CodeDeploy's application and group (release.enabled)


class RegionalService(Construct):
    """Key-protected buckets, bus, drain switch, function, API, WAF, canary, alarm topic and
    alarms of one region, and each enabled module's part there (``Module.build_region``).
    ``result`` is everything others may use.

    Its parts are created in the enclosing scope under ``<role>-<part>`` ids: Terraform
    addresses stay what they were before this construct existed, so upgrading tapinfra never
    plans a replacement of a deployed resource for a refactor.
    """

    def __init__(self, scope: Construct, id_: str, props: RegionalServiceProps) -> None:
        super().__init__(scope, id_)
        region, config = props.region, props.config
        role, features = region.role, config.features
        storage = config.storage
        protection = Protection.of(config)

        log_bucket = access_log_bucket(scope, f"{role}-access-logs", region=region, storage=storage,
                                       protection=protection)
        data_bucket = SecureBucket(
            scope, f"{role}-data", region=region, name=region.namer.name("data", "s3"), storage=storage,
            log_bucket=log_bucket, protect=True, expiration_days=storage.expiration_days, protection=protection,
        )
        application = props.application
        bus = EventBus(scope, f"{role}-events", region=region, source=application.event_source)
        drain = drain_switch(scope, f"{role}-drain", region=region) if features.drain_switch else None
        tenant_keys = TenantKeys(scope, f"{role}-tenant-keys", region=region, tenants=config.api.tenants)
        account = ApiGatewayAccount(scope, f"{role}-apigw-account", region=region, settings=config.api,
                                    protection=protection)
        modules = enabled_modules(config) if props.modules is not None else ()
        parts = FunctionParts()
        for module in modules:
            parts = parts.merged(module.function_parts(props.modules, region))
        function = ApiFunction(
            scope, f"{role}-function", region=region, settings=config.function, api=config.api,
            table_settings=config.table, package=props.function_package, handler=application.handler,
            table=props.table, bus=bus, tenant_key_ids=tenant_keys.ids, drain=drain,
            network=parts.placement, extra_statements=parts.statements, extra_environment=parts.environment,
            released=config.release.enabled,
        )
        # What the function may do, and the data bucket (a network's endpoints pass exactly that).
        calls = [*function.statements, Statement(
            sid="ThisRegionsDataBucket", actions=["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
            resources=[data_bucket.arn, f"{data_bucket.arn}/*"])]
        for module in modules:
            module.admit(props.modules, region, calls)
        api = RegionalApi(scope, f"{role}-api", region=region, settings=config.api, target=function,
                          keys=tenant_keys, account=account, application=application)
        endpoint = api.endpoint
        function.allow_invoke_from(region, endpoint.execution_arn, endpoint.stage_name)
        firewall = None
        if features.waf:
            firewall = StageFirewall(scope, f"{role}-waf", region=region, endpoint=endpoint,
                                     rate_limit=config.api.waf_rate_limit, max_body_bytes=config.api.max_body_bytes,
                                     inspection_kb=config.api.waf_body_inspection_kb,
                                     log_retention_days=config.api.log_retention_days)
        canary = None
        if props.canary_package is not None:
            canary = HealthCanary(
                scope, f"{role}-canary", region=region, settings=config.monitoring, storage=storage,
                package=props.canary_package, health_url=f"{endpoint.invoke_url}{HEALTH_PATH}", log_bucket=log_bucket,
                protection=protection,
            )
        topic = AlarmTopic(scope, f"{role}-alarm-topic", region=region, emails=config.monitoring.alarm_emails)
        monitor = RegionMonitor(scope, f"{role}-alarms", region=region, settings=config.monitoring, topic_arn=topic.arn)
        # Each owner says what to watch of itself; the order is the dashboard's (and the alarms').
        thresholds = config.monitoring
        monitor.watch(api.alarm_specs(thresholds), api.dashboard_rows())
        monitor.watch(function.alarm_specs(thresholds), function.dashboard_rows())
        monitor.watch(props.table.alarm_specs(region, thresholds), props.table.dashboard_rows(region))
        for owner in (canary, firewall):
            if owner is not None:
                monitor.watch(owner.alarm_specs(thresholds), owner.dashboard_rows())
        release = (Release(scope, f"{role}-release", region=region, settings=config.release, monitoring=config.monitoring,
                           function=function, monitor=monitor) if config.release.enabled else None)
        built: dict[str, Any] = {}
        if modules:
            here = RegionContext(stack=props.modules, scope=scope, region=region,
                                 index=0 if region.is_primary else 1, data_bucket=data_bucket,
                                 access_log_bucket=log_bucket, topic_arn=topic.arn, monitor=monitor, function=parts,
                                 drain=drain)
            for module in modules:
                result = module.build_region(here)
                if result is not None:
                    built[module.name] = result
        self.result = RegionalServiceResult(
            region=region, api=endpoint, function_name=function.function_name, alias_name=function.alias_name,
            topic_arn=topic.arn, data_bucket=data_bucket, access_log_bucket=log_bucket, bus=bus,
            tenant_keys=tenant_keys, monitor=monitor, drain=drain,
            canary_name=canary.canary_name if canary is not None else None, modules=built, release=release,
        )
