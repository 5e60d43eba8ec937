"""``python -m tapinfra schema``: the JSON Schema of the config file."""

import json
import sys

from tapinfra.config import json_schema


def main(argv: list[str]) -> int:
    if argv[1:] == ["schema"]:
        print(json.dumps(json_schema(), indent=2))
        return 0
    print("usage: python -m tapinfra schema", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
