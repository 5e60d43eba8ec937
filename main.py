#!/usr/bin/env python3
"""Synthesize the tapinfra stack: ``python main.py [--config FILE] [--outdir DIR]``.

Config from --config, else $TAP_CONFIG, else the embedded default; TAP_ENVIRONMENT,
TAP_PRIMARY_REGION and TAP_SECONDARY_REGION override it. Bad config: the problems on
stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tapinfra import enable_fast_import
from tapinfra.config import load_config
from tapinfra.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="JSON config file (default: $TAP_CONFIG, else the embedded default)")
    parser.add_argument("--outdir", default=os.environ.get("CDKTF_OUTDIR", "cdktf.out"), help="synth output directory")
    args = parser.parse_args(argv)
    enable_fast_import(start_kernel=True)  # before cdktf loads: the same output, several times faster
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        Path(args.outdir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"--outdir: cannot create {args.outdir!r} ({exc.strerror}); expected a writable directory path", file=sys.stderr)
        return 2
    try:
        from tapinfra.app import synth_app

        path = synth_app(config, args.outdir)  # the stack re-validates: a ConfigError here too
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"synthesized {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
