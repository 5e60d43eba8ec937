"""``python -m tapinfra drill --region primary|secondary --outputs outputs.json [--dry-run] [--experiment NAME]``.

A failover drill against a deployed stack: turn one region's drain switch on, poll its
Route 53 health check and the custom domain's DNS answer until traffic has left the region,
clear the switch, poll until the region is back, and report both times. The switch is
cleared on every way out: normal end, timeout, error, Ctrl-C, SIGTERM.

In single-writer mode (``table.write_mode``) the switches also name the writer (the first of
primary, secondary whose switch is off: ``tapinfra.runtime.writer_region``, the rule the
functions apply): the drill reads both switches and reports the writer before, while and after
the region is drained, so a drill of the writer shows writes moving to the peer and back.

The switch (its name and region) comes from the synthesized stack, the health check ids and
the domain from the deployment's outputs (``terraform output -json``). AWS clients come from
an injectable factory and DNS answers from an injectable resolver, so the tests run it on
moto with a fake clock.

``--experiment NAME`` impairs the region with a FIS experiment of the ``chaos`` module instead
of the switch, and measures the same times (``tapinfra.operator.experiment``).
"""

from __future__ import annotations

import argparse
import math
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional

from tapinfra.cli.exits import NOT_OK, OK, InputError, command
from tapinfra.errors import Problem
from tapinfra import outputs as out
from tapinfra.operator.model import ROLES, Architecture, add_source_arguments, architecture_from_args
from tapinfra.outputs import StackOutputs
from tapinfra.runtime import SINGLE_WRITER, Env, is_drained, writer_region
from tapinfra.strict_json import read_json_file

ON, OFF = "on", "off"
# Route 53 considers an endpoint healthy when more than 18% of its checkers report it healthy.
HEALTHY_FRACTION = 0.18

ClientFactory = Callable[[str, str], Any]          # (service, region) -> client
Resolver = Callable[[str], frozenset]              # name -> addresses


class DrillError(RuntimeError):
    """The drill cannot start or cannot go on (nothing is left switched on)."""


class DrillInterrupted(KeyboardInterrupt):
    """SIGTERM arrived: unwind like Ctrl-C so the switch is cleared."""


# ---------------------------------------------------------------- what the drill touches

@dataclass(frozen=True)
class DrillPlan:
    role: str
    peer: str
    regions: Mapping[str, str]                 # role -> region name
    parameter_name: str
    health_checks: Mapping[str, str]           # role -> health check id
    domain: str
    routing_policy: str
    write_mode: Optional[str] = None           # the functions' WRITE_MODE; None when the stack does not say
    write_regions: tuple[str, ...] = ()        # their writer preference list (WRITE_REGIONS)

    @property
    def region(self) -> str:
        return self.regions[self.role]

    @property
    def single_writer(self) -> bool:
        return self.write_mode == SINGLE_WRITER and bool(self.write_regions)

    def describe(self) -> list[str]:
        r, p = self.role, self.peer
        checks = ", ".join(f"{role} {self.health_checks.get(role, '<id from outputs>')}" for role in ROLES)
        return [
            f"Failover drill of the {r} region ({self.region}); {self.routing_policy} routing for {self.domain}.",
            "Resources it touches:",
            f"  SSM parameter {self.parameter_name} in {self.region}: read, set to '{ON}', then back to '{OFF}' "
            "(same type and KMS key as it has)",
            f"  Route 53 health checks ({checks}): read status",
            f"  API Gateway custom domain {self.domain} in {self.region} and {self.regions[p]}: read its regional endpoint name",
            f"  DNS: resolves {self.domain} and both regional endpoint names with the local resolver",
            "Steps:",
            f"  1. refuse to start if the switch is already '{ON}' (a drill or an incident in progress)",
            "  2. note the DNS answer and which region's endpoint it contains",
            f"  3. set the switch '{ON}': {self.region}'s /health answers 503",
            f"  4. poll every --interval s until the {r} health check is unhealthy and the DNS answer holds no "
            f"{self.region} address: time to fail over (or --timeout)",
            f"  5. set the switch '{OFF}'",
            f"  6. poll until the {r} health check is healthy again (and {self.region} is back in the answer if it "
            "was there before): time to recover (or --timeout)",
            f"  7. on any exit (error, timeout, Ctrl-C, SIGTERM) set the switch '{OFF}' if the drill set it '{ON}'",
            *([f"  Writes (single-writer): the writer is the first of {', '.join(self.write_regions)} whose switch is "
               f"off; the drill reads {self.parameter_name} in both regions and reports the writer before, during "
               "and after"] if self.single_writer else
              [f"  Writes ({self.write_mode}): each region writes its own copy; draining moves no writer"] if self.write_mode else []),
            "Permissions: ssm:GetParameter, ssm:DescribeParameters, ssm:PutParameter, kms:Encrypt and "
            "kms:GenerateDataKey on the region's key, route53:GetHealthCheckStatus, apigateway:GET"
            + ("; ssm:GetParameter and kms:Decrypt for the peer's switch" if self.single_writer else ""),
        ]


