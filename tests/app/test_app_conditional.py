"""Conditional requests (issue 20): ETag from the version, If-Match on PUT/DELETE, If-None-Match on
GET, refusals that carry the current item, and ``Vary: Origin`` on every answer.

The rules, as docs/api.md states them, judged in this order on the item as it is now:
missing -> 404; an If-Match that does not name its ETag (strong comparison) -> 412; a PUT body
``version`` that is not its version -> 409; otherwise the write. GET with an If-None-Match that
names its ETag (weak comparison) or ``*`` -> 304, no body.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app_testkit import ORIGIN, OTHER_ORIGIN, Api, fresh_aws


def etag(version: int) -> str:
    return f'"v{version}"'


def create(api, item_id="c1", name="widget", **kw):
    reply = api.post("/items", {"id": item_id, "name": name, **kw})
    assert reply.status == 201, reply.raw_body
    return reply


# ---------------------------------------------------------------------------- ETag


def test_every_item_answer_carries_the_etag_of_its_version(api):
    created = create(api)
    assert created.header("ETag") == etag(1)
    read = api.get("/items/c1")
    assert read.header("ETag") == etag(1) and read.body["version"] == 1
    updated = api.put("/items/c1", {"name": "w2", "version": 1})
    assert updated.status == 200 and updated.header("ETag") == etag(2) and updated.body["version"] == 2
    assert api.get("/items/c1").header("ETag") == etag(2)


# ---------------------------------------------------------------------------- If-None-Match


@pytest.mark.parametrize(("header", "status"), [
    ('"v1"', 304),
    ('W/"v1"', 304),  # weak comparison
    ("*", 304),
    ('"v7", "v1"', 304),
    ('"v2"', 200),
    ('"1"', 200),
    ("v1", 200),  # not an entity tag
    ('"v01"', 200),
    ("", 200),
])
def test_get_with_if_none_match(api, header, status):
    create(api)
    reply = api.get("/items/c1", headers={"If-None-Match": header})
    assert reply.status == status
    assert reply.header("ETag") == etag(1)
    if status == 304:
        assert reply.raw_body == "" and reply.header("Content-Type") is None
    else:
        assert reply.body["id"] == "c1"


def test_if_none_match_on_a_missing_item_is_404(api):
    assert api.get("/items/none", headers={"If-None-Match": "*"}).status == 404


# ---------------------------------------------------------------------------- If-Match on PUT


@pytest.mark.parametrize(("if_match", "version", "status"), [
    ('"v2"', 2, 200),
    ("*", 2, 200),
    ('"v1", "v2"', 2, 200),
    ('"v1"', 2, 412),  # stale tag, current body version
    ('"v1"', 1, 412),  # stale tag, stale version: the precondition comes first
    ('W/"v2"', 2, 412),  # If-Match compares strongly
    ("garbage", 2, 412),
    ('"v2"', 1, 409),  # the tag holds, the body's version is stale
    (None, 1, 409),
])
def test_put_with_if_match(api, aws, if_match, version, status):
    create(api)
    assert api.put("/items/c1", {"name": "second", "version": 1}).status == 200
    headers = {"If-Match": if_match} if if_match is not None else None
    reply = api.put("/items/c1", {"name": "third", "version": version}, headers=headers)

    assert reply.status == status, reply.raw_body
    if status == 200:
        assert reply.body["version"] == 3 and reply.header("ETag") == etag(3)
        return
    assert reply.body["error"] == {409: "conflict", 412: "precondition_failed"}[status]
    assert reply.body["current_version"] == 2 and reply.header("ETag") == etag(2)
    assert reply.body["current"] == api.get("/items/c1").body  # the item as it is: no re-read needed
    (stored,) = aws.raw_items("tenant-a")
    assert stored["name"] == {"S": "second"} and stored["version"] == {"N": "2"}


def test_put_with_if_match_on_a_missing_item_is_404(api):
    assert api.put("/items/none", {"name": "x", "version": 1}, headers={"If-Match": '"v1"'}).status == 404


# ---------------------------------------------------------------------------- If-Match on DELETE


@pytest.mark.parametrize(("if_match", "status"), [
    ('"v2"', 204),
    ("*", 204),
    ('"v9", "v2"', 204),
    ('"v1"', 412),
    ('W/"v2"', 412),
    ('"x"', 412),
    (", ".join(f'"v{n}"' for n in range(3, 104)), 400),  # 101 tags: past DynamoDB's IN operands
])
def test_delete_with_if_match(api, aws, if_match, status):
    create(api)
    api.put("/items/c1", {"name": "second", "version": 1})
    reply = api.delete("/items/c1", headers={"If-Match": if_match})

    assert reply.status == status, reply.raw_body
    assert len(aws.raw_items("tenant-a")) == (0 if status == 204 else 1)
    if status == 412:
        assert reply.body["current"]["version"] == 2 and reply.header("ETag") == etag(2)


def test_delete_with_if_match_on_a_missing_item_is_404(api):
    assert api.delete("/items/none", headers={"If-Match": '"v1"'}).status == 404
    assert api.delete("/items/none", headers={"If-Match": '"nope"'}).status == 404


# ---------------------------------------------------------------------------- the recipe


def test_the_documented_recipe_merges_from_the_409_without_a_read(api, aws, lam, monkeypatch):
    """Two writers at version 1: the loser merges from the 409's ``current`` and retries with its ETag.

    No GetItem is made (the recipe never reads, so no stage cache can hand it an old copy).
    """
    create(api, attributes={"colour": "blue"})
    first = api.put("/items/c1", {"name": "widget", "attributes": {"colour": "red"}, "version": 1},
                    headers={"If-Match": etag(1)})
    assert first.status == 200

    reads = []
    real = lam.clients.dynamodb()
    monkeypatch.setattr(real, "get_item", lambda **kw: reads.append(kw) or pytest.fail("the recipe read the item"))
    lost = api.put("/items/c1", {"name": "widget", "attributes": {"colour": "blue", "size": 3}, "version": 1},
                   headers={"If-Match": etag(1)})
    assert lost.status == 412
    current = lost.body["current"]
    merged = {**current["attributes"], "size": 3}
    retry = api.put("/items/c1", {"name": current["name"], "attributes": merged, "version": current["version"]},
                    headers={"If-Match": lost.header("ETag")})
    assert retry.status == 200 and reads == []
    assert retry.body["attributes"] == {"colour": "red", "size": 3} and retry.body["version"] == 3


def test_a_create_clash_carries_the_existing_item(api):
    create(api, name="first")
    clash = api.post("/items", {"id": "c1", "name": "second"})
    assert clash.status == 409 and clash.body["current"]["name"] == "first"
    assert clash.body["current_version"] == 1 and clash.header("ETag") == etag(1)


# ---------------------------------------------------------------------------- the rules, generated

tags = st.sampled_from(["current", "current-weak", "stale", "any", "garbage", "both"])


def header_for(kind: str, version: int) -> str:
    return {
        "current": etag(version), "current-weak": f"W/{etag(version)}", "stale": etag(version + 5),
        "any": "*", "garbage": "v" + str(version), "both": f"{etag(version + 5)}, {etag(version)}",
    }[kind]


step = st.fixed_dictionaries({
    "op": st.sampled_from(["get", "put", "delete", "create"]),
    "tag": st.one_of(st.none(), tags),
    "stale_body": st.booleans(),
})


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_conditional_requests_follow_the_documented_order(lam, steps):
    """Random conditional requests against a model of one item (absent, or at a version)."""
    with fresh_aws(lam):
        api = Api(lam)
        version = None  # the model: None when the item does not exist
        for s in steps:
            known = version or 1
            header = header_for(s["tag"], known) if s["tag"] else None
            matches_strong = s["tag"] in {"current", "any", "both"}
            matches_weak = matches_strong or s["tag"] == "current-weak"
            if s["op"] == "create":
                reply = api.post("/items", {"id": "m1", "name": "n"})
                expected = 409 if version else 201
                version = version or 1
            elif s["op"] == "get":
                reply = api.get("/items/m1", headers={"If-None-Match": header} if header else None)
                expected = 404 if version is None else (304 if header and matches_weak else 200)
            elif s["op"] == "put":
                body_version = known + 1 if s["stale_body"] else known
                reply = api.put("/items/m1", {"name": "n", "version": body_version},
                                headers={"If-Match": header} if header else None)
                if version is None:
                    expected = 404
                elif header and not matches_strong:
                    expected = 412
                elif body_version != version:
                    expected = 409
                else:
                    expected, version = 200, version + 1
            else:
                reply = api.delete("/items/m1", headers={"If-Match": header} if header else None)
                if version is None:
                    expected = 404
                elif header and not matches_strong:
                    expected = 412
                else:
                    expected, version = 204, None
            assert reply.status == expected, (s, reply.raw_body)
            if expected in (200, 201, 304, 409, 412) and version is not None:
                assert reply.header("ETag") == etag(version)


# ---------------------------------------------------------------------------- Vary


def _answers(api, lam, monkeypatch):
    """One request per kind of answer the function gives, each as (label, reply)."""
    create(api)
    yield "201", api.post("/items", {"name": "x"})
    yield "200 get", api.get("/items/c1")
    yield "304", api.get("/items/c1", headers={"If-None-Match": etag(1)})
    yield "200 list", api.get("/items")
    yield "200 metrics", api.get("/metrics")
    yield "200 health", api.get("/health", key=None)
    yield "400", api.post("/items", "{not json")
    yield "403", api.get("/items", key="unknown-key")
    yield "404 item", api.get("/items/none")
    yield "404 route", api.get("/nowhere")
    yield "405", api.call("PATCH", "/items/c1")
    yield "409", api.post("/items", {"id": "c1", "name": "again"})
    yield "412", api.delete("/items/c1", headers={"If-Match": etag(9)})
    yield "413", api.post("/items", {"name": "x", "attributes": {"pad": "y" * 20000}})
    yield "204 preflight", api.call("OPTIONS", "/items")
    yield "204 delete", api.delete("/items/c1")
    monkeypatch.setattr(lam.clients.dynamodb(), "get_item", lambda **kw: 1 / 0)
    yield "500", api.get("/items/c1")


@pytest.mark.parametrize("origin", [ORIGIN, OTHER_ORIGIN, "https://evil.example", None])
def test_every_answer_varies_on_origin(api, lam, monkeypatch, origin):
    """Every answer's CORS headers depend on Origin (present, echoed, or absent), so each says so."""
    seen = []
    headers = {"Origin": origin} if origin else {}
    real_call = api.call

    def call(method, path, **kw):
        kw["headers"] = {**headers, **(kw.get("headers") or {})}
        return real_call(method, path, **kw)

    monkeypatch.setattr(api, "call", call)
    for label, reply in _answers(api, lam, monkeypatch):
        seen.append(label)
        assert str(reply.status) == label.split()[0], (label, reply.raw_body)
        vary = {v.strip().lower() for v in (reply.header("Vary") or "").split(",")}
        assert "origin" in vary, (label, reply.status, reply.headers)
        allowed = reply.header("Access-Control-Allow-Origin")
        assert allowed == (origin if origin in (ORIGIN, OTHER_ORIGIN) else None), (label, allowed)
    assert len(seen) == 17


