"""Benchmark of synthesis: cold ``python main.py``, the fast path against the stock one.

Run:  .venv/bin/python bench/bench_synth.py [--runs 5] [--configs default full] [--parts]

Each run is a fresh ``python main.py --config examples/<config>.json --outdir <tmp>``, with
the fast path (``main.py`` calls ``tapinfra.enable_fast_import()``) or ``TAP_STOCK_IMPORT=1``
(stock). Runs of the modes alternate (fast, stock, fast, ...), so that load from other work
on the machine falls on both alike, and one uncounted warm-up run per config and mode first
fills the jsii package cache and ``__pycache__``: "cold" means a new interpreter and a new
jsii kernel, not a cold disk. Reported per config and mode, median over the runs:

* wall: spawn to exit of ``python main.py``; cpu: user + system time of python and the
  node processes it reaped (from ``wait4``), which other load inflates much less;
* fast/stock: the ratio of the medians, wall and cpu, from this one run;
* peak total: the process tree (python, the jsii kernel and, on the stock path, jsii's
  node wrapper) is sampled every ``--interval`` ms from /proc. ``sum of peaks`` adds each
  process's own peak RSS (VmHWM, exact per process): an upper bound of the true total,
  and the figure the target is checked against. ``sampled`` is the largest sum of RSS seen
  in one sample: a lower bound;
* resources: how many resources and data sources the config synthesizes, and the fast
  wall time per resource (the full example must scale with its resource count).

``--parts`` adds one fast variant per part of the fast path switched off
(``TAP_FAST_IMPORT_OFF=<part>``): what each part saves, measured on its own. Each variant
keeps its caches in a directory of its own (``XDG_CACHE_HOME``), filled by its warm-up run.

Targets for the default config (this 2-core machine): fast <= 2.0 s and <= 0.10 of stock
(wall), <= 300 MB summed. Linux only (reads /proc). A measurement script, not a test.
"""

from __future__ import annotations

import argparse
import atexit
import json
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
sys.path.insert(0, str(ROOT))
from tapinfra._fastimport.enable import PARTS  # noqa: E402  (names only: no side effects)

TARGET_WALL_S = 2.0
TARGET_RATIO = 0.10
TARGET_MB = 300.0
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


# Each variant keeps its caches (tapinfra's bytecode, V8 code, tarball digests) in a directory of
# its own: V8 rejects code cached under other flags (``no_opt`` changes them), so variants
# sharing one cache would each find it rewritten by the one before. The warm-up run fills it.
_CACHES = tempfile.mkdtemp(prefix="bench-synth-caches-")
atexit.register(shutil.rmtree, _CACHES, True)


def _env(variant: str) -> dict[str, str]:
    """The environment of one variant: ``fast``, ``stock`` or ``fast-<part off>``."""
    drop = ("TAP_STOCK_IMPORT", "TAP_FAST_IMPORT_OFF", "TAPINFRA_FASTIMPORT_DEBUG")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["XDG_CACHE_HOME"] = os.path.join(_CACHES, variant)
    if variant == "stock":
        env["TAP_STOCK_IMPORT"] = "1"
    elif variant.startswith("fast-"):
        env["TAP_FAST_IMPORT_OFF"] = variant.removeprefix("fast-")
    return env


def _resources(outdir: str) -> int:
    """Resources and data sources in the synthesized stack(s)."""
    count = 0
    for path in Path(outdir).glob("stacks/*/cdk.tf.json"):
        doc = json.loads(path.read_text())
        for kind in ("resource", "data"):
            count += sum(len(items) for items in doc.get(kind, {}).values())
    return count


def run_variant(config: str, variant: str, interval: float, python: str, script: str) -> tuple[Run, int]:
    outdir = tempfile.mkdtemp(prefix=f"bench-synth-{config}-{variant}-")
    try:
        cmd = [python, script, "--config", str(ROOT / "examples" / f"{config}.json"), "--outdir", outdir]
        run = run_once(cmd, _env(variant), interval)
        return run, _resources(outdir)
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


def bench(config: str, variants: list[str], runs: int, interval: float, python: str, script: str):
    """{variant: [Run]} and the resource count, variants alternating run by run."""
    results: dict[str, list[Run]] = {v: [] for v in variants}
    resources = 0
    for i in range(runs + 1):  # the first round is the warm-up
        for variant in variants:
            run, resources = run_variant(config, variant, interval, python, script)
            if i > 0:
                results[variant].append(run)
            print(
                f"  {config:8} {variant:16} run {i if i else 'warm-up'}: {run.wall_s:6.2f} s  cpu {run.cpu_s:6.2f} s  "
                f"{run.sum_of_peaks_kb / 1024:5.0f} MB",
                file=sys.stderr,
                flush=True,
            )
    return results, resources


