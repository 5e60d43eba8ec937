"""Lambda entry point (``app.handler``): the multi-tenant item REST API.

Routes (API Gateway REST proxy integration):

    GET    /health            deep health (no API key, no tenant)
    GET    /items             list the caller's items (limit, next_token)
    POST   /items             create an item (Idempotency-Key: a retry makes no second item)
    GET    /items/{id}        read one item
    PUT    /items/{id}        replace name/attributes (optimistic concurrency, If-Match)
    DELETE /items/{id}        delete an item (If-Match)
    GET    /metrics           the caller's live item count and serving region

Items carry a strong ETag derived from their version (conditional.py); GET honours
If-None-Match (304), PUT and DELETE If-Match (412). With CORS configured every answer
carries ``Vary: Origin``: whether and which ``Access-Control-Allow-Origin`` it has depends on
the caller's Origin, so no cache may hand one caller's answer to another origin.

Writes go to the writer's copy of the table (writer.py, the write model); reads stay local.
The same entry point also receives this region's table stream in any-region mode, to count the
writes last-writer-wins discarded (conflicts.py).

Importing this module builds the resolver and the Powertools utilities only;
AWS clients are created on first use (see clients.py).
"""

from __future__ import annotations

import re

from aws_lambda_powertools.event_handler import (
    APIGatewayRestResolver,
    CORSConfig,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths

import conditional
import config
import conflicts
import contract
import events
import health
import idempotency
import items
import pagination
import schemas
import tenancy
from encoding import NumberOutOfRange, dumps, field_path, loads
from errors import (
    BadRequestError,
    ConflictError,
    IdempotencyKeyReusedError,
    MethodNotAllowedError,
    PayloadTooLargeError,
    PreconditionFailedError,
    ServiceError,
)
from observability import count, logger, metrics, tracer

_ERROR_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    422: "idempotency_key_reused",
}


def _cors() -> CORSConfig | None:
    origins = config.cors_origins()
    if not origins:
        return None
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=origins[1:] or None,
        allow_headers=["If-Match", "If-None-Match", idempotency.HEADER],
        expose_headers=["Location", "ETag", idempotency.REPLAYED_HEADER],
        max_age=600,
    )


_CORS = _cors()
app = APIGatewayRestResolver(cors=_CORS, serializer=dumps)


def _known_paths() -> list[tuple[re.Pattern, tuple[str, ...]]]:
    """What exists, from the contract, for telling 405 (known path, other method) from 404."""
    methods: dict[str, list[str]] = {}
    for route in contract.ROUTES:
        methods.setdefault(route.path, []).append(route.method)
    return [(re.compile(re.sub(r"\\\{[^/]+\\\}", "[^/]+", re.escape(path)) + "/*"), tuple(found))
            for path, found in methods.items()]


_KNOWN_PATHS = _known_paths()


# --------------------------------------------------------------------------- helpers


def _correlation_id() -> str | None:
    return logger.get_correlation_id()


def _json(status: int, body: dict, headers: dict | None = None) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


def _error(status: int, message, headers: dict | None = None, **details) -> Response:
    body = {"error": _ERROR_CODES.get(status, "error"), "message": message, **details}
    body["correlation_id"] = _correlation_id()
    return _json(status, body, headers)


def _tenant() -> str:
    tenant_id = tenancy.tenant_for(app.current_event)
    logger.append_keys(tenant_id=tenant_id)
    tracer.put_annotation(key="tenant_id", value=tenant_id)
    return tenant_id


def _json_body(schema: dict) -> dict:
    """The request body as a validated JSON object (413 if too large, 400 if not valid)."""
    event = app.current_event
    if not event.body:
        raise BadRequestError("a JSON object body is required")
    try:
        text = event.decoded_body  # Powertools base64-decodes when isBase64Encoded
    except ValueError:  # binascii.Error, UnicodeDecodeError
        raise BadRequestError("body is not valid base64-encoded UTF-8") from None
    limit = config.get_settings().max_body_bytes
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise PayloadTooLargeError(size, limit)
    try:
        body = loads(text)
    except NumberOutOfRange as exc:
        raise BadRequestError(f"invalid body: {field_path(exc.path)} is a number too large or too small to read") from None
    except (ValueError, RecursionError) as exc:
        raise BadRequestError(f"malformed JSON: {exc}") from None
    return schemas.validate_body(body, schema)


