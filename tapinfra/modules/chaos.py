"""Chaos module (``chaos``): FIS experiment templates in each region, stopped by the stack's alarms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from tapinfra.fields import LOG_RETENTION_DAYS, setting
from tapinfra.modules.base import Module, Output, RegionContext, StackContext
from tapinfra.outputs import OutputSpec, register_output

# FIS runs an action for at most 12 hours.
FIS_MAX_ACTION_MINUTES = 720
REPLICATION_PAUSED = "replication-paused"
# The experiments the constructs build (tapinfra.constructs.chaos.EXPERIMENTS), by name: each
# has its template id output, which `tapinfra drill --experiment` reads.
EXPERIMENT_NAMES = (REPLICATION_PAUSED,)

_ON = "`chaos.enabled`"


def _template_id(experiment: str) -> OutputSpec:
    return register_output(OutputSpec(
        f"chaos_{experiment.replace('-', '_')}_template_id",
        f"FIS experiment template {experiment} in {{region}} (tapinfra drill --region {{role}} --experiment {experiment}).",
        scope="regional", when=_ON))


TEMPLATE_IDS: Mapping[str, OutputSpec] = {name: _template_id(name) for name in EXPERIMENT_NAMES}
CHAOS_LOG_GROUP = register_output(OutputSpec(
    "chaos_log_group", "Log group of the FIS experiments in {region}.", scope="regional", when=_ON))


def template_id_output(experiment: str) -> OutputSpec:
    """The output holding the template id of ``experiment`` (one per region)."""
    spec = TEMPLATE_IDS.get(experiment)
    if spec is None:
        raise ValueError(f"chaos: the experiment {experiment!r} declares no template id output "
                         "(tapinfra/modules/chaos.py EXPERIMENT_NAMES)")
    return spec


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
        from tapinfra.constructs.chaos import ChaosExperiments, ChaosExperimentsProps

        return ChaosExperiments(ctx.scope, f"{ctx.region.role}-chaos", ChaosExperimentsProps(
            region=ctx.region, settings=ctx.config.chaos, table_arn=ctx.stack.table.arn_in(ctx.region),
            alarm_arns={stem: alarm.arn for stem, alarm in ctx.monitor.alarms.items()},
        )).result

    def outputs(self, ctx: StackContext) -> list[Output]:
        out = []
        for s in ctx.services:
            chaos = s.modules[self.name]
            out += [template_id_output(experiment).output(template_id, s.region)
                    for experiment, template_id in chaos.template_ids.items()]
            out.append(CHAOS_LOG_GROUP.output(chaos.log_group_name, s.region))
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
