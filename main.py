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

from tapinfra import enable_fast_import
from tapinfra.cli.paths import directory_problem
from tapinfra.config import load_config
from tapinfra.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="JSON config file (default: $TAP_CONFIG, else the embedded default)")
    parser.add_argument("--outdir", help="synth output directory (default: $CDKTF_OUTDIR, else cdktf.out)")
    args = parser.parse_args(argv)
    # Checked before the kernel starts: a bad outdir is one message, not a jsii ENOENT/ENOTDIR/EROFS trace.
    outdir_name, outdir = ("--outdir", args.outdir) if args.outdir is not None else ("CDKTF_OUTDIR", os.environ.get("CDKTF_OUTDIR", "cdktf.out"))
    problem = directory_problem(outdir_name, outdir, "stacks")
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    enable_fast_import(start_kernel=True)  # before cdktf loads: the same output, several times faster
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        from tapinfra.app import stack_id, synth_app

        problem = directory_problem(outdir_name, outdir, "stacks", stack_id(config))
        if problem is not None:
            print(problem, file=sys.stderr)
            return 2
        path = synth_app(config, outdir)  # the stack re-validates: a ConfigError here too
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"synthesized {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