def _header_values(name: str) -> list[str] | None:
    """Every occurrence of a request header (API Gateway keeps them apart); None when absent."""
    event = app.current_event.raw_event
    wanted = name.lower()
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if key.lower() == wanted and values:
            return list(values)
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == wanted:
            return [value]
    return None


def _header(name: str) -> str | None:
    """A request header, every occurrence joined as HTTP lists are."""
    values = _header_values(name)
    return ", ".join(values) if values is not None else None


def _if_match() -> conditional.Condition | None:
    condition = conditional.if_match(_header("If-Match"))
    if condition is not None and len(condition.versions) > conditional.MAX_TAGS:
        raise BadRequestError(f"If-Match names more than {conditional.MAX_TAGS} entity tags")
    return condition


def _item_response(status: int, item: dict, headers: dict | None = None) -> Response:
    return _json(status, item, {"ETag": conditional.etag(int(item["version"])), **(headers or {})})


def _item_location(item_id: str) -> str:
    """The created item's path as the caller can follow it.

    API Gateway's ``requestContext.path`` is the path the client sent: ``/<stage>/items`` on the
    stage's invoke URL (execute-api host), ``/items`` through a custom domain mapped at its root,
    ``/<base>/items`` under a base path. Without it (a test invoke), the host decides: the
    execute-api host puts the stage first, a custom domain does not.
    """
    context = app.current_event.raw_event.get("requestContext") or {}
    sent = (context.get("path") or "").rstrip("/")
    collection = "/items"
    if not sent.endswith(collection):
        stage = context.get("stage") or ""
        on_invoke_url = ".execute-api." in (context.get("domainName") or "")
        sent = f"/{stage}{collection}" if stage and on_invoke_url else collection
    return f"{sent}/{item_id}"


def _item_fields(body: dict) -> tuple[str, dict]:
    name = body["name"]
    attributes = body.get("attributes", {})
    schemas.check_storable(name, "name")
    schemas.check_storable(attributes, "attributes")
    return name, attributes


# --------------------------------------------------------------------------- routes


@app.get("/health")
def get_health():
    result = health.check()
    return _json(result.http_status, result.body(), {"Cache-Control": "no-store"})


@app.get("/items")
def list_items():
    tenant_id = _tenant()
    query = app.current_event.query_string_parameters or {}
    limit = pagination.parse_limit(query.get(contract.QUERY_LIMIT))
    token = query.get(contract.QUERY_NEXT_TOKEN)
    start_after = pagination.decode_token(token, tenant_id) if token is not None else None
    page = items.list_page(tenant_id, limit, start_after)
    next_token = pagination.encode_token(tenant_id, page.last_item_id) if page.last_item_id else None
    return {"items": page.items, "count": len(page.items), "next_token": next_token}


@app.post("/items")
def create_item():
    tenant_id = _tenant()
    key = idempotency.parse_key(_header_values(idempotency.HEADER))
    body = _json_body(schemas.CREATE_ITEM_SCHEMA)
    item_id = body.get("id")
    if item_id is not None:
        schemas.check_item_id(item_id, "id")
    name, attributes = _item_fields(body)

    def create() -> dict:
        item = items.create(tenant_id, item_id, name, attributes)
        count("ItemCreated")
        events.publish(events.CREATED, tenant_id, item)
        return item

    headers = {}
    if key is None:
        item = create()
    else:
        item, replayed = idempotency.create_once(tenant_id, key, body, create, app.lambda_context)
        if replayed:
            headers[idempotency.REPLAYED_HEADER] = "true"
    return _item_response(201, item, {"Location": _item_location(item["id"]), **headers})


@app.get("/items/<item_id>")
def get_item(item_id: str):
    tenant_id = _tenant()
    schemas.check_item_id(item_id)
    item = items.get(tenant_id, item_id)
    tag = conditional.etag(int(item["version"]))
    unchanged = conditional.if_none_match(_header("If-None-Match"))
    if unchanged is not None and unchanged.matches(int(item["version"])):
        return Response(status_code=304, content_type=None, body="", headers={"ETag": tag})
    return _item_response(200, item)