def read_outputs(path: str | Path) -> dict[str, Any]:
    """Outputs as name -> value from ``terraform output -json``, a cdktf outputs file, or a flat map.

    Read with the config's strict loader: a file that is not UTF-8, not JSON, nested absurdly deep
    or not an object is an InputError naming it; each command checks the keys it uses.
    """
    raw, problems = read_json_file(path)
    if problems:
        raise InputError([Problem("--outputs" if p.path == "<file>" else f"--outputs {path} at {p.path}", p.value,
                                  p.allowed.replace("JSON file", "outputs file (terraform output -json)"))
                          for p in problems])
    if not isinstance(raw, dict):
        raise InputError([Problem(f"--outputs {path}", raw, "a JSON object of outputs (terraform output -json)")])
    return StackOutputs.parse(raw)[0].values


def plan_drill(arch: Architecture, outputs: Mapping[str, Any] | StackOutputs, role: str, *,
               outputs_given: bool = True) -> DrillPlan:
    """What a drill of ``role`` touches, from the synthesized stack and the deployment's outputs
    (name -> value, or read already: :class:`~tapinfra.outputs.StackOutputs`).

    Only a dry run may go without an outputs file (``outputs_given=False``); a given one is checked.
    """
    outputs = outputs if isinstance(outputs, StackOutputs) else StackOutputs.parse(outputs)[0]
    problems = []
    if role not in ROLES:
        problems.append(Problem("--region", role, "primary or secondary"))
        raise InputError(problems)
    peer = next(r for r in ROLES if r != role)
    parameter = arch.drain_parameter(role)
    if parameter is None:
        problems.append(Problem("features.drain_switch", False, "true: the drill needs the region's drain switch"))
    if "dns" not in arch.features:
        problems.append(Problem("features.dns", False, "true: the drill watches Route 53 health checks and the custom domain"))
    checks = {r: outputs.get(out.HEALTH_CHECK_ID, r) for r in ROLES if outputs.get(out.HEALTH_CHECK_ID, r)}
    url = outputs.get(out.CUSTOM_DOMAIN_URL)
    if (outputs.values or outputs_given) and "dns" in arch.features:
        problems.extend(p for p in (outputs.problem(out.HEALTH_CHECK_ID, r) for r in ROLES) if p is not None)
        bad_url = outputs.problem(out.CUSTOM_DOMAIN_URL)
        if bad_url is None and not url.startswith("https://"):
            bad_url = Problem(f"outputs.{out.CUSTOM_DOMAIN_URL.key()}", url, "https://<domain> as terraform output gives")
        problems.extend([bad_url] if bad_url is not None else [])
    if problems:
        raise InputError(problems)
    domain = url[len("https://"):].rstrip("/") if isinstance(url, str) else arch.domain_name
    function = arch.function(role)
    variables = ((function.get("environment") or {}).get("variables") or {}) if function is not None else {}
    write_regions = tuple(r for r in str(variables.get(Env.WRITE_REGIONS, "")).split(",") if r)
    return DrillPlan(
        role=role, peer=peer, regions={r: arch.region(r).name for r in ROLES},
        parameter_name=parameter.get("name"), health_checks=checks, domain=domain,
        routing_policy=arch.routing_policy or "?",
        write_mode=variables.get(Env.WRITE_MODE), write_regions=write_regions,
    )


