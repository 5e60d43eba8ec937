"""AWS SDK clients, created on first use and then reused for the container's life.

Plain botocore (boto3's resource layer is not used, and importing boto3 would
also import s3transfer: ~50 ms of cold start for nothing). Nothing here runs
at import: the first request pays for client creation, and tests call
``reset()`` so every case gets clients bound to its own mock.
"""

from __future__ import annotations

import threading

from botocore.config import Config

# Request path: fail fast, but let the SDK retry throttles and transient errors.
# Worst case about 3 x (1 + 3) s plus back-off: well inside API Gateway's 29 s.
_DATA_CONFIG = Config(
    connect_timeout=1,
    read_timeout=3,
    retries={"mode": "standard", "total_max_attempts": 3},
)

_lock = threading.Lock()
_clients: dict[str, object] = {}
_session = None


def _health_config(timeout_seconds: float) -> Config:
    # Health: one attempt, short timeouts; health.py caches the answer anyway.
    return Config(
        connect_timeout=timeout_seconds,
        read_timeout=timeout_seconds,
        retries={"mode": "standard", "total_max_attempts": 1},
    )


def _get(key: str, service: str, config: Config, region: str | None = None):
    client = _clients.get(key)
    if client is None:
        with _lock:  # health checks create clients from worker threads
            client = _clients.get(key)
            if client is None:
                global _session
                if _session is None:  # one session: it caches credentials and service models
                    import botocore.session  # noqa: PLC0415 - first request, not import time

                    _session = botocore.session.get_session()
                client = _session.create_client(service, region_name=region, config=config)
                _clients[key] = client
    return client


def dynamodb():
    return _get("dynamodb", "dynamodb", _DATA_CONFIG)


def dynamodb_in(region: str):
    """The table's copy in ``region`` (single-writer mode: the writer's, from the other region)."""
    return _get(f"dynamodb-{region}", "dynamodb", _DATA_CONFIG, region)


def writer_ssm(region: str, timeout_seconds: float):
    """A drain switch in ``region``, read to choose the writer: one attempt, short timeouts."""
    return _get(f"writer-ssm-{region}-{timeout_seconds}", "ssm", _health_config(timeout_seconds), region)


def events():
    return _get("events", "events", _DATA_CONFIG)


def s3():
    return _get("s3", "s3", _DATA_CONFIG)


def sqs():
    return _get("sqs", "sqs", _DATA_CONFIG)


def health_dynamodb(timeout_seconds: float):
    return _get(f"health-dynamodb-{timeout_seconds}", "dynamodb", _health_config(timeout_seconds))


def health_ssm(timeout_seconds: float):
    return _get(f"health-ssm-{timeout_seconds}", "ssm", _health_config(timeout_seconds))


def set_client(key: str, client) -> None:
    """Install a ready-made client (the benchmark uses stubs)."""
    with _lock:
        _clients[key] = client


def reset() -> None:
    """Drop every client (the session and its model cache stay)."""
    with _lock:
        _clients.clear()
