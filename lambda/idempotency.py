"""``Idempotency-Key`` on ``POST /items``: Powertools' idempotency utility, DynamoDB persistence.

The records live in the items table itself (no other resource), in a partition no tenant can
have (``__idempotency__``: tenant ids are ``[a-z][a-z0-9-]*``), keyed ``<tenant>#<sha256 of
[tenant, key]>``, expiring through the table's TTL attribute after ``EXPIRES_AFTER_SECONDS``.
The tenant prefixes and is hashed into the record's key, so one tenant's key can never find
another tenant's record. The record is written through the writer's client (writer.py): in
single-writer mode both regions' functions see the same record at once, and in either mode the
table replicates it, so a retry that lands in the other region finds it.

Powertools hashes the request body into the record and compares it on a retry: the same key
with another body is refused (422). While the first request runs, a retry is refused with 409;
a first request that failed (a 4xx or 5xx) leaves no record, so a retry runs again.
"""

from __future__ import annotations

import re
from typing import Callable

from config import get_settings
from contract import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from encoding import dumps, loads
from errors import BadRequestError, ConflictError, IdempotencyKeyReusedError
import clients
import writer

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
PARTITION = "__idempotency__"
EXPIRES_AFTER_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255
_KEY = re.compile(r"[\x20-\x7e]{1,%d}" % MAX_KEY_LENGTH)

_stores: dict[str, object] = {}


def parse_key(values: list[str] | None) -> str | None:
    """The request's key (None without the header); 400 when it is not one 1-255 printable ASCII value."""
    if values is None:
        return None
    if len(values) != 1:
        raise BadRequestError(f"{HEADER} must be given once, got {len(values)} values")
    key = values[0]
    if not _KEY.fullmatch(key):
        raise BadRequestError(f"{HEADER} must be 1-{MAX_KEY_LENGTH} printable ASCII characters "
                              f"(space to ~), got {len(key)} characters")
    return key


def _store(region: str):
    """One persistence layer per writer region, on that region's client (created on first use:
    the utility imports boto3, which a request without the header never pays for)."""
    client = clients.dynamodb() if region == get_settings().region else clients.dynamodb_in(region)
    store = _stores.get(region)
    if store is None or store.client is not client:  # clients.reset() made new clients
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer  # noqa: PLC0415

        store = DynamoDBPersistenceLayer(
            table_name=get_settings().table_name, key_attr=PARTITION_KEY, sort_key_attr=SORT_KEY,
            static_pk_value=PARTITION, expiry_attr=TTL_ATTRIBUTE, boto3_client=client,
        )
        _stores[region] = store
    return store


def create_once(tenant_id: str, key: str, body: dict, create: Callable[[], dict], context) -> tuple[dict, bool]:
    """The item ``create`` made for this tenant's key and body, made at most once; and whether
    this answer is a replay of an earlier one."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function  # noqa: PLC0415
    from aws_lambda_powertools.utilities.idempotency.exceptions import (  # noqa: PLC0415
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    replayed = []

    def on_replay(response, _record):
        replayed.append(True)
        return response

    config = IdempotencyConfig(
        event_key_jmespath="[tenant, key]", payload_validation_jmespath="body", raise_on_no_idempotency_key=True,
        expires_after_seconds=EXPIRES_AFTER_SECONDS, hash_function="sha256", response_hook=on_replay,
    )
    if callable(getattr(context, "get_remaining_time_in_millis", None)):
        config.register_lambda_context(context)  # an in-progress record expires with this invocation

    @idempotent_function(data_keyword_argument="request", persistence_store=_store(writer.region()), config=config,
                         key_prefix=tenant_id)
    def run(request: dict) -> str:
        return dumps(create())  # the exact JSON text: replayed numbers stay the numbers stored

    try:
        # The body as the item would store it (numbers normalised; Powertools sorts the keys when hashing).
        text = run(request={"tenant": tenant_id, "key": key, "body": loads(dumps(body))})
    except IdempotencyValidationError:
        raise IdempotencyKeyReusedError(
            f"{HEADER} {key!r} was already used with a different request body; use a new key for a new request") from None
    except IdempotencyAlreadyInProgressError:
        raise ConflictError(f"a request with this {HEADER} is still in progress; retry it shortly") from None
    return loads(text), bool(replayed)


def reset() -> None:
    _stores.clear()
