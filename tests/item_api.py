"""The reference application's contract (``lambda/contract.py``), for the tests of both sides.

Loaded by path under a private module name, as the function zip's ``contract`` is: importing
it neither puts ``lambda/`` on ``sys.path`` nor shadows another ``contract`` module. tapinfra
itself never reads this file: it deploys the item API through ``application`` like any other.
"""

from __future__ import annotations

import importlib.util
from types import ModuleType

from tapinfra.assets import reference_application_dir

CONTRACT_FILE = reference_application_dir() / "contract.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tests._item_api_contract", CONTRACT_FILE)
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
