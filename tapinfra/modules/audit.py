"""Audit trail module (``audit``): one multi-region CloudTrail, homed in the primary region."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from tapinfra.errors import Problem
from tapinfra.fields import LOG_RETENTION_DAYS, setting
from tapinfra.modules.base import Module, Output, StackContext
from tapinfra.outputs import OutputSpec, register_output

_ON = "`audit.enabled`"
AUDIT_TRAIL_ARN = register_output(OutputSpec(
    "audit_trail_arn", "Multi-region CloudTrail trail (home: the primary region).", when=_ON))
AUDIT_BUCKET = register_output(OutputSpec(
    "audit_bucket", "Bucket holding the trail's log and digest files (AWSLogs/<account>/).", when=_ON))
AUDIT_LOG_GROUP = register_output(OutputSpec("audit_log_group", "CloudWatch log group the trail delivers to.", when=_ON))


@dataclass(frozen=True)
class AuditConfig:
    """Audit trail (optional module, off by default): one multi-region CloudTrail in the primary region."""

    enabled: bool = setting(False, "Build the audit trail: a multi-region CloudTrail (global service events, log file validation, the primary's key), its secure bucket, delivery to a CloudWatch log group, and an alarm on changes to the trail itself.")
    log_retention_days: int = setting(365, "Retention of the trail's CloudWatch log group.", choices=LOG_RETENTION_DAYS)
    log_file_expiration_days: Optional[int] = setting(2557, "Days log files stay in the trail bucket (2557: seven years); null keeps them. Must exceed storage.transition_to_glacier_days.", minimum=1, maximum=36500)


class AuditModule(Module):
    """Builds the :class:`~tapinfra.constructs.audit.AuditTrail` (``audit``) once both regions
    exist (it logs to the primary's access-log bucket and alarms the primary's topic); the
    primary's key admits this trail (foundation)."""

    name = "audit"
    constructs = "tapinfra.constructs.audit"

    def name_rules(self):
        from tapinfra.naming import NameRule

        return {"cloudtrail": NameRule(128, r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,126}[a-zA-Z0-9]$", False),
                "metric_filter": NameRule(512, r"^[^:*]+$", False)}

    def enabled(self, config) -> bool:
        return config.audit.enabled

    def key_grants(self, foundation, role, region_name, namer) -> list:
        """The trail encrypts with the primary's key: its policy admits this trail only. The trail's
        name is claimed here, first (``foundation.trail_name``), since the key needs it."""
        from tapinfra.constructs.audit import cloudtrail_key_grants, trail_name

        if role != "primary":
            return []
        foundation.trail_name = trail_name(namer)
        return cloudtrail_key_grants(foundation.partition, region_name, foundation.account_id, foundation.trail_name)

    def checks(self, c, ok) -> list[Problem]:
        """Log files expire after they move to Glacier (S3 refuses an expiration before a transition)."""
        a = c.audit
        if (ok("audit.log_file_expiration_days", "storage.transition_to_glacier_days")
                and a.log_file_expiration_days is not None and a.log_file_expiration_days <= c.storage.transition_to_glacier_days):
            return [Problem("audit.log_file_expiration_days", a.log_file_expiration_days,
                            f"more than storage.transition_to_glacier_days ({c.storage.transition_to_glacier_days}; "
                            "S3 refuses an expiration before a transition), or null")]
        return []

    def build_links(self, ctx: StackContext) -> None:
        from tapinfra.constructs.audit import AuditTrail, AuditTrailProps

        c, primary = ctx.config, ctx.services[0]
        trail = AuditTrail(ctx.stack, "audit", AuditTrailProps(
            region=primary.region, name=ctx.stack.foundation.trail_name, settings=c.audit, storage=c.storage,
            log_bucket=primary.access_log_bucket, protection=ctx.protection))
        primary.monitor.watch(trail.alarm_specs(), trail.dashboard_rows())
        ctx.parts[self.name] = trail

    def outputs(self, ctx: StackContext) -> list[Output]:
        trail = ctx.parts[self.name].result
        return [AUDIT_TRAIL_ARN.output(trail.trail_arn), AUDIT_BUCKET.output(trail.bucket_name),
                AUDIT_LOG_GROUP.output(trail.log_group_name)]

    def diagram(self, d, arch, region) -> None:
        for trail in region.of("aws_cloudtrail"):
            d.node(f"{region.alias}_cloudtrail",
                   "CloudTrail " + ("multi-region " if trail.get("is_multi_region_trail") else "") + "trail\n→ S3 + CloudWatch Logs",
                   region.alias, shape="note")
