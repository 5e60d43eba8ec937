"""cdktf.json's app command runs main.py in the project's .venv and never makes an environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.synth import ROOT
from tools import cdktf_app


def test_cdktf_json_uses_the_app_script_not_pipenv():
    app = json.loads((ROOT / "cdktf.json").read_text())["app"]
    assert app == "python3 tools/cdktf_app.py"


def test_without_a_venv_it_says_make_synth_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(cdktf_app, "VENV", tmp_path / ".venv")
    monkeypatch.setattr(cdktf_app, "PYTHON", tmp_path / ".venv" / "bin" / "python")
    reason = cdktf_app.problem()
    assert reason is not None and "make synth" in reason and "\n" not in reason
    assert not (tmp_path / ".venv").exists(), "the app must never create an environment"


def test_a_venv_older_than_the_lock_is_refused(tmp_path, monkeypatch):
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    (venv / ".synced-0").touch()
    monkeypatch.setattr(cdktf_app, "VENV", venv)
    monkeypatch.setattr(cdktf_app, "PYTHON", venv / "bin" / "python")
    assert "older than Pipfile.lock" in (cdktf_app.problem() or "")


def test_tap_config_reaches_main_py(tmp_path):
    """The app re-executes main.py with the environment: a bad TAP_CONFIG is main.py's exit 2."""
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"app": "Bad_App"}))
    env = {**os.environ, "TAP_CONFIG": str(bad)}
    result = subprocess.run([sys.executable, "tools/cdktf_app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert 'app: got "Bad_App"' in result.stderr
