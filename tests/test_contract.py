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


# ---------------------------------------------------------------- one source per fact (issue 19)

import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tapinfra.runtime import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE  # noqa: E402
from tapinfra.runtime import health as health_contract  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CANARY_DIR = ROOT / "canary" / "nodejs" / "node_modules"


def _sources(*globs: str) -> dict[str, str]:
    """relative path -> text of the tree's own sources matching ``globs`` (no venv, no _fastimport)."""
    found = {}
    for pattern in globs:
        for path in ROOT.glob(pattern):
            rel = path.relative_to(ROOT).as_posix()
            if "/_fastimport/" in rel or "__pycache__" in rel or rel.startswith((".venv/", "tests/")):
                continue
            found[rel] = path.read_text(encoding="utf-8")
    return found


def test_the_drain_parameter_path_is_built_in_one_place():
    """``/<app>/<env>/drain`` is spelled by tapinfra/function_environment.py alone; the construct,
    the size estimate and the name limits call it."""
    spelled = {rel for rel, text in _sources("tapinfra/**/*.py", "lambda/*.py").items() if re.search(r'/drain"', text)}
    assert spelled == {"tapinfra/function_environment.py"}


def test_the_function_environment_is_built_in_one_place():
    """Only the builder maps the contract's variable names to values: the construct and the
    4 KB estimate (config.function_environment) both call it."""
    building = {rel for rel, text in _sources("tapinfra/**/*.py").items()
                if re.search(r"(\bEnv\.(TABLE_NAME|TENANT_KEYS|POWERTOOLS_LOG_LEVEL)|\"(TENANT_KEYS|POWERTOOLS_LOG_LEVEL)\")\s*:", text)}
    assert building == {"tapinfra/function_environment.py"}


def test_the_estimate_and_the_construct_use_the_same_builder(default_tf):
    """Same variables and the same drain switch (tests/test_config_hostile.py compares the sizes)."""
    from tapinfra.config import function_environment
    from tests.synth import example_config

    estimate = function_environment(example_config("default"))
    for _, (_, fn) in default_tf.by_provider("aws_lambda_function", handler="app.handler").items():
        deployed = fn["environment"]["variables"]
        assert set(deployed) == set(estimate)
        rtype, name, _ = default_tf.referenced(deployed[contract.Env.DRAIN_PARAMETER_NAME])
        assert default_tf.resources(rtype)[name]["name"] == estimate[contract.Env.DRAIN_PARAMETER_NAME]


def test_the_handler_reads_the_table_keys_from_the_contract():
    """The item store, the conflict counter and /health name the table's keys through the
    contract; a quoted key name left in them would survive a change of the contract."""
    for rel in ("lambda/items.py", "lambda/conflicts.py", "lambda/health.py"):
        text = (ROOT / rel).read_text(encoding="utf-8")
        # conflicts.py logs a record whose fields happen to share the names: "tenant_id": _text(new, PARTITION_KEY)
        text = re.sub(r'"\w+": _text\(', "", text)
        for key in (PARTITION_KEY, SORT_KEY):
            assert f'"{key}"' not in text, (rel, key)
        # the TTL attribute's name is also the API's field: items.py spells that field once, in public()
        assert text.count(f'"{TTL_ATTRIBUTE}"') == (1 if rel == "lambda/items.py" else 0), rel
        assert f'"{TTL_ATTRIBUTE}": item.get(TTL_ATTRIBUTE)' in text or rel != "lambda/items.py"


def test_the_health_body_is_built_by_the_contract():
    """lambda/health.py builds its body with health_body and judges nothing by a quoted field name."""
    text = (ROOT / "lambda" / "health.py").read_text(encoding="utf-8")
    assert "health_contract.health_body(" in text
    for literal in ('"status"', '"checks"', '"draining"', '"degraded"', "200 if"):
        assert literal not in text, literal
    smoke = (ROOT / "tapinfra" / "operator" / "smoke.py").read_text(encoding="utf-8")
    assert "health_problem(" in smoke and 'get("status")' not in smoke


def test_the_canarys_contract_file_is_current():
    """The canary carries the contract as JSON; regenerate with tools/update_health_contract.py."""
    assert (CANARY_DIR / "tapHealthContract.json").read_text(encoding="utf-8") == health_contract.canary_contract_json(), \
        "stale: run .venv/bin/python tools/update_health_contract.py"


HEALTH_CASES = [
    (200, health_contract.health_body("ok", "us-east-1", "ok", "off"), "us-east-1"),
    (200, health_contract.health_body("ok", "us-east-1", "ok", "off"), None),
    (503, health_contract.health_body("draining", "us-east-1", "ok", "on"), None),
    (200, health_contract.health_body("degraded", "us-east-1", "timeout", "off"), None),
    (200, health_contract.health_body("ok", "us-west-2", "ok", "off"), "us-east-1"),
    (200, {"region": "us-east-1", "checks": {}}, None),
    (200, {"status": "ok", "checks": {}}, None),
    (200, {"status": "ok", "region": "", "checks": {}}, None),
    (200, {"status": "ok", "region": "us-east-1"}, None),
    (200, {"status": "ok", "region": "us-east-1", "checks": []}, None),
    (200, ["ok"], None),
]


def test_the_canary_and_smoke_judge_health_alike():
    """The Node canary's judge and the runtime's health_problem give the same verdict and reason."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = ("const { judge } = require(process.argv[1]);"
              "const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "process.stdout.write(JSON.stringify(cases.map(([c, b, r]) => judge(c, JSON.stringify(b), r || undefined))));")
    done = subprocess.run([node, "-e", script, str(CANARY_DIR / "tapHealth.js")], input=json.dumps(HEALTH_CASES),
                          capture_output=True, text=True, timeout=60, check=True)
    verdicts = json.loads(done.stdout)
    expected = [{"ok": p is None, "reason": p} for p in (health_contract.health_problem(*case) for case in HEALTH_CASES)]
    assert verdicts == expected
    assert [v["ok"] for v in verdicts] == [True, True, False, False, False, False, False, False, False, False, False]
