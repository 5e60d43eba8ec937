"""CRUD on /items: status codes, bodies, stored state, optimistic concurrency."""

from __future__ import annotations

from decimal import Decimal

from app_testkit import REGION


def create(api, body=None, **kw):
    reply = api.post("/items", body if body is not None else {"name": "widget"}, **kw)
    assert reply.status == 201, reply.raw_body
    return reply.body


def test_create_returns_201_with_item_and_location(api, aws, frozen_clock):
    reply = api.post("/items", {"name": "widget", "attributes": {"colour": "blue", "size": 3}})

    assert reply.status == 201
    item = reply.body
    assert item["name"] == "widget"
    assert item["attributes"] == {"colour": "blue", "size": 3}
    assert item["version"] == 1
    assert item["region"] == REGION
    assert item["expires_at"] == frozen_clock.now + 30 * 86400
    assert item["created_at"] == item["updated_at"]
    assert reply.header("Location") == f"/prod/items/{item['id']}"  # the kit calls the stage invoke URL (rc.path /prod/items)
    assert reply.header("Content-Type") == "application/json"
    assert "tenant_id" not in item

    stored = aws.raw_items("tenant-a")
    assert len(stored) == 1
    assert stored[0]["item_id"]["S"] == item["id"]
    assert stored[0]["expires_at"]["N"] == str(frozen_clock.now + 30 * 86400)
    assert stored[0]["updated_region"]["S"] == REGION


def test_create_generates_distinct_ids(api):
    ids = {create(api)["id"] for _ in range(5)}
    assert len(ids) == 5


def test_create_with_client_id_never_overwrites(api, aws):
    first = create(api, {"id": "order-1", "name": "first"})
    assert first["id"] == "order-1"

    clash = api.post("/items", {"id": "order-1", "name": "second"})

    assert clash.status == 409
    assert clash.body["error"] == "conflict"
    assert "order-1" in clash.body["message"]
    assert api.get("/items/order-1").body["name"] == "first"
    assert len(aws.raw_items("tenant-a")) == 1


def test_create_rejects_malformed_client_id(api, aws):
    reply = api.post("/items", {"id": "has space", "name": "x"})
    assert reply.status == 400
    assert "id must be" in reply.body["message"]
    assert aws.raw_items("tenant-a") == []


def test_get_returns_item(api):
    item = create(api, {"name": "widget", "attributes": {"n": 1}})
    reply = api.get(f"/items/{item['id']}")
    assert reply.status == 200
    assert reply.body == item


def test_get_missing_is_404(api):
    reply = api.get("/items/does-not-exist")
    assert reply.status == 404
    assert reply.body["error"] == "not_found"
    assert "does-not-exist" in reply.body["message"]


def test_invalid_item_id_in_path_is_400(api):
    reply = api.get("/items/bad%20id")
    assert reply.status == 400
    assert "item id must be" in reply.body["message"]


def test_decimal_numbers_round_trip_as_json_numbers(api):
    body = {
        "name": "n",
        "attributes": {
            "int": 7,
            "neg": -3,
            "float": 1.25,
            "big": 12345678901234567890,
            "nested": {"list": [1, 2.5, True, None, "s"]},
        },
    }
    item = create(api, body)
    again = api.get(f"/items/{item['id']}")
    assert again.body["attributes"] == body["attributes"]
    assert '"int":7' in again.raw_body and '"float":1.25' in again.raw_body
    assert Decimal(str(again.body["attributes"]["float"])) == Decimal("1.25")


def test_list_returns_only_live_items_of_caller(api):
    made = {create(api, {"name": f"n{i}"})["id"] for i in range(3)}
    reply = api.get("/items")
    assert reply.status == 200
    assert {i["id"] for i in reply.body["items"]} == made
    assert reply.body["count"] == 3
    assert reply.body["next_token"] is None


