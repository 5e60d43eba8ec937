"""The rehearsal runs once per example for the session; its timings close the pytest report.

``TAP_REHEARSAL_EXAMPLES`` (comma-separated, default ``default``) picks the examples;
``full`` roughly doubles the rehearsal's time. In CI a missing terraform, mirror or moto
fails; elsewhere it skips with the reason.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from tests import tfcheck
from tests.lifecycle.emulator import MotoServer
from tests.lifecycle.rehearsal import Rehearsal, Result, Step

EXAMPLES = tuple(name.strip() for name in os.environ.get("TAP_REHEARSAL_EXAMPLES", "default").split(",") if name.strip())
TIMINGS_FILE = "rehearsal-timings.json"
_RESULTS: list[tuple[Result, float]] = []
_TIMINGS_PATH: list[str] = []


@pytest.fixture(scope="session")
def rehearsal_cli_config(tmp_path_factory):
    return tfcheck.offline_cli_config(tmp_path_factory, checks="DEPLOY REHEARSAL", workdir="rehearsal-tfcli",
                                      also_missing=_moto_server_missing())


def _moto_server_missing() -> list[str]:
    try:
        import moto.server  # noqa: F401, PLC0415
    except ImportError:
        return ["moto[server] is not installed (make install)"]
    return []


@pytest.fixture(scope="session", params=EXAMPLES)
def rehearsal(request, rehearsal_cli_config, tmp_path_factory) -> Result:
    workdir = tmp_path_factory.mktemp(f"rehearsal-{request.param}")
    server = MotoServer(workdir / "moto.log")
    start = time.monotonic()
    try:
        started = time.monotonic()
        server.start()
        emulator_seconds = time.monotonic() - started
        result = Rehearsal(request.param, server, rehearsal_cli_config, workdir).run()
    finally:
        server.stop()
    result.steps = {"emulator-start": Step("emulator-start", ran=True, seconds=emulator_seconds), **result.steps}
    _RESULTS.append((result, time.monotonic() - start))
    path = tmp_path_factory.getbasetemp() / TIMINGS_FILE
    path.write_text(json.dumps({r.example: {"seconds": {**r.timings(), "total": round(total, 1)}, "resources": r.resources}
                                for r, total in _RESULTS}, indent=1))
    _TIMINGS_PATH[:] = [str(path)]
    return result


def pytest_terminal_summary(terminalreporter):
    if not _RESULTS:
        return
    terminalreporter.section("deploy rehearsal timings (seconds)")
    for result, total in _RESULTS:
        terminalreporter.write_line(f"{result.example}: {result.resources} resources, work dir {result.workdir}")
        for name, seconds in result.timings().items():
            status = "ok" if result.step(name).ok else "FAILED"
            terminalreporter.write_line(f"  {name:<20} {seconds:>7.1f}  {status}")
        terminalreporter.write_line(f"  {'total':<20} {total:>7.1f}")
    if _TIMINGS_PATH:
        terminalreporter.write_line(f"timings written to {_TIMINGS_PATH[0]}")
