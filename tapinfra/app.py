"""Build and synthesize the cdktf app for a config."""

from __future__ import annotations

from pathlib import Path

from cdktf import App

from tapinfra.config import TapConfig
from tapinfra.stack import TapStack


def stack_id(config: TapConfig) -> str:
    """``<app>-<environment>``: the stack's id and its folder under ``<outdir>/stacks/``."""
    return config.stack_id


def synth_app(config: TapConfig, outdir: str | Path = "cdktf.out") -> Path:
    """Synthesize into ``outdir``; returns the stack's ``cdk.tf.json``."""
    app = App(outdir=str(outdir), skip_validation=False)
    TapStack(app, stack_id(config), config)
    app.synth()
    return Path(outdir) / "stacks" / stack_id(config) / "cdk.tf.json"
