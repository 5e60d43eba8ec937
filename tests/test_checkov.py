"""checkov on every example's cdk.tf.json: 0 failed, skips only from the reasoned allowlist."""

import fnmatch
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.synth import EXAMPLE_NAMES, example_config, synth

ALLOWLIST = json.loads((Path(__file__).parent / "checkov_allowlist.json").read_text())
USED: set[int] = set()


@pytest.fixture(scope="session")
def checkov():
    exe = os.environ.get("TAP_CHECKOV") or shutil.which("checkov")
    if not exe or not Path(exe).exists():
        reason = "CHECKOV NOT RUN: no checkov (make test installs it into .venv-checkov and sets TAP_CHECKOV)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return exe


def allowed(check_id: str, resource: str) -> bool:
    for i, entry in enumerate(ALLOWLIST):
        if entry["check_id"] == check_id and fnmatch.fnmatchcase(resource, entry["resource"]):
            USED.add(i)
            return True
    return False


def test_every_allowlist_entry_gives_an_aws_reason():
    for entry in ALLOWLIST:
        assert set(entry) == {"check_id", "resource", "reason"}
        assert len(entry["reason"]) > 60, entry


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_checkov_finds_nothing(name, checkov, tmp_path):
    path = tmp_path / "cdk.tf.json"
    path.write_text(json.dumps(synth(example_config(name)).doc))
    out = subprocess.run([checkov, "-f", str(path), "--framework", "terraform_json", "-o", "json", "--quiet", "--compact"],
                         capture_output=True, text=True, timeout=600)
    report = json.loads(out.stdout)
    report = report[0] if isinstance(report, list) else report
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 50, "checkov evaluated (almost) nothing"
    failed = [(f["check_id"], f["resource"], f["check_name"]) for f in report["results"]["failed_checks"]]
    unexplained = [f for f in failed if not allowed(f[0], f[1])]
    assert unexplained == []


def test_no_allowlist_entry_is_stale(checkov):
    """Runs after the scans (file order): an entry nothing needs any more must go."""
    if not USED:
        pytest.skip("no scan ran in this session")
    assert {i for i in range(len(ALLOWLIST))} == USED, [ALLOWLIST[i] for i in range(len(ALLOWLIST)) if i not in USED]
