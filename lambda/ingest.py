"""Lambda entry point ``ingest.handler``: objects uploaded to the ingest bucket become items.

S3 invokes it (asynchronously) for each object created in the region's ingest bucket. An object
is UTF-8 JSON lines: one CreateItem per line (the body of ``POST /items``, validated the same
way), blank lines ignored. Its key names the tenant: ``<tenant>/<anything>``, and the tenant
must be one of INGEST_TENANTS. Nothing inside an object can name a tenant (CreateItem has no
such field and refuses unknown ones), so a prefix never writes under another tenant's id.

An object is taken whole or not at all: every line is checked before the first write. What can
never succeed (no or unknown tenant, too large, too many lines, not UTF-8, a malformed line)
goes to the dead-letter queue with the reason, and the invocation succeeds, since a retry would
fail the same way. A message's detail holds fixed text and positions only (rejections.py): the
queue outlives the items, and a key name the uploader chose is content too. Anything else
(throttling past the SDK's retries, a bug) raises: Lambda retries the event, then its
dead-letter config puts it on the same queue.

Idempotent: items are created only if absent (the API's create), so S3's at-least-once delivery
and Lambda's retries never duplicate or overwrite; an id that exists already counts as a
duplicate and stays as it is. The create runs where the API's does (writer.py, the same
WRITE_MODE, WRITE_REGIONS and drain switches): in single-writer mode on the writer's copy, so an
ingested line and a ``POST /items`` of one id meet on one copy and one of them makes the item,
whichever regions they enter. An unreachable writer raises (Lambda retries, then dead-letters
the event); it never falls back to this region's copy. A line without an ``id`` gets one derived from the object's key,
version and line number, so processing one object version twice writes nothing new.
Ingested items publish no events (a bulk load would flood the bus); the table's stream has them.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

import clients
import items
import rejections
import schemas
from config import ConfigurationError, get_settings
from contract import IngestEnv
from encoding import NumberOutOfRange, dumps, loads
from errors import BadRequestError, ConflictError
from observability import count, logger, metrics, tracer

TEST_EVENT = "s3:TestEvent"  # what S3 sends once when the notification is configured


@dataclass(frozen=True)
class IngestSettings:
    tenants: frozenset[str]
    max_object_bytes: int
    max_items_per_object: int
    dead_letter_queue_url: str


def _required_int(name: str) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigurationError(f"{name} must be a positive integer, got {raw!r}")
    return int(raw)


@lru_cache(maxsize=1)
def ingest_settings() -> IngestSettings:
    tenants = frozenset(t.strip() for t in os.environ.get(IngestEnv.INGEST_TENANTS, "").split(",") if t.strip())
    queue_url = os.environ.get(IngestEnv.DEAD_LETTER_QUEUE_URL, "").strip()
    if not tenants:
        raise ConfigurationError(f"{IngestEnv.INGEST_TENANTS} must name at least one tenant")
    if not queue_url:
        raise ConfigurationError(f"{IngestEnv.DEAD_LETTER_QUEUE_URL} must be set")
    return IngestSettings(
        tenants=tenants,
        max_object_bytes=_required_int(IngestEnv.MAX_OBJECT_BYTES),
        max_items_per_object=_required_int(IngestEnv.MAX_ITEMS_PER_OBJECT),
        dead_letter_queue_url=queue_url,
    )


def reset() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    ingest_settings.cache_clear()


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str
    version_id: Optional[str]
    size: Optional[int]


@dataclass(frozen=True)
class Line:
    number: int
    item_id: str
    name: str
    attributes: dict


class Rejected(Exception):
    """The object can never be ingested: it goes to the dead-letter queue, not back for a retry."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def tenant_of(key: str, tenants: frozenset[str]) -> str:
    """The tenant a key belongs to: its first path segment, which must be a configured tenant."""
    tenant, slash, _ = key.partition("/")
    if not slash or not tenant:
        raise Rejected("no_tenant_prefix", "the key must start with <tenant>/")
    if tenant not in tenants:
        raise Rejected("unknown_tenant", f"the key's first segment is not one of {IngestEnv.INGEST_TENANTS}")
    return tenant


_CONTENT_RANGE_TOTAL = re.compile(r"/(\d+)$")


def read_object(obj: ObjectRef, limit: int) -> bytes:
    """The object's bytes; Rejected when it has more than ``limit`` (read at most ``limit`` + 1)."""
    if obj.size is not None and obj.size > limit:
        raise Rejected("too_large", f"the object is {obj.size} bytes; the limit is {limit}")
    if obj.size == 0:
        return b""
    request = {"Bucket": obj.bucket, "Key": obj.key, "Range": f"bytes=0-{limit}"}
    if obj.version_id:
        request["VersionId"] = obj.version_id
    try:
        response = clients.s3().get_object(**request)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "InvalidRange":  # an empty object has no byte 0
            return b""
        raise
    body = response["Body"]
    total = _CONTENT_RANGE_TOTAL.search(response.get("ContentRange") or "")
    if total and int(total.group(1)) > limit:
        body.close()
        raise Rejected("too_large", f"the object is {total.group(1)} bytes; the limit is {limit}")
    data = body.read(limit + 1)
    body.close()
    if len(data) > limit:
        raise Rejected("too_large", f"the object is more than {limit} bytes")
    return data


