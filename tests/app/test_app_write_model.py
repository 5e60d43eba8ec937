"""The write model across two regions (moto, replication played by the test world).

single-writer (the default): racing writes that enter different regions meet on one copy, so a
stale version is refused whichever regions they enter; draining the writer moves writes.
any-region: both racing writes succeed, and the one replication discards is counted.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError

from test_app_events import emf_metrics
from tapinfra.runtime import ANY_REGION, SINGLE_WRITER, WRITE_CONFLICTS_METRIC
from write_model_world import PRIMARY, REGIONS, SECONDARY, body_of, stream_record, two_regions

OTHER = {PRIMARY: SECONDARY, SECONDARY: PRIMARY}


@pytest.fixture
def single(lam, monkeypatch):
    with two_regions(lam, monkeypatch, SINGLE_WRITER) as world:
        yield world


@pytest.fixture
def anywhere(lam, monkeypatch):
    with two_regions(lam, monkeypatch, ANY_REGION) as world:
        yield world


def _seed(world, writer: str, item_id: str = "a1") -> None:
    """One item at version 1, replicated to both copies."""
    assert world.call(writer, "POST", "/items", body={"id": item_id, "name": "v1"}).status == 201
    world.replicate(writer, OTHER[writer])
    assert all(int(world.items(r)[item_id]["version"]["N"]) == 1 for r in REGIONS)


# --------------------------------------------------------------------------- single-writer

RACES = [
    # (first request's region, second request's region, the precondition the second fails, status)
    (first, second, precondition, status)
    for first in REGIONS for second in REGIONS
    for precondition, status in (("version", 409), ("if-match", 412))
]


@pytest.mark.parametrize("drained", [None, PRIMARY], ids=["writer=primary", "writer=secondary"])
@pytest.mark.parametrize("first,second,precondition,status", RACES)
def test_racing_puts_at_one_version_exactly_one_succeeds_whichever_regions_they_enter(
        single, first, second, precondition, status, drained):
    """Two PUTs stating version 1 (and, for the If-Match race, ETag "v1"): the first wins, the second
    is refused with the item as it now is, even when each copy still showed version 1 to its region."""
    if drained:
        single.set_drain(drained, "on")
    writer = SECONDARY if drained == PRIMARY else PRIMARY
    _seed(single, writer)
    headers = {"If-Match": '"v1"'} if precondition == "if-match" else None
    won = single.call(first, "PUT", "/items/a1", body={"name": f"from {first}", "version": 1}, headers=headers)
    second_body = {"name": f"from {second}", "version": 1 if precondition == "version" else 2}
    lost = single.call(second, "PUT", "/items/a1", body=second_body, headers=headers)
    assert won.status == 200 and body_of(won)["version"] == 2
    assert lost.status == status, lost.raw_body
    assert body_of(lost)["current"]["name"] == f"from {first}" and body_of(lost)["current_version"] == 2
    assert lost.header("ETag") == '"v2"'
    # Both writes met on the writer's copy; the other copy did not move until replication.
    assert single.items(writer)["a1"]["name"]["S"] == f"from {first}"
    assert single.items(OTHER[writer])["a1"]["version"]["N"] == "1"


def test_racing_deletes_and_puts_meet_on_the_writer(single):
    _seed(single, PRIMARY)
    assert single.call(SECONDARY, "DELETE", "/items/a1", headers={"If-Match": '"v1"'}).status == 204
    refused = single.call(PRIMARY, "PUT", "/items/a1", body={"name": "late", "version": 1})
    assert refused.status == 404, "the delete won on the writer; the stale PUT finds nothing"
    assert "a1" not in single.items(PRIMARY)


def test_racing_creates_of_one_id_make_one_item(single):
    first = single.call(SECONDARY, "POST", "/items", body={"id": "c1", "name": "west"})
    second = single.call(PRIMARY, "POST", "/items", body={"id": "c1", "name": "east"})
    assert (first.status, second.status) == (201, 409)
    assert body_of(second)["current"]["name"] == "west"


def test_draining_the_writer_moves_writes_and_clearing_it_moves_them_back(single):
    """The writer is the first of (primary, secondary) whose switch is off; both on: the primary."""
    cases = [  # (switch in primary, switch in secondary, copy that takes the writes)
        ("off", "off", PRIMARY), ("on", "off", SECONDARY), ("off", "on", PRIMARY), ("on", "on", PRIMARY),
        ("DRAINING", "off", SECONDARY), ("off", "off", PRIMARY),
    ]
    for n, (primary_switch, secondary_switch, expected) in enumerate(cases):
        single.set_drain(PRIMARY, primary_switch)
        single.set_drain(SECONDARY, secondary_switch)
        for entry in REGIONS:
            item_id = f"m{n}-{entry}"
            assert single.call(entry, "POST", "/items", body={"id": item_id, "name": "x"}).status == 201
            assert item_id in single.items(expected), (primary_switch, secondary_switch, entry)
            assert item_id not in single.items(OTHER[expected]), (primary_switch, secondary_switch, entry)


def test_the_writer_choice_is_reused_for_writer_cache_seconds(single, lam, monkeypatch):
    """Within one container a drain takes effect after WRITER_CACHE_SECONDS (part of the write RTO)."""
    monkeypatch.setenv("WRITER_CACHE_SECONDS", "5")
    now = [1000.0]
    monkeypatch.setattr(lam.writer.time, "monotonic", lambda: now[0])
    single.enter(SECONDARY)
    assert single.call(SECONDARY, "POST", "/items", body={"id": "k0", "name": "x"}).status == 201
    single.set_drain(PRIMARY, "on")
    now[0] += 4.9
    single.enter(SECONDARY, fresh=False)
    assert single.call(SECONDARY, "POST", "/items", body={"id": "k1", "name": "x"}).status == 201
    now[0] += 0.2
    single.enter(SECONDARY, fresh=False)
    assert single.call(SECONDARY, "POST", "/items", body={"id": "k2", "name": "x"}).status == 201
    assert {"k0", "k1"} <= set(single.items(PRIMARY)) and "k2" in single.items(SECONDARY)


def test_an_unreadable_switch_counts_as_off_and_is_counted(single, lam, monkeypatch, capsys):
    """An SSM failure must not make the two regions choose different writers."""
    single.set_drain(PRIMARY, "on")
    single.enter(SECONDARY)

    class Down:
        def get_parameter(self, **_):
            raise EndpointConnectionError(endpoint_url="https://ssm.us-east-1.amazonaws.com")

    monkeypatch.setattr(lam.clients, "writer_ssm", lambda region, timeout: Down())
    capsys.readouterr()
    assert single.call(SECONDARY, "POST", "/items", body={"id": "u1", "name": "x"}, key="key-a").status == 201
    assert "u1" in single.items(PRIMARY)
    assert emf_metrics(capsys.readouterr().out).get("WriterSwitchUnreadable") == 1


def test_reads_after_writes_in_the_writer_region_and_elsewhere_after_replication(single):
    """Reads stay local: the writer's region reads its write at once, the other once it replicated."""
    assert single.call(SECONDARY, "POST", "/items", body={"id": "r1", "name": "x"}).status == 201
    assert single.call(PRIMARY, "GET", "/items/r1").status == 200
    assert single.call(SECONDARY, "GET", "/items/r1").status == 404  # not replicated yet
    single.replicate(PRIMARY, SECONDARY)
    got = single.call(SECONDARY, "GET", "/items/r1")
    assert got.status == 200 and body_of(got)["version"] == 1
    assert single.call(SECONDARY, "PUT", "/items/r1", body={"name": "y", "version": 1}).status == 200
    assert body_of(single.call(PRIMARY, "GET", "/items/r1"))["name"] == "y"


