"""Benchmark of synthesis: cold ``python main.py`` wall time and peak memory, fast vs stock.

Run:  .venv/bin/python bench/bench_synth.py [--runs 3] [--configs default full] [--modes fast stock]

Each run is a fresh ``python main.py --config examples/<config>.json --outdir <tmp>``, with
the fast import path (default) or ``TAP_STOCK_IMPORT=1`` (stock). One uncounted warm-up run
per config and mode first fills the jsii package cache and ``__pycache__`` (the cache stays
on, as in normal use), so "cold" means a new interpreter and a new jsii kernel, not a cold
disk. Reported per config and mode, median over the runs:

* wall: spawn to exit of ``python main.py``; cpu: user + system time of python and the
  node processes (from ``wait4``), which other load on the machine does not inflate;
* peak total: the process tree (python, the jsii-runtime node wrapper and the kernel node
  process) is sampled every ``--interval`` ms from /proc. ``sum of peaks`` adds each
  process's own peak RSS (VmHWM, exact per process): an upper bound of the true total,
  and the figure the target is checked against. ``sampled`` is the largest sum of RSS seen
  in one sample: a lower bound. (``ru_maxrss`` of children is the max of any single
  process, not a sum, so it is not used.)
* python / node: the peak RSS of the python process and the summed peaks of the node ones.

Targets for the default config (this 2-core machine): <= 3 s and <= 350 MB total.
Linux only (reads /proc). A measurement script, not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_WALL_S = 3.0
TARGET_MB = 350.0
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class Run:
    wall_s: float
    cpu_s: float = 0.0
    sampled_total_kb: int = 0
    peaks_kb: dict[int, tuple[str, int]] = field(default_factory=dict)  # pid -> (comm, VmHWM)

    @property
    def sum_of_peaks_kb(self) -> int:
        return sum(kb for _, kb in self.peaks_kb.values())

    def peak_kb(self, kind: str) -> int:
        return sum(kb for comm, kb in self.peaks_kb.values() if _kind(comm) == kind)


def _kind(comm: str) -> str:
    if comm.startswith("python"):
        return "python"
    if comm.startswith("node"):
        return "node"
    return "other"


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(c) for c in f.read().split())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return out


def _tree(root: int) -> list[int]:
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(_children(pid))
    return pids


def _status(pid: int) -> tuple[str, int, int] | None:
    """(comm, VmRSS kB, VmHWM kB) of a live process."""
    try:
        with open(f"/proc/{pid}/status") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("Name", "VmRSS", "VmHWM"):
            fields[key] = value.strip()
    if "VmRSS" not in fields:  # a zombie
        return None
    return fields["Name"], int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def _sample_until_exit(proc: subprocess.Popen, run: Run, interval: float, stop: threading.Event) -> None:
    while not stop.is_set():
        total = 0
        for pid in _tree(proc.pid):
            st = _status(pid)
            if st is None:
                continue
            comm, rss, hwm = st
            total += rss
            previous = run.peaks_kb.get(pid, (comm, 0))[1]
            run.peaks_kb[pid] = (comm, max(previous, hwm))
        run.sampled_total_kb = max(run.sampled_total_kb, total)
        stop.wait(interval)


def run_once(cmd: list[str], env: dict[str, str], interval: float) -> Run:
    run = Run(wall_s=0.0)
    stop = threading.Event()
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
        sampler = threading.Thread(target=_sample_until_exit, args=(proc, run, interval, stop), daemon=True)
        sampler.start()
        # wait4: the CPU time of python and of the node processes it reaped (all of them).
        _, status, usage = os.wait4(proc.pid, 0)
        run.wall_s = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        run.cpu_s = usage.ru_utime + usage.ru_stime
        stop.set()
        sampler.join()
        if proc.returncode != 0:
            err.seek(0)
            sys.stderr.write(err.read().decode(errors="replace")[-4000:])
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return run


def bench(config: str, mode: str, runs: int, interval: float, python: str, script: str) -> list[Run]:
    env = {k: v for k, v in os.environ.items() if k not in ("TAP_STOCK_IMPORT", "TAPINFRA_FASTIMPORT_DEBUG")}
    if mode == "stock":
        env["TAP_STOCK_IMPORT"] = "1"
    results = []
    for i in range(runs + 1):  # the first one is the warm-up
        outdir = tempfile.mkdtemp(prefix=f"bench-synth-{config}-{mode}-")
        try:
            cmd = [python, script, "--config", str(ROOT / "examples" / f"{config}.json"), "--outdir", outdir]
            run = run_once(cmd, env, interval)
        finally:
            shutil.rmtree(outdir, ignore_errors=True)
        if i > 0:
            results.append(run)
        print(
            f"  {config:8} {mode:5} run {i if i else 'warm-up'}: {run.wall_s:6.2f} s  cpu {run.cpu_s:6.2f} s  "
            f"{run.sum_of_peaks_kb / 1024:7.0f} MB",
            file=sys.stderr,
            flush=True,
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="counted runs per config and mode (median)")
    parser.add_argument("--configs", nargs="+", default=["default", "full"])
    parser.add_argument("--modes", nargs="+", default=["fast", "stock"], choices=["fast", "stock"])
    parser.add_argument("--interval", type=float, default=10.0, help="sampling interval, ms")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--script", default=str(ROOT / "main.py"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").exists():
        print("needs Linux /proc", file=sys.stderr)
        return 2

    rows = []
    for config in args.configs:
        for mode in args.modes:
            runs = bench(config, mode, args.runs, args.interval / 1000.0, args.python, args.script)
            med = lambda f: statistics.median(f(r) for r in runs)  # noqa: E731
            rows.append(
                (
                    config,
                    mode,
                    med(lambda r: r.wall_s),
                    med(lambda r: r.cpu_s),
                    med(lambda r: r.sum_of_peaks_kb) / 1024,
                    med(lambda r: r.sampled_total_kb) / 1024,
                    med(lambda r: r.peak_kb("python")) / 1024,
                    med(lambda r: r.peak_kb("node")) / 1024,
                )
            )

    print()
    print(f"cold `python main.py`, median of {args.runs} runs (peak memory in MB, python + node)")
    header = (
        f"{'config':8} {'mode':5} {'wall s':>7} {'cpu s':>6} {'sum of peaks':>13} {'sampled':>8} {'python':>7} {'node':>7}"
    )
    print(header)
    print("-" * len(header))
    for config, mode, wall, cpu, peaks, sampled, py, node in rows:
        print(f"{config:8} {mode:5} {wall:7.2f} {cpu:6.2f} {peaks:13.0f} {sampled:8.0f} {py:7.0f} {node:7.0f}")
    by_key = {(r[0], r[1]): r for r in rows}
    for config in args.configs:
        fast, stock = by_key.get((config, "fast")), by_key.get((config, "stock"))
        if fast and stock:
            print(
                f"{config}: fast is {stock[2] / fast[2]:.1f}x faster (wall; {stock[3] / fast[3]:.1f}x less CPU) "
                f"and uses {stock[4] / fast[4]:.1f}x less memory than stock"
            )
    default_fast = by_key.get(("default", "fast"))
    if default_fast:
        ok = default_fast[2] <= TARGET_WALL_S and default_fast[4] <= TARGET_MB
        print(
            f"target (default, fast): <= {TARGET_WALL_S:.0f} s and <= {TARGET_MB:.0f} MB -> "
            f"{default_fast[2]:.2f} s, {default_fast[4]:.0f} MB: {'met' if ok else 'NOT met'}"
        )
    load = os.getloadavg()[0]
    if load > 1.5:
        print(f"note: load average {load:.1f} on {os.cpu_count()} cores: other work was running, wall times are inflated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
