"""tapinfra's optional modules, on the seam of :mod:`tapinfra.modules.base`.

Importing this package registers the built-in modules, in the order their hooks run:
networking, aurora (needs networking), audit, analytics, ingestion, chaos. A module of your own
is a :class:`Module` subclass passed to :func:`register_module` (README: Writing a module).
"""

from tapinfra.modules.base import (FunctionParts, Module, Output, RegionContext, StackContext, _REGISTRY,
                                   enabled_modules, register_module, registered_modules, unregister_module)
# In the hooks' order: each file declares its outputs on import, so the README's table lists them so.
from tapinfra.modules.networking import NetworkingModule
from tapinfra.modules.aurora import AuroraModule
from tapinfra.modules.audit import AuditModule
from tapinfra.modules.analytics import AnalyticsModule
from tapinfra.modules.ingestion import IngestionModule
from tapinfra.modules.chaos import ChaosModule

BUILTIN_MODULES = (NetworkingModule(), AuroraModule(), AuditModule(), AnalyticsModule(), IngestionModule(), ChaosModule())
for _module in BUILTIN_MODULES:
    if _module.name not in _REGISTRY:
        register_module(_module)

__all__ = ["Module", "Output", "FunctionParts", "StackContext", "RegionContext", "register_module", "unregister_module",
           "registered_modules", "enabled_modules", "BUILTIN_MODULES"]
