"""Error responses: 400/405/404/413/500 bodies, CORS headers."""

from __future__ import annotations

import io
import json

import pytest

from app_testkit import ORIGIN, OTHER_ORIGIN


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("{", "malformed JSON"),
        ("{'name': 'single quotes'}", "malformed JSON"),
        ('{"name": "x",}', "malformed JSON"),
        ('{"name": NaN}', "malformed JSON"),
        ('{"name": "x", "attributes": {"n": Infinity}}', "malformed JSON"),
        ("[" * 5000 + "]" * 5000, "malformed JSON"),
    ],
)
def test_malformed_json_is_400(api, aws, raw, fragment):
    reply = api.post("/items", raw)
    assert reply.status == 400
    assert reply.body["error"] == "bad_request"
    assert reply.body["message"].startswith(fragment)
    assert aws.raw_items("tenant-a") == []


def test_missing_body_is_400(api):
    reply = api.post("/items", None)
    assert reply.status == 400
    assert reply.body["message"] == "a JSON object body is required"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "invalid body: body must be object"),
        (json.dumps("just a string"), "invalid body: body must be object"),
        ({}, "invalid body: body must contain ['name'] properties"),
        ({"name": ""}, "invalid body: name must be longer than or equal to 1 characters"),
        ({"name": "x" * 201}, "invalid body: name must be shorter than or equal to 200 characters"),
        ({"name": 5}, "invalid body: name must be string"),
        ({"name": "x", "colour": "red"}, "invalid body: body must not contain {'colour'} properties"),
        ({"name": "x", "attributes": []}, "invalid body: attributes must be object"),
        ({"name": "x", "attributes": {"": 1}}, "invalid body: attributes has an empty key"),
        ({"name": "x", "attributes": {"k" * 129: 1}}, "invalid body: attributes has a key longer than 128"),
        (
            '{"name": "x", "attributes": {"n": 1.2345678901234567890123456789012345678901}}',
            "invalid body: attributes.n is out of the storable range",
        ),
        ('{"name": "x", "attributes": {"n": 1.23456789012345678901234567890123456780000000}}', None),
        (
            {"name": "x", "attributes": {f"k{i}": i for i in range(51)}},
            "invalid body: attributes must contain less than or equal to 50 properties",
        ),
        ({"name": "x", "attributes": {"n": 1e200}}, "invalid body: attributes.n is out of the storable range"),
        ({"name": "x", "attributes": {"n": 10**60 + 1}}, "invalid body: attributes.n is out of the storable range"),
        ({"name": "x", "attributes": {"m": {"": 1}}}, "invalid body: attributes.m has an empty key"),
        (
            {"name": "x", "attributes": {"deep": json.loads("[" * 20 + "]" * 20)}},
            "invalid body: attributes.deep[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0] is nested deeper",
        ),
    ],
)
def test_schema_violations_are_400_naming_the_field(api, aws, body, message):
    reply = api.post("/items", body)
    if message is None:  # control case: trailing zeros do not count as digits
        assert reply.status == 201, reply.raw_body
        return
    assert reply.status == 400, reply.raw_body
    assert reply.body["message"].startswith(message), reply.body["message"]
    assert aws.raw_items("tenant-a") == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "x", "version": 0}, "invalid body: version must be bigger than or equal to 1"),
        ({"name": "x", "version": "1"}, "invalid body: version must be integer"),
        ({"name": "x", "version": 1.0}, "invalid body: version must be integer"),
        ({"name": "x", "version": True}, "invalid body: version must be integer"),
        ({"name": "x", "version": 1, "id": "other"}, "invalid body: body must not contain {'id'} properties"),
    ],
)
def test_update_schema_violations_are_400(api, body, message):
    api.post("/items", {"id": "u", "name": "x"})
    reply = api.put("/items/u", body)
    assert reply.status == 400
    assert reply.body["message"] == message


def test_lone_surrogate_text_is_400_not_500(api):
    reply = api.post("/items", '{"name": "bad \\ud800 text"}')
    assert reply.status == 400
    assert reply.body["message"] == "invalid body: name is not valid UTF-8 text"


def test_body_over_limit_is_413(api, aws):
    body = json.dumps({"name": "x", "attributes": {"blob": "y" * 16400}})
    reply = api.post("/items", body)
    assert reply.status == 413
    assert reply.body["error"] == "payload_too_large"
    assert "16384" in reply.body["message"]
    assert aws.raw_items("tenant-a") == []


def test_limit_counts_utf8_bytes_not_characters(api, set_env):
    set_env("MAX_BODY_BYTES", "100")
    assert api.post("/items", '{"name": "' + "é" * 44 + '"}').status == 201  # 56 characters, 100 bytes
    reply = api.post("/items", '{"name": "' + "é" * 45 + '"}')  # 57 characters, 102 bytes
    assert reply.status == 413
    assert reply.body["message"] == "request body is 102 bytes; the limit is 100 bytes"