# ---------------------------------------------------------------- running it

def boto3_clients(service: str, region: str) -> Any:
    try:
        import boto3  # a dev dependency; only the drill and smoke need it
    except ImportError:
        raise InputError([Problem("boto3", None, "installed in this environment (pip install boto3; `make install` does)")]) from None
    return boto3.client(service, region_name=region)


def system_resolver(name: str) -> frozenset:
    """The addresses the local resolver gives for ``name`` (empty when it does not resolve)."""
    try:
        return frozenset(info[4][0] for info in socket.getaddrinfo(name, 443, proto=socket.IPPROTO_TCP))
    except socket.gaierror:
        return frozenset()


@dataclass(frozen=True)
class Observation:
    at: float                  # seconds since the switch was set on
    phase: str                 # failover | recovery
    healthy_checkers: str      # e.g. "1/16"
    healthy: bool
    answer: tuple[str, ...]
    drained_in_answer: bool


@dataclass
class DrillResult:
    time_to_unhealthy: Optional[float] = None
    time_to_failover: Optional[float] = None
    time_to_recover: Optional[float] = None
    observations: list[Observation] = field(default_factory=list)
    # single-writer mode: the region the switches name as the writer (None in any-region mode)
    writer_before: Optional[str] = None
    writer_while_drained: Optional[str] = None
    writer_after: Optional[str] = None

    @property
    def completed(self) -> bool:
        return self.time_to_failover is not None and self.time_to_recover is not None


