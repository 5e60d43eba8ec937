"""GDPR retention: every write sets expires_at; expired items are gone before TTL deletes them."""

from __future__ import annotations

DAY = 86400


def test_expires_at_is_now_plus_retention_days(api, aws, frozen_clock, set_env):
    set_env("RETENTION_DAYS", "7")
    item = api.post("/items", {"name": "x"}).body
    assert item["expires_at"] == frozen_clock.now + 7 * DAY
    assert aws.raw_items("tenant-a")[0]["expires_at"] == {"N": str(frozen_clock.now + 7 * DAY)}


def test_expired_item_is_404_on_read_but_still_in_table(api, aws, frozen_clock):
    item = api.post("/items", {"name": "x"}).body
    frozen_clock.now = item["expires_at"] - 1
    assert api.get(f"/items/{item['id']}").status == 200

    frozen_clock.now = item["expires_at"]  # expires_at <= now: gone

    assert api.get(f"/items/{item['id']}").status == 404
    assert len(aws.raw_items("tenant-a")) == 1  # DynamoDB TTL has not deleted it yet


def test_expired_items_are_skipped_in_lists_and_counts(api, frozen_clock):
    old = [api.post("/items", {"id": f"old-{i}", "name": "o"}).body for i in range(3)]
    frozen_clock.advance(10 * DAY)
    fresh = [api.post("/items", {"id": f"new-{i}", "name": "n"}).body for i in range(2)]
    frozen_clock.now = old[0]["expires_at"]

    listed = api.get("/items").body
    assert sorted(i["id"] for i in listed["items"]) == sorted(i["id"] for i in fresh)
    assert api.get("/metrics").body["item_count"] == 2


def test_list_fills_the_page_past_expired_items(api, frozen_clock):
    for i in range(6):
        api.post("/items", {"id": f"a-{i}", "name": "expiring"})
    frozen_clock.advance(DAY)
    for i in range(3):
        api.post("/items", {"id": f"b-{i}", "name": "live"})
    frozen_clock.advance(30 * DAY - DAY)  # the a-* items just expired

    reply = api.get("/items", query={"limit": "3"})
    assert [i["id"] for i in reply.body["items"]] == ["b-0", "b-1", "b-2"]


def test_expired_item_cannot_be_updated_or_deleted(api, aws, frozen_clock):
    item = api.post("/items", {"name": "x"}).body
    frozen_clock.now = item["expires_at"] + 5

    assert api.put(f"/items/{item['id']}", {"name": "revive", "version": 1}).status == 404
    assert api.delete(f"/items/{item['id']}").status == 404
    assert aws.raw_items("tenant-a")[0]["name"] == {"S": "x"}


def test_create_over_an_expired_item_succeeds(api, frozen_clock):
    first = api.post("/items", {"id": "reuse", "name": "old"}).body
    frozen_clock.now = first["expires_at"]

    again = api.post("/items", {"id": "reuse", "name": "new"})

    assert again.status == 201
    assert again.body["version"] == 1
    assert api.get("/items/reuse").body["name"] == "new"


def test_update_restarts_retention(api, frozen_clock):
    item = api.post("/items", {"name": "x"}).body
    frozen_clock.advance(20 * DAY)
    updated = api.put(f"/items/{item['id']}", {"name": "y", "version": 1}).body
    assert updated["expires_at"] == frozen_clock.now + 30 * DAY
    frozen_clock.advance(15 * DAY)  # past the original expiry, within the new one
    assert api.get(f"/items/{item['id']}").status == 200