def test_vary_keeps_what_an_answer_already_varies_on(lam):
    import app  # noqa: PLC0415

    response = {"statusCode": 200, "multiValueHeaders": {"vary": ["Accept-Encoding"]}}
    app._vary_on_origin(response)
    assert response["multiValueHeaders"] == {"vary": ["Accept-Encoding, Origin"]}
    app._vary_on_origin(response)
    assert response["multiValueHeaders"] == {"vary": ["Accept-Encoding, Origin"]}
    bare = {"statusCode": 500, "body": json.dumps({"message": "internal error"})}
    app._vary_on_origin(bare)
    assert bare["headers"] == {"Vary": "Origin"}


header_texts = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(['"v1"', 'W/"v1"', '"v2"', "*", '"v0"', '"v99999999999999999"', '"', "W/", ",", " ", "v1"]),
             max_size=6).map("".join),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=header_texts, method=st.sampled_from(["GET", "PUT", "DELETE"]))
def test_any_conditional_header_gets_a_defined_answer(api, header, method):
    """Whatever the header holds: the answers the rules allow, never a 5xx, and nothing changes on a refusal."""
    api.post("/items", {"id": "h1", "name": "n"})  # 201 the first time, 409 afterwards; then at version 1
    name = "If-None-Match" if method == "GET" else "If-Match"
    reply = api.call(method, "/items/h1", headers={name: header},
                     body={"name": "n", "version": 1} if method == "PUT" else None)
    allowed = {"GET": {200, 304}, "PUT": {200, 412}, "DELETE": {204, 412}}[method]
    assert reply.status in allowed, (header, reply.status, reply.raw_body)
    if reply.status in (200, 204) and method != "GET":  # the write happened: put the item back at version 1
        api.delete("/items/h1")
