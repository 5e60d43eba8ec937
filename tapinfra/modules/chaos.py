"""Chaos module (``chaos``): FIS experiment templates in each region, stopped by the stack's alarms."""

from __future__ import annotations

from dataclasses import dataclass

from tapinfra.fields import LOG_RETENTION_DAYS, setting
from tapinfra.modules.base import Module, Output, RegionContext, StackContext

# FIS runs an action for at most 12 hours.
FIS_MAX_ACTION_MINUTES = 720


@dataclass(frozen=True)
class ChaosConfig:
    """Failures rehearsed on purpose (optional module, off by default): FIS experiment templates in each region, stopped by the stack's alarms."""

    enabled: bool = setting(False, "Build, in each region, the FIS experiment template replication-paused (the global table's replication to and from the region's replica paused) with the region's API 5xx-rate and function error-rate alarms as stop conditions, its least-privilege role and a KMS-encrypted log group. `tapinfra drill --region R --experiment replication-paused` runs it.")
    duration_minutes: int = setting(10, "How long the experiment's action lasts (FIS ends it then, or earlier on a stop condition or when the drill stops it).", minimum=1, maximum=FIS_MAX_ACTION_MINUTES)
    log_retention_days: int = setting(365, "Retention of the experiments' log group (a year, like every log group here: CKV_AWS_338).", choices=LOG_RETENTION_DAYS)


class ChaosModule(Module):
    """Builds :class:`~tapinfra.constructs.chaos.ChaosExperiments` (``<role>-chaos-*``) per region, after
    the region's alarms exist (its templates stop on them); ``tapinfra drill --experiment`` runs one."""

    name = "chaos"
    constructs = "tapinfra.constructs.chaos"

    def enabled(self, config) -> bool:
        return config.chaos.enabled

    def build_region(self, ctx: RegionContext):
        from tapinfra.constructs.chaos import ChaosExperiments

        return ChaosExperiments(
            ctx.scope, f"{ctx.region.role}-chaos", region=ctx.region, settings=ctx.config.chaos,
            table_arn=ctx.stack.table.arn_in(ctx.region),
            alarm_arns={stem: alarm.arn for stem, alarm in ctx.monitor.alarms.items()},
        ).result

    def outputs(self, ctx: StackContext) -> list[Output]:
        from tapinfra.constructs.chaos import output_name

        out = []
        for s in ctx.services:
            chaos, role, name = s.modules[self.name], s.region.role, s.region.name
            for experiment, template_id in chaos.template_ids.items():
                out.append(Output(output_name(role, experiment), template_id,
                                  f"FIS experiment template {experiment} in {name} (tapinfra drill --region {role} "
                                  f"--experiment {experiment})."))
            out.append(Output(f"{role}_chaos_log_group", chaos.log_group_name, f"Log group of the FIS experiments in {name}."))
        return out

    def diagram(self, d, arch, region) -> None:
        from tapinfra.constructs.chaos import EXPERIMENT_TAG

        templates = region.of("aws_fis_experiment_template")
        if not templates:
            return
        names = ", ".join(sorted(str((t.get("tags") or {}).get(EXPERIMENT_TAG, "?")) for t in templates))
        # A note, no edge: the diagram's edge kinds are traffic, health, replication, events and reads.
        d.node(f"{region.alias}_chaos", f"FIS experiment templates\n{names}\nstopped by the region's alarms",
               region.alias, shape="note")
