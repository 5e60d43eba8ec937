"""Tenant-scoped item storage on the DynamoDB global table.

Every operation takes the tenant id as the partition key, so no call can reach
another tenant's partition. Items carry ``expires_at`` (epoch seconds, the
table's TTL attribute) = write time + RETENTION_DAYS; because DynamoDB deletes
expired items lazily, every read, list, count, update and delete also treats
``expires_at <= now`` as gone.

An item DynamoDB could not hold (over 400 KB) is refused with 413 before the
write, by its size computed as DynamoDB counts it; should DynamoDB still say
the item is too large, that is a 413 too, never a 500.

Writes, and the reads that explain a refused write, go to the writer's copy (writer.py: in
single-writer mode one region's copy takes every write, so its conditions hold across regions);
reads and lists stay on this region's copy.

Writes are conditional on the version (optimistic concurrency) and, when the request has one,
on its ``If-Match`` (conditional.py). A refused write answers with the item as it is now, read
by the same call (``ReturnValuesOnConditionCheckFailure``): a 409 when the stated version is
stale, a 412 when the ``If-Match`` is not satisfied.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from botocore.exceptions import ClientError

import clients
import clock
import writer
from codec import ITEM_SIZE_LIMIT, from_item, item_size, to_item
from contract import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from config import get_settings
from encoding import dumps
from conditional import Condition, etag
from errors import ConflictError, ItemNotFoundError, ItemTooLargeError, PreconditionFailedError

# Longest run of DynamoDB pages one list request may read to fill a page when
# many items are expired but not yet deleted by TTL. Past it, the page is
# returned short, with a token to continue.
MAX_QUERY_ROUNDS = 5
# Most JSON text of items one list page carries. Lambda refuses a response over
# 6 MB, and the body travels JSON-escaped inside it (up to twice its length);
# a page that would pass this ends early, with a token to continue.
PAGE_BUDGET_BYTES = 3_000_000

_NAMES = {
    "#tenant": PARTITION_KEY,
    "#id": SORT_KEY,
    "#name": "name",
    "#attrs": "attributes",
    "#version": "version",
    "#updated": "updated_at",
    "#expires": TTL_ATTRIBUTE,
    "#region": "updated_region",
}


@dataclass(frozen=True)
class Page:
    items: list[dict]
    last_item_id: str | None


def _iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _key(tenant_id: str, item_id: str) -> dict:
    return {PARTITION_KEY: {"S": tenant_id}, SORT_KEY: {"S": item_id}}


def _alive(raw: dict | None, now: int) -> bool:
    if not raw:
        return False
    expires = raw.get(TTL_ATTRIBUTE, {}).get("N")
    return expires is None or int(expires) > now


def public(raw: dict) -> dict:
    """The API representation of a stored item (no tenant id, no key names)."""
    item = from_item(raw)
    return {
        "id": item[SORT_KEY],
        "name": item.get("name"),
        "attributes": item.get("attributes", {}),
        "version": item.get("version"),
        "created_at": item.get("created_at"),
        "updated_at": item.get("updated_at"),
        "expires_at": item.get(TTL_ATTRIBUTE),
        "region": item.get("updated_region"),
    }


def _expiry(now: int) -> int:
    return now + get_settings().retention_days * 86400


def _table() -> str:
    return get_settings().table_name


def _condition_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _too_large(exc: ClientError) -> bool:
    """DynamoDB's ValidationException for an item over 400 KB (PutItem and UpdateItem word it alike)."""
    error = exc.response.get("Error", {})
    return error.get("Code") == "ValidationException" and "exceeded the maximum allowed size" in error.get("Message", "")


