"""The application's contract (``lambda/contract.py``), read by the infrastructure.

The file is the one the function zip ships; it is loaded by path under a private module
name, so importing ``tapinfra`` neither puts ``lambda/`` on ``sys.path`` nor shadows the
application's own ``contract`` module.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

LAMBDA_DIR = Path(__file__).resolve().parent.parent / "lambda"
CONTRACT_FILE = LAMBDA_DIR / "contract.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tapinfra._app_contract", CONTRACT_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_contract = _load()

Route = _contract.Route
ROUTES = _contract.ROUTES
ITEM_MODELS = _contract.ITEM_MODELS
Env = _contract.Env
Tuning = _contract.Tuning
ENV_NAMES = _contract.ENV_NAMES
OPTIONAL_ENV_NAMES = _contract.OPTIONAL_ENV_NAMES
IngestEnv = _contract.IngestEnv
INGEST_ENV_NAMES = _contract.INGEST_ENV_NAMES
PARTITION_KEY = _contract.PARTITION_KEY
SORT_KEY = _contract.SORT_KEY
TTL_ATTRIBUTE = _contract.TTL_ATTRIBUTE
STORED_ATTRIBUTES = _contract.STORED_ATTRIBUTES
EVENT_SOURCE = _contract.EVENT_SOURCE
DETAIL_TYPES = _contract.DETAIL_TYPES
ORIGIN_REGION_FIELD = _contract.ORIGIN_REGION_FIELD

__all__ = [
    "Route", "ROUTES", "ITEM_MODELS", "Env", "Tuning", "ENV_NAMES", "OPTIONAL_ENV_NAMES", "IngestEnv", "INGEST_ENV_NAMES",
    "PARTITION_KEY", "SORT_KEY", "TTL_ATTRIBUTE", "STORED_ATTRIBUTES", "EVENT_SOURCE", "DETAIL_TYPES", "ORIGIN_REGION_FIELD",
]
