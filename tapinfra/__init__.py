"""tapinfra: a production two-region serverless REST API on AWS, from one typed config.

Importing it changes no global state. Applications call :func:`enable_fast_import` first
thing (before cdktf is imported) for a synth several times faster, with the same output.
"""

from tapinfra.config import TapConfig, load_config
from tapinfra.errors import ConfigError
from tapinfra.provider import enable_fast_import, import_mode

__all__ = ["TapConfig", "ConfigError", "load_config", "TapStack", "synth_app", "enable_fast_import", "import_mode"]


def __getattr__(name: str):
    # The stack pulls in cdktf (and starts the jsii kernel): only when asked for.
    if name == "TapStack":
        from tapinfra.stack import TapStack
        return TapStack
    if name == "synth_app":
        from tapinfra.app import synth_app
        return synth_app
    raise AttributeError(name)
