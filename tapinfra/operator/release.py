"""``tapinfra release --outputs outputs.json [--version N] [--dry-run]``: release a function version.

CodeDeploy moves each region's alias to the new version the way ``release.strategy`` says, the
secondary region first; the primary starts only once the secondary has released. CodeDeploy rolls a
region back on its own when a deployment fails or a rollback alarm fires; the command then stops,
and if the secondary already runs the new version it moves it back (all at once, through CodeDeploy),
so both regions end on one version. Ctrl-C or SIGTERM stops the running deployment with rollback
(``StopDeployment autoRollbackEnabled=True``) and does the same.

Before anything changes it checks each region: the alias routes to one version (no release in
progress), the version to release is published (default: the region's newest), both regions'
targets carry the same code, the deployment group watches the outputs' alarms with automatic
rollback, none of those alarms is firing, and the alias's provisioned concurrency is READY.

Exit 0: released (or already on that version). 1: rolled back, stopped, refused by a check, or
AWS refused a call. 2: bad input (an argument, the outputs file, the AWS environment).
AWS clients come from an injectable factory, so the tests run it on moto with fakes.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from tapinfra.cli.exits import NOT_OK, OK, InputError, command
from tapinfra.errors import Problem
from tapinfra.operator.drill import boto3_clients, read_outputs
from tapinfra.rollout import ALL_AT_ONCE, ROLLBACK_EVENTS

ClientFactory = Callable[[str, str], Any]   # (service, region) -> client
ORDER = ("secondary", "primary")           # the primary serves most callers: it goes last
DONE, FAILED = ("Succeeded",), ("Failed", "Stopped")
OUTPUT_KEYS = ("region", "function_name", "alias_name", "application", "deployment_group")


class ReleaseError(RuntimeError):
    """A check refused the release, or a deployment did not succeed (exit 1)."""


class ReleaseInterrupted(KeyboardInterrupt):
    """SIGTERM arrived: unwind like Ctrl-C so the running deployment is stopped."""


@dataclass(frozen=True)
class RegionRelease:
    """One region's part of a release, from its ``<role>_release`` output."""

    role: str
    region: str
    function_name: str
    alias_name: str
    application: str
    deployment_group: str
    deployment_config: str
    alarms: tuple[str, ...]


def plan_release(outputs: Mapping[str, Any]) -> list[RegionRelease]:
    """Both regions' parts, secondary first; an InputError naming every output that is missing or malformed."""
    problems, plans = [], []
    for role in ORDER:
        key = f"{role}_release"
        value = outputs.get(key)
        allowed = ("an object with " + ", ".join(OUTPUT_KEYS) + " and alarms, as terraform output gives "
                   "when release.enabled is true")
        if not isinstance(value, dict):
            problems.append(Problem(f"outputs.{key}", value, allowed))
            continue
        bad = [k for k in OUTPUT_KEYS if not isinstance(value.get(k), str) or not value.get(k)]
        alarms = value.get("alarms")
        if not isinstance(alarms, list) or not alarms or not all(isinstance(a, str) and a for a in alarms):
            bad.append("alarms")
        if bad:
            problems.extend(Problem(f"outputs.{key}.{k}", value.get(k), allowed) for k in bad)
            continue
        plans.append(RegionRelease(role=role, region=value["region"], function_name=value["function_name"],
                                   alias_name=value["alias_name"], application=value["application"],
                                   deployment_group=value["deployment_group"],
                                   deployment_config=str(value.get("deployment_config") or "the group's"),
                                   alarms=tuple(alarms)))
    if problems:
        raise InputError(problems)
    return plans


