"""The orders service: routes of openapi.yaml (tapinfra routes GET /health here too).

Orders live in the tenant's partition of tapinfra's global table (``tapinfra.runtime``
names its keys and the variables tapinfra sets). Standard library and boto3 only, so this
example needs no layer of its own.
"""

from __future__ import annotations

import json
import os
import time
import uuid

import boto3

from tapinfra.runtime import HEALTH_PATH, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE, Env

_table = None


def _answer(status: int, body: object) -> dict:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def _tenant(event: dict) -> str | None:
    key_id = (event.get("requestContext") or {}).get("identity", {}).get("apiKeyId")
    return json.loads(os.environ.get(Env.TENANT_KEYS, "{}")).get(key_id)


def _items():
    global _table
    if _table is None:
        _table = boto3.resource("dynamodb").Table(os.environ[Env.TABLE_NAME])
    return _table


def handler(event: dict, context: object) -> dict:
    resource, method = event.get("resource"), event.get("httpMethod")
    if (resource, method) == (HEALTH_PATH, "GET"):
        return _answer(200, {"status": "ok"})
    if (resource, method) == ("/", "GET"):
        return _answer(200, {"service": "orders", "routes": ["/orders", "/orders/{orderId}", "/orders/{orderId}/lines"]})
    tenant = _tenant(event)
    if tenant is None:
        return _answer(403, {"error": "forbidden", "message": "unknown API key"})
    if (resource, method) == ("/orders", "POST"):
        try:
            order = json.loads(event.get("body") or "")
        except ValueError:
            return _answer(400, {"error": "bad_request", "message": "body: expected JSON"})
        if not isinstance(order, dict) or not isinstance(order.get("lines"), list):
            return _answer(400, {"error": "bad_request", "message": "body.lines: expected a list of lines"})
        order_id = uuid.uuid4().hex
        retention = int(os.environ.get(Env.RETENTION_DAYS, "30"))
        _items().put_item(Item={PARTITION_KEY: tenant, SORT_KEY: order_id, "lines": order["lines"],
                                TTL_ATTRIBUTE: int(time.time()) + retention * 86400})
        return _answer(201, {"id": order_id})
    order_id = (event.get("pathParameters") or {}).get("orderId")
    if method == "GET" and order_id:
        found = _items().get_item(Key={PARTITION_KEY: tenant, SORT_KEY: order_id}).get("Item")
        if found is None:
            return _answer(404, {"error": "not_found", "message": f"no order {order_id}"})
        lines = found.get("lines", [])
        return _answer(200, {"id": order_id, "lines": lines} if resource == "/orders/{orderId}" else {"lines": lines})
    return _answer(404, {"error": "not_found", "message": f"no route {method} {resource}"})
