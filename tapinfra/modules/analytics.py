"""Analytics module (``analytics``): Athena over the table's exports, in each region."""

from __future__ import annotations

from dataclasses import dataclass

from tapinfra.fields import setting
from tapinfra.modules.base import Module, Output, RegionContext, StackContext
from tapinfra.outputs import OutputSpec, register_output


# Athena refuses a per-query scan limit below 10 MB.
ATHENA_MIN_BYTES_SCANNED_CUTOFF = 10_485_760
# The Glue table over the exports, the same name in each region's database.
EXPORT_TABLE = "items_export"

_ON = "`analytics.enabled`"
ATHENA_WORKGROUP = register_output(OutputSpec(
    "athena_workgroup", "Athena workgroup for the table's exports in {region}.", scope="regional", when=_ON))
GLUE_DATABASE = register_output(OutputSpec(
    "glue_database", f"Glue database with the {EXPORT_TABLE} table over the exports in {{where}}'s data bucket.",
    scope="regional", when=_ON))
ATHENA_RESULTS_BUCKET = register_output(OutputSpec(
    "athena_results_bucket", "Athena query results (SSE-KMS) in {region}.", scope="regional", when=_ON))


@dataclass(frozen=True)
class AnalyticsConfig:
    """Analytics (optional module, off by default): Athena over the table's exports, in each region."""

    enabled: bool = setting(False, "Build analytics in each region: an Athena workgroup that enforces its settings (SSE-KMS results in a dedicated secure bucket, a scan limit per query) and a Glue table over the data bucket's exports/ prefix (DynamoDB exports to S3).")
    bytes_scanned_cutoff_per_query: int = setting(10 * 1024**3, "Athena cancels a query once it has scanned this many bytes (10 GiB: about USD 0.05 at USD 5 per TB).", minimum=ATHENA_MIN_BYTES_SCANNED_CUTOFF, maximum=1024**5)
    results_expiration_days: int = setting(30, "Days query results stay in the results bucket.", minimum=1, maximum=3650)


class AnalyticsModule(Module):
    """Builds :class:`~tapinfra.constructs.analytics.Analytics` (``<role>-analytics``) over each
    region's data bucket (the primary's exports, the secondary's replica of them)."""

    name = "analytics"
    constructs = "tapinfra.constructs.analytics"

    def name_rules(self):
        from tapinfra.naming import NameRule

        return {"athena_workgroup": NameRule(128, r"^[a-zA-Z0-9._-]+$", False),
                # Glue lowercases names; Athena queries them unquoted only with underscores (the caller swaps "-").
                "glue_database": NameRule(255, r"^[a-z0-9_-]+$", False, lowercase=True)}

    def enabled(self, config) -> bool:
        return config.analytics.enabled

    def build_region(self, ctx: RegionContext):
        from tapinfra.constructs.analytics import Analytics, AnalyticsProps

        c = ctx.config
        return Analytics(ctx.scope, f"{ctx.region.role}-analytics", AnalyticsProps(
            region=ctx.region, settings=c.analytics, storage=c.storage, data_bucket=ctx.data_bucket,
            log_bucket=ctx.access_log_bucket, table_attributes=ctx.stack.application.api.table_attributes,
            protection=ctx.protection)).result

    def outputs(self, ctx: StackContext) -> list[Output]:
        out = []
        for s in ctx.services:
            a = s.modules[self.name]
            out += [ATHENA_WORKGROUP.output(a.workgroup_name, s.region), GLUE_DATABASE.output(a.database_name, s.region),
                    ATHENA_RESULTS_BUCKET.output(a.results_bucket.name, s.region)]
        return out

    def diagram(self, d, arch, region) -> None:
        if region.of("aws_athena_workgroup"):
            d.node(f"{region.alias}_athena", "Athena workgroup + Glue table\nover the data bucket's exports/", region.alias)
            if f"{region.alias}_bucket" in d.nodes:
                d.edge(f"{region.alias}_athena", f"{region.alias}_bucket", "reads", "exports/")
