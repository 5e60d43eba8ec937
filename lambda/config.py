"""Runtime settings read from the environment (once per container, lazily)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache

from contract import EVENT_SOURCE, SINGLE_WRITER, WRITE_MODES, Env, Tuning

DEFAULT_EVENT_SOURCE = EVENT_SOURCE
DEFAULT_MAX_BODY_BYTES = 16384
DEFAULT_HEALTH_CACHE_SECONDS = 5.0
DEFAULT_HEALTH_TIMEOUT_SECONDS = 2.0
DEFAULT_RETENTION_DAYS = 30
DEFAULT_WRITER_CACHE_SECONDS = 5.0


class ConfigurationError(RuntimeError):
    """The function's environment is not usable (an infrastructure bug, never a client error)."""


@dataclass(frozen=True)
class Settings:
    table_name: str
    event_bus_name: str
    event_source: str
    retention_days: int
    tenant_keys: dict[str, str] = field(repr=False)
    drain_parameter_name: str
    max_body_bytes: int
    health_cache_seconds: float
    health_timeout_seconds: float
    region: str
    # The Aurora module's master secret in this region; "" when the module is off.
    database_secret_arn: str = ""
    write_mode: str = SINGLE_WRITER
    # The writer preference list (single-writer mode); empty: this region is the only candidate.
    write_regions: tuple[str, ...] = ()
    writer_cache_seconds: float = DEFAULT_WRITER_CACHE_SECONDS


def _int(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise ConfigurationError(f"{name} must be >= {minimum}, got {value}")
    return value


def _float(name: str, default: float, minimum: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from exc
    if not value >= minimum:  # also rejects NaN
        raise ConfigurationError(f"{name} must be >= {minimum}, got {raw!r}")
    return value


def _tenant_keys(raw: str) -> dict[str, str]:
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise ConfigurationError("TENANT_KEYS must be a JSON object") from exc
    if not isinstance(parsed, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and v for k, v in parsed.items()
    ):
        raise ConfigurationError("TENANT_KEYS must map non-empty API key ids to non-empty tenant ids")
    return parsed


def _write_mode(raw: str) -> str:
    value = raw.strip() or SINGLE_WRITER
    if value not in WRITE_MODES:
        raise ConfigurationError(f"{Env.WRITE_MODE} must be one of {', '.join(WRITE_MODES)}, got {raw!r}")
    return value


def _write_regions(raw: str) -> tuple[str, ...]:
    regions = tuple(r.strip() for r in raw.split(",") if r.strip())
    if len(set(regions)) != len(regions):
        raise ConfigurationError(f"{Env.WRITE_REGIONS} names a region twice: {raw!r}")
    return regions


def cors_origins() -> list[str]:
    """CORS_ALLOWED_ORIGINS as a list (empty when unset). Read at import by app.py."""
    return [o.strip() for o in os.environ.get(Env.CORS_ALLOWED_ORIGINS, "").split(",") if o.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        table_name=os.environ.get(Env.TABLE_NAME, ""),
        event_bus_name=os.environ.get(Env.EVENT_BUS_NAME, ""),
        event_source=os.environ.get(Env.EVENT_SOURCE, "").strip() or DEFAULT_EVENT_SOURCE,
        retention_days=_int(Env.RETENTION_DAYS, DEFAULT_RETENTION_DAYS, 1),
        tenant_keys=_tenant_keys(os.environ.get(Env.TENANT_KEYS, "")),
        drain_parameter_name=os.environ.get(Env.DRAIN_PARAMETER_NAME, "").strip(),
        max_body_bytes=_int(Env.MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES, 1),
        health_cache_seconds=_float(Tuning.HEALTH_CACHE_SECONDS, DEFAULT_HEALTH_CACHE_SECONDS, 0.0),
        health_timeout_seconds=_float(Tuning.HEALTH_TIMEOUT_SECONDS, DEFAULT_HEALTH_TIMEOUT_SECONDS, 0.1),
        region=os.environ.get("AWS_REGION", "") or os.environ.get("AWS_DEFAULT_REGION", ""),
        database_secret_arn=os.environ.get(Env.DATABASE_SECRET_ARN, "").strip(),
        write_mode=_write_mode(os.environ.get(Env.WRITE_MODE, "")),
        write_regions=_write_regions(os.environ.get(Env.WRITE_REGIONS, "")),
        writer_cache_seconds=_float(Tuning.WRITER_CACHE_SECONDS, DEFAULT_WRITER_CACHE_SECONDS, 0.0),
    )


def reset() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
