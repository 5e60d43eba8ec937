"""tapinfra: a production two-region serverless REST API on AWS, from one typed config."""

# The provider seam comes first: it installs the fast import path before cdktf loads.
from tapinfra import provider as _provider  # noqa: F401
from tapinfra.config import TapConfig, load_config
from tapinfra.errors import ConfigError

__all__ = ["TapConfig", "ConfigError", "load_config", "TapStack", "synth_app"]


def __getattr__(name: str):
    # The stack pulls in cdktf (and starts the jsii kernel): only when asked for.
    if name == "TapStack":
        from tapinfra.stack import TapStack
        return TapStack
    if name == "synth_app":
        from tapinfra.app import synth_app
        return synth_app
    raise AttributeError(name)
