"""Analytics module (``analytics``): Athena over the table's exports, in each region."""

from __future__ import annotations

from dataclasses import dataclass

from tapinfra.fields import setting
from tapinfra.modules.base import Module, Output, RegionContext, StackContext


# Athena refuses a per-query scan limit below 10 MB.
ATHENA_MIN_BYTES_SCANNED_CUTOFF = 10_485_760


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
        from tapinfra.constructs.analytics import Analytics

        c = ctx.config
        return Analytics(ctx.scope, f"{ctx.region.role}-analytics", region=ctx.region, settings=c.analytics,
                         storage=c.storage, data_bucket=ctx.data_bucket, log_bucket=ctx.access_log_bucket,
                         disposable=c.disposable, table_attributes=ctx.stack.application.api.table_attributes).result

    def outputs(self, ctx: StackContext) -> list[Output]:
        out = []
        for s in ctx.services:
            a, role, name = s.modules[self.name], s.region.role, s.region.name
            out += [
                Output(f"{role}_athena_workgroup", a.workgroup_name, f"Athena workgroup for the table's exports in {name}."),
                Output(f"{role}_glue_database", a.database_name,
                       f"Glue database with the {a.table_name} table over the exports in the {role} region ({name})'s data bucket."),
                Output(f"{role}_athena_results_bucket", a.results_bucket.name, f"Athena query results (SSE-KMS) in {name}."),
            ]
        return out

    def diagram(self, d, arch, region) -> None:
        if region.of("aws_athena_workgroup"):
            d.node(f"{region.alias}_athena", "Athena workgroup + Glue table\nover the data bucket's exports/", region.alias)
            if f"{region.alias}_bucket" in d.nodes:
                d.edge(f"{region.alias}_athena", f"{region.alias}_bucket", "reads", "exports/")
