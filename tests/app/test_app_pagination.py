"""GET /items: limit bounds and opaque, tenant-bound pagination tokens."""

from __future__ import annotations

import base64
import json

import pytest


def fill(api, n, key="key-a", prefix="item"):
    ids = []
    for i in range(n):
        reply = api.post("/items", {"id": f"{prefix}-{i:03d}", "name": f"n{i}"}, key=key)
        assert reply.status == 201
        ids.append(reply.body["id"])
    return ids


def walk(api, limit, key="key-a"):
    pages, token = [], None
    while True:
        query = {"limit": str(limit)}
        if token:
            query["next_token"] = token
        reply = api.get("/items", query=query, key=key)
        assert reply.status == 200, reply.raw_body
        pages.append([i["id"] for i in reply.body["items"]])
        assert reply.body["count"] == len(reply.body["items"])
        token = reply.body["next_token"]
        if token is None:
            return pages
        assert len(pages) < 100, "pagination does not terminate"


def test_default_limit_is_20(api):
    fill(api, 25)
    reply = api.get("/items")
    assert len(reply.body["items"]) == 20
    assert reply.body["next_token"]


def test_pages_cover_everything_once_in_order(api):
    ids = fill(api, 23)
    pages = walk(api, limit=5)
    assert [len(p) for p in pages[:4]] == [5, 5, 5, 5]
    flat = [i for page in pages for i in page]
    assert flat == sorted(ids)  # every item exactly once, in id order


def test_exact_multiple_of_limit_ends_cleanly(api):
    ids = fill(api, 10)
    pages = walk(api, limit=5)
    assert [i for p in pages for i in p] == ids
    assert all(len(p) in (0, 5) for p in pages)


def test_pagination_is_per_tenant(api):
    fill(api, 7, key="key-a", prefix="a")
    fill(api, 4, key="key-b", prefix="b")
    assert [i for p in walk(api, 3, "key-a") for i in p] == [f"a-{i:03d}" for i in range(7)]
    assert [i for p in walk(api, 3, "key-b") for i in p] == [f"b-{i:03d}" for i in range(4)]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", "1e2", " ", "99999999999", "٣"])
def test_limit_out_of_bounds_or_not_integer_is_400(api, limit):
    reply = api.get("/items", query={"limit": limit})
    assert reply.status == 400
    assert reply.body["message"] == "limit must be an integer from 1 to 100"


@pytest.mark.parametrize("limit", ["1", "100"])
def test_limit_bounds_are_inclusive(api, limit):
    fill(api, 2)
    reply = api.get("/items", query={"limit": limit})
    assert reply.status == 200
    assert len(reply.body["items"]) == min(2, int(limit))


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "not-base64!!",
        "%%%",
        _b64("just a string"),
        _b64({"t": "tenant-a"}),
        _b64({"t": "tenant-a", "k": "ok", "extra": 1}),
        _b64({"t": "tenant-a", "k": 5}),
        _b64({"t": "tenant-a", "k": "../../etc"}),
        base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),
        "A" * 600,
        "",
    ],
)
def test_tampered_token_is_400(api, token):
    fill(api, 3)
    reply = api.get("/items", query={"next_token": token})
    assert reply.status == 400
    assert reply.body["message"] == "invalid pagination token"


def test_token_of_another_tenant_is_400_and_leaks_nothing(api):
    fill(api, 5, key="key-b", prefix="b")
    token_b = api.get("/items", query={"limit": "2"}, key="key-b").body["next_token"]
    assert token_b

    reply = api.get("/items", query={"next_token": token_b})

    assert reply.status == 400
    assert set(reply.body) == {"error", "message", "correlation_id"}
    assert "b-00" not in reply.raw_body


def test_forged_token_for_own_tenant_only_moves_within_own_partition(api):
    fill(api, 4, key="key-a", prefix="a")
    fill(api, 4, key="key-b", prefix="b")
    token = _b64({"t": "tenant-a", "k": "a-001"})
    reply = api.get("/items", query={"next_token": token})
    assert reply.status == 200
    assert [i["id"] for i in reply.body["items"]] == ["a-002", "a-003"]


def test_token_is_opaque(api):
    fill(api, 3)
    token = api.get("/items", query={"limit": "1"}).body["next_token"]
    assert "tenant" not in token and "item" not in token
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
