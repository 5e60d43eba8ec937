"""``python -m tapinfra review PLAN.json``: summarize a plan and flag dangerous changes.

PLAN.json is ``terraform show -json PLANFILE`` (gzipped too; ``-`` reads standard input).
Exit 0 when nothing is found, 1 on findings, 2 on bad usage or input (one line naming
what is wrong), whatever the format.
"""

from __future__ import annotations

import argparse
import sys

from tapinfra.review import PlanError, load_plan, review
from tapinfra.review import ci, render, user_rules

FORMATS = ("text", "json", "markdown", "sarif", "junit")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tapinfra review", description=__doc__.splitlines()[0])
    parser.add_argument("plan", help="output of `terraform show -json PLANFILE`, or - for standard input")
    style = parser.add_mutually_exclusive_group()
    style.add_argument("--format", choices=FORMATS, help="text (default), json, markdown (a pull-request comment), sarif (code scanning), junit (test reports)")
    style.add_argument("--json", action="store_const", dest="format", const="json", help="same as --format json")
    style.add_argument("--markdown", action="store_const", dest="format", const="markdown", help="same as --format markdown")
    parser.add_argument("--rules", action="append", default=[], metavar="PATH",
                        help=f"a Python file defining RULES, a team's own rules (repeatable); installed {user_rules.ENTRY_POINT_GROUP} entry points load too")
    parser.add_argument("--level", action="append", default=[], metavar="RULE=LEVEL",
                        help="report a rule's findings at another level: error (exit 1) or warn (repeatable), e.g. ttl-changed=warn")
    parser.add_argument("--no-cost", action="store_true", help="markdown: leave out the section with what the plan changes in the monthly cost")
    args = parser.parse_args(argv)
    try:
        extra = [rule for path in args.rules for rule in user_rules.load_file(path)] + user_rules.load_entry_points()
        plan = load_plan(args.plan)
        report = user_rules.relevel(review(plan, extra), args.level)
    except (PlanError, user_rules.RulesError) as exc:
        print("tapinfra review: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    fmt = args.format or "text"
    if fmt == "sarif":
        out = ci.sarif(report, "stdin" if args.plan == "-" else args.plan)
    elif fmt == "junit":
        out = ci.junit(report)
    else:
        out = {"json": render.as_json, "markdown": render.markdown, "text": render.text}[fmt](report)
        if fmt == "markdown" and not args.no_cost:
            out = out.rstrip("\n") + "\n\n" + cost_section(plan, args.plan)
    sys.stdout.write(out)
    return report.exit_code


def cost_section(plan, path: str) -> str:
    """What the plan changes in the monthly baseline, as the comment's last section (``cost --diff``'s)."""
    from tapinfra.cli.exits import InputError
    from tapinfra.operator import cost, cost_diff

    try:
        return cost_diff.markdown_section(cost_diff.plan_diff(plan, cost.load_prices(), "stdin" if path == "-" else path))
    except InputError as exc:  # a plan review reads but the cost model cannot place: say so, keep the review
        return "### Cost\n\nNot computed: " + " ".join(str(exc).split()) + "\n"
