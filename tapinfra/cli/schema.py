"""``python -m tapinfra schema``: the config file's JSON Schema (for editors and CI)."""

from __future__ import annotations

import argparse
import json

from tapinfra.config import json_schema


def main(argv: list[str]) -> int:
    # argparse: --help exits 0, any argument is a usage error (exit 2) naming it
    argparse.ArgumentParser(prog="python -m tapinfra schema", description=__doc__.splitlines()[0]).parse_args(argv)
    print(json.dumps(json_schema(), indent=2))
    return 0
