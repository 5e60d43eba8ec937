"""S3 ingestion pipeline (optional module): objects uploaded under ``<tenant>/`` become items.

Per region, like the table's copies it writes to: a producer uploads to either region's
ingest bucket (the other one when a region is down). Each object created there invokes the
processor (``ingest.handler``, in the application's zip, sharing its item model and
validation); it creates the object's items under the tenant its key names, on the copy of the
global table the API writes (the writer's in single-writer mode, this region's in any-region),
or sends the object's reference and the reason to the dead-letter queue, whose depth alarms
the region's topic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from constructs import Construct

from tapinfra.config import FunctionConfig, IngestionConfig, StorageConfig
from tapinfra.constructs.bucket import SecureBucket
from tapinfra.constructs.function import DrainSwitch, powertools_layer_arn
from tapinfra.constructs.monitoring import AlarmSpec, DashboardRow, Metric, alarm_doc
from tapinfra.constructs.packaging import CodePackage
from tapinfra.constructs.secure_function import SecureFunction
from tapinfra.constructs.table import GlobalTable
from tapinfra.runtime import SINGLE_WRITER, IngestEnv
from tapinfra.policy import Statement
from tapinfra.protection import Protection
from tapinfra.provider import aws
from tapinfra.region import Region

INGEST_DEAD_LETTERS = alarm_doc(
    "ingest-dead-letters", "at least `ingestion.dlq_alarm_threshold` messages wait in the dead-letter queue",
    "an upload was rejected (the message says why) or kept failing", "`ingestion` on")

if TYPE_CHECKING:
    from tapinfra.constructs.network import NetworkPlacement

from tapinfra.application import INGEST_HANDLER as HANDLER  # noqa: E402  (checked in the source by the config)


@dataclass(frozen=True)
class IngestPipelineProps:
    """What one region's ingestion pipeline is built from.

    :param region: where it runs (provider, namer, key). Required.
    :param settings: the ``ingestion`` section: object limits, the processor's size, the queue's
        retention and alarm. Required.
    :param function: the ``function`` section: the processor takes the API function's runtime and
        Powertools layer, so both run one item model. Required.
    :param storage: the ``storage`` section, for the ingest bucket. Required.
    :param package: the application's zip (``ingest.handler`` is in it). Required.
    :param table: the global table the processor writes items to. Required.
    :param log_bucket: the region's access-log bucket, for the ingest bucket's access logs. Required.
    :param retention_days: days an item lives after its last write (``table.item_retention_days``),
        as for an API write. Required.
    :param tenants: the tenants whose ``<tenant>/`` prefix the processor accepts (the API's). Required.
    :param max_body_bytes: the API's body limit, which bounds one line (one item). Required.
    :param protection: the deployment's :class:`~tapinfra.protection.Protection`: when disposable,
        the ingest bucket is emptied and deleted with the stack. Default: protected.
    :param drain: the region's drain switch (the API function's), so that in single-writer mode
        the processor writes where the API does. Default: None (no drain switch).
    :param network: where the API function runs (networking module): the processor runs there
        too. Default: None (outside a VPC).
    """

    region: Region
    settings: IngestionConfig
    function: FunctionConfig
    storage: StorageConfig
    package: CodePackage
    table: GlobalTable
    log_bucket: SecureBucket
    retention_days: int
    tenants: tuple[str, ...]
    max_body_bytes: int
    protection: Protection = Protection()
    drain: Optional[DrainSwitch] = None
    network: Optional["NetworkPlacement"] = None


class IngestProcessor(Construct):
    """The processor ``function``, its log group (created first), dead-letter queue and role.

    The role may do exactly what the code does: read objects under the configured tenants'
    prefixes of ``bucket_arn``, put items into this region's copy of the table, use the
    region's key, send to its dead-letter queue, write its own logs and X-Ray traces; in a
    VPC, what Lambda needs to attach it. ``statements`` lists all of it.

    Its creates follow the write model (``table.write_mode``) exactly as the API's do: in
    single-writer mode they run on the writer's copy, chosen by the same drain switches, so an
    ingested create and an API create of one id meet on one copy and one of them wins. The role
    may then also put items into the peer's copy, use the peer's key and read both regions'
    switches.

    :param props: the pipeline's (:class:`IngestPipelineProps`).
    :param bucket_arn: the ingest bucket it reads.
    """

    def __init__(self, scope: Construct, id_: str, props: IngestPipelineProps, *, bucket_arn: str) -> None:
        super().__init__(scope, id_)
        region, settings, function, table, drain = props.region, props.settings, props.function, props.table, props.drain
        tenants, namer = props.tenants, region.namer
        self.name = namer.name("ingest", "lambda")
        # What failed every retry (throttling, a bug) lands in the queue next to the rejected objects.
        secure = SecureFunction(self, region=region, name=self.name, log_retention_days=settings.log_retention_days,
                                dead_letter_queue_name=namer.name("ingest-dlq", "sqs"),
                                dead_letter_retention_days=settings.dlq_retention_days, network=props.network)
        self.log_group, self.dead_letter_queue = secure.log_group, secure.dead_letter_queue
        self.statements: tuple[Statement, ...] = (
            Statement(sid="ReadTenantObjects", actions=["s3:GetObject", "s3:GetObjectVersion"],
                      resources=[f"{bucket_arn}/{tenant}/*" for tenant in tenants]),
            table.grant_items(region, "PutItemsInThisRegionsTable", actions=("dynamodb:PutItem",)),
            *secure.statements,
            *self._writer_statements(region, table, drain),
            *secure.network_statements,
        )
        self.dead_letter_queue_url: str = self.dead_letter_queue.url
        environment = {
            IngestEnv.TABLE_NAME: table.name,
            IngestEnv.RETENTION_DAYS: str(props.retention_days),
            IngestEnv.INGEST_TENANTS: ",".join(tenants),
            IngestEnv.MAX_OBJECT_BYTES: str(settings.max_object_bytes),
            IngestEnv.MAX_ITEMS_PER_OBJECT: str(settings.max_items_per_object),
            IngestEnv.MAX_BODY_BYTES: str(props.max_body_bytes),
            IngestEnv.DEAD_LETTER_QUEUE_URL: self.dead_letter_queue_url,
            IngestEnv.WRITE_MODE: table.write_mode,
            IngestEnv.WRITE_REGIONS: ",".join(r.name for r in table.regions),
            IngestEnv.DRAIN_PARAMETER_NAME: drain.name if drain is not None else "",
            IngestEnv.POWERTOOLS_SERVICE_NAME: f"{namer.app}-ingest",
            IngestEnv.POWERTOOLS_METRICS_NAMESPACE: f"{namer.app}-{namer.environment}",
            IngestEnv.POWERTOOLS_LOG_LEVEL: "INFO",
        }
        self.function = secure.create(
            role_name=namer.name("ingest", "iam_role"), statements=self.statements, handler=HANDLER,
            runtime=function.runtime, memory_mb=settings.memory_mb, timeout_seconds=settings.timeout_seconds,
            reserved_concurrency=settings.reserved_concurrency, package=props.package,
            layers=[powertools_layer_arn(region, function)], environment=environment,
        )
        self.role, self.role_policy = secure.role, secure.role_policy
        self.function_name: str = self.function.function_name
        self.arn: str = self.function.arn

    @staticmethod
    def _writer_statements(region: Region, table: GlobalTable, drain: Optional[DrainSwitch]) -> list[Statement]:
        """Single-writer mode: the peer's copy (creates only), the peer's key, both regions' switches."""
        if table.write_mode != SINGLE_WRITER:
            return []
        peer = table.peer_of(region)
        found = [table.grant_items(peer, "PutItemsInThePeerRegionsTable", actions=("dynamodb:PutItem",)),
                 peer.key.grant("UseThePeerRegionsKey")]
        if drain is not None:
            found += [drain.grant_read("ReadDrainSwitch"), drain.in_region(peer).grant_read("ReadThePeerRegionsDrainSwitch")]
        return found


