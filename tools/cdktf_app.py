#!/usr/bin/env python3
"""cdktf.json's app command: run main.py in the project's own environment, never a new one.

``cdktf synth|diff|deploy`` call this with whatever ``python3`` is on PATH. It re-executes
``main.py`` with ``.venv/bin/python`` (made by ``make synth``/``make install``), passing the
environment through: ``TAP_CONFIG`` picks the config file, ``TAP_ENVIRONMENT`` and the
region variables override it, ``CDKTF_OUTDIR`` comes from cdktf. Without the environment, or
with one older than Pipfile.lock, it says so in one line and exits 1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
SILENCE_EOL = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"


def problem() -> str | None:
    """Why the project environment cannot run main.py, or None."""
    if not PYTHON.exists():
        return "tapinfra: no project environment (.venv): run `make synth` first"
    try:
        sums = subprocess.run(["cksum", "Pipfile.lock"], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None  # no way to compare: let main.py report what is missing
    if not (VENV / f".synced-{sums.stdout.split()[0]}").exists():
        return "tapinfra: the project environment is older than Pipfile.lock: run `make synth` first"
    return None


def node_major() -> str:
    """The running Node's major version (the value jsii's silencing variable lists), or ""."""
    try:
        out = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.strip().lstrip("v").split(".")[0]


def main() -> int:
    reason = problem()
    if reason:
        print(reason, file=sys.stderr)
        return 1
    # The jsii kernel main.py starts prints a banner on every synth when Node is past its end
    # of life; the README names the Node to use, the banner would only bury the output.
    os.environ.setdefault(SILENCE_EOL, node_major())
    os.execv(str(PYTHON), [str(PYTHON), str(ROOT / "main.py"), *sys.argv[1:]])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