# --------------------------------------------------------------------------- any-region


def test_any_region_racing_puts_both_succeed_and_the_lost_one_is_counted(anywhere, capsys):
    _seed(anywhere, PRIMARY)
    east = anywhere.call(PRIMARY, "PUT", "/items/a1", body={"name": "east", "version": 1})
    west = anywhere.call(SECONDARY, "PUT", "/items/a1", body={"name": "west", "version": 1})
    assert (east.status, west.status) == (200, 200), "last-writer-wins: both writes are accepted"
    # Replication: west's write is the later one; it overwrites east's in the primary's copy,
    # and east's, arriving in the secondary, loses there (discarded: no stream record).
    records = anywhere.replicate(SECONDARY, PRIMARY)
    assert anywhere.items(PRIMARY)["a1"]["name"]["S"] == "west"
    capsys.readouterr()
    assert anywhere.stream(PRIMARY, records)["write_conflicts"] == 1
    assert emf_metrics(capsys.readouterr().out).get(WRITE_CONFLICTS_METRIC) == 1


def test_any_region_ordinary_replication_counts_nothing(anywhere, capsys):
    _seed(anywhere, PRIMARY)
    assert anywhere.call(SECONDARY, "PUT", "/items/a1", body={"name": "west", "version": 1}).status == 200
    records = anywhere.replicate(SECONDARY, PRIMARY)
    assert anywhere.stream(PRIMARY, records)["write_conflicts"] == 0
    assert anywhere.call(PRIMARY, "PUT", "/items/a1", body={"name": "east", "version": 2}).status == 200
    assert anywhere.stream(SECONDARY, anywhere.replicate(PRIMARY, SECONDARY))["write_conflicts"] == 0


