"""Publish item lifecycle events to the region's EventBridge bus.

Detail carries ids and the version only (no item content: events may be
archived or forwarded, and must not outlive the item's GDPR retention), and
always ``origin_region`` (the region that served the write);
the cross-region forwarding rules match on it so a forwarded event is never
forwarded back. Publishing is best effort: a failure is logged and counted
(metric ``EventPublishFailed``) and never fails the API request.
"""

from __future__ import annotations

import uuid

import clients
import clock
from config import get_settings
from contract import ITEM_CREATED, ITEM_DELETED, ITEM_UPDATED, ORIGIN_REGION_FIELD
from encoding import dumps
from observability import count, logger

CREATED = ITEM_CREATED
UPDATED = ITEM_UPDATED
DELETED = ITEM_DELETED


def build_entry(detail_type: str, tenant_id: str, item: dict) -> dict:
    settings = get_settings()
    detail = {
        "event_id": uuid.uuid4().hex,
        ORIGIN_REGION_FIELD: settings.region,
        "tenant_id": tenant_id,
        "item_id": item["id"],
        "version": item.get("version"),
        "occurred_at": clock.now(),
    }
    return {
        "Source": settings.event_source,
        "DetailType": detail_type,
        "Detail": dumps(detail),
        "EventBusName": settings.event_bus_name,
    }


def publish(detail_type: str, tenant_id: str, item: dict) -> bool:
    """Send one event; True if EventBridge accepted it. Never raises."""
    try:
        settings = get_settings()
        if not settings.event_bus_name:
            logger.warning("EVENT_BUS_NAME is not set; event not published", extra={"detail_type": detail_type})
            count("EventPublishFailed")
            return False
        entry = build_entry(detail_type, tenant_id, item)
        response = clients.events().put_events(Entries=[entry])
        if response.get("FailedEntryCount", 0):
            failed = response.get("Entries", [{}])[0]
            logger.error(
                "EventBridge rejected the event",
                extra={
                    "detail_type": detail_type,
                    "item_id": item.get("id"),
                    "error_code": failed.get("ErrorCode"),
                    "error_message": failed.get("ErrorMessage"),
                },
            )
            count("EventPublishFailed")
            return False
        return True
    except Exception:  # noqa: BLE001 - publishing must never fail the write that already happened
        logger.exception("event publish failed", extra={"detail_type": detail_type, "item_id": item.get("id")})
        count("EventPublishFailed")
        return False
