#!/usr/bin/env python3
"""Synthesize the tapinfra stack: ``python main.py [--config FILE] [--outdir DIR]``.

Config from --config, else $TAP_CONFIG, else the embedded default (the reference item API);
TAP_ENVIRONMENT, TAP_PRIMARY_REGION and TAP_SECONDARY_REGION override it. Bad config or
outdir: the problems on stderr, exit status 2. The same command every project made by
``tapinfra init`` runs (``tapinfra.synth_main``).
"""

from __future__ import annotations

import sys

from tapinfra import enable_fast_import


def main(argv: list[str] | None = None) -> int:
    enable_fast_import(start_kernel=True)  # before cdktf loads: the same output, several times faster
    from tapinfra.cli.synth import synth_main

    return synth_main(argv, description=__doc__.splitlines()[0])


if __name__ == "__main__":
    sys.exit(main())
