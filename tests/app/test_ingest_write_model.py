"""The ingestion processor keeps the API's write model (moto, two regions, replication played
by the test world): in single-writer mode an ingested create runs on the writer's copy, like
``POST /items``, so an ingested line and an API create of one id meet on one copy and exactly
one of them makes the item, whichever regions they enter; draining the writer moves
ingestion's writes with the API's."""

from __future__ import annotations

import json
from urllib.parse import quote_plus

import pytest

from app_testkit import LambdaContext
from tapinfra.runtime import ANY_REGION, SINGLE_WRITER, IngestEnv
from write_model_world import PRIMARY, REGIONS, SECONDARY, _client, body_of, two_regions

OTHER = {PRIMARY: SECONDARY, SECONDARY: PRIMARY}
BUCKETS = {region: f"tap-ingest-{region}" for region in REGIONS}


class Ingestion:
    """Each region's ingest bucket and dead-letter queue, and its processor configured as deployed."""

    def __init__(self, world, processor, monkeypatch):
        self.world, self.processor, self.monkeypatch = world, processor, monkeypatch
        self.s3 = {r: _client("s3", r) for r in REGIONS}
        self.sqs = {r: _client("sqs", r) for r in REGIONS}
        self.queues = {}
        for region in REGIONS:
            config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            self.s3[region].create_bucket(Bucket=BUCKETS[region], **config)
            self.s3[region].put_bucket_versioning(Bucket=BUCKETS[region], VersioningConfiguration={"Status": "Enabled"})
            self.queues[region] = self.sqs[region].create_queue(QueueName="tap-ingest-dlq")["QueueUrl"]

    def upload(self, region: str, key: str, *bodies: dict) -> dict:
        """Upload an object to ``region``'s bucket and run that region's processor on its event."""
        data = ("\n".join(json.dumps(b) for b in bodies) + "\n").encode()
        version = self.s3[region].put_object(Bucket=BUCKETS[region], Key=key, Body=data)["VersionId"]
        self.world.enter(region)
        self.monkeypatch.setenv(IngestEnv.DEAD_LETTER_QUEUE_URL, self.queues[region])
        self.processor.reset()
        event = {"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": region, "eventName": "ObjectCreated:Put",
            "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": BUCKETS[region], "arn": f"arn:aws:s3:::{BUCKETS[region]}"},
                   "object": {"key": quote_plus(key), "size": len(data), "versionId": version}},
        }]}
        (result,) = self.processor.handler(event, LambdaContext(aws_request_id="req-ingest"))["objects"]
        return result

    def dead_letters(self, region: str) -> list[dict]:
        messages = self.sqs[region].receive_message(QueueUrl=self.queues[region], MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


@pytest.fixture
def processor(lam, monkeypatch):
    import ingest  # noqa: PLC0415 - lambda/ is on sys.path once the lam fixture has run

    monkeypatch.setenv(IngestEnv.INGEST_TENANTS, "tenant-a,tenant-b")
    monkeypatch.setenv(IngestEnv.MAX_OBJECT_BYTES, "4096")
    monkeypatch.setenv(IngestEnv.MAX_ITEMS_PER_OBJECT, "5")
    ingest.reset()
    yield ingest
    ingest.reset()


@pytest.fixture
def single(lam, monkeypatch, processor):
    with two_regions(lam, monkeypatch, SINGLE_WRITER) as world:
        yield world, Ingestion(world, processor, monkeypatch)


@pytest.fixture
def anywhere(lam, monkeypatch, processor):
    with two_regions(lam, monkeypatch, ANY_REGION) as world:
        yield world, Ingestion(world, processor, monkeypatch)


@pytest.mark.parametrize("drained,writer", [(None, PRIMARY), (PRIMARY, SECONDARY)],
                         ids=["writer=primary", "writer=secondary"])
@pytest.mark.parametrize("entry", REGIONS)
def test_an_upload_in_either_region_creates_its_items_on_the_writers_copy(single, entry, drained, writer):
    world, ingestion = single
    if drained:
        world.set_drain(drained, "on")
    result = ingestion.upload(entry, "tenant-a/batch.jsonl", {"id": "i1", "name": "one"}, {"id": "i2", "name": "two"})
    assert (result["outcome"], result["created"]) == ("ingested", 2)
    assert {"i1", "i2"} <= set(world.items(writer))
    assert not set(world.items(OTHER[writer])), "the other copy gets them by replication only"
    assert world.items(writer)["i1"]["updated_region"]["S"] == entry


@pytest.mark.parametrize("api_region,ingest_region", [(a, i) for a in REGIONS for i in REGIONS])
@pytest.mark.parametrize("first", ["api", "ingest"])
def test_an_ingested_create_and_an_api_create_of_one_id_make_one_item(single, api_region, ingest_region, first):
    """Whichever comes first wins; the second is refused (409) or counted as a duplicate, in any regions."""
    world, ingestion = single
    post = lambda: world.call(api_region, "POST", "/items", body={"id": "c1", "name": "from the api"})  # noqa: E731
    upload = lambda: ingestion.upload(ingest_region, "tenant-a/c.jsonl", {"id": "c1", "name": "from a file"})  # noqa: E731
    if first == "api":
        assert post().status == 201
        result = upload()
        assert (result["created"], result["duplicates"]) == (0, 1)
        winner = "from the api"
    else:
        result = upload()
        assert (result["created"], result["duplicates"]) == (1, 0)
        refused = post()
        assert refused.status == 409 and body_of(refused)["current"]["name"] == "from a file"
        winner = "from a file"
    assert world.items(PRIMARY)["c1"]["name"]["S"] == winner and world.items(PRIMARY)["c1"]["version"]["N"] == "1"
    assert "c1" not in world.items(SECONDARY)
    assert ingestion.dead_letters(ingest_region) == [], "a duplicate is not a rejection"


def test_any_region_ingestion_writes_its_own_copy_and_a_race_is_last_writer_wins(anywhere):
    """The contrast the docs state: any-region keeps no cross-region promise for creates either."""
    world, ingestion = anywhere
    assert world.call(PRIMARY, "POST", "/items", body={"id": "c1", "name": "from the api"}).status == 201
    result = ingestion.upload(SECONDARY, "tenant-a/c.jsonl", {"id": "c1", "name": "from a file"})
    assert result["created"] == 1, "each copy saw no c1: both creates succeed"
    assert world.items(SECONDARY)["c1"]["name"]["S"] == "from a file"
    assert world.items(PRIMARY)["c1"]["name"]["S"] == "from the api"


def test_an_unreachable_writer_fails_the_invocation_for_lambda_to_retry_not_a_local_write(single, lam, monkeypatch):
    world, ingestion = single
    from botocore.exceptions import EndpointConnectionError  # noqa: PLC0415

    class Down:
        def put_item(self, **_):
            raise EndpointConnectionError(endpoint_url=f"https://dynamodb.{PRIMARY}.amazonaws.com")

    real = lam.clients.dynamodb_in
    monkeypatch.setattr(lam.clients, "dynamodb_in", lambda region: Down() if region == PRIMARY else real(region))
    with pytest.raises(EndpointConnectionError):
        ingestion.upload(SECONDARY, "tenant-a/d.jsonl", {"id": "d1", "name": "x"})
    assert not world.items(SECONDARY) and not world.items(PRIMARY)
