"""Every example's rehearsal runs once per session, side by side; its timings close the report.

``TAP_REHEARSAL_EXAMPLES`` (comma-separated, default ``default``; ``make rehearse-all``: ``default,full``, every module) picks
the examples. Each rehearsal has its own moto server, port and work directory, and most of
one is terraform waiting on the provider's polling, so they run in threads side by side:
two take little more than the longer one. In CI a missing terraform, mirror or moto fails;
elsewhere it skips with the reason.
"""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from tapinfra import tfcli
from tests import tfcheck
from tests.lifecycle.emulator import MotoServer
from tests.lifecycle.rehearsal import Rehearsal, Result, Step

DEFAULT_EXAMPLES = "default"  # make rehearse-all adds full (every module): about 15 CPU-minutes more
EXAMPLES = tuple(dict.fromkeys(
    name.strip() for name in os.environ.get("TAP_REHEARSAL_EXAMPLES", DEFAULT_EXAMPLES).split(",") if name.strip()))
TIMINGS_FILE = "rehearsal-timings.json"
STOP_SECONDS = 30  # what an interrupted rehearsal may take to notice
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


@pytest.fixture(scope="session")
def rehearsals(rehearsal_cli_config, tmp_path_factory) -> dict[str, Result]:
    """Every example's rehearsal, started together and awaited together."""
    runs: list[tuple[Rehearsal, MotoServer, threading.Thread]] = []
    results: dict[str, Result] = {}
    try:
        for name in EXAMPLES:
            workdir = tmp_path_factory.mktemp(f"rehearsal-{name}")
            server = MotoServer(workdir / "moto.log")
            started = time.monotonic()
            server.start()  # in the main thread: it alone can install the server's signal handlers
            rehearsal = Rehearsal(name, server, rehearsal_cli_config, workdir)
            thread = threading.Thread(target=_rehearse, args=(rehearsal, started, time.monotonic() - started, results),
                                      name=f"rehearsal-{name}", daemon=True)
            runs.append((rehearsal, server, thread))
            thread.start()
        for _, _, thread in runs:
            thread.join()
    except BaseException:
        # Interrupted: the rehearsals start no more terraform, the running ones are stopped.
        for rehearsal, _, _ in runs:
            rehearsal.cancelled.set()
        tfcli.stop_all()
        for _, _, thread in runs:
            thread.join(STOP_SECONDS)
        raise
    finally:
        for _, server, _ in runs:
            server.stop()
    path = tmp_path_factory.getbasetemp() / TIMINGS_FILE
    path.write_text(json.dumps({r.example: {"seconds": {**r.timings(), "total": round(total, 1)}, "resources": r.resources}
                                for r, total in _RESULTS}, indent=1))
    _TIMINGS_PATH[:] = [str(path)]
    return results


def _rehearse(rehearsal: Rehearsal, started: float, emulator_seconds: float, results: dict[str, Result]) -> None:
    try:
        result = rehearsal.run()
    except Exception as error:  # the harness itself broke: every test of this example says so
        result = rehearsal.result
        result.steps["harness"] = Step("harness", ran=True, problems=[f"harness error: {type(error).__name__}: {error}"])
    finally:
        rehearsal.server.stop()  # its emulator is done when it is: the other rehearsal may still run
    result.steps = {"emulator-start": Step("emulator-start", ran=True, seconds=emulator_seconds), **result.steps}
    results[result.example] = result
    _RESULTS.append((result, time.monotonic() - started))


@pytest.fixture(scope="session", params=EXAMPLES)
def rehearsal(request, rehearsals) -> Result:
    return rehearsals[request.param]


def pytest_terminal_summary(terminalreporter):
    if not _RESULTS:
        return
    terminalreporter.section("deploy rehearsal timings (seconds)")
    for result, total in sorted(_RESULTS, key=lambda item: EXAMPLES.index(item[0].example)):
        terminalreporter.write_line(f"{result.example}: {result.resources} resources, work dir {result.workdir}")
        for name, seconds in result.timings().items():
            status = "ok" if result.step(name).ok else "FAILED"
            terminalreporter.write_line(f"  {name:<20} {seconds:>7.1f}  {status}")
        terminalreporter.write_line(f"  {'total':<20} {total:>7.1f}")
    if _TIMINGS_PATH:
        terminalreporter.write_line(f"timings written to {_TIMINGS_PATH[0]}")
