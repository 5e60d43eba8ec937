"""Shared helpers for the application tests: environment, events, mocked AWS.

A module of its own (not conftest) so test modules can import it by a name
no other test directory uses.
"""

from __future__ import annotations

import base64
import contextlib
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.item_api import EVENT_SOURCE, Env, Tuning

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "lambda"

REGION = "us-east-1"
TABLE = "tap-items-test"
BUS = "tap-bus-test"
SOURCE = EVENT_SOURCE
DRAIN_PARAM = "/tap/test/drain"
ORIGIN = "https://app.example.com"
OTHER_ORIGIN = "https://admin.example.com"
KEYS = {"key-a": "tenant-a", "key-b": "tenant-b", "key-a-eu": "tenant-a"}

APP_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    Env.TABLE_NAME: TABLE,
    Env.EVENT_BUS_NAME: BUS,
    Env.EVENT_SOURCE: SOURCE,
    Env.RETENTION_DAYS: "30",
    Env.TENANT_KEYS: json.dumps(KEYS),
    Env.DRAIN_PARAMETER_NAME: DRAIN_PARAM,
    Env.CORS_ALLOWED_ORIGINS: f"{ORIGIN},{OTHER_ORIGIN}",
    Env.MAX_BODY_BYTES: "16384",
    Tuning.HEALTH_CACHE_SECONDS: "5",
    # Generous: beside the rehearsal, in-process moto can take over 2 s to answer (a drain-switch
    # test read "timeout" once). The tests of the timeout itself set their own.
    Tuning.HEALTH_TIMEOUT_SECONDS: "10",
    Env.POWERTOOLS_SERVICE_NAME: "tap-items",
    Env.POWERTOOLS_METRICS_NAMESPACE: "TapTest",
    Env.POWERTOOLS_LOG_LEVEL: "WARNING",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def reset_state(lam) -> None:
    lam.clients.reset()
    lam.config.reset()
    lam.health.reset()
    # The writer choice is cached per container like the health answer; callers that pass only
    # some modules (the operator tests) get it reset too, once the application imported it.
    writer = getattr(lam, "writer", None) or sys.modules.get("writer")
    if callable(getattr(writer, "reset", None)):
        writer.reset()


@dataclass
class LambdaContext:
    function_name: str = "tap-items"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:tap-items:live"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def make_event(
    method: str,
    path: str,
    *,
    body=None,
    key: str | None = "key-a",  # the API key *id* API Gateway reports
    query: dict | None = None,
    headers: dict | None = None,
    base64_body: bool = False,
    request_id: str | None = None,
) -> dict:
    """An API Gateway REST proxy event as API Gateway would send it."""
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
    if base64_body and body is not None:
        body = base64.b64encode(body.encode("utf-8")).decode("ascii")
    headers = dict(headers or {})
    if key is not None:
        headers.setdefault("x-api-key", "secret-value-not-used-by-the-app")
    request_id = request_id or str(uuid.uuid4())
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": request_id,
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "identity": {"apiKeyId": key, "sourceIp": "198.51.100.7", "apiKey": None},
        },
        "body": body,
        "isBase64Encoded": base64_body,
    }


@dataclass
class Reply:
    status: int
    headers: dict
    raw_body: str
    event: dict

    @property
    def body(self):
        return json.loads(self.raw_body) if self.raw_body else None

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class Api:
    """Invoke the real handler with API Gateway events."""

    def __init__(self, lam):
        self.lam = lam

    def call(self, method: str, path: str, **kwargs) -> Reply:
        event = make_event(method, path, **kwargs)
        response = self.lam.app.handler(event, LambdaContext(aws_request_id=str(uuid.uuid4())))
        headers = {k: v for k, v in (response.get("headers") or {}).items()}
        for k, values in (response.get("multiValueHeaders") or {}).items():
            headers[k] = ",".join(values)
        return Reply(response["statusCode"], headers, response.get("body") or "", event)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


_session = None


def test_client(service: str):
    """A client for arranging and inspecting the mocked account.

    One botocore session for the whole run: it caches the service models, so
    a client costs ~1 ms instead of ~40 ms.
    """
    global _session
    if _session is None:
        import botocore.session  # noqa: PLC0415

        _session = botocore.session.get_session()
    return _session.create_client(service, region_name=REGION)


class AwsWorld:
    """The mocked AWS resources of one region, plus a queue that sees every event."""

    def __init__(self, with_table: bool = True):
        self.dynamodb = test_client("dynamodb")
        self.events = test_client("events")
        self.sqs = test_client("sqs")
        self.ssm = test_client("ssm")
        if with_table:
            self.create_table()
        self.events.create_event_bus(Name=BUS)
        self.queue_url = self.sqs.create_queue(QueueName="observed-events")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.events.put_rule(
            Name="observe-items", EventBusName=BUS, EventPattern=json.dumps({"source": [SOURCE]}), State="ENABLED"
        )
        self.events.put_targets(Rule="observe-items", EventBusName=BUS, Targets=[{"Id": "q", "Arn": queue_arn}])

    def create_table(self):
        self.dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "tenant_id", "KeyType": "HASH"},
                {"AttributeName": "item_id", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "tenant_id", "AttributeType": "S"},
                {"AttributeName": "item_id", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        self.dynamodb.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
        )

    def set_drain(self, value: str):
        # The infrastructure creates the switch as a SecureString under the region's key.
        self.ssm.put_parameter(Name=DRAIN_PARAM, Value=value, Type="SecureString", Overwrite=True)

    def raw_items(self, tenant_id: str) -> list[dict]:
        response = self.dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="tenant_id = :t",
            ExpressionAttributeValues={":t": {"S": tenant_id}},
        )
        return response["Items"]

    def received_events(self) -> list[dict]:
        """Drain the observer queue: the EventBridge events delivered so far."""
        out = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
                "Messages", []
            )
            if not messages:
                return out
            for message in messages:
                out.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


@contextlib.contextmanager
def fresh_aws(lam, with_table: bool = True):
    """A brand-new mocked AWS account and a handler with no cached state."""
    from moto import mock_aws  # noqa: PLC0415 - only while a test runs

    reset_state(lam)
    with mock_aws():
        try:
            yield AwsWorld(with_table=with_table)
        finally:
            reset_state(lam)
