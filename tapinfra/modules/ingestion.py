"""S3 ingestion module (``ingestion``): objects uploaded under ``<tenant>/`` become items, in each region."""

from __future__ import annotations

from dataclasses import dataclass

from tapinfra.errors import Problem
from tapinfra.fields import LOG_RETENTION_DAYS, setting
from tapinfra.modules.base import Module, Output, RegionContext, StackContext
from tapinfra.outputs import URL, OutputSpec, register_output

_ON = "`ingestion.enabled`"
INGEST_BUCKET = register_output(OutputSpec(
    "ingest_bucket", "Upload JSON lines of items to <tenant>/... in this bucket ({region}).", scope="regional", when=_ON))
INGEST_FUNCTION_NAME = register_output(OutputSpec(
    "ingest_function_name", "Ingestion processor in {region}.", scope="regional", when=_ON))
INGEST_DEAD_LETTER_QUEUE_URL = register_output(OutputSpec(
    "ingest_dead_letter_queue_url", "Rejected uploads (with the reason) in {region}.", scope="regional", kind=URL,
    when=_ON))


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


class IngestionModule(Module):
    """Builds an :class:`~tapinfra.constructs.ingestion.IngestPipeline` (``<role>-ingestion``) per
    region, where the API function runs (its network, whose endpoints admit the processor's
    calls), watched by the region's collector."""

    name = "ingestion"
    constructs = "tapinfra.constructs.ingestion"

    def enabled(self, config) -> bool:
        return config.ingestion.enabled

    def checks(self, c, ok) -> list[Problem]:
        """The processor and the API function reserve from one regional pool, which keeps 100 unreserved."""
        from tapinfra.config import LAMBDA_UNRESERVED_MINIMUM

        i, f = c.ingestion, c.function
        ceiling = f.account_concurrency_limit - LAMBDA_UNRESERVED_MINIMUM
        if (ok("ingestion.reserved_concurrency", "function.reserved_concurrency", "function.account_concurrency_limit")
                and f.reserved_concurrency + i.reserved_concurrency > ceiling):
            return [Problem("ingestion.reserved_concurrency", i.reserved_concurrency,
                            f"at most function.account_concurrency_limit - {LAMBDA_UNRESERVED_MINIMUM} - function.reserved_concurrency "
                            f"= {ceiling - f.reserved_concurrency} (both functions reserve from the same regional pool)")]
        return []

    def build_region(self, ctx: RegionContext):
        from tapinfra.constructs.function import DrainSwitch, drain_parameter_name
        from tapinfra.constructs.ingestion import IngestPipeline, IngestPipelineProps

        c = ctx.config
        # The region's drain switch, as the API function reads it: the processor chooses the same writer.
        drain = None
        if c.features.drain_switch:
            name = drain_parameter_name(ctx.region)
            drain = DrainSwitch(name=name, arn=ctx.region.arn("ssm", f"parameter{name}"))
        pipeline = IngestPipeline(ctx.scope, f"{ctx.region.role}-ingestion", IngestPipelineProps(
            region=ctx.region, settings=c.ingestion, function=c.function, storage=c.storage,
            package=ctx.stack.function_package, table=ctx.stack.table, log_bucket=ctx.access_log_bucket,
            retention_days=c.table.item_retention_days, tenants=tuple(c.api.tenants), max_body_bytes=c.api.max_body_bytes,
            protection=ctx.protection, drain=drain, network=ctx.function.placement,
        ))
        if ctx.function.placement is not None:
            ctx.admit(pipeline.processor.statements)
        ctx.monitor.watch(pipeline.alarm_specs(), pipeline.dashboard_rows())
        return pipeline.result

    def outputs(self, ctx: StackContext) -> list[Output]:
        out = []
        for s in ctx.services:
            i = s.modules[self.name]
            out += [INGEST_BUCKET.output(i.bucket.name, s.region), INGEST_FUNCTION_NAME.output(i.function_name, s.region),
                    INGEST_DEAD_LETTER_QUEUE_URL.output(i.dead_letter_queue_url, s.region)]
        return out

    def diagram(self, d, arch, region) -> None:
        r = region.alias
        notification = next(iter(region.of("aws_s3_bucket_notification")), None)
        if notification is None:
            return
        d.node(f"{r}_ingest", "S3 ingest bucket\n<tenant>/*.jsonl", r, shape="folder")
        d.node(f"{r}_ingest_fn", "Lambda ingest processor\n+ dead-letter queue", r)
        d.edge(f"{r}_ingest", f"{r}_ingest_fn", "events", "object created")
        if f"{r}_table" in d.nodes:
            d.edge(f"{r}_ingest_fn", f"{r}_table", "traffic", "items")
