"""A review in the formats CI tools read: SARIF 2.1.0 (code scanning) and JUnit XML (test reports).

SARIF: one rule per id with its help text, one result per finding (error), warning
(warning) or value not judged (note), located at the plan file and, logically, at the
resource address. JUnit: one suite per rule, one case per rule per resource it reported
(a failure for a finding, skipped when not judged, passed with its note for a warning),
and one passing case for a rule that reported nothing.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from itertools import groupby

from tapinfra.review.report import FINDING, UNJUDGED, WARNING, Finding, Report

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL = "tapinfra review"
SARIF_LEVELS = {FINDING: "error", WARNING: "warning", UNJUDGED: "note"}


def leveled(report: Report) -> list[tuple[str, Finding]]:
    return [(level, f) for level, items in ((FINDING, report.findings), (WARNING, report.warnings), (UNJUDGED, report.unjudged)) for f in items]


def sarif(report: Report, plan_uri: str) -> str:
    ids = sorted(report.rule_help)
    index = {rule_id: i for i, rule_id in enumerate(ids)}
    rules = [
        {"id": rule_id, "name": rule_id, "shortDescription": {"text": report.rule_help[rule_id][:200]},
         "fullDescription": {"text": report.rule_help[rule_id]}, "help": {"text": report.rule_help[rule_id]},
         "defaultConfiguration": {"level": SARIF_LEVELS[report.rule_levels.get(rule_id, FINDING)]}}
        for rule_id in ids
    ]
    results = []
    for level, f in leveled(report):
        results.append({
            "ruleId": f.rule, **({"ruleIndex": index[f.rule]} if f.rule in index else {}),
            "level": SARIF_LEVELS[level],
            "message": {"text": f"{f.address}: {f.reason}"},
            "locations": [{
                "physicalLocation": {"artifactLocation": {"uri": plan_uri}, "region": {"startLine": 1}},
                "logicalLocations": [{"fullyQualifiedName": f.address, "name": f.address.rsplit(".", 1)[-1], "kind": "resource"}],
            }],
            "partialFingerprints": {"tapinfraAddress/v1": f"{f.rule}:{f.address}"},
        })
    log = {
        "$schema": SARIF_SCHEMA, "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL, "rules": rules}},
            "results": results,
            "properties": {"terraformVersion": report.terraform_version, "totals": report.totals},
        }],
    }
    return json.dumps(log, indent=2) + "\n"


def junit(report: Report) -> str:
    suites = ET.Element("testsuites", name=TOOL)
    by_rule = {rule_id: [] for rule_id in sorted(report.rule_help)}
    for level, f in leveled(report):
        by_rule.setdefault(f.rule, []).append((level, f))
    total = failures = skipped = 0
    for rule_id, items in sorted(by_rule.items()):
        suite = ET.SubElement(suites, "testsuite", name=rule_id)
        cases = 0
        rule_failures = rule_skipped = 0
        for address, group in groupby(sorted(items, key=lambda x: (x[1].address, x[0])), key=lambda x: x[1].address):
            group = list(group)
            case = ET.SubElement(suite, "testcase", classname=rule_id, name=address)
            cases += 1
            failed = [f for level, f in group if level == FINDING]
            unjudged = [f for level, f in group if level == UNJUDGED]
            notes = [f for level, f in group if level == WARNING]
            if failed:
                failure = ET.SubElement(case, "failure", message=failed[0].reason[:500], type=rule_id)
                failure.text = "\n".join(f.reason for f in failed)
                rule_failures += 1
            elif unjudged:
                ET.SubElement(case, "skipped", message="could not judge: " + unjudged[0].reason[:480])
                rule_skipped += 1
            if notes:
                ET.SubElement(case, "system-out").text = "\n".join(f"warning: {f.reason}" for f in notes)
        if not items:
            ET.SubElement(suite, "testcase", classname=rule_id, name="(no resource reported)")
            cases += 1
        suite.set("tests", str(cases))
        suite.set("failures", str(rule_failures))
        suite.set("errors", "0")
        suite.set("skipped", str(rule_skipped))
        total, failures, skipped = total + cases, failures + rule_failures, skipped + rule_skipped
    suites.set("tests", str(total))
    suites.set("failures", str(failures))
    suites.set("errors", "0")
    suites.set("skipped", str(skipped))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