@dataclass
class Row:
    config: str
    variant: str
    wall: float
    wall_min: float
    cpu: float
    peaks_mb: float
    sampled_mb: float
    python_mb: float
    node_mb: float
    resources: int


def summarize(config: str, variant: str, runs: list[Run], resources: int) -> Row:
    med = lambda f: statistics.median(f(r) for r in runs)  # noqa: E731
    return Row(
        config, variant,
        wall=med(lambda r: r.wall_s), wall_min=min(r.wall_s for r in runs), cpu=med(lambda r: r.cpu_s),
        peaks_mb=med(lambda r: r.sum_of_peaks_kb) / 1024, sampled_mb=med(lambda r: r.sampled_total_kb) / 1024,
        python_mb=med(lambda r: r.peak_kb("python")) / 1024, node_mb=med(lambda r: r.peak_kb("node")) / 1024,
        resources=resources,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="counted runs per config and variant (median)")
    parser.add_argument("--configs", nargs="+", default=["default", "full"])
    parser.add_argument("--no-stock", action="store_true", help="fast path only (no ratio)")
    parser.add_argument("--parts", action="store_true", help="also the fast path with each part off, one at a time")
    parser.add_argument("--interval", type=float, default=10.0, help="sampling interval, ms")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--script", default=str(ROOT / "main.py"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").exists():
        print("needs Linux /proc", file=sys.stderr)
        return 2
    variants = ["fast"] + ([] if args.no_stock else ["stock"]) + ([f"fast-{p}" for p in PARTS] if args.parts else [])

    rows: dict[tuple[str, str], Row] = {}
    for config in args.configs:
        results, resources = bench(config, variants, args.runs, args.interval / 1000.0, args.python, args.script)
        for variant, runs in results.items():
            rows[config, variant] = summarize(config, variant, runs, resources)

    print()
    print(f"cold `python main.py`, median of {args.runs} runs (min in brackets); peak memory in MB")
    header = (
        f"{'config':8} {'variant':16} {'wall s':>13} {'cpu s':>6} {'sum of peaks':>13} {'sampled':>8} "
        f"{'python':>7} {'node':>6} {'resources':>10} {'ms/res':>7}"
    )
    print(header)
    print("-" * len(header))
    for row in rows.values():
        per_resource = 1000 * row.wall / row.resources if row.resources else float("nan")
        print(
            f"{row.config:8} {row.variant:16} {row.wall:6.2f} ({row.wall_min:4.2f}) {row.cpu:6.2f} {row.peaks_mb:13.0f} "
            f"{row.sampled_mb:8.0f} {row.python_mb:7.0f} {row.node_mb:6.0f} {row.resources:10d} {per_resource:7.1f}"
        )
    print()
    for config in args.configs:
        fast, stock = rows.get((config, "fast")), rows.get((config, "stock"))
        if fast and stock:
            print(
                f"{config}: fast/stock = {fast.wall / stock.wall:.3f} wall, {fast.cpu / stock.cpu:.3f} cpu "
                f"({stock.wall / fast.wall:.1f}x faster); memory {fast.peaks_mb:.0f} vs {stock.peaks_mb:.0f} MB"
            )
        for part in PARTS if args.parts else ():
            off = rows.get((config, f"fast-{part}"))
            if fast and off:
                print(f"{config}: part {part!r} saves {off.wall - fast.wall:+.2f} s wall, {off.cpu - fast.cpu:+.2f} s cpu")
    default, full = rows.get(("default", "fast")), rows.get(("full", "fast"))
    if default and full and default.resources and full.resources:
        grow_time, grow_res = full.wall / default.wall, full.resources / default.resources
        print(
            f"scaling: full has {grow_res:.2f}x the resources of default and takes {grow_time:.2f}x the time: "
            f"{'scales' if grow_time <= grow_res else 'worse than linear'}"
        )
    if default:
        stock = rows.get(("default", "stock"))
        ratio = default.wall / stock.wall if stock else None
        ok = default.wall <= TARGET_WALL_S and default.peaks_mb <= TARGET_MB and (ratio is None or ratio <= TARGET_RATIO)
        print(
            f"target (default, fast): <= {TARGET_WALL_S:.1f} s, <= {TARGET_RATIO:.2f} of stock, <= {TARGET_MB:.0f} MB -> "
            f"{default.wall:.2f} s, {'n/a' if ratio is None else f'{ratio:.3f}'}, {default.peaks_mb:.0f} MB: "
            f"{'met' if ok else 'NOT met'}"
        )
    load = os.getloadavg()[0]
    if load > 1.5:
        print(f"note: load average {load:.1f} on {os.cpu_count()} cores: other work was running, wall times are inflated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
