"""The ingestion processor (lambda/ingest.py) on moto: objects in, items or dead letters out."""

from __future__ import annotations

import gzip
import json
from urllib.parse import quote_plus

import pytest

import app_testkit
from app_testkit import REGION, LambdaContext, fresh_aws
from tests import item_api as contract

BUCKET = "tap-ingest-test"
LIMIT = 4096
MAX_ITEMS = 5


@pytest.fixture
def processor(lam, monkeypatch):
    """``ingest``, imported with the function's modules, settings reset around each test."""
    import ingest  # noqa: PLC0415 - lambda/ is on sys.path once the lam fixture has run

    monkeypatch.setenv(contract.IngestEnv.INGEST_TENANTS, "tenant-a,tenant-b")
    monkeypatch.setenv(contract.IngestEnv.MAX_OBJECT_BYTES, str(LIMIT))
    monkeypatch.setenv(contract.IngestEnv.MAX_ITEMS_PER_OBJECT, str(MAX_ITEMS))
    ingest.reset()
    yield ingest
    ingest.reset()


class IngestWorld:
    """The mocked region: table (from the app's world), a versioned ingest bucket, the dead-letter queue."""

    def __init__(self, aws, lam, processor, monkeypatch):
        self.aws, self.lam, self.processor = aws, lam, processor
        self.s3 = app_testkit.test_client("s3")
        self.s3.create_bucket(Bucket=BUCKET)
        self.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        self.dlq_url = aws.sqs.create_queue(QueueName="tap-ingest-dlq-test")["QueueUrl"]
        monkeypatch.setenv(contract.IngestEnv.DEAD_LETTER_QUEUE_URL, self.dlq_url)
        processor.reset()
        self.gets: list[dict] = []

    def put(self, key: str, body: bytes | str) -> dict:
        data = body.encode("utf-8") if isinstance(body, str) else body
        version = self.s3.put_object(Bucket=BUCKET, Key=key, Body=data)["VersionId"]
        return {"key": key, "version_id": version, "size": len(data)}

    def event(self, key: str, version_id: str | None, size: int) -> dict:
        """An S3 object-created notification as S3 sends it (the key URL-encoded)."""
        obj = {"key": quote_plus(key), "size": size, "eTag": "0123456789abcdef", "sequencer": "0065A1B2C3D4E5F6"}
        if version_id is not None:
            obj["versionId"] = version_id
        return {"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
            "eventName": "ObjectCreated:Put", "eventTime": "2026-01-01T00:00:00.000Z",
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "ingest",
                   "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"}, "object": obj},
        }]}

    def spy_on_reads(self) -> None:
        """Record every GetObject the processor makes (and still make it)."""
        real = self.lam.clients.s3()
        gets = self.gets

        class Spy:
            def get_object(self, **kwargs):
                gets.append(kwargs)
                return real.get_object(**kwargs)

            def __getattr__(self, name):
                return getattr(real, name)

        self.lam.clients.set_client("s3", Spy())

    def ingest(self, key: str, body: bytes | str, size: int | None = None) -> dict:
        put = self.put(key, body)
        event = self.event(key, put["version_id"], put["size"] if size is None else size)
        (result,) = self.processor.handler(event, LambdaContext(aws_request_id="req-1"))["objects"]
        return result

    def dead_letters(self) -> list[dict]:
        out = []
        while True:
            messages = self.aws.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return out
            for message in messages:
                out.append(json.loads(message["Body"]))
                self.aws.sqs.delete_message(QueueUrl=self.dlq_url, ReceiptHandle=message["ReceiptHandle"])

    def items(self, tenant: str) -> dict[str, dict]:
        return {raw["item_id"]["S"]: raw for raw in self.aws.raw_items(tenant)}


@pytest.fixture
def world(lam, aws, processor, monkeypatch):
    return IngestWorld(aws, lam, processor, monkeypatch)


def lines(*bodies) -> str:
    return "\n".join(b if isinstance(b, str) else json.dumps(b) for b in bodies) + "\n"


# ------------------------------------------------------------------ good objects