def describe(plans: list[RegionRelease], version: Optional[str]) -> list[str]:
    """The steps a release takes, and the resources it touches (--dry-run)."""
    target = f"version {version}" if version else "each region's newest published version"
    lines = [f"Release of {target}, secondary region first; exit 0 released, 1 rolled back or refused, 2 bad input.",
             "Checks in both regions before anything changes:"]
    for p in plans:
        lines.append(f"  {p.role} ({p.region}): alias {p.function_name}:{p.alias_name} routes to one version; "
                     f"{target} is published; group {p.application}/{p.deployment_group} rolls back on "
                     f"{', '.join(ROLLBACK_EVENTS)} and watches {', '.join(p.alarms)}; none of them in ALARM; "
                     "the alias's provisioned concurrency READY")
    lines.append("  both regions' targets carry the same code (CodeSha256)")
    lines.append("Steps:")
    for i, p in enumerate(plans, 1):
        lines.append(f"  {i}. {p.role} ({p.region}): CodeDeploy deployment in {p.application}/{p.deployment_group} "
                     f"({p.deployment_config}) moving {p.alias_name} to the target; watch its status, the alias's "
                     "traffic split and the alarms until it succeeds or rolls back")
    lines += [
        "  If a region rolls back: stop; a region already released goes back (CodeDeployDefault.LambdaAllAtOnce).",
        "  Ctrl-C or SIGTERM: StopDeployment with autoRollbackEnabled=True, then the same.",
        "Permissions: lambda:GetAlias, lambda:ListVersionsByFunction, lambda:GetFunction, "
        "lambda:GetProvisionedConcurrencyConfig, codedeploy:GetDeploymentGroup, codedeploy:CreateDeployment, "
        "codedeploy:GetDeployment, codedeploy:StopDeployment, codedeploy:GetDeploymentConfig, cloudwatch:DescribeAlarms",
    ]
    return lines


def appspec(plan: RegionRelease, current: str, target: str) -> str:
    """The AppSpec of a Lambda deployment, passed inline (no bucket)."""
    return json.dumps({"version": 0.0, "Resources": [{plan.function_name: {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Name": plan.function_name, "Alias": plan.alias_name,
                       "CurrentVersion": current, "TargetVersion": target}}}]}, sort_keys=True)


@dataclass
class Region:
    """A region's clients and what the checks found."""

    plan: RegionRelease
    lam: Any
    deploy: Any
    watch: Any
    current: str = ""
    target: str = ""
    code: str = ""
    deployment_id: Optional[str] = None
    released: bool = False


@dataclass
class ReleaseResult:
    released: bool = False
    regions: dict[str, str] = field(default_factory=dict)   # role -> the version its alias ends on
    rolled_back: list[str] = field(default_factory=list)     # roles whose deployment rolled back or was reverted


