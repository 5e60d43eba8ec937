"""``python -m tapinfra schema``: the config file's JSON Schema (for editors and CI)."""

from __future__ import annotations

import json
import sys

from tapinfra.config import json_schema


def main(argv: list[str]) -> int:
    if argv:
        print("usage: python -m tapinfra schema", file=sys.stderr)
        return 2
    print(json.dumps(json_schema(), indent=2))
    return 0
