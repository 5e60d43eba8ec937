"""TapStack: the architecture in four phases.

foundation (providers, one typed Region per region) -> the global table and the modules'
global parts -> one RegionalService per region (with the modules' regional parts) -> the
cross-region links (replication, event forwarding, tenant key values, routing and health
checks, the modules' links, dashboard, outputs). Each phase hands typed values to the next;
the optional parts come only through the registered modules (tapinfra.modules).
"""

from __future__ import annotations

import difflib
from cdktf import LocalBackend, S3Backend, TerraformOutput, TerraformStack
from constructs import Construct

from tapinfra._version import __version__
from tapinfra.application import Application, load_application
from tapinfra.assets import canary_sources_dir
from tapinfra.config import TapConfig, config_from_dict
from tapinfra.constructs.dns import HostedZone, RegionalDomain
from tapinfra.constructs.events import EventForwarding
from tapinfra.constructs.health import endpoint_health_check
from tapinfra.constructs.monitoring import AlarmTopic, RegionMonitor, dashboard_body, health_check_alarm_spec
from tapinfra.constructs.packaging import CodePackage
from tapinfra.constructs.regional import RegionalService, RegionalServiceProps, RegionalServiceResult
from tapinfra.constructs.replication import BucketReplication
from tapinfra.constructs.table import GlobalTable
from tapinfra.foundation import ROUTE53_HOME_REGION, build_foundation, default_tags
from tapinfra.modules.base import Module, StackContext, enabled_modules
from tapinfra import outputs as out
from tapinfra.provider import archive, aws
from tapinfra.region import Region
from tapinfra.shortfalls import shortfalls

__all__ = ["TapStack", "default_tags"]


