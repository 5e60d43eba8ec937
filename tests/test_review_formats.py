"""``tapinfra review --format``: SARIF that validates against the SARIF 2.1.0 schema, JUnit a
standard reader parses, the Markdown comment with its marker; a team's own rules loaded
from a path yield findings in every format, with the built-in exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from junitparser import Failure, JUnitXml

from tapinfra.cli import review as review_cli
from tapinfra.review import render

FIXTURES = Path(__file__).parent / "fixtures"
PLANS = FIXTURES / "plans"
SCHEMA = json.loads((FIXTURES / "sarif" / "sarif-schema-2.1.0.json").read_text())
TEAM_RULES = FIXTURES / "review_rules" / "no_new_buckets.py"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = review_cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("plan", ["table-replaced", "unchanged-default", "method-opened"])
def test_sarif_from_a_real_plan_validates_against_the_schema(capsys, plan):
    path = str(PLANS / f"{plan}.json.gz")
    code, out, _ = run(capsys, path, "--format", "sarif")
    log = json.loads(out)
    jsonschema.validate(log, SCHEMA)
    run_ = log["runs"][0]
    ids = {r["id"] for r in run_["tool"]["driver"]["rules"]}
    assert {"stateful-resource", "policy-wildcard", "key-disabled"} <= ids
    assert all(r["help"]["text"] for r in run_["tool"]["driver"]["rules"])
    assert code == (1 if run_["results"] and any(r["level"] == "error" for r in run_["results"]) else 0)
    for result in run_["results"]:
        location = result["locations"][0]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == path
        assert location["logicalLocations"][0]["fullyQualifiedName"].startswith("aws_")
        assert run_["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_levels_follow_the_report(capsys):
    _, out, _ = run(capsys, str(PLANS / "table-replaced.json.gz"), "--format", "sarif")
    levels = {(r["ruleId"], r["level"]) for r in json.loads(out)["runs"][0]["results"]}
    assert ("stateful-resource", "error") in levels and ("policy-wildcard", "warning") in levels


def test_junit_parses_with_a_standard_reader_one_case_per_rule_per_resource(capsys, tmp_path):
    code, out, _ = run(capsys, str(PLANS / "table-replaced.json.gz"), "--format", "junit")
    assert code == 1
    path = tmp_path / "review.xml"
    path.write_text(out)
    xml = JUnitXml.fromfile(str(path))
    cases = [(suite.name, case.name, case.result) for suite in xml for case in suite]
    failed = [(s, n) for s, n, result in cases if any(isinstance(r, Failure) for r in result)]
    assert failed == [("stateful-resource", "aws_dynamodb_table.items-table_1F7CDFD5")]
    assert len({(s, n) for s, n, _ in cases}) == len(cases), "one case per rule per resource"
    assert {s for s, _, _ in cases} >= {"key-disabled", "trail-stopped"}, "a rule that found nothing still has its passing case"


def test_markdown_comment_starts_with_its_marker_findings_first_details_collapsed(capsys):
    code, out, _ = run(capsys, str(PLANS / "table-replaced.json.gz"), "--format", "markdown")
    assert code == 1
    assert out.splitlines()[0] == render.MARKER == "<!-- tapinfra-review -->"
    assert out.index("#### Findings") < out.index("<details>")
    assert "<summary>Changes per region and type" in out
    assert run(capsys, str(PLANS / "table-replaced.json.gz"), "--markdown")[1] == out, "--markdown is an alias"


def test_json_alias_and_format_agree(capsys):
    path = str(PLANS / "method-opened.json.gz")
    assert run(capsys, path, "--json")[1] == run(capsys, path, "--format", "json")[1]


def test_a_team_rule_from_a_path_produces_its_finding_in_every_format(capsys, tmp_path):
    plan = str(PLANS / "region-changed.json.gz")
    outputs = {}
    for fmt in ("text", "json", "markdown", "sarif", "junit"):
        code, out, err = run(capsys, plan, "--rules", str(TEAM_RULES), "--format", fmt)
        assert code == 1 and err == "", (fmt, err)
        assert "team-bucket-ticket" in out, fmt
        outputs[fmt] = out
    sarif = json.loads(outputs["sarif"])
    jsonschema.validate(sarif, SCHEMA)
    rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert "every new bucket needs a ticket" in rules["team-bucket-ticket"]["help"]["text"]
    (tmp_path / "r.xml").write_text(outputs["junit"])
    suites = {suite.name for suite in JUnitXml.fromfile(str(tmp_path / "r.xml"))}
    assert "team-bucket-ticket" in suites
    assert any(f["rule"] == "team-bucket-ticket" for f in json.loads(outputs["json"])["findings"])


def test_a_team_warning_does_not_fail_the_review(capsys, tmp_path):
    rules = tmp_path / "warn_only.py"
    rules.write_text(
        "from tapinfra.review import Finding\n"
        "def everything(plan):\n    '''Every change, as a warning.'''\n"
        "    for c in plan.managed():\n        yield 'warn', Finding('team-note', c.address, 'seen')\n"
        "RULES = [everything]\n"
    )
    code, out, _ = run(capsys, str(PLANS / "unchanged-minimal.json.gz"), "--rules", str(rules), "--format", "json")
    assert code == 0 and json.loads(out)["warnings"]


@pytest.mark.parametrize("source, words", [
    (None, ["not a file"]),
    ("RULES = 3\n", ["RULES", "int"]),
    ("RULES = [3]\n", ["not callable"]),
    ("x = 1\n", ["defines no RULES"]),
    ("raise ImportError('missing dependency')\n", ["ImportError", "missing dependency"]),
    ("def r(plan):\n    yield 'fatal', None\nRULES = [r]\n", ["rule r yielded"]),
    ("from tapinfra.review import Finding\ndef r(plan):\n    yield 'fatal', Finding('x', 'a', 'b')\nRULES = [r]\n", ["level 'fatal'", "error"]),
    ("def r(plan):\n    raise KeyError('boom')\nRULES = [r]\n", ["rule r raised KeyError"]),
])
def test_a_broken_rules_file_is_exit_2_with_one_line(capsys, tmp_path, source, words):
    path = tmp_path / "rules.py"
    if source is not None:
        path.write_text(source)
    code, _, err = run(capsys, str(PLANS / "unchanged-minimal.json.gz"), "--rules", str(path))
    assert code == 2 and len(err.splitlines()) == 1, err
    assert all(w in err for w in words), err


def test_rules_from_an_entry_point(capsys, monkeypatch):
    import importlib.metadata

    from tapinfra.review import user_rules

    spec = importlib.util.spec_from_file_location("team_rules_ep", TEAM_RULES)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    class Point:
        name, value = "team", "team_rules:RULES"

        def load(self):
            return module.RULES

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [Point()] if group == user_rules.ENTRY_POINT_GROUP else [])
    code, out, _ = run(capsys, str(PLANS / "region-changed.json.gz"), "--format", "json")
    assert code == 1 and any(f["rule"] == "team-bucket-ticket" for f in json.loads(out)["findings"])


def test_a_rule_level_set_to_warn_no_longer_fails_the_review(capsys):
    plan = str(PLANS / "table-replaced.json.gz")
    assert run(capsys, plan)[0] == 1
    code, out, _ = run(capsys, plan, "--level", "stateful-resource=warn", "--format", "sarif")
    assert code == 0
    log = json.loads(out)
    jsonschema.validate(log, SCHEMA)
    rule = next(r for r in log["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "stateful-resource")
    assert rule["defaultConfiguration"]["level"] == "warning"
    assert {r["level"] for r in log["runs"][0]["results"] if r["ruleId"] == "stateful-resource"} == {"warning"}


def test_a_team_warning_raised_to_error_fails_the_review(capsys):
    plan = str(PLANS / "region-changed.json.gz")
    base = ["--rules", str(TEAM_RULES), "--level", "team-bucket-ticket=warn", "--level", "stateful-resource=warn", "--level", "provider-region-changed=warn"]
    assert run(capsys, plan, *base)[0] == 0
    code, out, _ = run(capsys, plan, *base, "--level", "team-bucket-ticket=error", "--format", "json")
    assert code == 1 and {f["rule"] for f in json.loads(out)["findings"]} == {"team-bucket-ticket"}


@pytest.mark.parametrize("setting, words", [
    ("stateful-resource", ["RULE=error or RULE=warn"]), ("stateful-resource=fatal", ["RULE=error"]),
    ("no-such-rule=warn", ["no rule 'no-such-rule'", "stateful-resource"]), ("=warn", ["RULE=error"]),
])
def test_a_bad_level_is_exit_2(capsys, setting, words):
    code, _, err = run(capsys, str(PLANS / "table-replaced.json.gz"), "--level", setting)
    assert code == 2 and len(err.splitlines()) == 1 and all(w in err for w in words), err


def test_the_markdown_comment_ends_with_what_the_plan_costs(tmp_path):
    """Issue 22: the review's comment carries cost --diff's section (after its own marker line)."""
    import gzip
    import subprocess
    import sys

    from tests.synth import ROOT

    plan = tmp_path / "clean.json"
    plan.write_bytes(gzip.decompress((ROOT / "tests" / "fixtures" / "plans" / "clean.json.gz").read_bytes()))
    run = [sys.executable, "-m", "tapinfra", "review", str(plan), "--format", "markdown"]
    with_cost = subprocess.run(run, capture_output=True, text=True, cwd=ROOT)
    assert with_cost.returncode == 0, with_cost.stderr
    assert with_cost.stdout.startswith("<!-- tapinfra-review -->")
    assert "<!-- tapinfra-cost -->" in with_cost.stdout and "29.80 → 29.80 USD" in with_cost.stdout
    without = subprocess.run([*run, "--no-cost"], capture_output=True, text=True, cwd=ROOT)
    assert "<!-- tapinfra-cost -->" not in without.stdout