@dataclass(frozen=True)
class IngestPipelineResult:
    """What the outputs, the alarms and the tests need of one region's pipeline."""

    bucket: SecureBucket
    function_name: str
    dead_letter_queue_url: str
    dead_letter_queue_name: str


class IngestPipeline(Construct):
    """``bucket`` (a :class:`SecureBucket` whose object-created events invoke the processor),
    ``processor`` (:class:`IngestProcessor`), the ``permission`` that lets only this bucket of
    this account invoke it, from :class:`IngestPipelineProps`; :meth:`alarm_specs` watch the
    dead-letter queue's depth, ``result`` is what others may use. With a ``network``, the
    processor runs where the API function does (its calls then go through the region's
    endpoints: admit ``processor.statements`` there)."""

    def __init__(self, scope: Construct, id_: str, props: IngestPipelineProps) -> None:
        super().__init__(scope, id_)
        self.props = props
        region, settings = props.region, props.settings
        p, namer = region.provider, region.namer
        # Uploads are transient (the items live in the table): they expire, and are never transitioned.
        self.bucket = SecureBucket(
            self, "bucket", region=region, name=namer.name("ingest", "s3"), storage=props.storage,
            log_bucket=props.log_bucket, expiration_days=settings.object_expiration_days, transitions=False,
            protection=props.protection,
        )
        self.processor = IngestProcessor(self, "processor", props, bucket_arn=self.bucket.arn)
        self.permission = aws.lambda_permission.LambdaPermission(
            self, "invoke-from-bucket", provider=p,
            statement_id="AllowIngestBucket",
            action="lambda:InvokeFunction",
            function_name=self.processor.function_name,
            principal="s3.amazonaws.com",
            source_arn=self.bucket.arn,
            source_account=region.account_id,
        )
        self.bucket.invoke_on_object_created(self.processor.arn, self.permission)
        queue_name = self.processor.dead_letter_queue.name
        self._region, self._threshold = region, settings.dlq_alarm_threshold
        self.dead_letters = Metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": queue_name}, "Maximum")
        self.result = IngestPipelineResult(bucket=self.bucket, function_name=self.processor.function_name,
                                      dead_letter_queue_url=self.processor.dead_letter_queue_url,
                                      dead_letter_queue_name=queue_name)

    def metric_invocations(self, name: str = "Invocations") -> Metric:
        """The processor's ``Invocations`` (or ``Errors``, ``Throttles``, ...)."""
        return Metric("AWS/Lambda", name, {"FunctionName": self.processor.function_name})

    def alarm_specs(self) -> list[AlarmSpec]:
        """The dead-letter queue's depth: an upload was rejected or kept failing."""
        return [AlarmSpec(INGEST_DEAD_LETTERS, f"Rejected or failed uploads wait in the ingest dead-letter queue ({self._region.name})",
                          self._threshold, "notBreaching", metric=self.dead_letters, scope=self, id="dead-letters-alarm")]

    def dashboard_rows(self) -> list[DashboardRow]:
        return [DashboardRow.of("Ingestion: processed, failed, dead letters",
                                [self.metric_invocations(), self.metric_invocations("Errors"), self.dead_letters])]
