"""``python -m tapinfra reference``: the configuration reference as Markdown (embedded in the README)."""

from __future__ import annotations

import sys

from tapinfra.config import config_reference


def main(argv: list[str]) -> int:
    if argv:
        print("usage: python -m tapinfra reference", file=sys.stderr)
        return 2
    print(config_reference(), end="")
    return 0
