"""Tenant isolation: the tenant comes from the API key id API Gateway authenticated, nothing else."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/items", None),
        ("POST", "/items", {"name": "x"}),
        ("GET", "/items/abc", None),
        ("PUT", "/items/abc", {"name": "x", "version": 1}),
        ("DELETE", "/items/abc", None),
        ("GET", "/metrics", None),
    ],
)
@pytest.mark.parametrize("key", ["unknown-key-id", None, ""])
def test_unknown_or_missing_key_is_403_everywhere(api, aws, method, path, body, key):
    reply = api.call(method, path, body=body, key=key)
    assert reply.status == 403
    assert reply.body["error"] == "forbidden"
    assert reply.body["correlation_id"] == reply.event["requestContext"]["requestId"]
    assert aws.raw_items("tenant-a") == [] and aws.raw_items("tenant-b") == []


def test_health_needs_no_key(api):
    assert api.get("/health", key=None).status == 200


def test_tenant_is_never_taken_from_headers_query_or_body(api, aws):
    reply = api.post(
        "/items",
        {"name": "mine", "tenant_id": "tenant-b"},
        headers={"X-Tenant-Id": "tenant-b", "tenant_id": "tenant-b"},
        query={"tenant_id": "tenant-b"},
    )
    assert reply.status == 400  # tenant_id is not an item field at all
    assert reply.body["message"] == "invalid body: body must not contain {'tenant_id'} properties"

    ok = api.post("/items", {"name": "mine"}, headers={"X-Tenant-Id": "tenant-b"}, query={"tenant": "tenant-b"})
    assert ok.status == 201
    assert [i["item_id"]["S"] for i in aws.raw_items("tenant-a")] == [ok.body["id"]]
    assert aws.raw_items("tenant-b") == []


def test_other_tenant_cannot_read_change_or_delete(api, aws):
    item = api.post("/items", {"id": "private", "name": "a's secret"}).body

    assert api.get("/items/private", key="key-b").status == 404
    assert api.put("/items/private", {"name": "hijack", "version": 1}, key="key-b").status == 404
    assert api.delete("/items/private", key="key-b").status == 404
    assert api.get("/items", key="key-b").body["items"] == []
    assert api.get("/metrics", key="key-b").body["item_count"] == 0

    assert api.get("/items/private").body == item
    assert len(aws.raw_items("tenant-a")) == 1
    assert aws.raw_items("tenant-b") == []


def test_same_client_id_in_two_tenants_does_not_clash(api, aws):
    a = api.post("/items", {"id": "shared", "name": "a"})
    b = api.post("/items", {"id": "shared", "name": "b"}, key="key-b")
    assert (a.status, b.status) == (201, 201)
    assert api.get("/items/shared").body["name"] == "a"
    assert api.get("/items/shared", key="key-b").body["name"] == "b"


def test_key_ids_differ_per_region_but_tenant_is_the_same(api):
    # "key-a-eu" is tenant-a's key id in the other region (TENANT_KEYS maps both).
    made = api.post("/items", {"name": "from region 1"}).body
    assert api.get(f"/items/{made['id']}", key="key-a-eu").body == made
    assert api.get("/metrics", key="key-a-eu").body["tenant_id"] == "tenant-a"


def test_invalid_tenant_map_is_a_500_not_an_open_door(api, set_env):
    set_env("TENANT_KEYS", json.dumps(["not", "a", "map"]))
    reply = api.get("/items")
    assert reply.status == 500
    assert reply.body == {"message": "internal error", "correlation_id": reply.event["requestContext"]["requestId"]}


def test_empty_tenant_map_denies_everyone(api, set_env):
    set_env("TENANT_KEYS", None)
    assert api.get("/items").status == 403