def derived_id(obj: ObjectRef, number: int) -> str:
    """A stable id for a line without one: the same object version always yields the same ids."""
    origin = f"{obj.bucket}/{obj.key}#{obj.version_id or ''}:{number}"
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()[:32]


def parse_lines(data: bytes, obj: ObjectRef, max_items: int, max_line_bytes: int) -> list[Line]:
    """Every line validated as a CreateItem (the API's checks), or Rejected naming the first bad line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Rejected("not_utf8", f"the object is not UTF-8 text (byte {exc.start})") from None
    # "\n" only: JSON strings may hold U+2028 and friends, which str.splitlines() would split on.
    numbered = [(n, raw.rstrip("\r")) for n, raw in enumerate(text.split("\n"), start=1) if raw.strip()]
    if len(numbered) > max_items:
        raise Rejected("too_many_items", f"the object holds {len(numbered)} items; the limit is {max_items}")
    lines = []
    for number, raw in numbered:
        size = len(raw.encode("utf-8"))
        if size > max_line_bytes:
            raise Rejected("invalid_item", f"line {number} is {size} bytes; the limit is {max_line_bytes}")
        schema = schemas.CREATE_ITEM_SCHEMA
        try:
            body = loads(raw)
        except NumberOutOfRange as exc:
            raise Rejected("invalid_item", f"line {number}: {rejections.out_of_range(exc, schema)}") from None
        except (ValueError, RecursionError) as exc:
            raise Rejected("malformed_json", f"line {number}: {rejections.unparsable(exc)}") from None
        try:
            schemas.validate_body(body, schema)
            item_id = body.get("id")
            if item_id is not None:
                schemas.check_item_id(item_id, "id")
            schemas.check_storable(body["name"], "name")
            attributes = body.get("attributes", {})
            schemas.check_storable(attributes, "attributes")
        except BadRequestError:
            # The API's message names the client's fields; the queue gets positions only.
            raise Rejected("invalid_item", f"line {number}: {rejections.describe(body, schema)}") from None
        lines.append(Line(number, item_id or derived_id(obj, number), body["name"], attributes))
    return lines


def dead_letter(obj: ObjectRef, tenant: Optional[str], rejected: Rejected, request_id: Optional[str]) -> None:
    """Tell operators which object failed and why (no item content: the queue outlives GDPR deletes)."""
    message = {
        "bucket": obj.bucket,
        "key": obj.key,
        "version_id": obj.version_id,
        "tenant_id": tenant,
        "reason": rejected.reason,
        "detail": rejected.detail,
        "request_id": request_id,
    }
    clients.sqs().send_message(QueueUrl=ingest_settings().dead_letter_queue_url, MessageBody=dumps(message))


def process(record: dict, request_id: Optional[str] = None) -> dict:
    """Ingest one object-created record; returns what happened to it."""
    s3 = record["s3"]
    size = s3["object"].get("size")
    obj = ObjectRef(
        bucket=s3["bucket"]["name"],
        key=unquote_plus(s3["object"]["key"]),  # event keys are URL-encoded
        version_id=s3["object"].get("versionId"),
        size=int(size) if size is not None else None,
    )
    if obj.key.endswith("/") and not obj.size:
        return {"key": obj.key, "outcome": "ignored", "reason": "folder marker"}
    settings = ingest_settings()
    tenant = None
    try:
        tenant = tenant_of(obj.key, settings.tenants)
        data = read_object(obj, settings.max_object_bytes)
        lines = parse_lines(data, obj, settings.max_items_per_object, get_settings().max_body_bytes)
    except Rejected as rejected:
        dead_letter(obj, tenant, rejected, request_id)
        count("ObjectsRejected")
        logger.warning("object rejected", extra={"key": obj.key, "reason": rejected.reason, "detail": rejected.detail})
        return {"key": obj.key, "outcome": "rejected", "reason": rejected.reason, "detail": rejected.detail}
    created = duplicates = 0
    for line in lines:
        try:
            items.create(tenant, line.item_id, line.name, line.attributes)
            created += 1
        except ConflictError:
            duplicates += 1  # already there (a retry, a redelivery, or a repeated id): first write wins
    count("ItemsIngested", created)
    count("ItemsDuplicate", duplicates)
    logger.info("object ingested", extra={"key": obj.key, "tenant_id": tenant, "created": created, "duplicates": duplicates})
    return {"key": obj.key, "outcome": "ingested", "tenant_id": tenant, "created": created, "duplicates": duplicates}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context) -> dict:
    if event.get("Event") == TEST_EVENT:
        return {"objects": []}
    request_id = getattr(context, "aws_request_id", None)
    return {"objects": [process(record, request_id) for record in event.get("Records", [])]}