class Releaser:
    def __init__(self, plans: list[RegionRelease], clients: ClientFactory = boto3_clients, *,
                 version: Optional[str] = None, interval: float = 15.0, timeout: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 log: Callable[[str], None] = print) -> None:
        self.version, self.interval, self.timeout = version, interval, timeout
        self.clock, self.sleep, self.log = clock, sleep, log
        self.regions = [Region(p, clients("lambda", p.region), clients("codedeploy", p.region),
                               clients("cloudwatch", p.region)) for p in plans]

    # ------------------------------------------------------------ checks

    def check(self) -> None:
        """Every check in both regions; a ReleaseError (or InputError for --version) before any change."""
        for r in self.regions:
            p = r.plan
            alias = r.lam.get_alias(FunctionName=p.function_name, Name=p.alias_name)
            weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
            if weights:
                raise ReleaseError(f"{p.role} ({p.region}): alias {p.alias_name} already splits traffic "
                                   f"({alias['FunctionVersion']} and {weights}): a release is in progress")
            r.current = alias["FunctionVersion"]
            r.target = self.version or newest_version(r.lam, p.function_name)
            try:
                r.code = r.lam.get_function(FunctionName=p.function_name, Qualifier=r.target)["Configuration"]["CodeSha256"]
            except Exception as exc:  # noqa: BLE001 - only "no such version" is bad input
                if _code(exc) != "ResourceNotFoundException":
                    raise
                raise InputError([Problem("--version", r.target, f"a published version of {p.function_name} in {p.region} "
                                          f"(newest: {newest_version(r.lam, p.function_name)})")]) from None
            self._check_group(r)
            self._check_alarms(r)
        codes = {r.plan.role: r.code for r in self.regions}
        if len(set(codes.values())) > 1:
            raise ReleaseError("the regions' target versions carry different code ("
                               + ", ".join(f"{role} {r.target}: {codes[role]}" for role, r in zip(codes, self.regions))
                               + "): apply the same package to both regions first")
        for r in self.regions:
            self._wait_provisioned(r)

    def _check_group(self, r: Region) -> None:
        p = r.plan
        group = r.deploy.get_deployment_group(applicationName=p.application, deploymentGroupName=p.deployment_group)
        info = group["deploymentGroupInfo"]
        alarm_config = info.get("alarmConfiguration") or {}
        watched = {a["name"] for a in alarm_config.get("alarms") or ()}
        rollback = info.get("autoRollbackConfiguration") or {}
        missing = [a for a in p.alarms if a not in watched]
        if not alarm_config.get("enabled") or missing:
            raise ReleaseError(f"{p.role} ({p.region}): group {p.deployment_group} does not watch "
                               f"{', '.join(missing) or 'its alarms'} (alarm configuration disabled or changed outside Terraform)")
        if not rollback.get("enabled") or not {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"} <= set(rollback.get("events") or ()):
            raise ReleaseError(f"{p.role} ({p.region}): group {p.deployment_group} does not roll back on failure and on alarm")
        self.log(f"{p.role} ({p.region}): group {p.deployment_group} watches {', '.join(sorted(watched))}; "
                 f"rolls back on {', '.join(rollback['events'])}")

    def _check_alarms(self, r: Region) -> None:
        p = r.plan
        found = {a["AlarmName"]: a["StateValue"] for a in r.watch.describe_alarms(AlarmNames=list(p.alarms))["MetricAlarms"]}
        missing = [a for a in p.alarms if a not in found]
        firing = [a for a, state in found.items() if state == "ALARM"]
        if missing:
            raise ReleaseError(f"{p.role} ({p.region}): rollback alarm(s) {', '.join(missing)} do not exist")
        if firing:
            raise ReleaseError(f"{p.role} ({p.region}): {', '.join(firing)} already in ALARM: CodeDeploy would stop "
                               "the release at once; fix what fires first")

    def _wait_provisioned(self, r: Region) -> None:
        """The alias's provisioned concurrency READY: the environments serving the current version are up,
        and Lambda moves the alias's allocation to the new version as its weight grows."""
        p, began = r.plan, self.clock()
        while True:
            try:
                config = r.lam.get_provisioned_concurrency_config(FunctionName=p.function_name, Qualifier=p.alias_name)
            except Exception as exc:  # noqa: BLE001 - an alias without provisioned concurrency has nothing to wait for
                if _code(exc) != "ProvisionedConcurrencyConfigNotFoundException":
                    raise
                self.log(f"{p.role} ({p.region}): no provisioned concurrency on {p.alias_name}")
                return
            status = config.get("Status")
            self.log(f"{p.role} ({p.region}): provisioned concurrency {config.get('AvailableProvisionedConcurrentExecutions')}/"
                     f"{config.get('RequestedProvisionedConcurrentExecutions')} {status}")
            if status == "READY":
                return
            if status == "FAILED" or self.clock() - began >= self.timeout:
                raise ReleaseError(f"{p.role} ({p.region}): provisioned concurrency on {p.alias_name} is {status}: "
                                   f"{config.get('StatusReason', 'not READY within --timeout')}")
            self.sleep(self.interval)

    # ------------------------------------------------------------ the release

    def run(self) -> ReleaseResult:
        result = ReleaseResult()
        with _terminate_as_interrupt():
            try:
                self.check()
                for r in self.regions:
                    if r.current == r.target:
                        self.log(f"{r.plan.role} ({r.plan.region}): already on version {r.target}")
                        r.released = True
                        continue
                    if not self._deploy(r, r.current, r.target, None):
                        result.rolled_back.append(r.plan.role)
                        self._revert_released(result)
                        break
                    r.released = True
            except KeyboardInterrupt:
                self._interrupted(result)
        result.regions = {r.plan.role: self._live_version(r) for r in self.regions}
        result.released = all(v == r.target for r, v in zip(self.regions, result.regions.values()))
        versions = ", ".join(f"{role} {v}" for role, v in result.regions.items())
        self.log(("released: " if result.released else "not released: ") + versions)
        return result

    def _deploy(self, r: Region, current: str, target: str, config: Optional[str]) -> bool:
        p = r.plan
        extra = {"deploymentConfigName": config} if config else {}
        r.deployment_id = r.deploy.create_deployment(
            applicationName=p.application, deploymentGroupName=p.deployment_group,
            revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec(p, current, target)}},
            description=f"tapinfra release: {p.function_name}:{p.alias_name} {current} -> {target}", **extra,
        )["deploymentId"]
        self.log(f"{p.role} ({p.region}): deployment {r.deployment_id}: {p.alias_name} {current} -> {target}")
        ok = self._watch(r)
        r.deployment_id = None
        return ok

    def _watch(self, r: Region) -> bool:
        p, began, seen = r.plan, self.clock(), None
        while True:
            info = r.deploy.get_deployment(deploymentId=r.deployment_id)["deploymentInfo"]
            status = info["status"]
            state = (status, self._traffic(r), self._firing(r))
            if state != seen:
                seen = state
                self.log(f"{p.role} ({p.region}): {status}; traffic {state[1]}"
                         + (f"; in ALARM: {', '.join(state[2])}" if state[2] else ""))
            if status in DONE:
                return True
            if status in FAILED:
                error = info.get("errorInformation") or {}
                rollback = info.get("rollbackInfo") or {}
                self.log(f"{p.role} ({p.region}): rolled back: {error.get('code', status)} {error.get('message', '')}".rstrip()
                         + (f" ({rollback['rollbackMessage']})" if rollback.get("rollbackMessage") else ""))
                return False
            if self.clock() - began >= self.timeout:
                self.log(f"{p.role} ({p.region}): gave up after --timeout {self.timeout:g} s")
                self._stop(r)
                return False
            self.sleep(self.interval)

    def _traffic(self, r: Region) -> str:
        alias = r.lam.get_alias(FunctionName=r.plan.function_name, Name=r.plan.alias_name)
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        moved = sum(weights.values())
        return ", ".join([f"{alias['FunctionVersion']} {round(100 * (1 - moved))}%",
                          *(f"{v} {round(100 * w)}%" for v, w in sorted(weights.items()))])

    def _firing(self, r: Region) -> tuple[str, ...]:
        alarms = r.watch.describe_alarms(AlarmNames=list(r.plan.alarms))["MetricAlarms"]
        return tuple(sorted(a["AlarmName"] for a in alarms if a["StateValue"] == "ALARM"))

    def _stop(self, r: Region) -> None:
        """Stop the running deployment with rollback and wait until CodeDeploy has moved the alias back."""
        p = r.plan
        r.deploy.stop_deployment(deploymentId=r.deployment_id, autoRollbackEnabled=True)
        self.log(f"{p.role} ({p.region}): deployment {r.deployment_id} stopped with rollback")
        began = self.clock()
        while r.deploy.get_deployment(deploymentId=r.deployment_id)["deploymentInfo"]["status"] not in DONE + FAILED:
            if self.clock() - began >= self.timeout:
                raise ReleaseError(f"{p.role} ({p.region}): deployment {r.deployment_id} did not stop within --timeout")
            self.sleep(self.interval)

    def _revert_released(self, result: ReleaseResult) -> None:
        """Move every region already on the target back to its previous version, all at once."""
        for r in self.regions:
            if r.released and r.current != r.target:
                self.log(f"{r.plan.role} ({r.plan.region}): back to {r.current} so both regions run one version")
                if self._deploy(r, r.target, r.current, ALL_AT_ONCE):
                    r.released = False
                    result.rolled_back.append(r.plan.role)

    def _interrupted(self, result: ReleaseResult) -> None:
        """Ctrl-C or SIGTERM: stop what runs (with rollback), then revert what was released. Ignores
        further Ctrl-C until done: stopping halfway would leave the regions on two versions."""
        previous = _ignore_sigint()
        try:
            self.log("interrupted: stopping the release with rollback"
                     if any(r.deployment_id or r.released for r in self.regions) else "interrupted before any change")
            for r in self.regions:
                if r.deployment_id is not None:
                    self._stop(r)
                    r.deployment_id = None
                    result.rolled_back.append(r.plan.role)
            self._revert_released(result)
        finally:
            _restore_sigint(previous)

    def _live_version(self, r: Region) -> str:
        alias = r.lam.get_alias(FunctionName=r.plan.function_name, Name=r.plan.alias_name)
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        return alias["FunctionVersion"] + (f" (+{weights})" if weights else "")