class TapStack(TerraformStack):
    """The whole two-region service for one :class:`TapConfig` (default: the embedded default,
    which deploys tapinfra's reference item API).

    ``TapStack(App(), "tap-dev", config)`` is a complete deployment of ``config.application``;
    any default can be overridden through the config, and any attribute through :meth:`find`.
    It may share its ``App`` with other stacks, and other constructs may be added to it.

    Exposes, for wiring your own resources:

    - ``application`` (:class:`~tapinfra.Application`): what is deployed (routes, models, handler);
    - ``primary``, ``secondary`` (:class:`~tapinfra.Region`): each region's provider, name, namer, key;
    - ``table`` (:class:`~tapinfra.GlobalTable`): ``name``, ``arn``, ``grant_items(region)``;
    - ``services``: one :class:`~tapinfra.RegionalServiceResult` per region, primary first
      (``api`` endpoint, ``function_name``, ``alias_name``, ``topic_arn``, buckets, ``bus``,
      ``monitor``, and ``modules``: each module's part there);
    - ``modules``: the enabled :class:`~tapinfra.Module` s, and ``context.parts``: each one's global part;
    - ``warnings``: what this deployment lacks that production needs (also the ``warnings`` output).
    """

    def __init__(self, scope: Construct, id_: str, config: TapConfig | None = None) -> None:
        # A TapConfig built in code skips the loader: validate it here too (ConfigError).
        config = config_from_dict((config or TapConfig()).to_dict())
        super().__init__(scope, id_)
        self.config = config
        self._helper_monitor: RegionMonitor | None = None  # us-east-1's, when it serves no region
        self._backend(config)

        # 1. foundation
        self.foundation = build_foundation(self, config)
        self.primary, self.secondary = self.foundation.regions
        self.regions = self.foundation.regions
        self.application: Application = load_application(config.application)
        packaging = archive.provider.ArchiveProvider(self, "archive", alias="packaging") \
            if config.packaging.mode == "archive_file" else None
        function_package = CodePackage(self, "function-package", files=self.application.files(), name="function",
                                       mode=config.packaging.mode, provider=packaging)
        canary_package = CodePackage(self, "canary-package", source_dir=canary_sources_dir(), name="canary",
                                     prefix="nodejs/node_modules/", mode=config.packaging.mode,
                                     provider=packaging) if config.features.canaries else None

        # 2. the global data: the table, then each enabled module's global part (Module.build_global)
        self.table = GlobalTable(self, "items-table", primary=self.primary, secondary=self.secondary,
                                 settings=config.table, protection=self.foundation.protection)
        self.modules: tuple[Module, ...] = enabled_modules(config)
        self.context = StackContext(stack=self, config=config, regions=self.regions, table=self.table,
                                    application=self.application, function_package=function_package)
        for module in self.modules:
            self.context.parts[module.name] = module.build_global(self.context)

        # 3. one service per region
        self.services: tuple[RegionalServiceResult, ...] = tuple(
            RegionalService(self, f"{region.role}-service", RegionalServiceProps(
                region=region, config=config, table=self.table, application=self.application,
                function_package=function_package, canary_package=canary_package, modules=self.context,
            )).result
            for region in self.regions
        )
        self.context.services = self.services
        primary, secondary = self.services

        # 4. across regions
        self._replication(primary, secondary)
        secondary.tenant_keys.take_values_from(primary.tenant_keys)
        if config.features.event_forwarding:
            for here, there in ((primary, secondary), (secondary, primary)):
                forwarding = EventForwarding(self, f"{here.region.role}-forwarding", region=here.region, bus=here.bus,
                                             peer_bus=there.bus)
                here.monitor.watch(forwarding.watch.alarm_specs(here.region))
        if config.features.dns:
            self._routing()
        else:
            self._health_checks()
        for module in self.modules:
            module.build_links(self.context)
        dashboard = aws.cloudwatch_dashboard.CloudwatchDashboard(
            self, "dashboard", provider=self.primary.provider,
            dashboard_name=self.primary.namer.name("overview", "dashboard"),
            dashboard_body=dashboard_body([s.monitor for s in self.services]),
        )
        self._outputs(dashboard.dashboard_name)
        for module in self.modules:
            for output in module.outputs(self.context):
                self.context.output(output)
        self.warnings: list[str] = shortfalls(config)
        if self.warnings:
            self.output(*out.WARNINGS.output(self.warnings))

    def _replication(self, primary: RegionalServiceResult, secondary: RegionalServiceResult) -> None:
        self.replication = BucketReplication(
            self, "data-replication", source_region=primary.region, destination_region=secondary.region,
            source=primary.data_bucket, destination=secondary.data_bucket,
            storage_class=self.config.storage.replication_storage_class,
        )
        primary.monitor.watch(self.replication.watch.alarm_specs(primary.region, self.config.monitoring))

    def _routing(self) -> None:
        """The zone, each region's domain, health check and record, and the checks' alarms,
        which live where Route 53 publishes its metrics (us-east-1)."""
        settings = self.config.dns
        east = self._monitor_in(self.foundation.route53_home())
        self.zone = HostedZone(self, "zone", provider=self.primary.provider, settings=settings, east=east.region,
                               log_retention_days=self.config.api.log_retention_days,
                               protection=self.foundation.protection)
        for service in self.services:
            region = service.region
            domain = RegionalDomain(self, f"{region.role}-domain", region=region, zone_id=self.zone.zone_id,
                                    settings=settings, api=service.api)
            self._watch_health_check(region, domain.health_check_id, east)
        self.output(*out.CUSTOM_DOMAIN_URL.output(f"https://{settings.domain_name}", policy=settings.routing_policy))
        if self.zone.name_servers is not None:
            self.output(*out.ZONE_NAME_SERVERS.output(self.zone.name_servers))
            self.output(*out.ZONE_DS_RECORD.output(self.zone.ds_record))

    def _health_checks(self) -> None:
        """Without a custom domain: the same health check on each region's own endpoint and its
        alarm (no record to take out of rotation)."""
        east = self._monitor_in(self.foundation.route53_home())
        for service in self.services:
            check = endpoint_health_check(self, f"{service.region.role}-health-check", region=service.region,
                                          settings=self.config.dns, api=service.api)
            self._watch_health_check(service.region, check.id, east)

    def _watch_health_check(self, region: Region, check_id: str, east: RegionMonitor) -> None:
        east.add(health_check_alarm_spec(self, f"{region.role}-health-check-alarm", checked=region, check_id=check_id))
        self.output(*out.HEALTH_CHECK_ID.output(check_id, region))

    def _monitor_in(self, region: Region) -> RegionMonitor:
        """The alarm collector in ``region``: a serving region's, else one (and a topic) for the helper region."""
        for service in self.services:
            if service.region.name == region.name:
                return service.monitor
        assert region.name == ROUTE53_HOME_REGION
        if self._helper_monitor is None:
            topic = AlarmTopic(self, f"{region.name}-alarm-topic", region=region, emails=self.config.monitoring.alarm_emails)
            self._helper_monitor = RegionMonitor(self, f"{region.name}-alarms", region=region,
                                                 settings=self.config.monitoring, topic_arn=topic.arn)
        return self._helper_monitor

    def _outputs(self, dashboard_name: str) -> None:
        """The core outputs, as declared in :mod:`tapinfra.outputs`."""
        self.output(*out.VERSION.output(__version__))
        self.output(*out.TABLE_NAME.output(self.table.table_name))
        self.output(*out.TABLE_ARN.output(self.table.arn))
        self.output(*out.REPLICATION_ROLE_ARN.output(self.replication.role_arn))
        self.output(*out.DASHBOARD_NAME.output(dashboard_name))
        for s in self.services:
            region = s.region
            self.output(*out.DATA_BUCKET.output(s.data_bucket.name, region))
            self.output(*out.ACCESS_LOG_BUCKET.output(s.access_log_bucket.name, region))
            self.output(*out.INVOKE_URL.output(s.api.invoke_url, region))
            self.output(*out.API_ID.output(s.api.id, region))
            self.output(*out.STAGE_NAME.output(s.api.deployed_stage_name, region))
            self.output(*out.FUNCTION_NAME.output(s.function_name, region))
            self.output(*out.ALIAS_NAME.output(s.alias_name, region))
            self.output(*out.API_KEY_IDS.output(s.tenant_keys.ids, region))
            self.output(*out.ALARM_TOPIC_ARN.output(s.topic_arn, region))
            if s.canary_name is not None:
                self.output(*out.CANARY_NAME.output(s.canary_name, region))
            if s.release is not None:
                self.output(*out.RELEASE.output(s.release.output(), region))

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

    def output(self, id_: str, value: object, description: str, sensitive: bool = False) -> TerraformOutput:
        return TerraformOutput(self, id_, value=value, description=description, sensitive=sensitive)

    def find(self, path: str) -> Construct:
        """The escape hatch: the construct at ``path`` (construct ids joined by ``/``, as in
        ``cdk.tf.json``'s ``//`` metadata: ``"primary-api/stage"``), so any attribute tapinfra
        sets can be overridden with cdktf's ``add_override`` (``stack.find(p).add_override(
        "description", "...")``). Raises KeyError naming the children that do exist."""
        node: Construct = self
        for part in path.strip("/").split("/"):
            child = node.node.try_find_child(part)
            if child is None:
                here = "/".join(c.node.id for c in node.node.scopes[1:]) or "the stack"
                children = sorted(c.node.id for c in node.node.children)
                close = difflib.get_close_matches(part, children, n=5, cutoff=0.5)
                raise KeyError(f"no construct {part!r} in {here}; "
                               + (f"closest: {', '.join(close)}; " if close else "")
                               + f"its {len(children)} children: {', '.join(children[:40])}" + (" ..." if len(children) > 40 else ""))
            node = child
        return node
