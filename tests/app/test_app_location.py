"""``Location`` on a 201 is a path the caller can follow, whichever URL it called (issue 21).

The stage invoke URL (``https://<api>.execute-api.<region>.amazonaws.com/<stage>/items``) and a
custom domain mapped at its root (``https://api.example.com/items``) reach the same function with
the same ``path`` (``/items``); only ``requestContext`` tells them apart. Each shape is tested by
following the Location back to the item: resolved against the URL the client called, then sent
as that host would send it to the function.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import urljoin, urlsplit

import pytest

from app_testkit import LambdaContext, make_event

INVOKE_HOST = "abcdef1234.execute-api.us-east-1.amazonaws.com"
CUSTOM_HOST = "api.example.com"


def event_on(host: str, stage: str, method: str, client_path: str, *, context_path: bool = True, **kw) -> dict:
    """The event API Gateway sends for ``client_path`` called on ``host``."""
    on_invoke_url = host == INVOKE_HOST
    path = client_path.removeprefix(f"/{stage}") if on_invoke_url else client_path
    event = make_event(method, path, **kw)
    event["requestContext"].update({"domainName": host, "stage": stage, "path": client_path})
    if not context_path:
        del event["requestContext"]["path"]
    event["headers"]["Host"] = host
    return event


def call(lam, event: dict) -> dict:
    return lam.app.handler(event, LambdaContext(aws_request_id=str(uuid.uuid4())))


def header(response: dict, name: str) -> str:
    (value,) = (response.get("multiValueHeaders") or {})[name]
    return value


SHAPES = [
    # host, stage, the URL the client posts to, the Location expected
    pytest.param(INVOKE_HOST, "prod", "/prod/items", "/prod/items/{id}", id="stage invoke URL"),
    pytest.param(INVOKE_HOST, "dev2", "/dev2/items/", "/dev2/items/{id}", id="stage invoke URL, trailing slash"),
    pytest.param(CUSTOM_HOST, "prod", "/items", "/items/{id}", id="custom domain at its root"),
]


@pytest.mark.parametrize(("host", "stage", "collection", "expected"), SHAPES)
@pytest.mark.parametrize("context_path", [True, False], ids=["with requestContext.path", "without"])
def test_location_resolves_to_the_created_item(lam, aws, host, stage, collection, expected, context_path):
    created = call(lam, event_on(host, stage, "POST", collection, body={"name": "widget"}, context_path=context_path))
    assert created["statusCode"] == 201, created["body"]
    item_id = json.loads(created["body"])["id"]
    location = header(created, "Location")
    assert location == expected.format(id=item_id)

    followed = urlsplit(urljoin(f"https://{host}{collection}", location))
    assert followed.netloc == host
    read = call(lam, event_on(host, stage, "GET", followed.path))
    assert read["statusCode"] == 200 and json.loads(read["body"])["id"] == item_id


def test_a_root_relative_items_location_would_leave_the_stage(lam, aws):
    """What the issue saw: ``/items/{id}`` against the invoke URL lands outside ``/<stage>``."""
    created = call(lam, event_on(INVOKE_HOST, "prod", "POST", "/prod/items", body={"name": "w"}))
    assert urljoin(f"https://{INVOKE_HOST}/prod/items", header(created, "Location")).startswith(
        f"https://{INVOKE_HOST}/prod/items/")
