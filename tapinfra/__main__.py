"""``python -m tapinfra <command> [args]``: the library's command line.

Each command lives in its own module as ``main(argv: list[str]) -> int`` and is imported
only when asked for, so ``schema`` does not start the jsii kernel.
"""

from __future__ import annotations

import importlib
import sys

from tapinfra import enable_fast_import

# command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "schema": ("tapinfra.cli.schema", "print the config's JSON Schema"),
    "reference": ("tapinfra.cli.reference", "print the config reference (Markdown)"),
    "diagram": ("tapinfra.operator.diagram", "draw the synthesized architecture (--out FILE.svg|.png|.dot)"),
    "cost": ("tapinfra.operator.cost", "fixed monthly baseline per region, and variable unit prices"),
    "drill": ("tapinfra.operator.drill", "failover drill against a deployed stack (--dry-run shows the steps)"),
    "smoke": ("tapinfra.operator.smoke", "smoke test a deployed stack through every endpoint"),
    "review": ("tapinfra.cli.review", "summarize a plan JSON and flag dangerous changes (exit 1 on findings)"),
    "cli-config": ("tapinfra.cli.cli_config", "write the Terraform CLI config for the offline provider mirror"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name.ljust(width)}  {help_}" for name, (_, help_) in COMMANDS.items()]
    return "usage: python -m tapinfra <command> [args]\n\ncommands:\n" + "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in COMMANDS:
        print(usage(), file=sys.stderr)
        return 2
    enable_fast_import()  # commands that synthesize: the same output, several times faster
    module = importlib.import_module(COMMANDS[argv[1]][0])
    return module.main(argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
