"""``tapinfra rehearse``: every bad input and missing prerequisite exits 2 with one message that
names the field, the value and what is allowed, before any server or terraform starts."""

from __future__ import annotations

import json
import sys

import pytest

from tapinfra.cli import rehearse


def _run(capsys, *argv: str) -> tuple[int, str]:
    code = rehearse.main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_unknown_example_names_the_examples_there_are(capsys):
    code, err = _run(capsys, "--example", "no-such-example")
    assert code == 2
    assert "--example" in err and "no-such-example" in err and "default" in err and "full" in err


def test_missing_config_file(capsys, tmp_path):
    missing = tmp_path / "absent.json"
    code, err = _run(capsys, "--config", str(missing))
    assert code == 2
    assert "--config" in err and str(missing) in err


def test_config_that_fails_validation_names_its_field(capsys, tmp_path):
    config = tmp_path / "tapinfra.json"
    config.write_text(json.dumps({"function": {"memory_mb": 1}}))
    code, err = _run(capsys, "--config", str(config))
    assert code == 2
    assert "memory_mb" in err


def test_core_names_an_example_that_is_not_rehearsed(capsys):
    code, err = _run(capsys, "--example", "default", "--core", "full")
    assert code == 2
    assert "--core" in err and "full" in err


def test_missing_terraform(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no terraform on PATH
    code, err = _run(capsys, "--example", "minimal")
    assert code == 2
    assert "terraform" in err and "not on PATH" in err


def test_missing_provider_mirror(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("TAP_TF_PROVIDER_MIRROR", str(tmp_path))  # set but not a mirror: never replaced by a search
    code, err = _run(capsys, "--example", "minimal")
    assert code == 2
    assert "TAP_TF_PROVIDER_MIRROR" in err and str(tmp_path) in err and "5.100.0" in err


def test_missing_moto_server_names_the_extra(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "moto.server", None)  # import moto.server raises ImportError
    code, err = _run(capsys, "--example", "minimal")
    assert code == 2
    assert "moto[server]" in err and "tapinfra[rehearse]" in err


def test_unwritable_workdir(capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, err = _run(capsys, "--example", "minimal", "--workdir", str(blocker / "work"))
    assert code == 2
    assert "--workdir" in err and str(blocker) in err


def test_json_report_path_that_is_a_directory(capsys, tmp_path):
    code, err = _run(capsys, "--example", "minimal", "--json", str(tmp_path))
    assert code == 2
    assert "--json" in err and "is a directory" in err


def test_unknown_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        rehearse.main(["--no-such-option"])
    assert exit_.value.code == 2


def test_summary_shows_a_failed_phase_with_its_problem_and_the_gaps_applied():
    report = {"ok": False, "wall_seconds": 3.0, "cpu_seconds": 2.0, "rehearsals": {"mine": {
        "ok": False, "cycle": "core", "resources": 3, "moto_cpu_seconds": 1.0, "seconds": {"total": 3.0},
        "problems": ["apply: error: aws_s3_bucket.b: boom"],
        "steps": {"apply": {"ran": True, "ok": False, "seconds": 2.5, "problems": ["error: aws_s3_bucket.b: boom"], "notes": []},
                  "update": {"ran": False, "ok": False, "seconds": 0.0, "problems": [], "notes": []}},
        "gaps_applied": {"s3-logging": {"kind": "patch", "why": "moto never answers", "touched": ["aws_s3_bucket_logging.l"]}}}}}
    text = rehearse.summary(report)
    assert "apply" in text and "FAILED" in text and "boom" in text
    assert "update" in text and "skipped" in text
    assert "s3-logging" in text and "moto never answers" in text
    assert "the rehearsal found problems" in text


def test_the_command_is_listed():
    from tapinfra.__main__ import COMMANDS

    assert COMMANDS["rehearse"][0] == "tapinfra.cli.rehearse"
