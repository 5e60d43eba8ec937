"""``tapinfra rehearse [--config F | --example NAME ...]``: the deploy rehearsal on your own stack.

Synthesizes the config pointed at a moto server of its own, applies the emulator gaps to that
copy (never to what you deploy), then applies, re-plans (must be empty), updates, replaces,
plans a protected destroy, destroys and asks the emulator what is left. Exit 0 when every
phase passed, 1 when the rehearsal found problems, 2 on bad input or a missing prerequisite
(terraform, the provider mirror, moto[server]).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

from tapinfra import tfcli
from tapinfra.cli.exits import NOT_OK, OK, InputError, command
from tapinfra.cli.paths import directory_problem, file_problem
from tapinfra.errors import Problem

PROG = "tapinfra rehearse"
INTERRUPTED = 130
EXTRA = "pip install 'tapinfra[rehearse]' (moto[server]==5.2.5)"


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def prerequisites() -> list[Problem]:
    """terraform, the provider mirror and moto's server: what a rehearsal cannot run without."""
    found = []
    if tfcli.terraform() is None:
        found.append(Problem("terraform", "<not on PATH>", "terraform 1.5 or newer on PATH"))
    if tfcli.find_mirror() is None:
        found.append(Problem(tfcli.MIRROR_ENV, _env_value(tfcli.MIRROR_ENV),
                             f"the root of a filesystem mirror holding {tfcli.AWS_PROVIDER} {tfcli.AWS_VERSION} for "
                             f"{tfcli.os_arch()} (make one with `terraform providers mirror DIR` on a connected machine)"))
    try:
        import moto.server  # noqa: F401, PLC0415
        import flask  # noqa: F401, PLC0415  (what moto's server runs on)
    except ImportError as exc:
        found.append(Problem("moto[server]", f"<not installed: {exc.name}>", EXTRA))
    return found


def _env_value(name: str) -> str:
    import os  # noqa: PLC0415

    return os.environ.get(name) or "<unset; no mirror found in the usual places>"


def parse(argv: list[str]) -> argparse.Namespace:
    from tapinfra.rehearsal.rehearsal import CYCLES, FULL

    parser = argparse.ArgumentParser(prog=PROG, description="The deploy rehearsal of your own config against a moto server of its own.",
                                     epilog="Exit 0: every phase passed; 1: the rehearsal found problems; 2: bad input or a missing "
                                            "prerequisite; 130: interrupted (every server and terraform it started stopped).")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--config", metavar="FILE", help="your tapinfra config (JSON); default: $TAP_CONFIG, else the default config")
    source.add_argument("--example", action="append", default=[], metavar="NAME",
                        help="rehearse examples/NAME.json (repeatable: they run side by side)")
    parser.add_argument("--core", action="append", default=[], metavar="NAME",
                        help="rehearse NAME (an --example) with the core cycle: no update, re-plan after it or replace (repeatable)")
    parser.add_argument("--cycle", choices=CYCLES, default=FULL, help=f"cycle of every config not named by --core (default: {FULL})")
    parser.add_argument("--workdir", metavar="DIR", help="where synths, state and logs go (default: a new temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary work directory (one given with --workdir is always kept)")
    parser.add_argument("--json", metavar="REPORT", help="also write the report as JSON to REPORT")
    return parser.parse_args(argv)


def targets(args: argparse.Namespace) -> list:
    from tapinfra.config import load_config
    from tapinfra.rehearsal.rehearsal import CORE, example_names, example_path
    from tapinfra.rehearsal.runner import Target

    if args.example:
        allowed = example_names()
        unknown = [name for name in args.example if example_path(name) is None]
        if unknown:
            raise InputError([Problem("--example", name, f"one of: {', '.join(allowed) or '(no examples/ folder found)'}")
                              for name in unknown])
        names = list(dict.fromkeys(args.example))
        stray = [name for name in args.core if name not in names]
        if stray:
            raise InputError([Problem("--core", name, f"one of the --example names given: {', '.join(names)}") for name in stray])
        return [Target(name, load_config(example_path(name), environ={}), CORE if name in args.core else args.cycle)
                for name in names]
    if args.core:
        raise InputError([Problem("--core", args.core[0], "an --example name (with --config, use --cycle core)")])
    if args.config is not None:
        path = Path(args.config)
        if not path.is_file():
            raise InputError([Problem("--config", args.config, "an existing tapinfra config file (JSON)")])
        return [Target(path.stem, load_config(path), args.cycle)]
    return [Target("config", load_config(), args.cycle)]