def test_a_good_object_becomes_items_of_the_prefix_tenant(world, frozen_clock):
    result = world.ingest("tenant-a/2026/batch 1.jsonl", lines(
        {"id": "order-1", "name": "first", "attributes": {"colour": "blue", "size": 3}},
        {"name": "second"},
    ))

    assert result == {"key": "tenant-a/2026/batch 1.jsonl", "outcome": "ingested", "tenant_id": "tenant-a",
                      "created": 2, "duplicates": 0}
    stored = world.items("tenant-a")
    assert set(stored) >= {"order-1"} and len(stored) == 2
    first = stored["order-1"]
    assert first["name"] == {"S": "first"}
    assert first["attributes"]["M"] == {"colour": {"S": "blue"}, "size": {"N": "3"}}
    assert first["version"] == {"N": "1"}
    assert first["expires_at"] == {"N": str(frozen_clock.now + 30 * 86400)}
    assert first["updated_region"] == {"S": REGION}
    assert world.dead_letters() == []


def test_stored_items_have_exactly_the_contract_attributes(world):
    """The analytics module's Glue table is built from STORED_ATTRIBUTES: what is stored must match."""
    world.ingest("tenant-a/one.jsonl", lines({"id": "x1", "name": "n", "attributes": {"k": "v"}}))
    raw = world.items("tenant-a")["x1"]
    assert {name: next(iter(value)) for name, value in raw.items()} == dict(contract.STORED_ATTRIBUTES)


def test_ingested_items_are_served_by_the_api_to_their_tenant_only(world, api):
    world.ingest("tenant-a/one.jsonl", lines({"id": "shared-model", "name": "from a file"}))
    reply = api.get("/items/shared-model", key="key-a")
    assert reply.status == 200 and reply.body["name"] == "from a file" and reply.body["version"] == 1
    assert api.get("/items/shared-model", key="key-b").status == 404


def test_lines_without_an_id_get_the_same_id_on_every_run(world):
    body = lines({"name": "a"}, {"name": "b"})
    first = world.ingest("tenant-a/no-ids.jsonl", body)
    ids = set(world.items("tenant-a"))
    put = world.put("tenant-a/no-ids.jsonl", body)  # a new version of the same key is a new upload
    (again,) = world.processor.handler(world.event("tenant-a/no-ids.jsonl", put["version_id"], put["size"]), LambdaContext())["objects"]
    assert first["created"] == 2 and again["created"] == 2 and len(world.items("tenant-a")) == 4
    assert all(len(i) == 32 for i in ids)


def test_blank_lines_crlf_and_a_byte_order_mark_are_accepted(world):
    body = "\ufeff" + json.dumps({"id": "b1", "name": "x"}) + "\r\n\r\n   \n" + json.dumps({"id": "b2", "name": "y"})
    assert world.ingest("tenant-b/windows.jsonl", body)["created"] == 2
    assert set(world.items("tenant-b")) == {"b1", "b2"}


def test_an_empty_object_and_a_folder_marker_write_nothing_and_dead_letter_nothing(world):
    assert world.ingest("tenant-a/empty.jsonl", "")["created"] == 0
    assert world.ingest("tenant-a/folder/", "")["outcome"] == "ignored"
    assert world.items("tenant-a") == {} and world.dead_letters() == []


def test_the_s3_test_event_is_ignored(world):
    event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-01-01T00:00:00.000Z", "Bucket": BUCKET}
    assert world.processor.handler(event, LambdaContext()) == {"objects": []}


# ------------------------------------------------------------------ duplicates


def test_the_same_object_twice_writes_each_item_once_without_error(world):
    body = lines({"id": "d1", "name": "one"}, {"name": "no id"})
    put = world.put("tenant-a/dup.jsonl", body)
    event = world.event("tenant-a/dup.jsonl", put["version_id"], put["size"])
    first = world.processor.handler(event, LambdaContext())["objects"][0]
    second = world.processor.handler(event, LambdaContext())["objects"][0]  # S3 redelivery or a Lambda retry

    assert (first["created"], first["duplicates"]) == (2, 0)
    assert (second["outcome"], second["created"], second["duplicates"]) == ("ingested", 0, 2)
    assert len(world.items("tenant-a")) == 2
    assert world.dead_letters() == []


