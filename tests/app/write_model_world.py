"""Two regions on moto, and the handler configured as each region's function is.

moto has no global tables: each region gets its own table, and :meth:`TwoRegions.replicate`
plays replication (copy what changed, last writer wins, and hand back the stream records the
receiving copy would emit). Entering a region gives the handler that region's environment and a
fresh container (its own clients and caches), as Lambda would.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid

from app_testkit import BUS, DRAIN_PARAM, TABLE, LambdaContext, make_event, Reply, reset_state
from tapinfra.runtime import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE, Env

PRIMARY, SECONDARY = "us-east-1", "us-west-2"
REGIONS = (PRIMARY, SECONDARY)


def _client(service: str, region: str):
    import botocore.session  # noqa: PLC0415

    return botocore.session.get_session().create_client(service, region_name=region)


class TwoRegions:
    """Both regions' tables, buses and drain switches, and a handler per region."""

    def __init__(self, lam, monkeypatch, mode: str):
        self.lam, self.monkeypatch, self.mode = lam, monkeypatch, mode
        self.dynamodb = {r: _client("dynamodb", r) for r in REGIONS}
        self.ssm = {r: _client("ssm", r) for r in REGIONS}
        for region in REGIONS:
            self.dynamodb[region].create_table(
                TableName=TABLE,
                KeySchema=[{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}, {"AttributeName": SORT_KEY, "KeyType": "RANGE"}],
                AttributeDefinitions=[{"AttributeName": PARTITION_KEY, "AttributeType": "S"},
                                      {"AttributeName": SORT_KEY, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            _client("events", region).create_event_bus(Name=BUS)
            self.set_drain(region, "off")
        self.region: str | None = None

    # -- the deployment

    def set_drain(self, region: str, value: str) -> None:
        self.ssm[region].put_parameter(Name=DRAIN_PARAM, Value=value, Type="SecureString", Overwrite=True)

    def enter(self, region: str, *, fresh: bool = True) -> None:
        """Requests from now on reach ``region``'s function (a new container unless ``fresh=False``)."""
        for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            self.monkeypatch.setenv(name, region)
        self.monkeypatch.setenv(Env.WRITE_MODE, self.mode)
        self.monkeypatch.setenv(Env.WRITE_REGIONS, ",".join(REGIONS))
        if fresh or region != self.region:
            reset_state(self.lam)
        else:
            self.lam.config.reset()
        self.region = region

    def call(self, region: str, method: str, path: str, **kwargs) -> Reply:
        if region != self.region:
            self.enter(region)
        event = make_event(method, path, **kwargs)
        response = self.lam.app.handler(event, LambdaContext(aws_request_id=str(uuid.uuid4())))
        headers = dict(response.get("headers") or {})
        for k, values in (response.get("multiValueHeaders") or {}).items():
            headers[k] = ",".join(values)
        return Reply(response["statusCode"], headers, response.get("body") or "", event)

    def stream(self, region: str, records: list[dict]) -> dict:
        """Deliver stream records to ``region``'s function, as its event source mapping would."""
        self.enter(region)
        return self.lam.app.handler({"Records": records}, LambdaContext(aws_request_id=str(uuid.uuid4())))

    # -- the table copies

    def items(self, region: str, tenant: str = "tenant-a") -> dict[str, dict]:
        response = self.dynamodb[region].query(
            TableName=TABLE, KeyConditionExpression="#t = :t",
            ExpressionAttributeNames={"#t": PARTITION_KEY}, ExpressionAttributeValues={":t": {"S": tenant}})
        return {raw[SORT_KEY]["S"]: raw for raw in response["Items"]}

    def everything(self, region: str) -> dict[tuple[str, str], dict]:
        response = self.dynamodb[region].scan(TableName=TABLE)
        return {(raw[PARTITION_KEY]["S"], raw[SORT_KEY]["S"]): raw for raw in response["Items"]}

    def replicate(self, source: str, target: str) -> list[dict]:
        """Copy every item of ``source`` that ``target`` lacks or holds differently, and delete what
        ``source`` no longer has; return the stream records ``target``'s copy would emit."""
        records = []
        have, want = self.everything(target), self.everything(source)
        for key, raw in want.items():
            old = have.get(key)
            if old == raw:
                continue
            self.dynamodb[target].put_item(TableName=TABLE, Item=raw)
            records.append(stream_record("MODIFY" if old else "INSERT", raw, old, at=time.time()))
        for key, old in have.items():
            if key not in want:
                self.dynamodb[target].delete_item(TableName=TABLE, Key={PARTITION_KEY: old[PARTITION_KEY], SORT_KEY: old[SORT_KEY]})
                records.append(stream_record("REMOVE", None, old, at=time.time()))
        return records


def stream_record(event_name: str, new: dict | None, old: dict | None, at: float | None = None) -> dict:
    """A DynamoDB stream record as Lambda delivers it (NEW_AND_OLD_IMAGES)."""
    image = new or old
    change = {"Keys": {PARTITION_KEY: image[PARTITION_KEY], SORT_KEY: image[SORT_KEY]}, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if new is not None:
        change["NewImage"] = new
    if old is not None:
        change["OldImage"] = old
    if at is not None:
        change["ApproximateCreationDateTime"] = at
    return {"eventID": uuid.uuid4().hex, "eventName": event_name, "eventSource": "aws:dynamodb",
            "awsRegion": PRIMARY, "dynamodb": change}


@contextlib.contextmanager
def two_regions(lam, monkeypatch, mode: str):
    from moto import mock_aws  # noqa: PLC0415

    reset_state(lam)
    with mock_aws():
        try:
            yield TwoRegions(lam, monkeypatch, mode)
        finally:
            reset_state(lam)


def body_of(reply: Reply) -> dict:
    return json.loads(reply.raw_body) if reply.raw_body else {}


__all__ = ["PRIMARY", "REGIONS", "SECONDARY", "TTL_ATTRIBUTE", "TwoRegions", "body_of", "stream_record", "two_regions"]
