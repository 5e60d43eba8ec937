"""Rewrite the README's generated parts: the configuration reference (tapinfra/config.py) and
the alarm table (the alarm kinds declared with tapinfra.constructs.monitoring.alarm_doc) and the
outputs table (the outputs declared in tapinfra/outputs.py)."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tapinfra.config import config_reference  # noqa: E402

START, END = "<!-- config-reference:start -->", "<!-- config-reference:end -->"
ALARMS_START, ALARMS_END = "<!-- alarm-table:start -->", "<!-- alarm-table:end -->"
OUTPUTS_START, OUTPUTS_END = "<!-- outputs-table:start -->", "<!-- outputs-table:end -->"


def _replace(text: str, start: str, end: str, body: str) -> str:
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"README.md: the markers {start} ... {end} are missing")
    return pattern.sub(lambda _: f"{start}\n{body}{end}", text)


def render(readme: str) -> str:
    from tapinfra.constructs.monitoring import alarm_table

    readme = _replace(readme, START, END, config_reference())
    from tapinfra.outputs import outputs_table

    readme = _replace(readme, OUTPUTS_START, OUTPUTS_END, outputs_table())
    return _replace(readme, ALARMS_START, ALARMS_END, alarm_table())


if __name__ == "__main__":
    path = ROOT / "README.md"
    path.write_text(render(path.read_text()))
