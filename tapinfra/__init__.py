"""tapinfra: a production two-region serverless REST API on AWS for your own application.

The public API is ``__all__``; everything else is private by name or may change in a minor
version (see docs/CHANGELOG.md for what a version promises). Importing this package changes
no global state and does not load cdktf: the names that need it load it when first used.
Applications call :func:`enable_fast_import` first thing (before cdktf is imported) for a
synth several times faster, with the same output.

A whole deployment is one statement::

    TapStack(App(), "shop-dev", load_config("tapinfra.json"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tapinfra._version import __version__
from tapinfra.application import Application, load_application
from tapinfra.config import ApplicationConfig, TapConfig, config_from_dict, load_config, with_changes
from tapinfra.errors import ConfigError, Problem
from tapinfra.protection import Protection
from tapinfra.provider import enable_fast_import, import_mode

if TYPE_CHECKING:  # loaded on first use: they import cdktf
    from tapinfra.app import stack_id, synth_app
    from tapinfra.cli.synth import synth_main
    from tapinfra.constructs.api import ApiEndpoint
    from tapinfra.constructs.regional import RegionalServiceResult
    from tapinfra.constructs.monitoring import AlarmSpec, DashboardRow, Metric, RegionMonitor, alarm_doc
    from tapinfra.constructs.table import GlobalTable
    from tapinfra.modules.base import FunctionParts, Module, RegionContext, StackContext, register_module, unregister_module
    from tapinfra.outputs import Output, OutputSpec, register_output, unregister_output
    from tapinfra.policy import Condition, Statement, policy_document
    from tapinfra.region import Region
    from tapinfra.stack import TapStack

__all__ = [
    "__version__",
    # configuration
    "TapConfig", "ApplicationConfig", "load_config", "config_from_dict", "with_changes", "ConfigError", "Problem",
    # the application
    "Application", "load_application",
    # the stack and its typed results
    "TapStack", "Region", "RegionalServiceResult", "ApiEndpoint", "GlobalTable", "Statement", "Condition", "policy_document",
    "Protection",
    # modules and monitoring: the seam for optional parts (README: Writing a module)
    "Module", "register_module", "unregister_module", "StackContext", "RegionContext", "FunctionParts",
    "Output", "OutputSpec", "register_output", "unregister_output",
    "AlarmSpec", "DashboardRow", "Metric", "RegionMonitor", "alarm_doc",
    # synthesis
    "synth_app", "synth_main", "stack_id", "enable_fast_import", "import_mode",
]

_LAZY = {
    "TapStack": "tapinfra.stack",
    "synth_app": "tapinfra.app",
    "stack_id": "tapinfra.app",
    "synth_main": "tapinfra.cli.synth",
    "ApiEndpoint": "tapinfra.constructs.api",
    "RegionalServiceResult": "tapinfra.constructs.regional",
    "GlobalTable": "tapinfra.constructs.table",
    "Statement": "tapinfra.policy",
    "Condition": "tapinfra.policy",
    "policy_document": "tapinfra.policy",
    "Region": "tapinfra.region",
    **{name: "tapinfra.modules.base" for name in ("Module", "register_module", "unregister_module", "StackContext",
                                                  "RegionContext", "FunctionParts")},
    **{name: "tapinfra.outputs" for name in ("Output", "OutputSpec", "register_output", "unregister_output")},
    **{name: "tapinfra.constructs.monitoring" for name in ("AlarmSpec", "DashboardRow", "Metric", "RegionMonitor", "alarm_doc")},
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tapinfra' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