def test_a_repeated_id_keeps_the_first_write(world, api):
    api.post("/items", {"id": "exists", "name": "from the api"}, key="key-a")
    result = world.ingest("tenant-a/clash.jsonl", lines({"id": "exists", "name": "from a file"},
                                                       {"id": "twice", "name": "first"},
                                                       {"id": "twice", "name": "second"}))
    assert (result["created"], result["duplicates"]) == (1, 2)
    stored = world.items("tenant-a")
    assert stored["exists"]["name"] == {"S": "from the api"}
    assert stored["twice"]["name"] == {"S": "first"} and stored["twice"]["version"] == {"N": "1"}


# ------------------------------------------------------------------ malformed objects


@pytest.mark.parametrize(("line", "reason", "detail"), [
    ('{"name": "unterminated"', "malformed_json", "line 2: Expecting ',' delimiter at column 24"),
    ('{"name": NaN}', "malformed_json", "line 2: NaN and Infinity are not JSON"),
    ('["not", "an", "object"]', "invalid_item", 'line 2: invalid body: / breaks the CreateItem rule type "object"'),
    ('{"attributes": {}}', "invalid_item", 'line 2: invalid body: / breaks the CreateItem rule required ["name"]'),
    ('{"name": "x", "colour": "blue"}', "invalid_item",
     "line 2: invalid body: / breaks the CreateItem rule additionalProperties false"),
    ('{"id": "has space", "name": "x"}', "invalid_item", "line 2: /id must be 1-64 characters"),
    ('{"name": "x", "attributes": {"n": 1e400}}', "invalid_item", "line 2: invalid body: /attributes/#0 is out of the storable range"),
    ('{"name": "x", "attributes": {"n": 1e99999999999999999999}}', "invalid_item",
     "line 2: invalid body: the number at /attributes/#0 is too large or too small to read"),
])
def test_a_malformed_line_sends_the_whole_object_to_the_dead_letter_queue(world, line, reason, detail):
    result = world.ingest("tenant-a/bad.jsonl", lines({"id": "good-1", "name": "fine"}, line, {"name": "also fine"}))

    assert result["outcome"] == "rejected" and result["reason"] == reason
    assert world.items("tenant-a") == {}  # all or nothing: the good lines were not written either
    (letter,) = world.dead_letters()
    assert letter["reason"] == reason and letter["detail"].startswith(detail), letter
    assert (letter["bucket"], letter["key"], letter["tenant_id"]) == (BUCKET, "tenant-a/bad.jsonl", "tenant-a")
    assert letter["version_id"] and letter["request_id"] == "req-1"
    assert "fine" not in json.dumps(letter)  # no item content in the queue


def test_an_object_that_is_not_utf8_text_is_rejected(world):
    result = world.ingest("tenant-a/data.jsonl.gz", gzip.compress(b'{"name": "x"}\n'))
    assert result["reason"] == "not_utf8"
    assert [m["reason"] for m in world.dead_letters()] == ["not_utf8"]


def test_too_many_lines_reject_the_object_before_any_write(world):
    result = world.ingest("tenant-a/many.jsonl", lines(*({"name": f"n{i}"} for i in range(MAX_ITEMS + 1))))
    assert result["reason"] == "too_many_items" and f"limit is {MAX_ITEMS}" in result["detail"]
    assert world.items("tenant-a") == {}


def test_a_line_larger_than_the_apis_body_limit_is_rejected(world, set_env):
    set_env(contract.IngestEnv.MAX_BODY_BYTES, "1024")
    result = world.ingest("tenant-a/big-line.jsonl", lines({"name": "x" * 200, "attributes": {"pad": "y" * 900}}))
    assert result["reason"] == "invalid_item" and "limit is 1024" in result["detail"]


# ------------------------------------------------------------------ oversized objects


def test_an_oversized_object_goes_to_the_dead_letter_queue_unread(world):
    world.spy_on_reads()
    result = world.ingest("tenant-a/huge.jsonl", lines(*({"name": "x" * 100} for _ in range(50))))

    assert result["reason"] == "too_large" and f"limit is {LIMIT}" in result["detail"]
    assert world.gets == []  # the event's size was enough: the object was never fetched
    assert [m["reason"] for m in world.dead_letters()] == ["too_large"]
    assert world.items("tenant-a") == {}


