"""Where this function's writes go: the write model (``WRITE_MODE``).

single-writer (the default): every write, with the conditions that guard it (version, If-Match,
the create's "id not taken", Idempotency-Key records), runs on ONE region's copy of the global
table, the writer. Conditions evaluated on one copy are serializable, so two racing PUTs at one
version can never both succeed, whichever regions they enter. The writer is the first region of
``WRITE_REGIONS`` (primary, then secondary) whose drain switch is off
(``tapinfra.runtime.writer_region``): draining the writer (the failover drill, an operator)
moves writes to the other region. The choice is reused for ``WRITER_CACHE_SECONDS``, like the
health answer, so a write costs at most one SSM read per interval.

A switch that cannot be read counts as off, as in health.py (logged, metric
``WriterSwitchUnreadable``): an SSM hiccup must not make the two regions choose different
writers.

any-region: each region writes its own copy; replication resolves concurrent writes
last-writer-wins, and conflicts.py counts the writes it overwrote.

Reads never come here: they stay on this region's copy.
"""

from __future__ import annotations

import threading
import time

from botocore.exceptions import BotoCoreError, ClientError

import clients
from config import get_settings
from contract import ANY_REGION, is_drained, writer_region
from observability import count, logger

_lock = threading.Lock()
_cached: tuple[float, str] | None = None


def _drained(region: str, parameter_name: str, timeout: float) -> bool:
    try:
        response = clients.writer_ssm(region, timeout).get_parameter(Name=parameter_name, WithDecryption=True)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return False
        code = exc.response.get("Error", {}).get("Code") or "ClientError"
    except BotoCoreError as exc:
        code = type(exc).__name__
    else:
        return is_drained(response.get("Parameter", {}).get("Value", ""))
    logger.warning("writer: drain switch unreadable, counted as off", extra={"switch_region": region, "error": code})
    count("WriterSwitchUnreadable")
    return False


def _choose() -> str:
    settings = get_settings()
    preference = settings.write_regions or (settings.region,)
    if not settings.drain_parameter_name:
        return preference[0]
    drained: set[str] = set()
    for region in preference:  # stop at the first region that is not drained: one read in the usual case
        if not _drained(region, settings.drain_parameter_name, settings.health_timeout_seconds):
            break
        drained.add(region)
    return writer_region(preference, drained)


def region() -> str:
    """The region whose copy takes this function's writes now."""
    global _cached
    settings = get_settings()
    if settings.write_mode == ANY_REGION:
        return settings.region
    ttl = settings.writer_cache_seconds
    cached = _cached
    if cached is not None and time.monotonic() - cached[0] < ttl:
        return cached[1]
    with _lock:
        cached = _cached
        if cached is not None and time.monotonic() - cached[0] < ttl:
            return cached[1]
        chosen = _choose()
        if cached is not None and cached[1] != chosen:
            logger.info("writer moved", extra={"from_region": cached[1], "to_region": chosen})
        _cached = (time.monotonic(), chosen)
        return chosen


def dynamodb():
    """The DynamoDB client of the writer's copy (this region's own client when it is the writer)."""
    target = region()
    return clients.dynamodb() if target == get_settings().region else clients.dynamodb_in(target)


def reset() -> None:
    global _cached
    with _lock:
        _cached = None
