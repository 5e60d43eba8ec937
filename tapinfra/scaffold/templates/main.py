#!/usr/bin/env python3
"""Synthesize __APP__'s two-region stack: ``python main.py [--config FILE] [--outdir DIR]``.

The config is tapinfra.json beside this file; its ``application`` section names the
function's source (src/) and the API's OpenAPI document (src/openapi.json).
"""

from __future__ import annotations

import sys
from pathlib import Path

import tapinfra

CONFIG = Path(__file__).resolve().with_name("tapinfra.json")


def build(app, config: "tapinfra.TapConfig") -> "tapinfra.TapStack":
    """The stack, inside ``app``: add your own stacks and resources beside it here."""
    return tapinfra.TapStack(app, tapinfra.stack_id(config), config)


def main(argv: list[str] | None = None) -> int:
    tapinfra.enable_fast_import(start_kernel=True)  # before cdktf loads: the same output, faster
    return tapinfra.synth_main(argv, default_config=CONFIG, build=build)


if __name__ == "__main__":
    sys.exit(main())
