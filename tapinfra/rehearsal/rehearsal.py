"""The deploy rehearsal of one config against our own moto server, step by step.

synth (asset mode, disposable, pointed at the emulator) -> patch the copy (gaps) -> init ->
apply -> mimic AWS -> plan (must be empty) -> update (a tenant, memory, a stage setting, a
feature) -> plan (empty) -> ``plan -replace`` of tables, functions, buckets and APIs (must
delete first) -> protected ``plan -destroy`` -> destroy -> ask the emulator what is left ->
probe every listed gap. The ``core`` cycle leaves out update, its plan and replace (see
:data:`CORE_SKIPS`).

Every step runs even after an earlier one failed, where it can: one run reports every
failure at once. Each step keeps its own time; logs stay in the step's work directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from tapinfra import tfcli
from tapinfra.config import TapConfig, load_config, with_changes
from tapinfra.rehearsal import document, gaps, inventory, judge
from tapinfra.rehearsal.emulator import MotoServer
from tapinfra.rehearsal.moto_server import REPLAY_MARK

# The examples of a checkout: ./examples first (a user's project), then the one next to the package.
EXAMPLE_DIRS = (Path.cwd() / "examples", Path(__file__).resolve().parents[2] / "examples")
STACK_FILE = "cdk.tf.json"
# Terraform spends most of an apply waiting on the provider's own polling; more in flight helps.
PARALLELISM = int(os.environ.get("TAP_REHEARSAL_PARALLELISM", "25"))
COMMAND_TIMEOUT = 900
# Each of these has a fixed name in AWS: a create-then-delete replacement collides with itself.
# Without disposable, a plan that destroys any of these must fail.
PROTECTED_TYPES = ("aws_dynamodb_table", "aws_kms_key", "aws_route53_zone")
REPLACED_TYPES = ("aws_dynamodb_table", "aws_lambda_function", "aws_s3_bucket", "aws_api_gateway_rest_api")
FULL, CORE = "full", "core"
# What the core cycle leaves out: they prove how a change of tenants, memory, a stage setting
# and a feature, and a replacement, apply; rehearsing one example with them proves it for the
# shared constructs, and the core cycle still applies, re-plans, protects and destroys all.
CORE_SKIPS = ("update", "plan-after-update", "replace")
CYCLES = (FULL, CORE)
UPDATE_TENANT = "rehearsal"
UPDATE_ORIGIN = "https://rehearsal.example.com"
# Rehearsals run side by side in threads (conftest); cdktf's jsii kernel serves one call at a time.
_SYNTH_LOCK = threading.Lock()


class Cancelled(RuntimeError):
    """The session was interrupted: no further terraform runs."""


@dataclass
class Step:
    name: str
    ran: bool = False
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.ran and not self.problems

    def report(self) -> str:
        if not self.ran:
            return f"step {self.name!r} did not run: " + "; ".join(self.problems or ["an earlier step failed"])
        return f"step {self.name!r}:\n  " + "\n  ".join(self.problems + [f"(note) {n}" for n in self.notes])


@dataclass
class Result:
    example: str
    workdir: Path
    steps: dict[str, Step] = field(default_factory=dict)
    patched: dict[str, list[str]] = field(default_factory=dict)     # gap key -> addresses, over every config
    mimicked: dict[str, list[str]] = field(default_factory=dict)    # gap key -> what the mimic touched
    excused: dict[str, list[str]] = field(default_factory=dict)      # gap key -> "address: path" in any plan
    replace: dict[str, list[str]] = field(default_factory=dict)     # resource type -> problems
    probes: dict[str, Any] = field(default_factory=dict)            # gap key -> True (still happens) / False / error
    after_apply: dict[str, list[str]] = field(default_factory=dict)  # the emulator's inventory after apply
    leftovers: dict[str, list[str]] = field(default_factory=dict)
    resources: int = 0
    cycle: str = FULL
    applicable: set[str] = field(default_factory=set)               # gaps whose resource type the example has

    def step(self, name: str) -> Step:
        return self.steps.get(name) or Step(name)

    def timings(self) -> dict[str, float]:
        return {name: round(step.seconds, 1) for name, step in self.steps.items() if step.ran}


def example_names() -> list[str]:
    """Every example found: ``<dir>/<name>.json`` and ``<dir>/<name>/tapinfra.json``."""
    found = {path.stem for d in EXAMPLE_DIRS for path in d.glob("*.json")}
    found |= {path.parent.name for d in EXAMPLE_DIRS for path in d.glob("*/tapinfra.json")}
    return sorted(found)


def example_path(name: str) -> Optional[Path]:
    """``examples/<name>.json``, or a project example's config (``examples/<name>/tapinfra.json``:
    the library example, a user's own application); None when there is none."""
    for directory in EXAMPLE_DIRS:
        for path in (directory / name / "tapinfra.json", directory / f"{name}.json"):
            if path.is_file():
                return path
    return None


