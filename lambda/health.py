"""Deep health check for Route 53 health checks and canaries.

Two checks run in parallel under one deadline (HEALTH_TIMEOUT_SECONDS):

* table: a GetItem on a reserved key of this region's table replica, one
  attempt, short timeouts. "ok", or a short error summary.
* drain: the SSM parameter named by DRAIN_PARAMETER_NAME. "on" when its value
  is on/true/1/yes/drain/draining (case-insensitive), else "off". A missing
  parameter, an unset name or an SSM failure count as "off" (an SSM outage must
  not take a healthy region out of service; failures are logged and counted).

The result is cached per container for HEALTH_CACHE_SECONDS so health checkers
polling from many locations cost at most one table read per interval.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    ReadTimeoutError,
)

import clients
from config import get_settings
from contract import PARTITION_KEY, SORT_KEY, health_contract, is_drained
from observability import count, logger

HEALTH_KEY = {PARTITION_KEY: {"S": "__health__"}, SORT_KEY: {"S": "__health__"}}
DRAIN_ON, DRAIN_OFF = health_contract.DRAIN_ON, health_contract.DRAIN_OFF


@dataclass(frozen=True)
class HealthResult:
    status: str  # one of health_contract.STATUSES
    region: str
    table: str  # health_contract.TABLE_OK, or a short error summary
    drain: str  # DRAIN_ON | DRAIN_OFF

    @property
    def http_status(self) -> int:
        return health_contract.http_status(self.status)

    def body(self) -> dict:
        return health_contract.health_body(self.status, self.region, self.table, self.drain)


_lock = threading.Lock()
_cached: tuple[float, HealthResult] | None = None
_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health")
    return _executor


def _summarize(exc: BaseException) -> str:
    if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError, FutureTimeout, TimeoutError)):
        return "timeout"
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code") or "ClientError"
    if isinstance(exc, BotoCoreError):
        return type(exc).__name__
    return "error"


def check_table(table_name: str, timeout: float) -> str:
    if not table_name:
        return "TABLE_NAME not set"
    clients.health_dynamodb(timeout).get_item(TableName=table_name, Key=HEALTH_KEY, ProjectionExpression=SORT_KEY)
    return health_contract.TABLE_OK


def check_drain(parameter_name: str, timeout: float) -> str:
    if not parameter_name:
        return DRAIN_OFF
    try:
        response = clients.health_ssm(timeout).get_parameter(Name=parameter_name, WithDecryption=True)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return DRAIN_OFF
        raise
    return DRAIN_ON if is_drained(response.get("Parameter", {}).get("Value", "")) else DRAIN_OFF


def _evaluate() -> HealthResult:
    settings = get_settings()
    timeout = settings.health_timeout_seconds
    deadline = time.monotonic() + timeout + 0.25  # SDK timeouts fire first; this is the backstop
    pool = _pool()
    table_future = pool.submit(check_table, settings.table_name, timeout)
    drain_future = pool.submit(check_drain, settings.drain_parameter_name, timeout)

    try:
        table = table_future.result(timeout=max(0.0, deadline - time.monotonic()))
    except Exception as exc:  # noqa: BLE001 - every failure is a health answer
        table = _summarize(exc)
        logger.warning("health: table check failed", extra={"check": "table", "error": table})
        count("HealthTableCheckFailed")

    try:
        drain = drain_future.result(timeout=max(0.0, deadline - time.monotonic()))
    except Exception as exc:  # noqa: BLE001
        drain = DRAIN_OFF
        logger.warning("health: drain switch unreadable, assuming off", extra={"error": _summarize(exc)})
        count("HealthDrainCheckFailed")

    if drain == DRAIN_ON:
        status = health_contract.DRAINING
    elif table != health_contract.TABLE_OK:
        status = health_contract.DEGRADED
    else:
        status = health_contract.HEALTHY
    return HealthResult(status=status, region=settings.region, table=table, drain=drain)


def check() -> HealthResult:
    """Current health, from cache when fresh."""
    global _cached
    ttl = get_settings().health_cache_seconds
    now = time.monotonic()
    cached = _cached
    if cached is not None and now - cached[0] < ttl:
        return cached[1]
    with _lock:  # one evaluation at a time; concurrent callers reuse it
        cached = _cached
        now = time.monotonic()
        if cached is not None and now - cached[0] < ttl:
            return cached[1]
        result = _evaluate()
        _cached = (time.monotonic(), result)
        return result


def reset() -> None:
    global _cached
    with _lock:
        _cached = None
