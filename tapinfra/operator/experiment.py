"""``tapinfra drill --experiment NAME``: the failover drill, with a FIS experiment as the impairment.

Instead of turning the region's drain switch on, the drill starts the ``chaos`` module's
experiment template ``NAME`` in the drilled region (``fis.start_experiment``), measures what the
drill measures (time to unhealthy, to fail over, to recover), and stops the experiment at the
end, on a timeout, an error, Ctrl-C or SIGTERM. An experiment that ends by itself (its
duration, or one of its stop-condition alarms) ends the failover wait: the drill reports its
final state and how FIS explains it.

The experiment names come from the synthesized stack (each template's ``Experiment`` tag), the
template ids from the deployment's outputs (``<role>_chaos_<name>_template_id``).
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Optional

from tapinfra.cli.exits import NOT_OK, OK, InputError
from tapinfra.errors import Problem
from tapinfra.operator.drill import (OFF, ON, ClientFactory, Drill, DrillError, DrillPlan, DrillResult, Observation, Resolver,
                                     _ignore_sigint, _restore_sigint, boto3_clients, plan_drill, system_resolver)
from tapinfra.operator.model import Architecture, architecture_from_args
from tapinfra.outputs import StackOutputs

TEMPLATE_TYPE = "aws_fis_experiment_template"
# FIS experiment states (ExperimentStatus) after which nothing more is injected.
TERMINAL = frozenset({"completed", "stopped", "failed", "cancelled"})


def experiments_in(arch: Architecture, role: str) -> dict[str, Any]:
    """Experiment name -> its template (a model Resource) in the ``role`` region of the stack."""
    from tapinfra.constructs.chaos import EXPERIMENT_TAG

    found = {}
    for template in arch.region(role).of(TEMPLATE_TYPE) if role in arch.regions else ():
        name = (template.get("tags") or {}).get(EXPERIMENT_TAG)
        if isinstance(name, str):
            found[name] = template
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class ExperimentPlan:
    """A drill of ``drill.role`` whose impairment is the FIS experiment ``name``."""

    drill: DrillPlan
    name: str
    template_id: Optional[str]          # None only in a dry run without outputs
    action_ids: tuple[str, ...]
    stop_alarms: tuple[str, ...]        # the stop conditions' alarm references, as synthesized
    duration: Optional[str]

    def describe(self) -> list[str]:
        d = self.drill
        tid = self.template_id or "<id from outputs>"
        return [
            f"Failover drill of the {d.role} region ({d.region}) by FIS experiment {self.name} "
            f"({', '.join(self.action_ids)}, {self.duration or '?'}); {d.routing_policy} routing for {d.domain}.",
            "Resources it touches:",
            f"  FIS experiment template {tid} in {d.region}: start one experiment, read its state, stop it",
            f"  Route 53 health checks ({', '.join(f'{r} {i}' for r, i in d.health_checks.items()) or '<ids from outputs>'}): read status",
            f"  API Gateway custom domain {d.domain} in {d.region} and {d.regions[d.peer]}: read its regional endpoint name",
            f"  DNS: resolves {d.domain} and both regional endpoint names with the local resolver",
            f"  Stop conditions (FIS stops the experiment when one is in ALARM): {len(self.stop_alarms)} alarm(s) in {d.region}",
            "Steps:",
            f"  1. refuse to start if an experiment of {tid} is already running (a drill in progress)",
            "  2. note the DNS answer and which region's endpoint it contains",
            f"  3. start the experiment {self.name} in {d.region}",
            f"  4. poll every --interval s until the {d.role} health check is unhealthy and the DNS answer holds no "
            f"{d.region} address: time to fail over (or --timeout, or the experiment ends by itself)",
            "  5. stop the experiment",
            f"  6. poll until the {d.role} health check is healthy again: time to recover (or --timeout)",
            "  7. on any exit (error, timeout, Ctrl-C, SIGTERM) stop the experiment if the drill started it",
            "Permissions: fis:StartExperiment, fis:GetExperiment, fis:ListExperiments, fis:StopExperiment, "
            "fis:TagResource, iam:PassRole on the template's role, route53:GetHealthCheckStatus, apigateway:GET",
        ]


def plan_experiment(arch: Architecture, outputs: Mapping[str, Any] | StackOutputs, role: str, name: str, *,
                    outputs_given: bool = True) -> ExperimentPlan:
    """What an experiment drill touches (the outputs: name -> value, or read already); bad input is
    an InputError naming the field and what is allowed."""
    from tapinfra.modules.chaos import TEMPLATE_IDS

    outputs = outputs if isinstance(outputs, StackOutputs) else StackOutputs.parse(outputs)[0]
    allowed = experiments_in(arch, role) if role in arch.regions else {}
    if not allowed:
        raise InputError([Problem("--experiment", name,
                                  "a stack with the chaos module (chaos.enabled: true): this stack has no FIS experiment "
                                  f"templates in the {role} region")])
    if name not in allowed:
        raise InputError([Problem("--experiment", name, f"one of {', '.join(allowed)} (the stack's FIS experiments in the {role} region)")])
    spec = TEMPLATE_IDS.get(name)
    if spec is None:  # a stack synthesized by a tapinfra that knows more experiments
        raise InputError([Problem("--experiment", name, f"one of {', '.join(TEMPLATE_IDS)} (the experiments this "
                                  "tapinfra drills)")])
    problem = outputs.problem(spec, role) if outputs_given else None
    if problem is not None:
        raise InputError([problem])
    template_id = outputs.get(spec, role)
    drill = plan_drill(arch, outputs, role, outputs_given=outputs_given)
    template = allowed[name]
    actions = template.get("action") or []
    parameters = {p.get("key"): p.get("value") for a in actions for p in (a.get("parameter") or [])}
    return ExperimentPlan(
        drill=drill, name=name, template_id=template_id,
        action_ids=tuple(a.get("action_id", "?") for a in actions),
        stop_alarms=tuple(str(s.get("value")) for s in (template.get("stop_condition") or [])),
        duration=parameters.get("duration"),
    )


@dataclass
class ExperimentResult(DrillResult):
    experiment_id: Optional[str] = None
    final_status: Optional[str] = None
    final_reason: Optional[str] = None


class ExperimentDrill(Drill):
    """The drill with the experiment in place of the drain switch: ``ON`` starts it, ``OFF`` stops it."""

    def __init__(self, plan: ExperimentPlan, clients: ClientFactory = boto3_clients, resolver: Resolver = system_resolver,
                 **options: Any) -> None:
        super().__init__(plan.drill, clients, resolver, **options)
        self.experiment = plan
        self.fis = clients("fis", plan.drill.region)
        self.experiment_id: Optional[str] = None

    # -- the experiment in place of the switch

    def switch_value(self) -> str:
        running = [e for e in self.fis.list_experiments(experimentTemplateId=self.experiment.template_id).get("experiments", [])
                   if e.get("state", {}).get("status") not in TERMINAL]
        if running:
            raise DrillError(f"experiment {running[0].get('id')} of template {self.experiment.template_id} is already "
                             f"{running[0].get('state', {}).get('status')} in {self.plan.region}: a drill is in progress")
        return OFF

    def set_switch(self, value: str) -> None:
        if value == ON:
            started = self.fis.start_experiment(clientToken=str(uuid.uuid4()), experimentTemplateId=self.experiment.template_id,
                                                tags={"StartedBy": "tapinfra drill"})
            self.experiment_id = started["experiment"]["id"]
            return
        if self.experiment_id is not None and self.status()[0] not in TERMINAL:
            try:
                self.fis.stop_experiment(id=self.experiment_id)
            except Exception as exc:  # noqa: BLE001 - it may have ended between the read and the stop
                if self.status()[0] not in TERMINAL:
                    raise exc

    def switched(self, value: str) -> str:
        what = "started" if value == ON else "stopped"
        return f"FIS experiment {self.experiment.name} ({self.experiment_id}) in {self.plan.region}: {what}"

    def status(self) -> tuple[str, str]:
        state = self.fis.get_experiment(id=self.experiment_id)["experiment"].get("state", {})
        return str(state.get("status", "")), str(state.get("reason", ""))

    def _poll(self, phase: str, start: float, names: Mapping[str, str], drained: set) -> Iterator[Observation]:
        for obs in super()._poll(phase, start, names, drained):
            yield obs
            if phase == "failover":
                status, reason = self.status()
                if status in TERMINAL:
                    self.log(f"t+{obs.at:.0f}s experiment {self.experiment_id} {status} by itself ({reason})")
                    return

    def _clear_after_interruption(self) -> None:
        """Stop the experiment whatever happened (a second Ctrl-C waits); say how to do it by hand if that fails."""
        previous = _ignore_sigint()
        try:
            error: Optional[Exception] = None
            for _ in range(3):
                try:
                    self.set_switch(OFF)
                    self.log(self.switched(OFF) + " (on exit)")
                    return
                except Exception as exc:  # noqa: BLE001 - keep trying, then tell the operator
                    error = exc
            self.log(f"COULD NOT STOP THE EXPERIMENT ({error}). Stop it now: aws fis stop-experiment --region "
                     f"{self.plan.region} --id {self.experiment_id}")
            raise DrillError("the experiment could not be stopped") from error
        finally:
            _restore_sigint(previous)

    def run(self) -> ExperimentResult:
        base = super().run()
        result = ExperimentResult(**vars(base), experiment_id=self.experiment_id)
        if self.experiment_id is not None:
            result.final_status, result.final_reason = self.status()
        return result


def run_experiment_drill(args: Any, outputs: Mapping[str, Any], clients: ClientFactory, resolver: Resolver) -> int:
    """``drill --experiment``: exit 0 when the drill completes, 1 when not, 130 on Ctrl-C (the experiment stopped)."""
    plan = plan_experiment(architecture_from_args(args), outputs, args.region, args.experiment,
                           outputs_given=args.outputs is not None)
    if args.dry_run:
        print("DRY RUN: nothing is changed.")
        print("\n".join(plan.describe()))
        return OK
    try:
        result = ExperimentDrill(plan, clients, resolver, interval=args.interval, timeout=args.timeout).run()
    except DrillError as exc:
        print(f"tapinfra drill: {exc}", file=sys.stderr)
        return NOT_OK
    except KeyboardInterrupt:
        print("drill interrupted; the experiment was stopped", file=sys.stderr)
        return 130
    fmt = lambda v: "not reached" if v is None else f"{v:.0f} s"  # noqa: E731
    print(f"time to unhealthy: {fmt(result.time_to_unhealthy)}; time to fail over: {fmt(result.time_to_failover)}; "
          f"time to recover: {fmt(result.time_to_recover)}")
    print(f"experiment {result.experiment_id}: {result.final_status} ({result.final_reason})")
    return OK if result.completed else NOT_OK