def example_config(name: str) -> TapConfig:
    path = example_path(name)
    if path is None:
        raise FileNotFoundError(f"no example {name!r} in {', '.join(map(str, EXAMPLE_DIRS))}")
    return load_config(path, environ={})


def rehearsal_config(base: TapConfig, endpoint: str) -> TapConfig:
    """The example as the rehearsal deploys it: asset packaging, disposable, local state, the emulator."""
    backend = {**base.to_dict()["backend"], "type": "local", "bucket": None, "region": None, "kms_key_id": None,
               "dynamodb_table": None}
    return with_changes(base, packaging={"mode": "asset"}, disposable=True, emulator=endpoint, backend=backend)


def update_config(config: TapConfig) -> TapConfig:
    """The update the rehearsal applies: a new tenant, more memory, a stage setting, a feature
    toggled, and a CORS origin (a new API declaration: a new deployment replaces the old one)."""
    return with_changes(
        config,
        api={"tenants": [*config.api.tenants, UPDATE_TENANT], "throttle_rate_limit": max(1, config.api.throttle_rate_limit // 2),
             "cors_allowed_origins": [*(o for o in config.api.cors_allowed_origins if o != "*"), UPDATE_ORIGIN]},
        function={"memory_mb": min(10240, config.function.memory_mb * 2)},
        features={"drain_switch": not config.features.drain_switch},
    )


def diagnostics(stdout: str) -> list[dict[str, Any]]:
    """The diagnostics of a ``-json`` terraform run."""
    found = []
    for line in stdout.splitlines():
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(message, dict) and message.get("type") == "diagnostic":
            found.append(message["diagnostic"])
    return found


def errors(found: list[dict[str, Any]]) -> list[str]:
    return [describe(d) for d in found if d["severity"] == "error"]


def warnings(found: list[dict[str, Any]]) -> list[str]:
    """Warnings are reported, not failed on: validate's test owns them; what a warning hides
    (an account setting left behind) the leftover check asks the emulator about."""
    return sorted({describe(d) for d in found if d["severity"] != "error"})


def describe(diagnostic: dict[str, Any]) -> str:
    detail = (diagnostic.get("detail") or "").strip().splitlines()
    text = f"{diagnostic['severity']}: {diagnostic.get('address') or '-'}: {diagnostic['summary']}"
    return text + (f" -- {detail[0][:400]}" if detail else "")


def count_messages(stdout: str, kind: str) -> int:
    return sum(1 for line in stdout.splitlines() if f'"type":"{kind}"' in line)


def dependents(doc: dict[str, Any], address: str) -> set[str]:
    """Every block that depends on ``address``, directly or not (references and depends_on)."""
    reads = {a: document.references(body) | set(body.get("depends_on", [])) for a, body in document.blocks(doc)}
    found, frontier = set(), {address}
    while frontier:
        frontier = {a for a, refs in reads.items() if refs & frontier} - found
        found |= frontier
    return found


def create_before_destroy_dependents(doc: dict[str, Any], address: str) -> list[str]:
    """Resources with ``create_before_destroy`` that depend on ``address``, directly or not:
    Terraform makes ``address`` create-before-destroy too."""
    return sorted(
        a for a in dependents(doc, address)
        if not a.startswith(("data.", "output."))
        and document.resources(doc, a.split(".")[0]).get(a.split(".", 1)[1], {}).get("lifecycle", {}).get("create_before_destroy")
    )


class Rehearsal:
    """One config (an example's or the user's), one emulator, one working directory.

    ``progress`` hears one line per finished step; ``cycle`` is ``full`` or ``core``.
    """

    def __init__(self, example: str, server: MotoServer, cli_config: Path, workdir: Path, *,
                 config: Optional[TapConfig] = None, cycle: str = FULL,
                 progress: Optional[Callable[[str], None]] = None) -> None:
        if cycle not in CYCLES:
            raise ValueError(f"cycle {cycle!r}: expected one of {CYCLES}")
        self.server, self.cli_config = server, cli_config
        self.config, self.cycle, self.progress = config, cycle, progress
        self.result = Result(example, workdir, cycle=cycle)
        self.stack = workdir / "stack"
        self.regions: set[str] = set()
        self._docs: dict[str, dict[str, Any]] = {}   # "base"/"update" -> pristine synthesized document
        self._current = "base"                       # which of them the working directory holds
        self._state_ok = False
        self.cancelled = threading.Event()

    # --- the run -----------------------------------------------------------------------------

    def run(self) -> Result:
        r = self.result
        with self._step("synth") as step:
            base = rehearsal_config(self.config or example_config(r.example), self.server.endpoint)
            self._synth("base", base)
            if self.cycle == FULL:
                self._synth("update", update_config(base))
                self._synth("protected", with_changes(update_config(base), disposable=False))
            else:
                self._synth("protected", with_changes(base, disposable=False))
            synthesized = sum(len(items) for items in self._docs["base"].get("resource", {}).values())
            step.notes.append(f"{synthesized} resources synthesized, {r.resources} after patches")
        if not r.step("synth").ok:
            return r
        with self._step("init") as step:
            self._install("base")
            self._tf_checked(step, ["init", "-input=false", "-no-color"], log="init")
        if not r.step("init").ok:
            return r
        self._apply("apply", first=True)
        self._plan_must_be_empty("plan-after-apply")
        if self._state_ok and self.cycle == FULL:
            self._install("update")
            # No refresh: the plan just before compared every resource with the emulator, and
            # nothing has touched the emulator since. The plan after it refreshes again.
            self._apply("update", first=False, refresh=False)
            self._plan_must_be_empty("plan-after-update")
            self._replace()
        if self._state_ok:
            self._protected()
        self._destroy()
        with self._step("leftovers") as step:
            r.leftovers = inventory.inventory(self.server, self.regions)
            if r.patched.get("apigateway-account-reset"):
                # The copy keeps the account setting (gap apigateway-account-reset); AWS resets it on destroy.
                for kind in [k for k in r.leftovers if k.endswith("api gateway account cloudwatch role")]:
                    step.notes.append(f"excused by apigateway-account-reset: {kind}: {', '.join(r.leftovers.pop(kind))}")
            step.problems += [f"left behind: {kind}: {', '.join(names)}" for kind, names in sorted(r.leftovers.items())]
            replays = self.server.log_path.read_text(errors="replace").count(REPLAY_MARK)
            if replays:
                step.notes.append(f"sdk-retry-replay: {replays} retried call(s) answered from their first answer (moto.log)")
        with self._step("probes") as step:
            for gap in gaps.GAPS:
                try:
                    r.probes[gap.key] = gap.probe(self.server)
                except Exception as error:  # a probe that cannot run says nothing about the gap
                    r.probes[gap.key] = f"probe failed: {type(error).__name__}: {error}"
                    step.problems.append(f"{gap.key}: {r.probes[gap.key]}")
        return r

    # --- steps -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _step(self, name: str) -> Iterator[Step]:
        step = self.result.steps.setdefault(name, Step(name))
        step.ran = True
        start = time.monotonic()
        try:
            yield step
        except Exception as error:
            step.problems.append(f"harness error: {type(error).__name__}: {error}")
        finally:
            step.seconds += time.monotonic() - start
            if self.progress is not None:
                status = "ok" if step.ok else ("skipped" if not step.ran else f"FAILED ({len(step.problems)} problems)")
                self.progress(f"[{self.result.example}] {name:<18} {step.seconds:7.1f} s  {status}")

    def _synth(self, label: str, config: TapConfig) -> None:
        from tapinfra.app import synth_app

        outdir = self.result.workdir / f"synth-{label}"
        with _SYNTH_LOCK:
            stack_file = synth_app(config, outdir)
        doc = json.loads(stack_file.read_text())
        self._docs[label] = doc
        patched = json.loads(json.dumps(doc))
        for key, touched in gaps.apply_patches(patched).items():
            self.result.patched.setdefault(key, [])
            self.result.patched[key] = sorted(set(self.result.patched[key]) | set(touched))
        (stack_file.parent / f"{STACK_FILE}.rehearsal").write_text(json.dumps(patched, indent=1))
        self.regions |= {p["region"] for p in patched["provider"]["aws"]}
        if label == "base":
            self.result.resources = sum(len(items) for items in patched.get("resource", {}).values())
            self.result.applicable = {gap.key for gap in gaps.GAPS if gap.applies_to(doc)}

    def _install(self, label: str) -> None:
        """Put the patched copy of a synth (and its assets) into the working directory."""
        source = next((self.result.workdir / f"synth-{label}" / "stacks").iterdir())
        self.stack.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.stack / "assets", ignore_errors=True)
        if (source / "assets").exists():
            shutil.copytree(source / "assets", self.stack / "assets")
        shutil.copyfile(source / f"{STACK_FILE}.rehearsal", self.stack / STACK_FILE)
        self._current = label

    def _apply(self, name: str, first: bool, refresh: bool = True) -> None:
        with self._step(name) as step:
            ok = self._apply_once(step, log=name, refresh=refresh)
            if not ok and first:
                # Go on from a complete deployment so the later steps still report; this step has failed.
                retry = Step("retry")
                ok = self._apply_once(retry, log=f"{name}-retry")
                step.notes.append("a second apply converged; the rehearsal goes on from there" if ok
                                  else "a second apply failed too: " + "; ".join(retry.problems))
            self._state_ok = ok
        if self._state_ok:
            with self._step("mimic"):
                self._mimic()

    def _apply_once(self, step: Step, log: str, refresh: bool = True) -> bool:
        run = self._tf(["apply", "-auto-approve", "-input=false", "-no-color", "-json", f"-parallelism={PARALLELISM}",
                        *([] if refresh else ["-refresh=false"])], log=log)
        found = diagnostics(run.stdout)
        step.problems += errors(found)
        step.notes += warnings(found)
        done, failed = count_messages(run.stdout, "apply_complete"), count_messages(run.stdout, "apply_errored")
        step.notes.append(f"{done} resource actions completed, {failed} failed ({log})")
        if run.returncode != 0 and not any(d["severity"] == "error" for d in found):
            step.problems.append(f"terraform apply exited {run.returncode}: {run.stderr.strip()[-800:]}")
        return run.returncode == 0

    def _mimic(self) -> None:
        """Do what AWS would have done by itself by now (the mimic gaps)."""
        if not self.result.after_apply:
            self.result.after_apply = inventory.inventory(self.server, self.regions)
        state = json.loads(self._tf(["state", "pull"], log="state").stdout)
        for gap in gaps.GAPS:
            if gap.kind == gaps.MIMIC and gap.mimic is not None:
                touched = gap.mimic(self.server, state, self._docs[self._current])
                self.result.mimicked.setdefault(gap.key, [])
                self.result.mimicked[gap.key] = sorted(set(self.result.mimicked[gap.key]) | set(touched))

    def _plan_must_be_empty(self, name: str) -> None:
        with self._step(name) as step:
            if not self._state_ok:
                step.ran = False
                step.problems.append("the apply before it failed")
                return
            plan = self._plan(step, name, [])
            if plan is None:
                return
            verdict = judge.judge(plan, gaps.GAPS)
            step.problems += [f"unexplained change: {line}" for line in verdict.unexplained]
            for key, lines in verdict.excused.items():
                self.result.excused.setdefault(key, []).extend(f"{name}: {line}" for line in lines)

    def _plan(self, step: Step, name: str, extra: list[str]) -> Optional[dict[str, Any]]:
        run = self._tf(["plan", "-input=false", "-no-color", "-json", f"-parallelism={PARALLELISM}", f"-out={name}.tfplan", *extra], log=name)
        found = diagnostics(run.stdout)
        step.problems += errors(found)
        step.notes += warnings(found)
        if run.returncode != 0:
            if not errors(found):
                step.problems.append(f"terraform plan exited {run.returncode}: {run.stderr.strip()[-800:]}")
            return None
        shown = self._tf(["show", "-json", f"{name}.tfplan"], log=f"{name}-show", keep_stdout=False)
        return json.loads(shown.stdout)

    def _replace(self) -> None:
        with self._step("replace") as step:
            doc = json.loads((self.stack / STACK_FILE).read_text())
            targets = {rtype: [f"{rtype}.{name}" for name in document.resources(doc, rtype)] for rtype in REPLACED_TYPES}
            # -refresh=false: the plan after the update has just proved the state matches the emulator.
            plan = self._plan(step, "replace", ["-refresh=false", *(f"-replace={a}" for group in targets.values() for a in group)])
            if plan is None:
                return
            planned = {rc["address"]: rc["change"]["actions"] for rc in plan["resource_changes"]}
            for rtype, addresses in targets.items():
                problems = self.result.replace.setdefault(rtype, [])
                if not addresses:
                    problems.append(f"the {self.result.example} example has no {rtype}")
                for address in addresses:
                    actions = planned.get(address)
                    if actions == ["delete", "create"]:
                        continue
                    if actions == ["create", "delete"]:
                        via = create_before_destroy_dependents(doc, address)
                        problems.append(f"{address}: planned create-then-delete; it inherits create_before_destroy from "
                                        f"{', '.join(via) or 'its own lifecycle'}")
                    else:
                        problems.append(f"{address}: planned {actions} for -replace")
            step.problems += [p for problems in self.result.replace.values() for p in problems]

    def _protected(self) -> None:
        """The same deployment without ``disposable``: a plan to destroy it must be refused for
        every table, data bucket, key and zone, by name."""
        with self._step("protected") as step:
            self._install("protected")
            doc = json.loads((self.stack / STACK_FILE).read_text())
            expected = {f"{rtype}.{name}" for rtype, items in doc.get("resource", {}).items() for name, body in items.items()
                        if (body.get("lifecycle") or {}).get("prevent_destroy")}
            kinds = {address.split(".")[0] for address in expected}
            for rtype in PROTECTED_TYPES:
                if rtype not in kinds and document.resources(doc, rtype):
                    step.problems.append(f"{rtype} is not protected without disposable")
            run = self._tf(["plan", "-destroy", "-refresh=false", "-input=false", "-no-color", "-json"], log="protected")
            refused = {d.get("address") or d.get("detail", "").split(" ")[1] for d in diagnostics(run.stdout)
                       if d["severity"] == "error" and d.get("summary") == "Instance cannot be destroyed"}
            if run.returncode == 0:
                step.problems.append("terraform planned to destroy a protected deployment")
            # A destroy plan walks dependents first and stops a branch at its first refusal: a
            # protected resource that a protected one depends on (a key under its table, a role
            # under its account setting) is never reached. Every other one must be refused.
            reachable = {a for a in expected if not set(dependents(doc, a)) & expected}
            refused_kinds = {address.split(".")[0] for address in refused}
            step.problems += [f"protected but not refused: {address}" for address in sorted(reachable - refused)]
            step.problems += [f"refused but not protected: {address}" for address in sorted(refused - expected)]
            step.notes.append(f"{len(refused)} of {len(expected)} protected resources refused: {', '.join(sorted(refused_kinds))}")
            self._install("update" if self.cycle == FULL else "base")

    def _destroy(self) -> None:
        with self._step("destroy") as step:
            # -refresh=false: nothing here reads live values, and the state is the last apply's.
            run = self._tf(["destroy", "-auto-approve", "-input=false", "-no-color", "-json", "-refresh=false",
                            f"-parallelism={PARALLELISM}"], log="destroy")
            found = diagnostics(run.stdout)
            step.problems += errors(found)
            step.notes += warnings(found)
            step.notes.append(f"{count_messages(run.stdout, 'apply_complete')} resources destroyed, "
                              f"{count_messages(run.stdout, 'apply_errored')} failed")
            if run.returncode != 0 and not errors(found):
                step.problems.append(f"terraform destroy exited {run.returncode}: {run.stderr.strip()[-800:]}")

    # --- terraform -----------------------------------------------------------------------------

    def _tf(self, args: list[str], log: str, keep_stdout: bool = True):
        if self.cancelled.is_set():
            raise Cancelled(f"terraform {args[0]} not run: the session was interrupted")
        run = tfcli.run(args, self.stack, self.cli_config, timeout=COMMAND_TIMEOUT,
                        env={"AWS_EC2_METADATA_DISABLED": "true"})
        logs = self.result.workdir / "logs"
        logs.mkdir(exist_ok=True)
        (logs / f"{log}.stdout").write_text(run.stdout if keep_stdout else f"({len(run.stdout)} bytes of JSON)\n")
        (logs / f"{log}.stderr").write_text(run.stderr)
        return run

    def _tf_checked(self, step: Step, args: list[str], log: str) -> None:
        run = self._tf(args, log=log)
        if run.returncode != 0:
            step.problems.append(f"terraform {args[0]} exited {run.returncode}: {(run.stderr or run.stdout).strip()[-800:]}")
