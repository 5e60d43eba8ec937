"""``Idempotency-Key`` on POST /items (Powertools' idempotency utility, records in the items table)."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app_testkit import TABLE, fresh_aws
from tapinfra.runtime import ANY_REGION, SINGLE_WRITER
from write_model_world import PRIMARY, SECONDARY, body_of, two_regions

HEADER = "Idempotency-Key"


def _post(api, key: str | None, body: dict, tenant_key: str = "key-a"):
    return api.post("/items", body, key=tenant_key, headers={HEADER: key} if key is not None else None)


def _live_items(aws, tenant: str) -> list[dict]:
    return aws.raw_items(tenant)


def test_a_retried_post_with_the_same_key_and_body_makes_one_item(api, aws):
    body = {"name": "order 17", "attributes": {"total": 12.5, "exact": 0.1234567890123456789}}
    first = _post(api, "order-17-attempt", body)
    retry = _post(api, "order-17-attempt", body)
    assert (first.status, retry.status) == (201, 201)
    assert body_of(retry) == body_of(first), "the replay is the first answer: same id, version, numbers"
    assert retry.header("Location") == first.header("Location") and retry.header("ETag") == first.header("ETag")
    assert retry.header("Idempotent-Replayed") == "true" and first.header("Idempotent-Replayed") is None
    assert len(_live_items(aws, "tenant-a")) == 1
    assert len(aws.received_events()) == 1, "a replay publishes no second item.created"


def test_without_a_key_each_post_makes_an_item(api, aws):
    assert _post(api, None, {"name": "x"}).status == 201 and _post(api, None, {"name": "x"}).status == 201
    assert len(_live_items(aws, "tenant-a")) == 2


def test_the_same_key_with_another_body_is_a_422_naming_the_header(api, aws):
    assert _post(api, "k1", {"name": "first"}).status == 201
    reused = _post(api, "k1", {"name": "second"})
    assert reused.status == 422
    assert body_of(reused)["error"] == "idempotency_key_reused" and body_of(reused)["header"] == HEADER
    assert HEADER in body_of(reused)["message"] and body_of(reused)["correlation_id"]
    assert len(_live_items(aws, "tenant-a")) == 1


def test_bodies_that_parse_to_the_same_item_are_the_same_request(api, aws):
    assert api.post("/items", '{"name": "n", "attributes": {"a": 1.0}}', headers={HEADER: "same"}).status == 201
    again = api.post("/items", '{"attributes": {"a": 1.00}, "name": "n"}', headers={HEADER: "same"})
    assert again.status == 201 and len(_live_items(aws, "tenant-a")) == 1


def test_keys_are_scoped_by_tenant(api, aws):
    """Tenant B's request with tenant A's key never gets A's item: it makes its own."""
    body = {"name": "same body"}
    a = _post(api, "shared-key", body, tenant_key="key-a")
    b = _post(api, "shared-key", body, tenant_key="key-b")
    assert (a.status, b.status) == (201, 201)
    assert body_of(a)["id"] != body_of(b)["id"] and b.header("Idempotent-Replayed") is None
    assert api.get(f"/items/{body_of(a)['id']}", key="key-b").status == 404
    assert len(_live_items(aws, "tenant-a")) == 1 and len(_live_items(aws, "tenant-b")) == 1
    # B's retry replays B's item; a different body from B with that key is B's 422, not A's.
    assert body_of(_post(api, "shared-key", body, tenant_key="key-b"))["id"] == body_of(b)["id"]
    assert _post(api, "shared-key", {"name": "other"}, tenant_key="key-b").status == 422


def test_records_live_in_a_partition_no_tenant_can_name_and_expire_by_ttl(api, aws, lam):
    import idempotency  # noqa: PLC0415

    assert _post(api, "k", {"name": "x"}).status == 201
    records = aws.dynamodb.query(TableName=TABLE, KeyConditionExpression="tenant_id = :p",
                                 ExpressionAttributeValues={":p": {"S": idempotency.PARTITION}})["Items"]
    assert len(records) == 1
    record = records[0]
    assert record["item_id"]["S"].startswith("tenant-a#") and record["status"]["S"] == "COMPLETED"
    assert "k" not in record["item_id"]["S"].split("#", 1)[1], "the key is hashed, never stored"
    assert int(record["expires_at"]["N"]) > 0
    assert api.get("/items").body["count"] == 1, "records never show among a tenant's items"


def test_a_failed_first_attempt_leaves_no_record(api, aws):
    assert _post(api, None, {"id": "taken", "name": "x"}).status == 201
    assert _post(api, "retry-me", {"id": "taken", "name": "y"}).status == 409
    assert api.delete("/items/taken").status == 204
    assert _post(api, "retry-me", {"id": "taken", "name": "y"}).status == 201


BAD_KEYS = ["", "x" * 256, "caf\u00e9", "tab\there", "del\x7f", "nul\x00", "\u2603"]


@pytest.mark.parametrize("key", BAD_KEYS, ids=["empty", "256 chars", "latin-1", "tab", "DEL", "NUL", "snowman"])
def test_a_key_that_is_not_1_to_255_printable_ascii_is_a_400(api, aws, key):
    reply = _post(api, key, {"name": "x"})
    assert reply.status == 400 and HEADER in body_of(reply)["message"]
    assert _live_items(aws, "tenant-a") == []


def test_a_key_given_twice_is_a_400(api, aws):
    event_headers = {HEADER: "one"}
    reply = api.post("/items", {"name": "x"}, headers=event_headers)
    assert reply.status == 201
    from app_testkit import LambdaContext, make_event  # noqa: PLC0415

    event = make_event("POST", "/items", body={"name": "x"}, headers=event_headers)
    event["multiValueHeaders"][HEADER] = ["one", "two"]
    response = api.lam.app.handler(event, LambdaContext())
    assert response["statusCode"] == 400 and "once" in response["body"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=string.printable[:95], min_size=1, max_size=255))
def test_any_printable_ascii_key_of_1_to_255_is_accepted_and_replays(lam, key):
    from app_testkit import Api  # noqa: PLC0415

    with fresh_aws(lam) as world:
        api = Api(lam)
        first, retry = _post(api, key, {"name": "x"}), _post(api, key, {"name": "x"})
        assert (first.status, retry.status) == (201, 201) and body_of(first)["id"] == body_of(retry)["id"]
        assert len(world.raw_items("tenant-a")) == 1


@pytest.mark.parametrize("mode", [SINGLE_WRITER, ANY_REGION])
def test_a_retry_that_lands_in_the_other_region_finds_the_record(lam, monkeypatch, mode):
    with two_regions(lam, monkeypatch, mode) as world:
        first = world.call(SECONDARY, "POST", "/items", body={"name": "x"}, headers={HEADER: "cross"})
        assert first.status == 201
        if mode == ANY_REGION:
            world.replicate(SECONDARY, PRIMARY)  # the record replicates with the item
        retry = world.call(PRIMARY, "POST", "/items", body={"name": "x"}, headers={HEADER: "cross"})
        assert retry.status == 201 and body_of(retry)["id"] == body_of(first)["id"]
        assert retry.header("Idempotent-Replayed") == "true"
        expected_copy = PRIMARY if mode == SINGLE_WRITER else SECONDARY  # single-writer: both on the writer's copy
        assert len(world.items(expected_copy)) == 1
