"""Where the jsii round trips of a synth come from: per kind, per call site, repeated reads.

Run:  .venv/bin/python bench/profile_kernel.py [--config examples/default.json] [--top 25] [--json FILE]

Builds and synthesizes one stack in this process (fast path on) while counting every
request Python sends to the jsii kernel (node): its kind (create, get, set, invoke, ...),
what it names (the class created, the property read, the method called), the time until
the answer, and the call site: the innermost frame in tapinfra's own code (file:line), the
line that made a binding call. Then it lists:

* round trips per kind, with their total wait;
* the call sites with the most round trips;
* repeated property reads: the same property of the same object read again from the kernel
  (``bucket.arn`` twice is two round trips; the second could reuse the first token), by
  call site, so that constructs can read once and pass the token on.

A measurement script, not a test; nothing here changes what is synthesized.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tapinfra  # noqa: E402

tapinfra.enable_fast_import()  # before anything imports cdktf

# Frames in these directories are library code: the call site is the first frame outside.
_LIBRARY_DIRS = tuple(
    os.path.join(str(ROOT), part) + os.sep for part in ("tapinfra/_fastimport", "bench")
) + (os.path.dirname(os.__file__) + os.sep,)
_PROJECT = str(ROOT) + os.sep


@dataclass
class Trip:
    kind: str
    name: str  # what the request names: fqn, property, method
    target: str  # the object's reference ("" for static and create)
    site: str  # tapinfra file:line, or "(outside tapinfra)"
    seconds: float


@dataclass
class Recorder:
    trips: list[Trip] = field(default_factory=list)

    def site(self) -> str:
        frame = sys._getframe(2)
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename.startswith(_PROJECT) and not filename.startswith(_LIBRARY_DIRS) and "site-packages" not in filename:
                return f"{os.path.relpath(filename, ROOT)}:{frame.f_lineno}"
            frame = frame.f_back
        return "(outside tapinfra)"


def _describe(kind: str, request: object) -> tuple[str, str]:
    objref = getattr(request, "objref", None)
    target = getattr(objref, "ref", "") if objref is not None else ""
    for attribute in ("fqn", "property", "method", "name"):
        value = getattr(request, attribute, None)
        if isinstance(value, str):
            if attribute in ("property", "method") and target:
                return f"{target.rsplit('@', 1)[0].rsplit('.', 1)[-1]}.{value}", target
            return value, target
    return kind, target


def install(recorder: Recorder) -> None:
    """Count every request of the jsii kernel provider (wraps its methods)."""
    from jsii._kernel.providers.process import ProcessProvider

    kinds = ("load", "create", "get", "set", "sget", "sset", "invoke", "sinvoke", "begin", "sbegin", "end",
             "callbacks", "complete", "sync_complete", "delete", "getScriptCommand")
    for kind in kinds:
        original = getattr(ProcessProvider, kind, None)
        if original is None:
            continue

        def wrapped(self, request, *args, __original=original, __kind=kind, **kwargs):
            site = recorder.site()
            start = time.perf_counter()
            try:
                return __original(self, request, *args, **kwargs)
            finally:
                name, target = _describe(__kind, request)
                recorder.trips.append(Trip(__kind, name, target, site, time.perf_counter() - start))

        setattr(ProcessProvider, kind, wrapped)


def report(recorder: Recorder, top: int, wall: float) -> dict:
    trips = recorder.trips
    by_kind = collections.defaultdict(lambda: [0, 0.0])
    for trip in trips:
        by_kind[trip.kind][0] += 1
        by_kind[trip.kind][1] += trip.seconds
    by_site = collections.Counter(trip.site for trip in trips)
    kinds_at = collections.defaultdict(collections.Counter)
    for trip in trips:
        kinds_at[trip.site][trip.kind] += 1

    # Repeated reads: the same (object, property) read more than once.
    reads = collections.defaultdict(list)
    for trip in trips:
        if trip.kind == "get" and trip.target:
            reads[trip.target, trip.name].append(trip.site)
    repeats_by_site: collections.Counter = collections.Counter()
    repeats_by_property: collections.Counter = collections.Counter()
    repeated = 0
    for (_, name), sites in reads.items():
        for site in sites[1:]:
            repeats_by_site[site, name] += 1
            repeats_by_property[name] += 1
            repeated += 1

    total_wait = sum(t.seconds for t in trips)
    print(f"{len(trips)} round trips to the jsii kernel, {total_wait:.2f} s waiting on them; build + synth {wall:.2f} s")
    print()
    print(f"{'kind':10} {'count':>6} {'wait s':>7} {'ms each':>8}")
    for kind, (count, seconds) in sorted(by_kind.items(), key=lambda kv: -kv[1][0]):
        print(f"{kind:10} {count:6d} {seconds:7.2f} {1000 * seconds / count:8.2f}")
    print()
    print(f"top {top} call sites by round trips (kinds)")
    for site, count in by_site.most_common(top):
        detail = ", ".join(f"{k} {n}" for k, n in kinds_at[site].most_common())
        print(f"{count:5d}  {site:45} {detail}")
    print()
    print(f"repeated property reads: {repeated} of {len(reads) + repeated} reads of a property of an object "
          "the kernel had already answered")
    for (site, name), count in repeats_by_site.most_common(top):
        print(f"{count:5d}  {site:45} {name}")
    print()
    print("repeated reads by property")
    for name, count in repeats_by_property.most_common(top):
        print(f"{count:5d}  {name}")
    return {
        "round_trips": len(trips),
        "wait_s": total_wait,
        "wall_s": wall,
        "by_kind": {k: {"count": c, "wait_s": s} for k, (c, s) in by_kind.items()},
        "by_site": dict(by_site),
        "repeated_reads": repeated,
        "repeated_reads_by_site": {f"{site} {name}": n for (site, name), n in repeats_by_site.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "examples" / "default.json"))
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--json", help="also write the counts as JSON to this file")
    args = parser.parse_args(argv)

    from tapinfra.config import load_config

    config = load_config(args.config, environ={})
    recorder = Recorder()
    install(recorder)
    from tapinfra.app import synth_app

    with tempfile.TemporaryDirectory(prefix="profile-kernel-") as outdir:
        start = time.perf_counter()
        synth_app(config, outdir)
        wall = time.perf_counter() - start
    result = report(recorder, args.top, wall)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
