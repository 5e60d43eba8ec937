"""``tapinfra <command> [args]`` (or ``python -m tapinfra``): the library's command line.

Each command lives in its own module as ``main(argv: list[str]) -> int`` and is imported
only when asked for, so ``schema`` does not start the jsii kernel.
"""

from __future__ import annotations

import importlib
import sys

from tapinfra import __version__, enable_fast_import

# command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("tapinfra.scaffold", "write a new cdktf project that deploys your own API with tapinfra (init DIR [--app NAME])"),
    "schema": ("tapinfra.cli.schema", "print the config's JSON Schema"),
    "reference": ("tapinfra.cli.reference", "print the config reference (Markdown)"),
    "diagram": ("tapinfra.operator.diagram", "draw the synthesized architecture (--out FILE.svg|.png|.dot)"),
    "cost": ("tapinfra.operator.cost", "fixed monthly baseline, what a change costs (--diff), prices from the AWS Price List API (--refresh-prices)"),
    "drill": ("tapinfra.operator.drill", "failover drill against a deployed stack (--dry-run shows the steps)"),
    "release": ("tapinfra.operator.release", "release a function version gradually, secondary first; rolls back on alarms (--dry-run shows the steps)"),
    "smoke": ("tapinfra.operator.smoke", "smoke test a deployed stack through every endpoint"),
    "review": ("tapinfra.cli.review", "summarize a plan JSON and flag dangerous changes (exit 1 on findings)"),
    "rehearse": ("tapinfra.cli.rehearse", "deploy rehearsal of your config against a moto server: apply, empty plan, update, replace, destroy, nothing left (needs tapinfra[rehearse])"),
    "cli-config": ("tapinfra.cli.cli_config", "write the Terraform CLI config for the offline provider mirror"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name.ljust(width)}  {help_}" for name, (_, help_) in COMMANDS.items()]
    return ("usage: tapinfra <command> [args]   (or python -m tapinfra; --version prints the version)\n\n"
            "commands:\n" + "\n".join(lines))


def main(argv: list[str]) -> int:
    """Exit codes: see tapinfra/cli/exits.py (``--help`` 0; no or an unknown command 2)."""
    if len(argv) >= 2 and argv[1] in ("-h", "--help"):
        print(usage())
        return 0
    if len(argv) >= 2 and argv[1] == "--version":
        print(f"tapinfra {__version__}")
        return 0
    if len(argv) < 2 or argv[1] not in COMMANDS:
        given = f"unknown command {argv[1]!r}" if len(argv) >= 2 else "no command given"
        print(f"python -m tapinfra: {given}; expected one of: {', '.join(COMMANDS)} (--help says what each does)", file=sys.stderr)
        return 2
    enable_fast_import()  # commands that synthesize: the same output, several times faster
    module = importlib.import_module(COMMANDS[argv[1]][0])
    return module.main(argv[2:])


def console() -> None:
    """The ``tapinfra`` console script."""
    sys.exit(main(["tapinfra", *sys.argv[1:]]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
