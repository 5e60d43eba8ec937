"""Every example's rehearsal runs once per session, side by side, through ``tapinfra rehearse``'s
own entry function (:func:`tapinfra.cli.rehearse.rehearse`): the suite and the command share
one code path, and the command's JSON report lands beside the session's temporary files.

``TAP_REHEARSAL_EXAMPLES`` (comma-separated; default ``default,full``, as ``make test`` runs them)
picks the examples; ``TAP_REHEARSAL_CORE`` (default ``full``) names those rehearsed with the core
cycle (no update, no replace: the default example proves them). In CI a missing terraform,
mirror or moto fails; elsewhere it skips with the reason.
"""

from __future__ import annotations

import os

import pytest

from tapinfra.rehearsal.rehearsal import CORE, FULL, Result, example_config
from tests import tfcheck

DEFAULT_EXAMPLES = "default,full"
DEFAULT_CORE = "full"


def _names(variable: str, default: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n.strip() for n in os.environ.get(variable, default).split(",") if n.strip()))


EXAMPLES = _names("TAP_REHEARSAL_EXAMPLES", DEFAULT_EXAMPLES)
CORE_EXAMPLES = _names("TAP_REHEARSAL_CORE", DEFAULT_CORE)
REPORT_FILE = "rehearsal-report.json"


@pytest.fixture(scope="session")
def rehearsal_cli_config(tmp_path_factory):
    from tapinfra.cli.rehearse import prerequisites

    missing = [str(p) for p in prerequisites() if p.path.startswith("moto")]
    return tfcheck.offline_cli_config(tmp_path_factory, checks="DEPLOY REHEARSAL", workdir="rehearsal-tfcli",
                                      also_missing=missing)


@pytest.fixture(scope="session")
def rehearsals(rehearsal_cli_config, tmp_path_factory) -> dict[str, Result]:
    """Every example's rehearsal, started together and awaited together."""
    from tapinfra.cli.rehearse import rehearse
    from tapinfra.rehearsal.runner import Target

    targets = [Target(name, example_config(name), CORE if name in CORE_EXAMPLES else FULL) for name in EXAMPLES]
    base = tmp_path_factory.getbasetemp()
    _, outcomes = rehearse(targets, tmp_path_factory.mktemp("rehearsals"), str(base / REPORT_FILE))
    return {outcome.result.example: outcome.result for outcome in outcomes}


@pytest.fixture(scope="session", params=EXAMPLES)
def rehearsal(request, rehearsals) -> Result:
    return rehearsals[request.param]


def pytest_terminal_summary(terminalreporter, config):
    """The command's summary table (phase, seconds, status, problems) at the end of the session."""
    import json

    from tapinfra.cli.rehearse import summary

    path = config._tmp_path_factory.getbasetemp() / REPORT_FILE if hasattr(config, "_tmp_path_factory") else None
    if path is None or not path.is_file():
        return
    terminalreporter.section("deploy rehearsal (tapinfra rehearse)")
    terminalreporter.write_line(summary(json.loads(path.read_text())))
    terminalreporter.write_line(f"report written to {path}")