def _stored(tenant_id: str, item_id: str, name: str, attributes: dict, version: int, now: int) -> dict:
    """The item as written, in DynamoDB's attribute-value form (413 if DynamoDB could not hold it)."""
    stamp = _iso(now)
    raw = to_item(
        {
            PARTITION_KEY: tenant_id,
            SORT_KEY: item_id,
            "name": name,
            "attributes": attributes,
            "version": version,
            "created_at": stamp,
            "updated_at": stamp,
            TTL_ATTRIBUTE: _expiry(now),
            "updated_region": get_settings().region,
        }
    )
    size = item_size(raw)
    if size > ITEM_SIZE_LIMIT:
        raise ItemTooLargeError(size, ITEM_SIZE_LIMIT)
    return raw


def create(tenant_id: str, item_id: str | None, name: str, attributes: dict) -> dict:
    """Insert a new item; never overwrites a live one (409 on clash)."""
    now = clock.now()
    item_id = item_id or uuid.uuid4().hex
    raw = _stored(tenant_id, item_id, name, attributes, 1, now)
    try:
        writer.dynamodb().put_item(
            TableName=_table(),
            Item=raw,
            # An expired item that TTL has not deleted yet counts as gone.
            ConditionExpression="attribute_not_exists(#id) OR #expires <= :now",
            ExpressionAttributeNames={"#id": SORT_KEY, "#expires": TTL_ATTRIBUTE},
            ExpressionAttributeValues={":now": {"N": str(now)}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if _condition_failed(exc):
            current = exc.response.get("Item")
            raise ConflictError(f"item {item_id!r} already exists", current=public(current) if current else None,
                                item_id=item_id) from None
        if _too_large(exc):
            raise ItemTooLargeError(None, ITEM_SIZE_LIMIT) from None
        raise
    return public(raw)


def _get_raw(tenant_id: str, item_id: str, client=None) -> dict | None:
    client = client or clients.dynamodb()
    response = client.get_item(TableName=_table(), Key=_key(tenant_id, item_id), ConsistentRead=True)
    return response.get("Item")


def get(tenant_id: str, item_id: str) -> dict:
    raw = _get_raw(tenant_id, item_id)
    if not _alive(raw, clock.now()):
        raise ItemNotFoundError(item_id)
    return public(raw)


def _refused(item_id: str, current: dict | None, now: int, expected: int | None, if_match: Condition | None):
    """The error for a write whose condition failed, judged on the item as it is now."""
    if not _alive(current, now):
        return ItemNotFoundError(item_id)
    item = public(current)
    version = int(item["version"])
    if if_match is not None and not if_match.matches(version):
        return PreconditionFailedError(
            f"precondition failed: item {item_id!r} is at version {version} (ETag {etag(version)}), "
            "which the If-Match does not name",
            current=item, item_id=item_id, current_version=version,
        )
    return ConflictError(
        f"version conflict: item {item_id!r} is at version {version}, the request expected {expected}",
        current=item, item_id=item_id, current_version=version,
    )


def _live_items_query(tenant_id: str, now: int, start_key: dict | None) -> dict:
    """Query arguments for the tenant's partition, skipping items past their expiry (TTL deletes lazily)."""
    query = {
        "TableName": _table(),
        "KeyConditionExpression": "#tenant = :tenant",
        "FilterExpression": "attribute_not_exists(#expires) OR #expires > :now",
        "ExpressionAttributeNames": {"#tenant": PARTITION_KEY, "#expires": TTL_ATTRIBUTE},
        "ExpressionAttributeValues": {":tenant": {"S": tenant_id}, ":now": {"N": str(now)}},
    }
    if start_key:
        query["ExclusiveStartKey"] = start_key
    return query


def list_page(tenant_id: str, limit: int, start_after: str | None) -> Page:
    """Up to ``limit`` live items in id order, after ``start_after`` if given (fewer past PAGE_BUDGET_BYTES)."""
    now = clock.now()
    client = clients.dynamodb()
    collected: list[dict] = []
    used = 0
    start_key = _key(tenant_id, start_after) if start_after else None
    last_key = None
    for _ in range(MAX_QUERY_ROUNDS):
        response = client.query(**_live_items_query(tenant_id, now, start_key),
                                Limit=limit - len(collected), ConsistentRead=True)
        for raw in response.get("Items", []):
            item = public(raw)
            used += len(dumps(item)) + 1
            if collected and used > PAGE_BUDGET_BYTES:
                return Page(items=collected, last_item_id=collected[-1]["id"])  # continue after the last one sent
            collected.append(item)
        last_key = response.get("LastEvaluatedKey")
        if not last_key or len(collected) >= limit:
            break
        start_key = last_key
    next_id = last_key[SORT_KEY]["S"] if last_key else None
    return Page(items=collected, last_item_id=next_id)


def update(tenant_id: str, item_id: str, name: str, attributes: dict, expected_version: int,
           if_match: Condition | None = None) -> dict:
    """Replace name and attributes if the stored version matches (optimistic concurrency) and the If-Match holds."""
    now = clock.now()
    # created_at keeps its old value, of the same length as the stamp counted here.
    _stored(tenant_id, item_id, name, attributes, expected_version + 1, now)
    if if_match is not None and not if_match.matches(expected_version):
        # Both conditions can never hold at once: nothing to write; say why from the item as it is.
        raise _refused(item_id, _get_raw(tenant_id, item_id, writer.dynamodb()), now, expected_version, if_match)
    try:
        response = writer.dynamodb().update_item(
            TableName=_table(),
            Key=_key(tenant_id, item_id),
            UpdateExpression=(
                "SET #name = :name, #attrs = :attrs, #version = :next, #updated = :stamp, "
                "#expires = :expires, #region = :region"
            ),
            ConditionExpression="attribute_exists(#id) AND #expires > :now AND #version = :expected",
            ExpressionAttributeNames={k: v for k, v in _NAMES.items() if k != "#tenant"},
            ExpressionAttributeValues=to_item(
                {
                    ":name": name,
                    ":attrs": attributes,
                    ":next": expected_version + 1,
                    ":stamp": _iso(now),
                    ":expires": _expiry(now),
                    ":region": get_settings().region,
                    ":now": now,
                    ":expected": expected_version,
                }
            ),
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if _too_large(exc):
            raise ItemTooLargeError(None, ITEM_SIZE_LIMIT) from None
        if not _condition_failed(exc):
            raise
        raise _refused(item_id, exc.response.get("Item"), now, expected_version, if_match) from None
    return public(response["Attributes"])


def delete(tenant_id: str, item_id: str, if_match: Condition | None = None) -> dict:
    """Delete a live item (if its version is one the If-Match names) and return what it was."""
    now = clock.now()
    condition = "attribute_exists(#id) AND #expires > :now"
    names = {"#id": SORT_KEY, "#expires": TTL_ATTRIBUTE}
    values = {":now": {"N": str(now)}}
    if if_match is not None and not if_match.any:
        if not if_match.versions:  # only tags that are not ours: it cannot match
            raise _refused(item_id, _get_raw(tenant_id, item_id, writer.dynamodb()), now, None, if_match)
        operands = {f":v{i}": {"N": str(v)} for i, v in enumerate(sorted(if_match.versions))}
        condition += f" AND #version IN ({', '.join(operands)})"
        names["#version"] = "version"
        values.update(operands)
    try:
        response = writer.dynamodb().delete_item(
            TableName=_table(),
            Key=_key(tenant_id, item_id),
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if _condition_failed(exc):
            raise _refused(item_id, exc.response.get("Item"), now, None, if_match) from None
        raise
    return public(response["Attributes"])


def count(tenant_id: str) -> int:
    """Number of the tenant's live items (reads the whole partition, keys only)."""
    now = clock.now()
    client = clients.dynamodb()
    total = 0
    start_key = None
    while True:
        response = client.query(**_live_items_query(tenant_id, now, start_key), Select="COUNT")
        total += response.get("Count", 0)
        start_key = response.get("LastEvaluatedKey")
        if not start_key:
            return total
