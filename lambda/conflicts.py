"""Counting the writes last-writer-wins discarded (any-region mode).

The function also consumes its own region's table stream, filtered by the event source mapping
to writes replicated from the other region (``updated_region`` names another region; see
tapinfra/constructs/function.py). Every accepted write moves an item from version N to N+1, so a
replicated write that lands on a copy already holding a version at least as new as its own
(``NewImage.version <= OldImage.version``) was made without seeing the write it overwrote: two
writes started from one version in two regions, and replication kept one. Such a record appears
in the stream of the region whose write was lost (the incoming write that loses is discarded
there, so each conflict is counted once). The detector counts it as ``WriteConflicts`` (the stack
alarms on it) and logs the item's key, both versions and both regions, never its content.

Not counted: an item re-created after it expired (its old image is past ``expires_at`` when the
new write happened: nothing live was lost), and a DELETE racing a write (replication resolves it
last-writer-wins too, but a stream record of a delete does not say which region made it).
"""

from __future__ import annotations

from config import get_settings
from contract import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE, WRITE_CONFLICTS_METRIC
from observability import count, logger

STREAM_SOURCE = "aws:dynamodb"


def is_stream_event(event: object) -> bool:
    """Whether an invocation is a batch of this table's stream records (not an API request)."""
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(records) and isinstance(records, list) and all(
        isinstance(r, dict) and r.get("eventSource") == STREAM_SOURCE for r in records)


def _number(image: dict, name: str) -> int | None:
    raw = (image.get(name) or {}).get("N")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _text(image: dict, name: str) -> str | None:
    return (image.get(name) or {}).get("S")


def lost_write(record: dict, here: str) -> dict | None:
    """What a stream record says was lost, or None when it is an ordinary replicated write."""
    if record.get("eventName") != "MODIFY":
        return None
    change = record.get("dynamodb") or {}
    old, new = change.get("OldImage") or {}, change.get("NewImage") or {}
    kept_region, lost_region = _text(new, "updated_region"), _text(old, "updated_region")
    if kept_region is None or kept_region == here:
        return None  # written here: not replicated (the mapping's filter already drops these)
    old_version, new_version = _number(old, "version"), _number(new, "version")
    if old_version is None or new_version is None or new_version > old_version:
        return None
    expired_at, written_at = _number(old, TTL_ATTRIBUTE), change.get("ApproximateCreationDateTime")
    if expired_at is not None and isinstance(written_at, (int, float)) and expired_at <= written_at:
        return None  # the old item had expired: a re-create, nothing live lost
    return {
        "tenant_id": _text(new, PARTITION_KEY), "item_id": _text(new, SORT_KEY),
        "kept_version": new_version, "kept_region": kept_region,
        "lost_version": old_version, "lost_region": lost_region,
    }


def handle(event: dict) -> dict:
    """Count the lost writes in one batch of stream records."""
    here = get_settings().region
    lost = [found for found in (lost_write(r, here) for r in event["Records"]) if found is not None]
    for found in lost:
        logger.warning("write conflict: a write was overwritten by a concurrent write from another region", extra=found)
    if lost:
        count(WRITE_CONFLICTS_METRIC, len(lost))
    return {"records": len(event["Records"]), "write_conflicts": len(lost)}
