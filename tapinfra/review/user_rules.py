"""A team's own review rules: a Python file (``--rules PATH``) or the entry point group
``tapinfra.review_rules``, each yielding ``(level, Finding)`` like the built-in rules.

A rules file defines ``RULES``, a sequence of callables ``rule(plan) -> iterator of
(level, Finding)``; an entry point names one such callable, or a sequence of them. Levels
are ``"error"`` (or ``FINDING``: exit 1) and ``"warn"`` (or ``WARNING``); ``UNJUDGED`` too.
A rule's docstring is its help text in SARIF and JUnit. ``--level RULE=warn`` (or ``=error``)
moves any rule's results, built in or not, to another level.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from tapinfra.review.plan import Plan, PlanError
from tapinfra.review.report import FINDING, UNJUDGED, WARNING, Finding, Report, Result

ENTRY_POINT_GROUP = "tapinfra.review_rules"
LEVELS = {"error": FINDING, FINDING: FINDING, "warn": WARNING, "warning": WARNING, UNJUDGED: UNJUDGED}
Rule = Callable[[Plan], Iterator[Result]]


class RulesError(Exception):
    """A rules file or entry point review cannot use; the message is one line for the user."""


def load_file(path: str | Path) -> list[Rule]:
    where = Path(path)
    if not where.is_file():
        raise RulesError(f"--rules {path}: not a file; expected a Python file that defines RULES")
    spec = importlib.util.spec_from_file_location(f"tapinfra_user_rules_{abs(hash(str(where.resolve())))}", where)
    if spec is None or spec.loader is None:
        raise RulesError(f"--rules {path}: not a Python file; expected a .py file that defines RULES")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's code: any failure is theirs to read, in one line
        raise RulesError(f"--rules {path}: loading it raised {type(exc).__name__}: {exc}") from None
    if not hasattr(module, "RULES"):
        raise RulesError(f"--rules {path}: defines no RULES; expected RULES = [rule, ...] of callables rule(plan)")
    return _callables(module.RULES, f"--rules {path}: RULES")


def load_entry_points() -> list[Rule]:
    found: list[Rule] = []
    for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            target = point.load()
        except Exception as exc:  # an installed package's import error
            raise RulesError(f"entry point {point.name} ({point.value}) in {ENTRY_POINT_GROUP}: {type(exc).__name__}: {exc}") from None
        found += _callables(target if isinstance(target, (list, tuple)) else [target], f"entry point {point.name}")
    return found


def checked(rule: Rule) -> Rule:
    """The rule, its results checked: a level it may use and a Finding, else RulesError naming it."""
    name = getattr(rule, "__name__", repr(rule))

    def run(plan: Plan) -> Iterator[Result]:
        try:
            results = iter(rule(plan))
            for item in results:
                if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Finding)):
                    raise RulesError(f"rule {name} yielded {item!r:.80}; expected (level, Finding)")
                level = LEVELS.get(item[0]) if isinstance(item[0], str) else None
                if level is None:
                    raise RulesError(f"rule {name} yielded level {item[0]!r:.40}; expected one of {', '.join(sorted(LEVELS))}")
                yield level, item[1]
        except (RulesError, PlanError):
            raise
        except Exception as exc:  # the user's code
            raise RulesError(f"rule {name} raised {type(exc).__name__}: {exc}") from None

    run.__name__ = name
    run.__doc__ = rule.__doc__
    return run


def relevel(report: Report, settings: Iterable[str]) -> Report:
    """The report with each ``RULE=error|warn`` applied: that rule's findings and warnings move to the level."""
    levels: dict[str, str] = {}
    for setting in settings:
        rule_id, _, level = setting.partition("=")
        if level not in ("error", "warn") or not rule_id:
            raise RulesError(f"--level {setting}: expected RULE=error or RULE=warn")
        if rule_id not in report.rule_help:
            raise RulesError(f"--level {setting}: no rule {rule_id!r}; the rules are {', '.join(sorted(report.rule_help))}")
        levels[rule_id] = LEVELS[level]
    if not levels:
        return report
    moved: dict[str, list[Finding]] = {FINDING: [], WARNING: []}
    for f in (*report.findings, *report.warnings):
        moved[levels.get(f.rule, FINDING if f in report.findings else WARNING)].append(f)
    return replace(report, findings=moved[FINDING], warnings=moved[WARNING], rule_levels={**report.rule_levels, **levels})


def _callables(values: Any, where: str) -> list[Rule]:
    if not isinstance(values, Iterable) or isinstance(values, (str, bytes)):
        raise RulesError(f"{where}: got {type(values).__name__}; expected a list of callables rule(plan)")
    rules = list(values)
    bad = [repr(v)[:40] for v in rules if not callable(v)]
    if bad:
        raise RulesError(f"{where}: {', '.join(bad)} not callable; expected callables rule(plan)")
    return [checked(r) for r in rules]
