"""The contract between the application (this folder) and the infrastructure (``tapinfra``).

One source for what both sides must agree on: the routes (path, method, API key, request
model), the edge's request models, the environment variable names, the table's key names and
the events' source and detail types. The application imports this module; the function zip
ships it; ``tapinfra.contract`` loads the same file to build the API, the table, the
function's environment and the event rules. Tests check that each side uses it.

Standard library only: the infrastructure reads it without the application's dependencies.
"""

from dataclasses import dataclass
from typing import Mapping, Optional


@dataclass(frozen=True)
class Route:
    """One API operation: ``path`` in API Gateway syntax (``{id}``), ``method``, whether an
    API key is required, the request model (a key of ``ITEM_MODELS``) the edge checks, the
    query parameters it reads, and whether the stage cache may answer it (per tenant: the
    cache key is the API key plus every path and query parameter)."""

    path: str
    method: str
    api_key: bool = True
    model: Optional[str] = None
    query: tuple[str, ...] = ()
    cacheable: bool = False


QUERY_LIMIT = "limit"
QUERY_NEXT_TOKEN = "next_token"

ROUTES: tuple[Route, ...] = (
    Route("/health", "GET", api_key=False),  # never cached: the drain switch and failover act at once
    Route("/items", "GET", query=(QUERY_LIMIT, QUERY_NEXT_TOKEN), cacheable=True),
    Route("/items", "POST", model="CreateItem"),
    Route("/items/{id}", "GET", cacheable=True),
    Route("/items/{id}", "PUT", model="UpdateItem"),
    Route("/items/{id}", "DELETE"),
    Route("/metrics", "GET", cacheable=True),
)

# API Gateway models are JSON Schema draft 4. They are the coarse gate at the edge; the
# function validates the same bodies in full with these models plus its own stricter checks
# (schemas.py derives its draft-07 schemas from them).
ITEM_MODELS: Mapping[str, dict] = {
    "CreateItem": {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": "CreateItem",
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "id": {"type": "string", "minLength": 1, "maxLength": 64},
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "attributes": {"type": "object", "maxProperties": 50},
        },
    },
    "UpdateItem": {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": "UpdateItem",
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "version"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "attributes": {"type": "object", "maxProperties": 50},
            "version": {"type": "integer", "minimum": 1},
        },
    },
}


class Env:
    """Environment variable names the infrastructure sets and the application reads."""

    TABLE_NAME = "TABLE_NAME"
    EVENT_BUS_NAME = "EVENT_BUS_NAME"
    EVENT_SOURCE = "EVENT_SOURCE"
    RETENTION_DAYS = "RETENTION_DAYS"
    TENANT_KEYS = "TENANT_KEYS"
    DRAIN_PARAMETER_NAME = "DRAIN_PARAMETER_NAME"
    CORS_ALLOWED_ORIGINS = "CORS_ALLOWED_ORIGINS"
    MAX_BODY_BYTES = "MAX_BODY_BYTES"
    POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
    POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
    POWERTOOLS_LOG_LEVEL = "POWERTOOLS_LOG_LEVEL"
    # Set only while its optional module is on (absent otherwise):
    DATABASE_SECRET_ARN = "DATABASE_SECRET_ARN"  # aurora: the master secret's ARN in the function's region


OPTIONAL_ENV_NAMES: tuple[str, ...] = (Env.DATABASE_SECRET_ARN,)
# The variables the infrastructure always sets.
ENV_NAMES: tuple[str, ...] = tuple(sorted(v for k, v in vars(Env).items() if k.isupper() and v not in OPTIONAL_ENV_NAMES))


class IngestEnv:
    """Environment variable names of the ingestion processor (``ingest.handler``, same zip).

    Its own set, so the API function's environment stays exactly ``ENV_NAMES``; the names it
    shares with the API (table, retention, Powertools) are the same variables.
    """

    TABLE_NAME = Env.TABLE_NAME
    RETENTION_DAYS = Env.RETENTION_DAYS
    INGEST_TENANTS = "INGEST_TENANTS"  # comma-separated: the tenants whose <tenant>/ prefix is accepted
    MAX_OBJECT_BYTES = "MAX_OBJECT_BYTES"
    MAX_ITEMS_PER_OBJECT = "MAX_ITEMS_PER_OBJECT"
    MAX_BODY_BYTES = Env.MAX_BODY_BYTES  # the API's body limit bounds one line, so every line fits one item
    DEAD_LETTER_QUEUE_URL = "DEAD_LETTER_QUEUE_URL"
    POWERTOOLS_SERVICE_NAME = Env.POWERTOOLS_SERVICE_NAME
    POWERTOOLS_METRICS_NAMESPACE = Env.POWERTOOLS_METRICS_NAMESPACE
    POWERTOOLS_LOG_LEVEL = Env.POWERTOOLS_LOG_LEVEL


INGEST_ENV_NAMES: tuple[str, ...] = tuple(sorted(v for k, v in vars(IngestEnv).items() if k.isupper()))


class Tuning:
    """Optional environment variables the application reads with defaults; the infrastructure
    leaves them unset (an operator may set them on the function)."""

    HEALTH_CACHE_SECONDS = "HEALTH_CACHE_SECONDS"
    HEALTH_TIMEOUT_SECONDS = "HEALTH_TIMEOUT_SECONDS"

# The table: partition key, sort key, TTL attribute (epoch seconds).
PARTITION_KEY = "tenant_id"
SORT_KEY = "item_id"
TTL_ATTRIBUTE = "expires_at"

# Every attribute of a stored item and its DynamoDB type: what the table's exports hold, and so
# the columns of the analytics module's Glue table.
STORED_ATTRIBUTES: Mapping[str, str] = {
    PARTITION_KEY: "S",
    SORT_KEY: "S",
    "name": "S",
    "attributes": "M",
    "version": "N",
    "created_at": "S",
    "updated_at": "S",
    TTL_ATTRIBUTE: "N",
    "updated_region": "S",
}

# Events on the region's bus: ``source``, the detail types, and the detail field the
# cross-region forwarding rules match so an event is never forwarded back.
EVENT_SOURCE = "tap.items"
ITEM_CREATED = "item.created"
ITEM_UPDATED = "item.updated"
ITEM_DELETED = "item.deleted"
DETAIL_TYPES: tuple[str, ...] = (ITEM_CREATED, ITEM_UPDATED, ITEM_DELETED)
ORIGIN_REGION_FIELD = "origin_region"
