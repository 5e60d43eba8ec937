"""What tapinfra tells every function it deploys: the part of tapinfra a function carries.

Standard library only. Every function zip holds this package (``tapinfra/runtime/``), so a
handler imports it the same way in Lambda and in its own tests (where the installed
tapinfra provides it). The infrastructure sets these environment variables and builds the
table with these key names; the handler reads them from here instead of retyping them.
"""

from __future__ import annotations

HEALTH_PATH = "/health"
"""tapinfra always routes ``GET /health`` (no API key, never cached) to the function: Route 53
health checks and the canary probe it, and the drain switch turns it to 503."""


class Env:
    """Environment variable names tapinfra sets on the application's function."""

    TABLE_NAME = "TABLE_NAME"
    EVENT_BUS_NAME = "EVENT_BUS_NAME"
    EVENT_SOURCE = "EVENT_SOURCE"
    RETENTION_DAYS = "RETENTION_DAYS"
    TENANT_KEYS = "TENANT_KEYS"  # {"<API key id>": "<tenant>", ...}
    DRAIN_PARAMETER_NAME = "DRAIN_PARAMETER_NAME"  # SSM SecureString: "on" makes /health answer 503
    CORS_ALLOWED_ORIGINS = "CORS_ALLOWED_ORIGINS"  # comma-separated
    MAX_BODY_BYTES = "MAX_BODY_BYTES"
    POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
    POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
    POWERTOOLS_LOG_LEVEL = "POWERTOOLS_LOG_LEVEL"
    WRITE_MODE = "WRITE_MODE"  # one of WRITE_MODES
    WRITE_REGIONS = "WRITE_REGIONS"  # comma-separated writer preference list: primary, then secondary
    # Set only while its optional module is on (absent otherwise):
    DATABASE_SECRET_ARN = "DATABASE_SECRET_ARN"  # aurora: the master secret's ARN in the function's region


OPTIONAL_ENV_NAMES: tuple[str, ...] = (Env.DATABASE_SECRET_ARN,)
# The variables tapinfra always sets.
ENV_NAMES: tuple[str, ...] = tuple(sorted(v for k, v in vars(Env).items() if k.isupper() and v not in OPTIONAL_ENV_NAMES))


class IngestEnv:
    """Environment variable names of the ingestion module's processor (same zip, its own handler).

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
    # The write model, as the API function has it: its creates go where the API's do.
    WRITE_MODE = Env.WRITE_MODE
    WRITE_REGIONS = Env.WRITE_REGIONS
    DRAIN_PARAMETER_NAME = Env.DRAIN_PARAMETER_NAME
    POWERTOOLS_SERVICE_NAME = Env.POWERTOOLS_SERVICE_NAME
    POWERTOOLS_METRICS_NAMESPACE = Env.POWERTOOLS_METRICS_NAMESPACE
    POWERTOOLS_LOG_LEVEL = Env.POWERTOOLS_LOG_LEVEL


INGEST_ENV_NAMES: tuple[str, ...] = tuple(sorted(v for k, v in vars(IngestEnv).items() if k.isupper()))

# The global table tapinfra builds: partition key, sort key (both strings), TTL attribute (epoch seconds).
PARTITION_KEY = "tenant_id"
SORT_KEY = "item_id"
TTL_ATTRIBUTE = "expires_at"

# How writes reach the global table (``table.write_mode``). single-writer: every write and its
# condition run on one region's replica, the writer (see writer_region); any-region: each region
# writes its own replica and replication resolves concurrent writes last-writer-wins.
SINGLE_WRITER = "single-writer"
ANY_REGION = "any-region"
WRITE_MODES: tuple[str, ...] = (SINGLE_WRITER, ANY_REGION)

# The metric (Powertools EMF: namespace POWERTOOLS_METRICS_NAMESPACE, dimension service) that
# counts writes lost to last-writer-wins in any-region mode; the stack alarms on it.
WRITE_CONFLICTS_METRIC = "WriteConflicts"

# Values of a drain switch (the SSM parameter DRAIN_PARAMETER_NAME names) that mean "drained",
# compared case-insensitively after trimming; anything else, or no parameter, means "not drained".
DRAIN_ON_VALUES = frozenset({"on", "true", "1", "yes", "drain", "draining"})


def is_drained(value: object) -> bool:
    """Whether a drain switch's value means "drained"."""
    return str(value).strip().lower() in DRAIN_ON_VALUES


def writer_region(preference: "tuple[str, ...] | list[str]", drained: "set[str] | frozenset[str]") -> str:
    """The writer in single-writer mode: the first region of ``preference`` whose switch is not
    drained; the first region when every one is (writes must land somewhere, and all regions
    agree on it). The function and the failover drill both decide with this rule."""
    if not preference:
        raise ValueError("the writer preference list is empty")
    return next((name for name in preference if name not in drained), preference[0])


# The event detail field the cross-region forwarding rules match: an event whose field names
# the region it was put in is forwarded to the peer once, and never back.
ORIGIN_REGION_FIELD = "origin_region"
