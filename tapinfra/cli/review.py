"""``python -m tapinfra review PLAN.json``: summarize a plan and flag dangerous changes.

PLAN.json is ``terraform show -json PLANFILE`` (``-`` reads standard input). Exit 0 when
nothing is found, 1 on findings, 2 on bad usage or input.
"""

from __future__ import annotations

import argparse
import sys

from tapinfra.review import PlanError, load_plan, review
from tapinfra.review import render


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tapinfra review", description=__doc__.splitlines()[0])
    parser.add_argument("plan", help="output of `terraform show -json PLANFILE`, or - for standard input")
    style = parser.add_mutually_exclusive_group()
    style.add_argument("--json", action="store_true", help="machine-readable result for CI")
    style.add_argument("--markdown", action="store_true", help="Markdown for a pull-request comment")
    args = parser.parse_args(argv)
    try:
        plan = load_plan(args.plan)
        report = review(plan)
    except PlanError as exc:
        print("tapinfra review: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    write = render.as_json if args.json else render.markdown if args.markdown else render.text
    sys.stdout.write(write(report))
    return report.exit_code
