"""``main.py`` for any project: load the config, check the outdir, build the stack, synthesize.

Used by the repository's own ``main.py`` and by every project ``tapinfra init`` writes, so both
answer bad input the same way: the problems on stderr and exit status 2, never a trace.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable, Optional

from tapinfra.cli.paths import directory_problem
from tapinfra.config import TapConfig, load_config
from tapinfra.errors import ConfigError

Build = Callable[[object, TapConfig], object]


def synth_main(argv: Optional[list[str]] = None, *, default_config: str | Path | None = None,
               build: Optional[Build] = None, description: str = "Synthesize the tapinfra stack.") -> int:
    """Synthesize into ``--outdir`` (default ``$CDKTF_OUTDIR``, else ``cdktf.out``).

    :param default_config: the config file when neither ``--config`` nor ``$TAP_CONFIG`` is given
        (default: the embedded default config).
    :param build: ``build(app, config)`` adds the stack (and anything else) to the cdktf ``App``;
        default: one :class:`~tapinfra.TapStack` named :attr:`TapConfig.stack_id`.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", help="JSON config file (default: $TAP_CONFIG, else "
                        + (str(default_config) if default_config else "the embedded default") + ")")
    parser.add_argument("--outdir", help="synth output directory (default: $CDKTF_OUTDIR, else cdktf.out)")
    args = parser.parse_args(argv)
    config_path = args.config or os.environ.get("TAP_CONFIG") or default_config
    try:  # first: a bad config creates no outdir
        config = load_config(config_path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    # Checked before cdktf runs: a bad outdir is one message, not a jsii ENOENT/ENOTDIR/EROFS trace.
    outdir_name, outdir = (("--outdir", args.outdir) if args.outdir is not None
                           else ("CDKTF_OUTDIR", os.environ.get("CDKTF_OUTDIR", "cdktf.out")))
    problem = directory_problem(outdir_name, outdir, "stacks", config.stack_id)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    try:
        from cdktf import App

        from tapinfra.stack import TapStack

        app = App(outdir=str(outdir), skip_validation=False)
        if build is None:
            TapStack(app, config.stack_id, config)
        else:
            build(app, config)
        app.synth()
    except ConfigError as exc:  # the stack re-validates
        print(exc, file=sys.stderr)
        return 2
    print(f"synthesized {Path(outdir) / 'stacks' / config.stack_id / 'cdk.tf.json'}")
    from tapinfra.shortfalls import shortfalls

    for warning in shortfalls(config):  # also the stack's warnings output
        print(f"warning: {warning}", file=sys.stderr)
    return 0