@command(PROG)
def main(argv: list[str]) -> int:
    args = parse(argv)
    for name, value in (("--json", args.json),):
        if value is not None:
            problem = file_problem(name, value)
            if problem is not None:
                raise InputError([problem])
    if args.workdir is not None:
        problem = directory_problem("--workdir", args.workdir)
        if problem is not None:
            raise InputError([problem])
    chosen = targets(args)  # config errors: exit 2 before anything starts
    missing = prerequisites()
    if missing:
        raise InputError(missing)
    workdir = Path(args.workdir).resolve() if args.workdir else Path(tempfile.mkdtemp(prefix="tapinfra-rehearse-"))
    try:
        return rehearse(chosen, workdir, args.json)[0]
    except KeyboardInterrupt:  # run_all has stopped every terraform and server it started, by pid
        _say(f"{PROG}: interrupted; every moto server and terraform it started is stopped")
        return INTERRUPTED
    finally:
        if args.workdir is None and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            _say(f"work directory kept: {workdir}")


def rehearse(chosen: list, workdir: Path, json_path: Optional[str] = None) -> tuple[int, list]:
    """Run the rehearsals, print the summary, write the report: the exit code and every outcome
    (the test suite's fixture calls this too, so ``make test`` rehearses through the command)."""
    from tapinfra.rehearsal import runner

    cli_config = tfcli.cli_config(tfcli.find_mirror(), workdir)
    _say(f"{PROG}: {', '.join(f'{t.label} ({t.cycle})' for t in chosen)} in {workdir}")
    cpu_before, started = runner.children_cpu_seconds(), time.monotonic()
    outcomes = runner.run_all(chosen, cli_config, workdir, progress=_say)
    cpu = runner.children_cpu_seconds() - cpu_before
    report = runner.report(outcomes, cpu)
    report["wall_seconds"] = round(time.monotonic() - started, 1)
    print(summary(report))
    if json_path is not None:
        try:
            Path(json_path).write_text(json.dumps(report, indent=1, default=str))
        except OSError as exc:
            raise InputError([Problem("--json", json_path, f"a writable file ({exc.strerror or exc})")]) from None
    return (OK if report["ok"] else NOT_OK), outcomes


def summary(report: dict) -> str:
    """The table at the end: phase, seconds, ok/FAILED, problems; then the gaps applied and why."""
    lines = []
    for label, r in report["rehearsals"].items():
        lines.append(f"\n{label} ({r['cycle']} cycle, {r['resources']} resources, moto CPU {r['moto_cpu_seconds']} s): "
                     f"{'ok' if r['ok'] else 'FAILED'}")
        lines.append(f"  {'phase':<20} {'seconds':>8}  {'status':<8} problems")
        for name, step in r["steps"].items():
            status = "ok" if step["ok"] else ("skipped" if not step["ran"] else "FAILED")
            first = step["problems"][0][:160] if step["problems"] else ""
            more = f" (+{len(step['problems']) - 1} more)" if len(step["problems"]) > 1 else ""
            lines.append(f"  {name:<20} {step['seconds']:>8.1f}  {status:<8} {first}{more}")
        lines.append(f"  {'total':<20} {r['seconds']['total']:>8.1f}")
        extra = [p for p in r["problems"] if p.startswith(("probes: gap", "plans: drift"))]
        lines += [f"  problem: {p}" for p in extra]
        if r["gaps_applied"]:
            lines.append("  emulator gaps applied to the rehearsal's copy (never to what you deploy):")
            for key, gap in r["gaps_applied"].items():
                lines.append(f"    {key} [{gap['kind']}, {len(gap['touched'])} touched]: {gap['why']}")
    lines.append(f"\nwall {report['wall_seconds']} s, CPU of terraform, providers and moto {report.get('cpu_seconds', 0)} s: "
                 f"{'every phase passed' if report['ok'] else 'the rehearsal found problems'}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
