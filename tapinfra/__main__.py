"""``python -m tapinfra schema`` prints the config's JSON Schema; ``reference`` its Markdown reference."""

import json
import sys

from tapinfra.config import config_reference, json_schema


def main(argv: list[str]) -> int:
    if argv[1:] == ["schema"]:
        print(json.dumps(json_schema(), indent=2))
        return 0
    if argv[1:] == ["reference"]:
        print(config_reference(), end="")
        return 0
    print("usage: python -m tapinfra schema|reference", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