def test_any_region_writes_stay_in_their_own_region(anywhere):
    for entry in REGIONS:
        assert anywhere.call(entry, "POST", "/items", body={"id": f"own-{entry}", "name": "x"}).status == 201
        assert f"own-{entry}" in anywhere.items(entry) and f"own-{entry}" not in anywhere.items(OTHER[entry])


def _image(version: int, region: str, expires_at: int = 2_000_000_000) -> dict:
    return {"tenant_id": {"S": "t"}, "item_id": {"S": "i"}, "version": {"N": str(version)},
            "updated_region": {"S": region}, "expires_at": {"N": str(expires_at)}}


LOST_WRITE_CASES = [
    # (event, old image, new image, written at, counted?)
    ("MODIFY", _image(2, PRIMARY), _image(2, SECONDARY), 1_900_000_000, True),    # PUT/PUT at version 1
    ("MODIFY", _image(1, PRIMARY), _image(1, SECONDARY), 1_900_000_000, True),    # POST/POST of one id
    ("MODIFY", _image(5, PRIMARY), _image(3, SECONDARY), 1_900_000_000, True),    # a longer divergence
    ("MODIFY", _image(2, PRIMARY), _image(3, SECONDARY), 1_900_000_000, False),   # built on what it replaced
    ("MODIFY", _image(2, SECONDARY), _image(4, SECONDARY), 1_900_000_000, False),  # coalesced, still ahead
    ("MODIFY", _image(2, PRIMARY), _image(2, PRIMARY), 1_900_000_000, False),     # written here, not replicated
    ("MODIFY", _image(5, PRIMARY, 1_800_000_000), _image(1, SECONDARY), 1_900_000_000, False),  # re-create after expiry
    ("INSERT", None, _image(1, SECONDARY), 1_900_000_000, False),
    ("REMOVE", _image(2, SECONDARY), None, 1_900_000_000, False),
    ("MODIFY", {"tenant_id": {"S": "__idempotency__"}, "item_id": {"S": "x"}, "status": {"S": "INPROGRESS"}},
     {"tenant_id": {"S": "__idempotency__"}, "item_id": {"S": "x"}, "status": {"S": "COMPLETED"}}, 1_900_000_000, False),
]


@pytest.mark.parametrize("event_name,old,new,at,counted", LOST_WRITE_CASES)
def test_the_detector_counts_exactly_the_writes_replication_overwrote_unseen(lam, event_name, old, new, at, counted):
    import conflicts  # noqa: PLC0415 - on the path the lam fixture set up

    record = stream_record(event_name, new, old, at=at)
    assert (conflicts.lost_write(record, PRIMARY) is not None) is counted


def test_stream_batches_are_told_from_api_requests(lam):
    import conflicts  # noqa: PLC0415

    assert conflicts.is_stream_event({"Records": [stream_record("INSERT", _image(1, PRIMARY), None)]})
    for not_stream in ({}, {"Records": []}, {"Records": [{"eventSource": "aws:s3"}]}, {"httpMethod": "GET", "path": "/"}, []):
        assert not conflicts.is_stream_event(not_stream)


def test_write_mode_is_validated(lam, monkeypatch):
    monkeypatch.setenv("WRITE_MODE", "everywhere")
    lam.config.reset()
    with pytest.raises(lam.config.ConfigurationError, match="WRITE_MODE"):
        lam.config.get_settings()
    monkeypatch.setenv("WRITE_MODE", SINGLE_WRITER)
    monkeypatch.setenv("WRITE_REGIONS", f"{PRIMARY},{PRIMARY}")
    lam.config.reset()
    with pytest.raises(lam.config.ConfigurationError, match="WRITE_REGIONS"):
        lam.config.get_settings()
    lam.config.reset()