def test_update_replaces_and_bumps_version(api, aws, frozen_clock):
    item = create(api, {"name": "v1", "attributes": {"a": 1, "b": 2}})
    frozen_clock.advance(60)

    reply = api.put(f"/items/{item['id']}", {"name": "v2", "attributes": {"c": 3}, "version": 1})

    assert reply.status == 200
    updated = reply.body
    assert updated["version"] == 2
    assert updated["name"] == "v2"
    assert updated["attributes"] == {"c": 3}  # PUT replaces
    assert updated["created_at"] == item["created_at"]
    assert updated["updated_at"] != item["updated_at"]
    assert updated["expires_at"] == frozen_clock.now + 30 * 86400  # retention restarts on write
    assert api.get(f"/items/{item['id']}").body == updated


def test_update_without_attributes_clears_them(api):
    item = create(api, {"name": "v1", "attributes": {"a": 1}})
    reply = api.put(f"/items/{item['id']}", {"name": "v2", "version": 1})
    assert reply.status == 200
    assert reply.body["attributes"] == {}


def test_update_with_stale_version_is_409_and_changes_nothing(api):
    item = create(api)
    assert api.put(f"/items/{item['id']}", {"name": "second", "version": 1}).status == 200

    stale = api.put(f"/items/{item['id']}", {"name": "lost update", "version": 1})

    assert stale.status == 409
    assert stale.body["current_version"] == 2
    assert "version" in stale.body["message"]
    current = api.get(f"/items/{item['id']}").body
    assert current["name"] == "second" and current["version"] == 2


def test_concurrent_writers_exactly_one_wins(api):
    item = create(api)
    first = api.put(f"/items/{item['id']}", {"name": "writer A", "version": 1})
    second = api.put(f"/items/{item['id']}", {"name": "writer B", "version": 1})
    assert sorted([first.status, second.status]) == [200, 409]
    assert api.get(f"/items/{item['id']}").body["name"] == "writer A"


def test_update_missing_is_404(api, aws):
    reply = api.put("/items/nope", {"name": "x", "version": 1})
    assert reply.status == 404
    assert aws.raw_items("tenant-a") == []  # no upsert


def test_update_requires_version(api):
    item = create(api)
    reply = api.put(f"/items/{item['id']}", {"name": "x"})
    assert reply.status == 400
    assert "version" in reply.body["message"]


def test_delete_is_204_then_404(api, aws):
    item = create(api)
    reply = api.delete(f"/items/{item['id']}")
    assert reply.status == 204
    assert reply.raw_body == ""
    assert aws.raw_items("tenant-a") == []
    assert api.get(f"/items/{item['id']}").status == 404
    assert api.delete(f"/items/{item['id']}").status == 404


def test_delete_missing_is_404(api):
    reply = api.delete("/items/never-was")
    assert reply.status == 404
    assert reply.body["error"] == "not_found"


def test_trailing_slash_is_tolerated(api):
    item = create(api)
    assert api.get("/items/").status == 200
    assert api.get(f"/items/{item['id']}/").status == 200


def test_metrics_route_counts_callers_live_items(api, set_env):
    for i in range(4):
        create(api, {"name": f"n{i}"})
    create(api, {"name": "other"}, key="key-b")

    reply = api.get("/metrics")

    assert reply.status == 200
    assert reply.body == {"tenant_id": "tenant-a", "item_count": 4, "region": REGION}
    assert api.get("/metrics", key="key-b").body["item_count"] == 1


def test_metrics_route_counts_across_dynamodb_pages(api, aws, frozen_clock):
    # Bigger than one 1 MB query page would be slow in moto; fill directly instead.
    for i in range(250):
        aws.dynamodb.put_item(
            TableName="tap-items-test",
            Item={
                "tenant_id": {"S": "tenant-a"},
                "item_id": {"S": f"bulk-{i:04d}"},
                "name": {"S": "x" * 4000},
                "version": {"N": "1"},
                "expires_at": {"N": str(frozen_clock.now + 100)},
            },
        )
    assert api.get("/metrics").body["item_count"] == 250


def test_clients_are_created_once_and_reused(api, lam):
    create(api)
    client = lam.clients._clients["dynamodb"]
    create(api)
    api.get("/items")
    assert lam.clients._clients["dynamodb"] is client