def test_an_object_larger_than_its_event_says_is_read_no_further_than_the_limit(world):
    world.spy_on_reads()
    result = world.ingest("tenant-a/grown.jsonl", lines(*({"name": "x" * 100} for _ in range(50))), size=10)

    assert result["reason"] == "too_large"
    (get,) = world.gets
    assert get["Range"] == f"bytes=0-{LIMIT}" and get["VersionId"]
    assert world.items("tenant-a") == {}


# ------------------------------------------------------------------ tenancy


def test_an_unconfigured_tenants_prefix_is_rejected_unread(world):
    world.spy_on_reads()
    result = world.ingest("tenant-c/items.jsonl", lines({"id": "c1", "name": "x"}))

    assert result["reason"] == "unknown_tenant"
    assert world.gets == []
    (letter,) = world.dead_letters()
    assert letter["tenant_id"] is None and letter["detail"] == "the key's first segment is not one of INGEST_TENANTS"
    assert world.items("tenant-c") == {}


@pytest.mark.parametrize("key", ["items.jsonl", "/tenant-a/items.jsonl"])
def test_a_key_without_a_tenant_prefix_is_rejected(world, key):
    assert world.ingest(key, lines({"name": "x"}))["reason"] == "no_tenant_prefix"
    assert world.items("tenant-a") == {}


def test_a_line_cannot_name_another_tenant(world):
    result = world.ingest("tenant-a/sneaky.jsonl", lines({"id": "s1", "name": "x", "tenant_id": "tenant-b"}))

    assert result["reason"] == "invalid_item" and "additionalProperties" in result["detail"]
    assert world.items("tenant-a") == {} and world.items("tenant-b") == {}


def test_each_prefix_writes_only_under_its_own_tenant(world):
    world.ingest("tenant-a/x.jsonl", lines({"id": "same-id", "name": "a's"}))
    world.ingest("tenant-b/x.jsonl", lines({"id": "same-id", "name": "b's"}))
    assert world.items("tenant-a")["same-id"]["name"] == {"S": "a's"}
    assert world.items("tenant-b")["same-id"]["name"] == {"S": "b's"}


# ------------------------------------------------------------------ failures that deserve a retry


def test_a_failure_that_is_not_the_objects_fault_raises_for_lambdas_retry(lam, processor, monkeypatch):
    with fresh_aws(lam, with_table=False) as aws:
        world = IngestWorld(aws, lam, processor, monkeypatch)
        put = world.put("tenant-a/ok.jsonl", lines({"name": "x"}))
        with pytest.raises(Exception, match="ResourceNotFound|not found"):
            processor.handler(world.event("tenant-a/ok.jsonl", put["version_id"], put["size"]), LambdaContext())
        assert world.dead_letters() == []  # the retry, then the function's dead-letter config, own it


def test_missing_settings_fail_loudly(world, monkeypatch):
    monkeypatch.delenv(contract.IngestEnv.INGEST_TENANTS)
    world.processor.reset()
    with pytest.raises(Exception, match="INGEST_TENANTS"):
        world.ingest("tenant-a/x.jsonl", lines({"name": "x"}))


def test_every_ingest_variable_is_read(world, monkeypatch):
    """Each processor-only variable of the contract changes what the processor sees."""
    base = world.processor.ingest_settings()
    changed = {
        contract.IngestEnv.INGEST_TENANTS: ("tenants", "t1,t2", frozenset({"t1", "t2"})),
        contract.IngestEnv.MAX_OBJECT_BYTES: ("max_object_bytes", "2048", 2048),
        contract.IngestEnv.MAX_ITEMS_PER_OBJECT: ("max_items_per_object", "7", 7),
        contract.IngestEnv.DEAD_LETTER_QUEUE_URL: ("dead_letter_queue_url", "https://sqs.example/q", "https://sqs.example/q"),
    }
    for env, (field, raw, value) in changed.items():
        monkeypatch.setenv(env, raw)
        world.processor.reset()
        assert getattr(world.processor.ingest_settings(), field) == value != getattr(base, field), env
    shared = set(contract.INGEST_ENV_NAMES) - set(changed)
    assert shared <= set(contract.ENV_NAMES)  # the rest are the API's own variables, read by config.py
