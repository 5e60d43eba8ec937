"""TapStack: the architecture in four phases.

foundation (providers, one typed Region per region) -> the global table -> one
RegionalService per region -> the cross-region links (replication, event forwarding, tenant
key values, routing and health checks, dashboard). Each phase hands typed values to the next.
"""

from __future__ import annotations

import difflib
from cdktf import LocalBackend, S3Backend, TerraformOutput, TerraformStack
from constructs import Construct

from tapinfra._version import __version__
from tapinfra.application import Application, load_application
from tapinfra.assets import canary_sources_dir
from tapinfra.config import TapConfig, config_from_dict
from tapinfra.constructs.audit import AuditTrail
from tapinfra.constructs.aurora import GlobalDatabase
from tapinfra.constructs.dns import HostedZone, RegionalDomain
from tapinfra.constructs.events import EventForwarding
from tapinfra.constructs.health import endpoint_health_check
from tapinfra.constructs.monitoring import AlarmTopic, dashboard_body, health_check_alarm
from tapinfra.constructs.network import PrivateNetwork, interface_services
from tapinfra.constructs.packaging import CodePackage
from tapinfra.constructs.regional import RegionalService, RegionalServiceProps, RegionalServiceResult
from tapinfra.constructs.replication import BucketReplication
from tapinfra.constructs.table import GlobalTable
from tapinfra.foundation import ROUTE53_HOME_REGION, build_foundation, default_tags
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
      (``api`` endpoint, ``function_name``, ``alias_name``, ``topic_arn``, buckets, ``bus``);
    - ``warnings``: what this deployment lacks that production needs (also the ``warnings`` output).
    """

    def __init__(self, scope: Construct, id_: str, config: TapConfig | None = None) -> None:
        # A TapConfig built in code skips the loader: validate it here too (ConfigError).
        config = config_from_dict((config or TapConfig()).to_dict())
        super().__init__(scope, id_)
        self.config = config
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
        # the private networks, primary first (networking module)
        self.networks: tuple[PrivateNetwork, ...] = tuple(
            PrivateNetwork(self, f"{region.role}-network", region=region, settings=config.networking,
                           cidr=config.networking.primary_cidr if region.is_primary else config.networking.secondary_cidr,
                           interface_services=interface_services(drain_switch=config.features.drain_switch,
                                                                 database=config.aurora.enabled))
            for region in self.regions
        ) if config.networking.enabled else ()

        # 2. the global data: the table, and the Aurora global database (aurora module)
        self.table = GlobalTable(self, "items-table", primary=self.primary, secondary=self.secondary,
                                 settings=config.table, disposable=config.disposable)
        self.database = GlobalDatabase(
            self, "aurora", primary=self.primary, secondary=self.secondary, networks=self.networks,
            settings=config.aurora, disposable=config.disposable,
        ) if config.aurora.enabled else None

        # 3. one service per region
        self.services: tuple[RegionalServiceResult, ...] = tuple(
            RegionalService(self, f"{region.role}-service", RegionalServiceProps(
                region=region, config=config, table=self.table, application=self.application,
                function_package=function_package, canary_package=canary_package,
                network=self.networks[i] if self.networks else None,
                database=self.database.result.regions[i] if self.database is not None else None,
            )).result
            for i, region in enumerate(self.regions)
        )
        primary, secondary = self.services

        # 4. across regions
        self._replication(primary, secondary)
        secondary.tenant_keys.take_values_from(primary.tenant_keys)
        if config.features.event_forwarding:
            for here, there in ((primary, secondary), (secondary, primary)):
                forwarding = EventForwarding(self, f"{here.region.role}-forwarding", region=here.region, bus=here.bus,
                                             peer_bus=there.bus)
                here.alarms.watch_event_forwarding(forwarding.watch)
        if config.features.dns:
            self._routing()
        else:
            self._health_checks()
        self.audit = self._audit(primary) if config.audit.enabled else None
        if self.database is not None:
            self.database.add_alarms({s.region.role: s.topic_arn for s in self.services}, config.monitoring)
        for network in self.networks:
            network.seal()  # every user has admitted what it calls
        dashboard = aws.cloudwatch_dashboard.CloudwatchDashboard(
            self, "dashboard", provider=self.primary.provider,
            dashboard_name=self.primary.namer.name("overview", "dashboard"),
            dashboard_body=dashboard_body([(s.region, s.watched) for s in self.services]),
        )
        self._outputs(dashboard.dashboard_name)
        self._private_data_outputs()
        self.warnings: list[str] = shortfalls(config)
        if self.warnings:
            self.output("warnings", self.warnings, "What this deployment lacks that production needs, and the field that adds it.")

    def _replication(self, primary: RegionalServiceResult, secondary: RegionalServiceResult) -> None:
        self.replication = BucketReplication(
            self, "data-replication", source_region=primary.region, destination_region=secondary.region,
            source=primary.data_bucket, destination=secondary.data_bucket,
            storage_class=self.config.storage.replication_storage_class,
        )
        primary.alarms.watch_s3_replication(self.replication.watch)

    def _audit(self, primary: RegionalServiceResult) -> AuditTrail:
        """One multi-region trail, homed in the primary (its key admits this trail: foundation)."""
        c = self.config
        trail = AuditTrail(self, "audit", region=self.primary, name=self.foundation.trail_name, settings=c.audit,
                           storage=c.storage, monitoring=c.monitoring, log_bucket=primary.access_log_bucket,
                           topic_arn=primary.topic_arn, disposable=c.disposable)
        self.output("audit_trail_arn", trail.trail.arn, "Multi-region CloudTrail trail (home: the primary region).")
        self.output("audit_bucket", trail.bucket.name, "Bucket holding the trail's log and digest files (AWSLogs/<account>/).")
        self.output("audit_log_group", trail.log_group_name, "CloudWatch log group the trail delivers to.")
        return trail

    def _routing(self) -> None:
        """The zone, each region's domain, health check and record, and the checks' alarms,
        which live where Route 53 publishes its metrics (us-east-1)."""
        settings = self.config.dns
        east = self.foundation.route53_home()
        east_topic = self._topic_in(east.name)
        self.zone = HostedZone(self, "zone", provider=self.primary.provider, settings=settings, east=east,
                               log_retention_days=self.config.api.log_retention_days, disposable=self.config.disposable)
        for service in self.services:
            region = service.region
            domain = RegionalDomain(self, f"{region.role}-domain", region=region, zone_id=self.zone.zone_id,
                                    settings=settings, api=service.api)
            self._watch_health_check(region, domain.health_check_id, east, east_topic)
        self.output("custom_domain_url", f"https://{settings.domain_name}",
                    f"The API behind Route 53 {settings.routing_policy} routing across both regions.")
        if self.zone.name_servers is not None:
            self.output("zone_name_servers", self.zone.name_servers, "Delegate the created zone to these name servers at its parent.")
            self.output("zone_ds_record", self.zone.ds_record, "DNSSEC DS record to publish at the parent zone.")

    def _health_checks(self) -> None:
        """Without a custom domain: the same health check on each region's own endpoint and its
        alarm (no record to take out of rotation)."""
        east = self.foundation.route53_home()
        east_topic = self._topic_in(east.name)
        for service in self.services:
            check = endpoint_health_check(self, f"{service.region.role}-health-check", region=service.region,
                                          settings=self.config.dns, api=service.api)
            self._watch_health_check(service.region, check.id, east, east_topic)

    def _watch_health_check(self, region: Region, check_id: str, east: Region, east_topic: str) -> None:
        health_check_alarm(self, f"{region.role}-health-check-alarm", home=east, checked=region, check_id=check_id,
                           topic_arn=east_topic, settings=self.config.monitoring)
        self.output(f"{region.role}_health_check_id", check_id, f"Route 53 health check probing {region.name}'s own endpoint.")

    def _topic_in(self, region_name: str) -> str:
        """The alarm topic in ``region_name``: a serving region's, else one for the helper region."""
        for service in self.services:
            if service.region.name == region_name:
                return service.topic_arn
        assert region_name == ROUTE53_HOME_REGION
        return AlarmTopic(self, f"{region_name}-alarm-topic", region=self.foundation.route53_home(),
                          emails=self.config.monitoring.alarm_emails).arn

    def _outputs(self, dashboard_name: str) -> None:
        self.output("tapinfra_version", __version__, "The tapinfra release that synthesized this stack.")
        self.output("table_name", self.table.table.name, "Name of the DynamoDB global table (the same in both regions).")
        self.output("table_arn", self.table.arn, "ARN of the global table in the primary region.")
        self.output("replication_role_arn", self.replication.role_arn, "IAM role S3 assumes to replicate the data bucket.")
        self.output("dashboard_name", dashboard_name, "CloudWatch dashboard with both regions' widgets (in the primary region).")
        for s in self.services:
            role, name = s.region.role, s.region.name
            where = f"the {role} region ({name})"
            self.output(f"{role}_data_bucket", s.data_bucket.name, f"Data bucket in {where}"
                        + ("; replicated to the secondary." if s.region.is_primary else "; replica of the primary's."))
            self.output(f"{role}_access_log_bucket", s.access_log_bucket.name, f"Server-access-log bucket in {where}.")
            self.output(f"{role}_invoke_url", s.api.invoke_url, f"Invoke URL of the API stage in {where}.")
            self.output(f"{role}_api_id", s.api.id, f"REST API id in {where}.")
            self.output(f"{role}_stage_name", s.api.deployed_stage_name, f"Stage name in {where}.")
            self.output(f"{role}_function_name", s.function_name, f"Lambda function in {where}.")
            self.output(f"{role}_alias_name", s.alias_name, f"Alias API Gateway invokes in {where}.")
            self.output(f"{role}_api_key_ids", s.tenant_keys.ids,
                        f"Tenant -> API key id in {where}; read a key's value with `aws apigateway get-api-key --include-value --api-key <id>`.")
            self.output(f"{role}_alarm_topic_arn", s.topic_arn, f"SNS topic every alarm in {name} notifies.")
            if s.canary_name is not None:
                self.output(f"{role}_canary_name", s.canary_name, f"Synthetics canary probing /health in {name}.")
            if s.analytics is not None:
                self.output(f"{role}_athena_workgroup", s.analytics.workgroup_name, f"Athena workgroup for the table's exports in {name}.")
                self.output(f"{role}_glue_database", s.analytics.database_name,
                            f"Glue database with the {s.analytics.table_name} table over the exports in {where}'s data bucket.")
                self.output(f"{role}_athena_results_bucket", s.analytics.results_bucket.name, f"Athena query results (SSE-KMS) in {name}.")
            if s.ingestion is not None:
                self.output(f"{role}_ingest_bucket", s.ingestion.bucket.name,
                            f"Upload JSON lines of items to <tenant>/... in this bucket ({name}).")
                self.output(f"{role}_ingest_function_name", s.ingestion.function_name, f"Ingestion processor in {name}.")
                self.output(f"{role}_ingest_dead_letter_queue_url", s.ingestion.dead_letter_queue_url,
                            f"Rejected uploads (with the reason) in {name}.")

    def _private_data_outputs(self) -> None:
        for network in self.networks:
            role, name = network.region.role, network.region.name
            self.output(f"{role}_vpc_id", network.result.vpc_id, f"VPC the function runs in, in {name}.")
            self.output(f"{role}_private_subnet_ids", list(network.result.private_subnet_ids),
                        f"Private subnets (no route to the internet unless networking.nat_gateways) in {name}.")
        if self.database is None:
            return
        db = self.database.result
        self.output("aurora_global_cluster_id", db.global_cluster_id, "Aurora global database identifier.")
        self.output("aurora_writer_endpoint", db.writer_endpoint,
                    "The global writer endpoint: follows the writer across a switchover or failover.")
        for regional in db.regions:
            role, name = regional.region.role, regional.region.name
            self.output(f"{role}_aurora_endpoint", regional.endpoint,
                        f"Cluster endpoint in {name}" + (" (the writer)." if regional.region.is_primary
                                                         else " (answers writes only after a switchover or failover)."))
            self.output(f"{role}_aurora_reader_endpoint", regional.reader_endpoint, f"Reader endpoint in {name}.")
            self.output(f"{role}_aurora_secret_arn", regional.secret.arn,
                        f"Master user secret (JSON username/password) in {name}; the function there may read it.")

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
