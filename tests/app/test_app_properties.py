"""Property-based tests (Hypothesis): tenant isolation and robustness against any request."""

from __future__ import annotations

import base64
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app_testkit import KEYS, Api, LambdaContext, fresh_aws, make_event

TENANT_KEYS = {"tenant-a": "key-a", "tenant-b": "key-b"}
IDS = ["x0", "x1", "x2", "x3"]  # small pool so both tenants collide on ids

operation = st.fixed_dictionaries(
    {
        "tenant": st.sampled_from(sorted(TENANT_KEYS)),
        "op": st.sampled_from(["create", "get", "update", "delete", "list", "count"]),
        "item": st.sampled_from(IDS),
        "stale": st.booleans(),
        "name": st.text(min_size=1, max_size=20),
    }
)


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_two_tenants_never_see_or_change_each_others_items(lam, ops):
    """Random interleavings of both tenants' operations on overlapping ids.

    A model keeps each tenant's items (id -> (name, version)); every response
    must match the caller's own model, whatever the other tenant did.
    """
    with fresh_aws(lam) as world:
        api = Api(lam)
        model: dict[str, dict[str, tuple[str, int]]] = {t: {} for t in TENANT_KEYS}
        for step in ops:
            tenant, key, item_id = step["tenant"], TENANT_KEYS[step["tenant"]], step["item"]
            mine = model[tenant]
            path = f"/items/{item_id}"

            if step["op"] == "create":
                reply = api.post("/items", {"id": item_id, "name": step["name"]}, key=key)
                if item_id in mine:
                    assert reply.status == 409
                else:
                    assert reply.status == 201
                    mine[item_id] = (step["name"], 1)
            elif step["op"] == "get":
                reply = api.get(path, key=key)
                if item_id in mine:
                    assert reply.status == 200
                    assert (reply.body["name"], reply.body["version"]) == mine[item_id]
                else:
                    assert reply.status == 404
            elif step["op"] == "update":
                version = mine[item_id][1] if item_id in mine else 1
                if step["stale"]:
                    version += 1
                reply = api.put(path, {"name": step["name"], "version": version}, key=key)
                if item_id not in mine:
                    assert reply.status == 404
                elif step["stale"]:
                    assert reply.status == 409
                else:
                    assert reply.status == 200
                    mine[item_id] = (step["name"], version + 1)
            elif step["op"] == "delete":
                reply = api.delete(path, key=key)
                assert reply.status == (204 if item_id in mine else 404)
                mine.pop(item_id, None)
            elif step["op"] == "list":
                reply = api.get("/items", key=key, query={"limit": "100"})
                assert reply.status == 200
                assert {i["id"]: (i["name"], i["version"]) for i in reply.body["items"]} == mine
            else:
                reply = api.get("/metrics", key=key)
                assert reply.body["item_count"] == len(mine)
                assert reply.body["tenant_id"] == tenant

        # What is stored is exactly each tenant's model, in each tenant's own partition.
        for tenant, items in model.items():
            stored = {
                raw["item_id"]["S"]: (raw["name"]["S"], int(raw["version"]["N"])) for raw in world.raw_items(tenant)
            }
            assert stored == items
        # And every event names the tenant that made the write.
        for event in world.received_events():
            detail = event["detail"]
            assert detail["tenant_id"] in TENANT_KEYS


# ---------------------------------------------------------------------------- fuzzing

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
item_bodies = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=70) | json_values,
        "name": st.text(max_size=210) | json_values,
        "attributes": st.dictionaries(st.text(max_size=10), json_values, max_size=6) | json_values,
        "version": st.integers(min_value=-5, max_value=2**64) | json_values,
    },
)
raw_bodies = st.one_of(
    st.none(),
    item_bodies.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=200),
    st.sampled_from(["{", "[]", "null", "NaN", '{"name": Infinity}', '{"name": "\\ud800"}', "1e999999"]),
)
path_segments = st.one_of(
    st.sampled_from(["items", "health", "metrics", "x0", "", "..", "%2F", "%00", "items%2Fx"]),
    st.text(max_size=12),
)
paths = st.one_of(
    st.sampled_from(["/items", "/items/x0", "/health", "/metrics", "/", "/items/", "/items/x0/"]),
    st.lists(path_segments, min_size=0, max_size=4).map(lambda parts: "/" + "/".join(parts)),
)
methods = st.one_of(
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get", "post"]),
    st.text(min_size=1, max_size=8),
)
queries = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["limit", "next_token", "tenant_id", "x"]) | st.text(max_size=5),
        st.text(max_size=40) | st.integers(min_value=-5, max_value=500).map(str),
        max_size=3,
    ),
)
origins = st.sampled_from([None, "https://app.example.com", "https://evil.example.net"])
anything = st.fixed_dictionaries(
    {
        "method": methods,
        "path": paths,
        "body": raw_bodies,
        "query": queries,
        "key": st.sampled_from([*KEYS, "unknown", "", None]),
        "base64": st.booleans(),
        "origin": origins,
    }
)


def _token(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


list_queries = st.fixed_dictionaries(
    {},
    optional={
        "limit": st.integers(min_value=-5, max_value=200).map(str) | st.text(max_size=4),
        "next_token": st.one_of(
            st.text(max_size=40),
            st.fixed_dictionaries({"t": st.sampled_from(["tenant-a", "tenant-b", "x"]), "k": json_values}).map(_token),
            json_values.map(_token),
        ),
    },
)
# Well-aimed requests: a real route, a valid key, a JSON body that is almost right.
aimed = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
        "path": st.sampled_from(["/items", "/items/x0", "/items/x1", "/items/new", "/metrics", "/health"]),
        "body": st.one_of(item_bodies.map(json.dumps), raw_bodies),
        "query": list_queries,
        "key": st.sampled_from(["key-a", "key-b"]),
        "base64": st.just(False),
        "origin": origins,
    }
)
requests = st.one_of(anything, aimed)


def test_any_request_gets_a_2xx_or_4xx_json_answer(lam):
    """Random methods, paths, query strings, keys and bodies: never a 5xx."""
    with fresh_aws(lam) as _world:
        api = Api(lam)
        for i in range(3):  # something to find
            api.post("/items", {"id": f"x{i}", "name": "seed", "attributes": {"n": i}})

        @settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
        @given(request=requests)
        def check(request):
            headers = {"Origin": request["origin"]} if request["origin"] else None
            body = request["body"]
            event = make_event(
                request["method"],
                request["path"],
                body=body,
                key=request["key"],
                query=request["query"],
                headers=headers,
            )
            if request["base64"] and body is not None:
                event["isBase64Encoded"] = True
                event["body"] = base64.b64encode(body.encode("utf-8", "surrogatepass")).decode("ascii")
            response = lam.app.handler(event, LambdaContext())
            status = response["statusCode"]
            assert 200 <= status < 500, (status, response.get("body"))
            if status >= 400:
                error = json.loads(response["body"])
                assert error["message"]
                assert error["correlation_id"] == event["requestContext"]["requestId"]

        check()
