"""Review a Terraform plan before apply: what changes where, and which changes are dangerous.

``review(load_plan("plan.json"))`` -> ``Report``; ``python -m tapinfra review`` is the CLI.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator

from tapinfra.review.plan import Plan, PlanError, load_plan, parse_plan
from tapinfra.review.report import FINDING, UNJUDGED, WARNING, Finding, Report, Result, summarize
from tapinfra.review.ruledocs import BUILT_IN, help_text
from tapinfra.review.rules import RULES

__all__ = ["FINDING", "UNJUDGED", "WARNING", "Finding", "Plan", "PlanError", "Report", "Result", "load_plan", "parse_plan", "review"]

Rule = Callable[[Plan], Iterator[Result]]


def review(plan: Plan, extra_rules: Iterable[Rule] = ()) -> Report:
    """Every built-in rule, then ``extra_rules`` (a team's own), on one plan.

    An attribute value of a shape the aws provider never writes is bad input, not a finding:
    it is raised as PlanError naming the resource and the rule that met it.
    """
    found: dict[str, list[Finding]] = {FINDING: [], WARNING: [], UNJUDGED: []}
    helps: dict[str, str] = {}
    extra = tuple(extra_rules)
    for rule in (*RULES, *extra):
        plan.reading = None
        try:
            for level, item in rule(plan):
                found[level if level in found else FINDING].append(item)
                if rule in extra:
                    helps.setdefault(item.rule, help_text(rule))
        except (AttributeError, KeyError, IndexError, TypeError, ValueError, RecursionError) as exc:
            where = f"{plan.reading.address}: " if plan.reading is not None else ""
            raise PlanError(
                f"{where}rule {getattr(rule, '__name__', rule)} cannot read the values it checks "
                f"({type(exc).__name__}: {str(exc)[:120]}); expected attribute values as the aws provider writes them"
            ) from None
    return Report(plan.terraform_version, summarize(plan), found[FINDING], found[WARNING], found[UNJUDGED], {**BUILT_IN, **helps})
