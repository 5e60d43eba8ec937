"""What this application shares with the infrastructure, read from one source each.

- Its API (routes, API-key requirements, request models, cacheable reads, query parameters):
  ``openapi.json`` beside this file, read by ``tapinfra.runtime.openapi`` -- the reader
  tapinfra builds the REST API with, so the router and the edge cannot disagree.
- What tapinfra sets for every application (environment variable names, the table's key
  names, the forwarding rules' origin field, ``GET /health``): ``tapinfra.runtime``, which
  ships inside the function zip.
- What is this application's own (its events, its tuning variables, its query names) is here.

Standard library only, like everything the infrastructure reads.
"""

from pathlib import Path

from tapinfra.runtime import (  # noqa: F401  (re-exported for the application's modules)
    ANY_REGION,
    ENV_NAMES,
    HEALTH_PATH,
    INGEST_ENV_NAMES,
    OPTIONAL_ENV_NAMES,
    ORIGIN_REGION_FIELD,
    PARTITION_KEY,
    SORT_KEY,
    SINGLE_WRITER,
    TTL_ATTRIBUTE,
    WRITE_CONFLICTS_METRIC,
    WRITE_MODES,
    Env,
    IngestEnv,
    is_drained,
    writer_region,
)
from tapinfra.runtime import health as health_contract  # noqa: F401  (the /health body: handler and smoke)
from tapinfra.runtime.openapi import Route, load

OPENAPI_FILE = Path(__file__).with_name("openapi.json")
API = load(OPENAPI_FILE)

# Every route the function answers: tapinfra's GET /health first, then the document's.
ROUTES: tuple[Route, ...] = API.served_routes
# The edge's request models (JSON Schema draft 4); schemas.py derives the function's stricter
# draft-07 schemas from them.
ITEM_MODELS = API.models
# Every attribute of a stored item and its DynamoDB type (the analytics module's export table).
STORED_ATTRIBUTES = API.table_attributes

QUERY_LIMIT = "limit"
QUERY_NEXT_TOKEN = "next_token"


class Tuning:
    """Optional environment variables the application reads with defaults; the infrastructure
    leaves them unset (an operator may set them on the function)."""

    HEALTH_CACHE_SECONDS = "HEALTH_CACHE_SECONDS"
    HEALTH_TIMEOUT_SECONDS = "HEALTH_TIMEOUT_SECONDS"
    WRITER_CACHE_SECONDS = "WRITER_CACHE_SECONDS"  # how long the writer choice (single-writer mode) is reused


# Events on the region's bus: the default ``source`` (the function publishes with the
# EVENT_SOURCE tapinfra sets), and the detail types.
EVENT_SOURCE = "tap.items"
ITEM_CREATED = "item.created"
ITEM_UPDATED = "item.updated"
ITEM_DELETED = "item.deleted"
DETAIL_TYPES: tuple[str, ...] = (ITEM_CREATED, ITEM_UPDATED, ITEM_DELETED)