class Drill:
    def __init__(self, plan: DrillPlan, clients: ClientFactory = boto3_clients, resolver: Resolver = system_resolver, *,
                 interval: float = 10.0, timeout: float = 900.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, log: Callable[[str], None] = print) -> None:
        self.plan, self.clients, self.resolver = plan, clients, resolver
        self.interval, self.timeout, self.clock, self.sleep, self.log = interval, timeout, clock, sleep, log
        self.ssm = clients("ssm", plan.region)
        self.route53 = clients("route53", "us-east-1")  # a global service with its endpoint in us-east-1
        self._peer_ssm = None

    # -- the switch

    def switch_value(self) -> str:
        response = self.ssm.get_parameter(Name=self.plan.parameter_name, WithDecryption=True)
        return str(response["Parameter"]["Value"]).strip().lower()

    def writer(self) -> Optional[str]:
        """The writer both switches name now (single-writer mode), by the functions' own rule."""
        if not self.plan.single_writer:
            return None
        if self._peer_ssm is None:
            self._peer_ssm = self.clients("ssm", self.plan.regions[self.plan.peer])
        drained = set()
        for role, ssm in ((self.plan.role, self.ssm), (self.plan.peer, self._peer_ssm)):
            try:
                value = ssm.get_parameter(Name=self.plan.parameter_name, WithDecryption=True)["Parameter"]["Value"]
            except Exception as exc:  # noqa: BLE001 - a missing switch is "not drained", as the functions read it
                if getattr(exc, "response", {}).get("Error", {}).get("Code") != "ParameterNotFound":
                    raise
                continue
            if is_drained(value):
                drained.add(self.plan.regions[role])
        return writer_region(self.plan.write_regions, drained)

    def _log_writer(self, when: str, writer: Optional[str]) -> None:
        if writer is not None:
            self.log(f"writer {when}: {writer} (the functions follow within their WRITER_CACHE_SECONDS)")

    def set_switch(self, value: str) -> None:
        described = self.ssm.describe_parameters(
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [self.plan.parameter_name]}])["Parameters"]
        if not described:
            raise DrillError(f"the drain switch {self.plan.parameter_name} does not exist in {self.plan.region}")
        kind = described[0].get("Type", "SecureString")
        extra = {"KeyId": described[0]["KeyId"]} if kind == "SecureString" and described[0].get("KeyId") else {}
        self.ssm.put_parameter(Name=self.plan.parameter_name, Value=value, Type=kind, Overwrite=True, **extra)

    def switched(self, value: str) -> str:
        """What the drill logs once the impairment is set to ``value`` (``tapinfra.operator.experiment`` says its own)."""
        return f"drain switch {self.plan.parameter_name} in {self.plan.region}: {value}"

    # -- what Route 53 and DNS say

    def health(self, role: str) -> tuple[bool, str]:
        observations = self.route53.get_health_check_status(HealthCheckId=self.plan.health_checks[role])["HealthCheckObservations"]
        ok = sum(1 for o in observations if str(o.get("StatusReport", {}).get("Status", "")).startswith("Success"))
        healthy = bool(observations) and ok / len(observations) > HEALTHY_FRACTION
        return healthy, f"{ok}/{len(observations)}"

    def regional_names(self) -> dict[str, str]:
        names = {}
        for role in ROLES:
            client = self.clients("apigateway", self.plan.regions[role])
            names[role] = client.get_domain_name(domainName=self.plan.domain)["regionalDomainName"]
        return names

    # -- the drill

    def run(self) -> DrillResult:
        plan, result = self.plan, DrillResult()
        if self.switch_value() == ON:
            raise DrillError(f"the drain switch {plan.parameter_name} in {plan.region} is already '{ON}': a drill or an "
                             "incident is in progress; clear it on purpose before drilling")
        names = self.regional_names()
        drained = set(self.resolver(names[plan.role]))
        baseline = self.resolver(plan.domain)
        was_in_answer = bool(baseline & drained)
        self.log(f"DNS {plan.domain} -> {sorted(baseline)} ({plan.region} {'in' if was_in_answer else 'not in'} the answer)")
        result.writer_before = self.writer()
        self._log_writer("before the drill", result.writer_before)
        switched_on = False
        with _terminate_as_interrupt():
            try:
                self.set_switch(ON)
                switched_on = True
                start = self.clock()
                self.log(self.switched(ON))
                result.writer_while_drained = self.writer()
                self._log_writer(f"while {plan.region} is drained", result.writer_while_drained)
                for obs in self._poll("failover", start, names, drained):
                    result.observations.append(obs)
                    if not obs.healthy and result.time_to_unhealthy is None:
                        result.time_to_unhealthy = obs.at
                    if not obs.healthy and obs.answer and not obs.drained_in_answer:
                        result.time_to_failover = obs.at
                        break
                self.set_switch(OFF)
                switched_on = False
                cleared = self.clock()
                self.log(self.switched(OFF))
                result.writer_after = self.writer()
                self._log_writer("after the drill", result.writer_after)
                for obs in self._poll("recovery", start, names, drained):
                    result.observations.append(obs)
                    if obs.healthy and (obs.drained_in_answer or not was_in_answer):
                        result.time_to_recover = obs.at - (cleared - start)
                        break
            finally:
                if switched_on:
                    self._clear_after_interruption()
        return result

    def _poll(self, phase: str, start: float, names: Mapping[str, str], drained: set) -> Iterator[Observation]:
        began = self.clock()
        while True:
            healthy, checkers = self.health(self.plan.role)
            drained |= self.resolver(names[self.plan.role])
            answer = self.resolver(self.plan.domain)
            obs = Observation(round(self.clock() - start, 3), phase, checkers, healthy, tuple(sorted(answer)), bool(answer & drained))
            self.log(f"t+{obs.at:.0f}s {phase}: {self.plan.role} health check {'healthy' if healthy else 'UNHEALTHY'} "
                     f"({checkers} checkers); DNS {self.plan.domain} -> {list(obs.answer)}"
                     f"{'' if obs.drained_in_answer else f' (no {self.plan.region} address)'}")
            yield obs
            if self.clock() - began >= self.timeout:
                self.log(f"{phase}: gave up after --timeout {self.timeout:g} s")
                return
            self.sleep(self.interval)

    def _clear_after_interruption(self) -> None:
        """Set the switch off whatever happened; say loudly how to do it by hand if that fails."""
        previous = _ignore_sigint()
        try:
            for attempt in range(3):
                try:
                    self.set_switch(OFF)
                    self.log(f"drain switch {self.plan.parameter_name} in {self.plan.region}: {OFF} (cleared on exit)")
                    return
                except Exception as exc:  # noqa: BLE001 - keep trying, then tell the operator
                    error = exc
            self.log(f"COULD NOT CLEAR THE DRAIN SWITCH ({error}). Clear it now: aws ssm put-parameter --region "
                     f"{self.plan.region} --name {self.plan.parameter_name} --type SecureString --value {OFF} --overwrite")
            raise DrillError("the drain switch could not be cleared") from error
        finally:
            _restore_sigint(previous)