@app.put("/items/<item_id>")
def update_item(item_id: str):
    tenant_id = _tenant()
    schemas.check_item_id(item_id)
    body = _json_body(schemas.UPDATE_ITEM_SCHEMA)
    name, attributes = _item_fields(body)
    item = items.update(tenant_id, item_id, name, attributes, body["version"], _if_match())
    count("ItemUpdated")
    events.publish(events.UPDATED, tenant_id, item)
    return _item_response(200, item)


@app.delete("/items/<item_id>")
def delete_item(item_id: str):
    tenant_id = _tenant()
    schemas.check_item_id(item_id)
    item = items.delete(tenant_id, item_id, _if_match())
    count("ItemDeleted")
    events.publish(events.DELETED, tenant_id, item)
    return Response(status_code=204, content_type=None, body="")


@app.get("/metrics")
def tenant_metrics():
    tenant_id = _tenant()
    return {
        "tenant_id": tenant_id,
        "item_count": items.count(tenant_id),
        "region": config.get_settings().region,
    }


# --------------------------------------------------------------------------- errors


@app.not_found
def route_not_found(_exc: NotFoundError) -> Response:
    event = app.current_event
    method = (event.http_method or "").upper()
    path = event.path or ""
    for pattern, allowed in _KNOWN_PATHS:
        if pattern.fullmatch(path) and method not in allowed:
            error = MethodNotAllowedError(method, path, list(allowed))
            return _error(405, error.msg, {"Allow": ", ".join(allowed)})
    return _error(404, f"no route for {method} {path}")


@app.exception_handler(ServiceError)
def service_error(exc: ServiceError) -> Response:
    details, headers = {}, None
    if isinstance(exc, ConflictError) and exc.current is not None:
        # What the client needs to merge and retry without a read (which a stage cache may answer).
        version = int(exc.current["version"])
        details = {"current_version": version, "current": exc.current}
        headers = {"ETag": conditional.etag(version)}
    if isinstance(exc, IdempotencyKeyReusedError):
        details = {"header": idempotency.HEADER}
    if exc.status_code >= 500:
        logger.error("service error", extra={"status": exc.status_code, "error_message": exc.msg})
    return _error(int(exc.status_code), exc.msg, headers, **details)


@app.exception_handler(Exception)
def unexpected_error(exc: Exception) -> Response:
    logger.exception("unhandled error")
    count("InternalError")
    return _json(500, {"message": "internal error", "correlation_id": _correlation_id()})


# --------------------------------------------------------------------------- entry point


def _last_resort() -> dict:
    """500 for failures outside the resolver's own handling (e.g. a malformed event)."""
    return {
        "statusCode": 500,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": dumps({"message": "internal error", "correlation_id": _correlation_id()}),
        "isBase64Encoded": False,
    }


def _vary_on_origin(response: dict) -> None:
    """Add ``Origin`` to the answer's ``Vary`` (keeping what is there): its CORS headers depend on it."""
    for field in ("multiValueHeaders", "headers"):
        headers = response.get(field)
        if headers is None:
            continue
        name = next((k for k in headers if k.lower() == "vary"), "Vary")
        current = headers.get(name)
        listed = ", ".join(current) if isinstance(current, list) else (current or "")
        if "origin" not in {v.strip().lower() for v in listed.split(",")}:
            value = f"{listed}, Origin" if listed else "Origin"
            headers[name] = [value] if field == "multiValueHeaders" else value
        return
    response["headers"] = {"Vary": "Origin"}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    if not _correlation_id():
        logger.set_correlation_id(getattr(context, "aws_request_id", None))
    if conflicts.is_stream_event(event):
        return conflicts.handle(event)
    try:
        response = app.resolve(event, context)
    except Exception:  # noqa: BLE001 - the resolver already handled everything it could
        logger.exception("unhandled error outside the resolver")
        count("InternalError")
        response = _last_resort()
    if _CORS is not None:
        _vary_on_origin(response)
    logger.info(
        "request",
        extra={
            "http_method": event.get("httpMethod"),
            "path": event.get("path"),
            "status_code": response.get("statusCode"),
        },
    )
    return response