def newest_version(lam: Any, function_name: str) -> str:
    """The highest published version number of the function ($LATEST is not one)."""
    versions: list[int] = []
    for page in lam.get_paginator("list_versions_by_function").paginate(FunctionName=function_name):
        versions.extend(int(v["Version"]) for v in page["Versions"] if v["Version"].isdigit())
    if not versions:
        raise ReleaseError(f"{function_name} has no published version")
    return str(max(versions))


def _code(exc: BaseException) -> str:
    return str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))


class _terminate_as_interrupt:
    """SIGTERM unwinds like Ctrl-C while the release runs (main thread only)."""

    def __enter__(self):
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum, frame):
        raise ReleaseInterrupted(f"signal {signum}")

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

def _version(value: str) -> str:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"--version {value!r}: a published version number (1, 2, ...), never $LATEST")
    return str(int(value))


@command("tapinfra release")
def main(argv: list[str], clients: ClientFactory = boto3_clients, *, sleep: Callable[[float], None] = time.sleep,
         clock: Callable[[], float] = time.monotonic) -> int:
    """Exit 0 released; 1 rolled back, stopped or refused; 2 bad input."""
    parser = argparse.ArgumentParser(prog="tapinfra release", description=__doc__.splitlines()[0])
    parser.add_argument("--outputs", help="terraform output -json of the deployment (required unless --dry-run)")
    parser.add_argument("--version", type=_version, help="the version to release (default: each region's newest published)")
    parser.add_argument("--dry-run", action="store_true", help="print the checks and steps, change nothing")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds one region's deployment may take")
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between polls")
    args = parser.parse_args(argv)
    for name, value in (("--timeout", args.timeout), ("--interval", args.interval)):
        if not (math.isfinite(value) and value > 0):
            raise InputError([Problem(name, value, "a positive, finite number of seconds")])
    if args.outputs is None and not args.dry_run:
        raise InputError([Problem("--outputs", None, "the deployment's outputs file (terraform output -json > outputs.json)")])
    if args.outputs is None:
        plans = [RegionRelease(role, f"<{role} region>", "<function>", "<alias>", "<application>", "<deployment group>",
                               "release.strategy's config", ("<rollback alarms>",)) for role in ORDER]
    else:
        plans = plan_release(read_outputs(args.outputs))
    if args.dry_run:
        print("\n".join(describe(plans, args.version)))
        return OK
    try:
        result = Releaser(plans, clients, version=args.version, interval=args.interval, timeout=args.timeout,
                          clock=clock, sleep=sleep).run()
    except ReleaseError as exc:
        print(f"tapinfra release: {exc}")
        return NOT_OK
    return OK if result.released else NOT_OK
