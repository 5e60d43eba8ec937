"""Review a Terraform plan before apply: what changes where, and which changes are dangerous.

``review(load_plan("plan.json"))`` -> ``Report``; ``python -m tapinfra review`` is the CLI.
"""

from __future__ import annotations

from tapinfra.review.plan import Plan, PlanError, load_plan, parse_plan
from tapinfra.review.report import Finding, Report, summarize
from tapinfra.review.rules import FINDING, RULES

__all__ = ["Finding", "Plan", "PlanError", "Report", "load_plan", "parse_plan", "review"]


def review(plan: Plan) -> Report:
    findings: list[Finding] = []
    warnings: list[Finding] = []
    for rule in RULES:
        for level, item in rule(plan):
            (findings if level == FINDING else warnings).append(item)
    return Report(plan.terraform_version, summarize(plan), findings, warnings)
