"""The infrastructure builds from the application's contract (lambda/contract.py).

The application's side is checked in tests/app/test_app_contract.py; a route, variable, key or
event type added on one side only fails one of the two.
"""

from __future__ import annotations

import json

from tests import item_api as contract
from tests.synth import REGIONS


def _resource_paths(tf, provider: str) -> dict[str, str]:
    """resource id reference -> its full path, rebuilt from path_part and parent_id."""
    resources = {n: b for n, b in tf.resources("aws_api_gateway_resource").items() if b["provider"] == provider}
    paths: dict[str, str] = {}

    def path_of(name: str) -> str:
        if name not in paths:
            body = resources[name]
            parent = body["parent_id"]
            prefix = "" if parent.endswith(".root_resource_id}") else path_of(tf.referenced(parent)[1])
            paths[name] = f"{prefix}/{body['path_part']}"
        return paths[name]

    return {tf.ref("aws_api_gateway_resource", n, "id"): path_of(n) for n in resources}


def test_each_regions_api_serves_exactly_the_contract_routes(any_tf):
    expected = {(r.path, r.method, r.api_key, r.model) for r in contract.ROUTES}
    models = {tf_name: body for tf_name, body in any_tf.resources("aws_api_gateway_model").items()}
    for provider in REGIONS:
        paths = _resource_paths(any_tf, provider)
        served = set()
        for method in any_tf.resources("aws_api_gateway_method").values():
            if method["provider"] != provider or method["http_method"] == "OPTIONS":
                continue
            model_ref = (method.get("request_models") or {}).get("application/json")
            model = models[any_tf.referenced(model_ref)[1]]["name"] if model_ref else None
            served.add((paths[method["resource_id"]], method["http_method"], method["api_key_required"], model))
        assert served == expected, provider
        assert {paths[m["resource_id"]] for m in any_tf.resources("aws_api_gateway_method").values()
                if m["provider"] == provider and m["http_method"] == "OPTIONS"} == {r.path for r in contract.ROUTES}


def test_the_edge_models_are_the_contract_models(any_tf):
    for body in any_tf.resources("aws_api_gateway_model").values():
        assert json.loads(body["schema"]) == contract.ITEM_MODELS[body["name"]]
    assert len(any_tf.resources("aws_api_gateway_model")) == len(contract.ITEM_MODELS) * len(REGIONS)


def test_the_function_gets_exactly_the_contract_variables(any_tf):
    for _, fn in any_tf.by_provider("aws_lambda_function", handler="app.handler").values():
        optional = set(fn["environment"]["variables"]) - set(contract.ENV_NAMES)
        assert set(contract.ENV_NAMES) <= set(fn["environment"]["variables"])
        assert optional <= set(contract.OPTIONAL_ENV_NAMES)  # set only while their module is on
        assert fn["environment"]["variables"][contract.Env.EVENT_SOURCE] == contract.EVENT_SOURCE


def test_the_table_uses_the_contract_keys(any_tf):
    (_, table), = any_tf.resources("aws_dynamodb_table").items()
    assert (table["hash_key"], table["range_key"]) == (contract.PARTITION_KEY, contract.SORT_KEY)
    assert table["ttl"]["attribute_name"] == contract.TTL_ATTRIBUTE
    assert {a["name"] for a in table["attribute"]} == {contract.PARTITION_KEY, contract.SORT_KEY}


def test_forwarding_matches_the_contract_source_and_origin_field(default_tf):
    rules = default_tf.resources("aws_cloudwatch_event_rule").values()
    assert len(rules) == len(REGIONS)
    for rule in rules:
        pattern = json.loads(rule["event_pattern"])
        assert pattern["source"] == [contract.EVENT_SOURCE]
        assert set(pattern["detail"]) == {contract.ORIGIN_REGION_FIELD}
