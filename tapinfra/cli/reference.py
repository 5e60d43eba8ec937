"""``python -m tapinfra reference``: the configuration reference as Markdown (embedded in the README)."""

from __future__ import annotations

import argparse

from tapinfra.config import config_reference


def main(argv: list[str]) -> int:
    # argparse: --help exits 0, any argument is a usage error (exit 2) naming it
    argparse.ArgumentParser(prog="python -m tapinfra reference", description=__doc__.splitlines()[0]).parse_args(argv)
    print(config_reference(), end="")
    return 0
