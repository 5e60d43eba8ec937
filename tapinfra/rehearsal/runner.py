"""Several rehearsals side by side, each with its own moto server and work directory.

Most of a rehearsal is terraform waiting on the provider's polling, so they run in threads:
two take little more than the longer one. Every server is started in the main thread (it
alone can install the signal handlers that stop it) and stopped by its own pid, pass, fail
or Ctrl-C. ``tapinfra rehearse`` and the test suite's fixture both come through :func:`run_all`.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from tapinfra import tfcli
from tapinfra.config import TapConfig
from tapinfra.rehearsal import gaps
from tapinfra.rehearsal.emulator import MotoServer
from tapinfra.rehearsal.rehearsal import FULL, Rehearsal, Result, Step

STOP_SECONDS = 30  # what an interrupted rehearsal may take to notice


@dataclass(frozen=True)
class Target:
    """What to rehearse: a label (the example's name or the config file's stem), its config
    (None: the example of that name) and the cycle (``full`` or ``core``)."""

    label: str
    config: Optional[TapConfig] = None
    cycle: str = FULL


@dataclass
class Outcome:
    result: Result
    seconds: float          # wall, from the server's start to its stop
    moto_cpu: float         # user+sys of this rehearsal's moto server


def process_cpu_seconds(pid: Optional[int]) -> float:
    """user+sys CPU of a live process (Linux /proc); 0.0 when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """user+sys of every finished child of this process (terraform, its providers, moto)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_all(targets: Sequence[Target], cli_config: Path, workdir: Path,
            progress: Optional[Callable[[str], None]] = None) -> list[Outcome]:
    """Every target's rehearsal, started together and awaited together (in ``targets``' order)."""
    runs: list[tuple[Rehearsal, threading.Thread]] = []
    outcomes: dict[str, Outcome] = {}
    try:
        for target in targets:
            directory = Path(workdir) / f"rehearsal-{target.label}"
            directory.mkdir(parents=True, exist_ok=True)
            server = MotoServer(directory / "moto.log")
            started = time.monotonic()
            server.start()  # in the main thread: it alone can install the server's signal handlers
            if progress is not None:
                progress(f"[{target.label}] emulator-start     {time.monotonic() - started:7.1f} s  ok (moto at {server.endpoint}, pid {server.pid})")
            rehearsal = Rehearsal(target.label, server, cli_config, directory, config=target.config,
                                  cycle=target.cycle, progress=progress)
            thread = threading.Thread(target=_rehearse, args=(rehearsal, started, time.monotonic() - started, outcomes),
                                      name=f"rehearsal-{target.label}", daemon=True)
            runs.append((rehearsal, thread))
            thread.start()
        for _, thread in runs:
            while thread.is_alive():
                thread.join(0.5)  # short joins: the main thread stays responsive to Ctrl-C
    except BaseException:
        # Interrupted: the rehearsals start no more terraform, the running ones are stopped.
        for rehearsal, _ in runs:
            rehearsal.cancelled.set()
        tfcli.stop_all()
        for _, thread in runs:
            thread.join(STOP_SECONDS)
        raise
    finally:
        for rehearsal, _ in runs:
            rehearsal.server.stop()
    return [outcomes[target.label] for target in targets if target.label in outcomes]


def _rehearse(rehearsal: Rehearsal, started: float, emulator_seconds: float, outcomes: dict[str, Outcome]) -> None:
    try:
        result = rehearsal.run()
    except Exception as error:  # the harness itself broke: every check of this config says so
        result = rehearsal.result
        result.steps["harness"] = Step("harness", ran=True, problems=[f"harness error: {type(error).__name__}: {error}"])
    finally:
        moto_cpu = process_cpu_seconds(rehearsal.server.pid)
        rehearsal.server.stop()  # its emulator is done when it is: the other rehearsal may still run
    result.steps = {"emulator-start": Step("emulator-start", ran=True, seconds=emulator_seconds), **result.steps}
    outcomes[result.example] = Outcome(result, time.monotonic() - started, moto_cpu)


def problems(result: Result) -> list[str]:
    """Every problem the rehearsal found, step by step, and every gap whose probe no longer holds."""
    found = [f"{name}: {problem}" for name, step in result.steps.items() for problem in step.problems]
    found += [f"probes: gap {key!r} no longer happens: remove it from tapinfra/rehearsal/gaps.py"
              for key, probe in result.probes.items() if probe is False]
    found += [f"plans: drift gap {gap.key!r} no longer shows in any plan: remove it from tapinfra/rehearsal/gaps.py"
              for gap in gaps.GAPS if gap.kind == gaps.DRIFT and gap.key in result.applicable
              and result.step("plan-after-apply").ran and not result.excused.get(gap.key)]
    return found


def report(outcomes: Sequence[Outcome], cpu_seconds: Optional[float] = None) -> dict[str, Any]:
    """The JSON report: per config, each step's seconds, status and problems, and the gaps applied."""
    out: dict[str, Any] = {"ok": all(not problems(o.result) for o in outcomes), "rehearsals": {}}
    if cpu_seconds is not None:
        out["cpu_seconds"] = round(cpu_seconds, 1)
    for outcome in outcomes:
        r = outcome.result
        out["rehearsals"][r.example] = {
            "ok": not problems(r),
            "cycle": r.cycle,
            "workdir": str(r.workdir),
            "resources": r.resources,
            "seconds": {**r.timings(), "total": round(outcome.seconds, 1)},
            "moto_cpu_seconds": round(outcome.moto_cpu, 1),
            "steps": {name: {"ran": step.ran, "ok": step.ok, "seconds": round(step.seconds, 1),
                             "problems": step.problems, "notes": step.notes} for name, step in r.steps.items()},
            "problems": problems(r),
            "gaps_applied": {key: {"kind": gaps.BY_KEY[key].kind, "why": gaps.BY_KEY[key].why, "touched": touched}
                             for key, touched in sorted({**r.patched, **r.mimicked}.items()) if touched},
            "probes": {key: probe for key, probe in r.probes.items()},
            "replace": r.replace,
            "leftovers": r.leftovers,
            "after_apply": r.after_apply,
            "excused": r.excused,
            "applicable": sorted(r.applicable),
        }
    return out