def test_base64_encoded_body_is_accepted(api):
    reply = api.post("/items", {"name": "binary-mode"}, base64_body=True)
    assert reply.status == 201
    assert reply.body["name"] == "binary-mode"


def test_invalid_base64_body_is_400(api):
    event_body = "%%% not base64 %%%"
    reply = api.call("POST", "/items", body=event_body)
    assert reply.status == 400
    reply = api.lam.app.handler(
        {**reply.event, "isBase64Encoded": True, "body": "%%%"}, __import__("app_testkit").LambdaContext()
    )
    assert reply["statusCode"] == 400


@pytest.mark.parametrize("path", ["/", "/nope", "/items/a/b", "/itemsx", "/health/deep", "/v2/items"])
def test_unknown_route_is_404_json(api, path):
    reply = api.get(path)
    assert reply.status == 404
    assert reply.body["error"] == "not_found"
    assert path in reply.body["message"]
    assert reply.body["correlation_id"] == reply.event["requestContext"]["requestId"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/items", "GET, POST"),
        ("PATCH", "/items", "GET, POST"),
        ("POST", "/items/abc", "GET, PUT, DELETE"),
        ("PATCH", "/items/abc", "GET, PUT, DELETE"),
        ("POST", "/health", "GET"),
        ("PUT", "/metrics", "GET"),
    ],
)
def test_wrong_method_on_known_route_is_405_with_allow(api, method, path, allowed):
    reply = api.call(method, path, body={"name": "x"})
    assert reply.status == 405
    assert reply.header("Allow") == allowed
    assert reply.body["error"] == "method_not_allowed"
    assert method in reply.body["message"]


def test_unexpected_exception_is_500_with_only_the_correlation_id(api, lam, monkeypatch):
    import items  # noqa: PLC0415
    from observability import logger  # noqa: PLC0415

    def explode(*_args):
        raise RuntimeError("secret internal detail: arn:aws:dynamodb:...")

    monkeypatch.setattr(items, "get", explode)
    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)
    try:
        reply = api.get("/items/abc", request_id="req-123")
    finally:
        logger.registered_handler.setStream(previous)

    assert reply.status == 500
    assert reply.body == {"message": "internal error", "correlation_id": "req-123"}
    assert "secret" not in reply.raw_body
    # The details go to the structured log, under the same correlation id.
    errors = [json.loads(line) for line in stream.getvalue().splitlines()]
    errors = [entry for entry in errors if entry["level"] == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["correlation_id"] == "req-123"
    assert errors[0]["tenant_id"] == "tenant-a"
    assert "secret internal detail" in errors[0]["exception"]


def test_aws_failure_is_500_not_leaked(api, aws):
    aws.dynamodb.delete_table(TableName="tap-items-test")
    reply = api.get("/items/abc")
    assert reply.status == 500
    assert set(reply.body) == {"message", "correlation_id"}
    assert "ResourceNotFound" not in reply.raw_body


def test_malformed_event_is_500_not_a_crash(lam):
    from app_testkit import LambdaContext  # noqa: PLC0415

    response = lam.app.handler({"path": None, "httpMethod": None, "requestContext": {}}, LambdaContext())
    assert response["statusCode"] == 500
    assert json.loads(response["body"])["message"] == "internal error"


def test_correlation_id_falls_back_to_lambda_request_id(api, lam):
    from app_testkit import LambdaContext, make_event  # noqa: PLC0415

    event = make_event("GET", "/nope")
    del event["requestContext"]["requestId"]
    response = lam.app.handler(event, LambdaContext(aws_request_id="lambda-req-9"))
    assert json.loads(response["body"])["correlation_id"] == "lambda-req-9"


# ---------------------------------------------------------------------------- CORS


@pytest.mark.parametrize("origin", [ORIGIN, OTHER_ORIGIN])
def test_allowed_origins_get_cors_headers_on_success_and_error(api, origin):
    ok = api.get("/items", headers={"Origin": origin})
    assert ok.status == 200
    assert ok.header("Access-Control-Allow-Origin") == origin
    error = api.get("/items/abc", headers={"Origin": origin})
    assert error.status == 404
    assert error.header("Access-Control-Allow-Origin") == origin
    forbidden = api.get("/items", headers={"Origin": origin}, key="nope")
    assert forbidden.status == 403
    assert forbidden.header("Access-Control-Allow-Origin") == origin


def test_other_origins_get_no_cors_headers(api):
    reply = api.get("/items", headers={"Origin": "https://evil.example.net"})
    assert reply.status == 200
    assert reply.header("Access-Control-Allow-Origin") is None


def test_preflight_is_answered(api):
    reply = api.call("OPTIONS", "/items", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}, key=None)
    assert reply.status == 204
    assert reply.header("Access-Control-Allow-Origin") == ORIGIN
    assert "POST" in reply.header("Access-Control-Allow-Methods")
    assert "X-Api-Key" in reply.header("Access-Control-Allow-Headers")
