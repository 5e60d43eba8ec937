"""A review as text (terminal), JSON (CI) or Markdown (a pull-request comment)."""

from __future__ import annotations

import json
from itertools import groupby

from tapinfra.review.report import COUNTED, Finding, Report


def verdict(report: Report) -> str:
    unjudged = f"; {len(report.unjudged)} not judged (known only after apply)" if report.unjudged else ""
    if report.findings:
        return f"{len(report.findings)} finding(s): do not apply before someone has read them{unjudged}"
    return f"no findings{unjudged}"


def _totals(report: Report) -> str:
    return ", ".join(f"{n} to {kind}" for kind, n in report.totals.items())


def text(report: Report) -> str:
    lines = [f"tapinfra review (terraform {report.terraform_version}): {_totals(report)}", ""]
    width = max((len(r.type) for r in report.rows), default=4)
    for region, rows in groupby(report.rows, key=lambda r: r.label):
        lines.append(region)
        lines.append(f"  {'type'.ljust(width)}  " + "  ".join(k.rjust(7) for k in COUNTED))
        for row in rows:
            lines.append(f"  {row.type.ljust(width)}  " + "  ".join(_count(row.counts[k]).rjust(7) for k in COUNTED))
        lines.append("")
    if not report.rows:
        lines += ["no resource changes", ""]
    for title, items in (("findings", report.findings), ("warnings", report.warnings), ("could not judge", report.unjudged)):
        if items:
            lines.append(f"{title} ({len(items)}):")
            lines += [f"  [{f.rule}] {f.address}: {f.reason}" for f in items]
            lines.append("")
    lines.append(verdict(report))
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> str:
    def items(findings: list[Finding]) -> list[dict[str, str]]:
        return [{"rule": f.rule, "address": f.address, "reason": f.reason} for f in findings]

    return json.dumps(
        {
            "terraform_version": report.terraform_version,
            "ok": not report.findings,
            "totals": report.totals,
            "summary": [{"region": r.region, "provider": r.provider, "type": r.type, **r.counts} for r in report.rows],
            "findings": items(report.findings),
            "warnings": items(report.warnings),
            "unjudged": items(report.unjudged),
        },
        indent=2,
    ) + "\n"


MARKER = "<!-- tapinfra-review -->"  # the first line: a CI step finds its own comment by it and updates it


def markdown(report: Report) -> str:
    """A pull-request comment: the marker, the verdict and totals, findings first, details collapsed."""
    mark = "❌" if report.findings else "✅"
    lines = [MARKER, f"### {mark} tapinfra plan review: {verdict(report)}", ""]
    lines += ["| " + " | ".join(COUNTED) + " |", "|" + "---:|" * len(COUNTED), "| " + " | ".join(str(n) for n in report.totals.values()) + " |", ""]
    if report.findings:
        lines += ["#### Findings", ""]
        lines += [f"- **{f.rule}** `{f.address}`: {_md(f.reason)}" for f in report.findings]
        lines.append("")
    if report.unjudged:
        lines += ["#### Could not judge (known only after apply)", ""]
        lines += [f"- **{f.rule}** `{f.address}`: {_md(f.reason)}" for f in report.unjudged]
        lines.append("")
    if report.rows:
        lines += [f"<details><summary>Changes per region and type (terraform {_md(report.terraform_version)})</summary>", ""]
        lines += ["| region | type | " + " | ".join(COUNTED) + " |", "|---|---|" + "---:|" * len(COUNTED)]
        lines += [
            f"| {_md(r.label)} | `{r.type}` | " + " | ".join(_count(r.counts[k]) for k in COUNTED) + " |"
            for r in report.rows
        ]
        lines += ["", "</details>", ""]
    if report.warnings:
        lines += [f"<details><summary>{len(report.warnings)} warning(s)</summary>", ""]
        lines += [f"- **{f.rule}** `{f.address}`: {_md(f.reason)}" for f in report.warnings]
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def _count(n: int) -> str:
    return str(n) if n else "-"


def _md(value: str) -> str:
    return value.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