class _terminate_as_interrupt:
    """SIGTERM unwinds like Ctrl-C while the drill runs (main thread only; signals go nowhere else)."""

    def __enter__(self):
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum, frame):
        raise DrillInterrupted(f"signal {signum}")

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
        return False


def _ignore_sigint():
    if threading.current_thread() is threading.main_thread():
        return signal.signal(signal.SIGINT, signal.SIG_IGN)
    return None


def _restore_sigint(previous) -> None:
    if previous is not None:
        signal.signal(signal.SIGINT, previous)


# ---------------------------------------------------------------- command line

@command("tapinfra drill")
def main(argv: list[str], clients: ClientFactory = boto3_clients, resolver: Resolver = system_resolver) -> int:
    """Exit 0 when the drill completes; 1 when it does not (or AWS refuses a call); 2 on bad input or
    a missing AWS credential, region or endpoint; 130 on Ctrl-C (the switch cleared in every case)."""
    parser = argparse.ArgumentParser(prog="python -m tapinfra drill", description=__doc__.splitlines()[0])
    parser.add_argument("--region", required=True, choices=ROLES, help="the region to drain")
    add_source_arguments(parser)
    parser.add_argument("--outputs", help="terraform output -json of the deployment (required unless --dry-run)")
    parser.add_argument("--dry-run", action="store_true", help="print the steps and the resources, change nothing")
    parser.add_argument("--experiment", metavar="NAME",
                        help="impair the region with this FIS experiment of the chaos module instead of the drain switch")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for failover, and again for recovery")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between polls")
    args = parser.parse_args(argv)
    if not args.dry_run and args.outputs is None:
        raise InputError([Problem("--outputs", None, "the deployment's outputs file (terraform output -json > outputs.json)")])
    for name, value in (("--timeout", args.timeout), ("--interval", args.interval)):
        if not (math.isfinite(value) and value > 0):
            raise InputError([Problem(name, value, "a positive, finite number of seconds")])
    outputs = read_outputs(args.outputs) if args.outputs is not None else {}
    if args.experiment is not None:
        from tapinfra.operator.experiment import run_experiment_drill

        return run_experiment_drill(args, outputs, clients, resolver)
    plan = plan_drill(architecture_from_args(args), outputs, args.region, outputs_given=args.outputs is not None)
    if args.dry_run:
        print("DRY RUN: nothing is changed.")
        print("\n".join(plan.describe()))
        return OK
    try:
        result = Drill(plan, clients, resolver, interval=args.interval, timeout=args.timeout).run()
    except DrillError as exc:
        print(f"tapinfra drill: {exc}", file=sys.stderr)
        return NOT_OK
    except KeyboardInterrupt:
        print("drill interrupted; the drain switch was cleared", file=sys.stderr)
        return 130
    fmt = lambda v: "not reached" if v is None else f"{v:.0f} s"  # noqa: E731
    print(f"time to unhealthy: {fmt(result.time_to_unhealthy)}; time to fail over: {fmt(result.time_to_failover)}; "
          f"time to recover: {fmt(result.time_to_recover)}")
    if result.writer_before is not None:
        print(f"writer: {result.writer_before} before, {result.writer_while_drained} while drained, "
              f"{result.writer_after} after")
    return OK if result.completed else NOT_OK
