"""tapinfra used as a library: a user's own application, its own app and resources, the public API.

The user's application is ``examples/library`` (the orders service: its own handler, an
OpenAPI 3.1 YAML document with a root path, nested path parameters and query parameters);
its ``main.py`` adds a queue per region wired to the stack's typed results, overrides a stage
attribute through the escape hatch, and puts a second stack of its own in the same app.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tapinfra
from tapinfra.config import load_config, with_changes
from tapinfra.runtime import ENV_NAMES
from tests import tfcheck
from tests.synth import REGIONS, ROOT, Tf, scratch_app, synth

LIBRARY = ROOT / "examples" / "library"


def _example_module():
    spec = importlib.util.spec_from_file_location("examples_library_main", LIBRARY / "main.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example():
    return _example_module()


@pytest.fixture(scope="module")
def built(example):
    """(app's stacks by id, the TapStack, its Tf) of the library example, built in one test app."""
    from cdktf import Testing

    app = scratch_app()
    config = load_config(example.CONFIG, environ={})
    stack = example.build(app, config)
    stacks = {s.node.id: s for s in app.node.children}
    return stacks, stack, Tf(json.loads(Testing.synth(stack)))


def test_the_example_app_holds_the_tapinfra_stack_and_a_stack_of_its_own(built):
    stacks, stack, _ = built
    assert set(stacks) == {"orders-dev", "orders-ops"}
    assert stacks["orders-dev"] is stack


def test_every_route_of_the_users_document_is_served_in_both_regions_with_its_key_rule(built):
    _, stack, tf = built
    expected = {(r.path.rsplit("/", 1)[-1] or "", r.method, r.api_key) for r in stack.application.routes}
    assert ("", "GET", False) in expected and ("lines", "GET", True) in expected
    resources = tf.resources("aws_api_gateway_resource")
    for provider in REGIONS:
        parts = {r["path_part"] for r in resources.values() if r["provider"] == provider}
        assert parts == {"health", "orders", "{orderId}", "lines"}  # every prefix; / is the root resource
        served = {(m["http_method"], m["api_key_required"]) for m in tf.resources("aws_api_gateway_method").values()
                  if m["provider"] == provider and m["http_method"] != "OPTIONS"}
        assert served == {(m, k) for _, m, k in expected}


def test_path_and_query_parameters_and_cache_keys_come_from_the_document(built):
    _, _, tf = built
    for name, method in tf.resources("aws_api_gateway_method").items():
        if "get-orders-orderId-lines" in name:
            assert method["request_parameters"]["method.request.path.orderId"] is True
            assert "method.request.querystring.page" in method["request_parameters"]
    keyed = [i for n, i in tf.resources("aws_api_gateway_integration").items() if "get-orders-orderId-lines" in n]
    assert len(keyed) == 2
    for integration in keyed:  # the cache key: the tenant's key plus every input of the answer
        assert integration["cache_key_parameters"] == [
            "method.request.header.If-None-Match", "method.request.header.Origin", "method.request.header.x-api-key",
            "method.request.path.orderId", "method.request.querystring.page"]


def test_request_models_are_the_documents_schemas_in_draft_4(built):
    _, _, tf = built
    models = tf.resources("aws_api_gateway_model")
    assert {m["name"] for m in models.values()} == {"NewOrder"}
    schema = json.loads(next(iter(models.values()))["schema"])
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    line = schema["properties"]["lines"]["items"]  # the $ref inlined
    assert line["properties"]["quantity"] == {"type": "integer", "minimum": 0, "exclusiveMinimum": True, "maximum": 1000}
    assert schema["properties"]["note"] == {"type": ["string", "null"], "maxLength": 500}  # examples dropped


def test_the_function_runs_the_users_handler_with_tapinfras_environment_and_grants(built):
    _, stack, tf = built
    functions = tf.resources("aws_lambda_function")
    api_functions = [f for f in functions.values() if f["handler"] == "service.handler"]
    assert len(api_functions) == 2
    for function in api_functions:
        env = function["environment"]["variables"]
        assert env["EVENT_SOURCE"] == "orders.events"
        assert set(ENV_NAMES) <= set(env)
    rules = tf.resources("aws_cloudwatch_event_rule")
    forwarding = [json.loads(r["event_pattern"]) for r in rules.values() if "source" in json.loads(r.get("event_pattern", "{}"))]
    assert len(forwarding) == 2 and all(p["source"] == ["orders.events"] for p in forwarding)


def test_the_function_package_is_the_users_source_and_tapinfra_runtime(built):
    _, stack, _ = built
    names = {name for name, _ in stack.application.files()}
    assert names == {"openapi.yaml", "service.py", "tapinfra/__init__.py", "tapinfra/runtime/__init__.py",
                     "tapinfra/runtime/openapi.py", "tapinfra/runtime/health.py"}


def test_typed_results_wire_the_users_own_resources(built):
    _, _, tf = built
    subscriptions = [s for s in tf.resources("aws_sns_topic_subscription").values() if s["protocol"] == "sqs"]
    topics = {name: t for name, t in tf.resources("aws_sns_topic").items()}
    assert sorted(s["provider"] for s in subscriptions) == sorted(REGIONS)
    for sub in subscriptions:
        assert sub["endpoint"].startswith("${aws_sqs_queue.")
        assert sub["topic_arn"].startswith("${aws_sns_topic.") and sub["topic_arn"].split(".")[1] in topics


def test_the_escape_hatch_overrides_an_attribute_and_names_what_exists(built):
    _, stack, tf = built
    stages = tf.resources("aws_api_gateway_stage")
    assert [s.get("description") for s in stages.values() if s["provider"] == "aws.primary"] == ["orders API, primary region"]
    with pytest.raises(KeyError, match="no construct 'stag' in orders-dev/primary-api; closest: stage"):
        stack.find("primary-api/stag")


def test_a_route_added_to_the_document_appears_in_both_regions_and_a_source_change_changes_the_package(tmp_path, example):
    copy = tmp_path / "library"
    shutil.copytree(LIBRARY, copy, ignore=shutil.ignore_patterns("__pycache__"))
    config = load_config(copy / "tapinfra.json", environ={})
    before = synth(config)
    text = (copy / "orders" / "openapi.yaml").read_text()
    (copy / "orders" / "openapi.yaml").write_text(text.replace("components:\n", (
        "  /returns:\n    post:\n      operationId: returnOrder\n"
        "      responses:\n        \"202\": {description: Accepted.}\ncomponents:\n"), 1))
    (copy / "orders" / "service.py").write_text((copy / "orders" / "service.py").read_text() + "\n# changed\n")
    after = synth(load_config(copy / "tapinfra.json", environ={}))
    methods = Tf(after.doc).resources("aws_api_gateway_method")
    added = [m for n, m in methods.items() if "post-returns" in n]
    assert sorted(m["provider"] for m in added) == sorted(REGIONS) and all(m["api_key_required"] for m in added)
    hashes = [{f["source_code_hash"] for f in Tf(s.doc).resources("aws_lambda_function").values()} for s in (before, after)]
    assert hashes[0].isdisjoint(hashes[1])


@pytest.fixture(scope="module")
def tf_env(tmp_path_factory):
    return tfcheck.offline_cli_config(tmp_path_factory, checks="TERRAFORM CHECKS (library example)", workdir="tfcli-lib")


def test_the_library_example_is_valid_terraform(tmp_path, tf_env):
    outdir = tmp_path / "out"
    done = subprocess.run([sys.executable, str(LIBRARY / "main.py"), "--outdir", str(outdir)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for stack in ("orders-dev", "orders-ops"):
        stack_dir = outdir / "stacks" / stack
        init = tfcheck.run(["init", "-backend=false", "-input=false", "-no-color"], stack_dir, tf_env)
        assert init.returncode == 0, init.stdout + init.stderr
        report = json.loads(tfcheck.run(["validate", "-json", "-no-color"], stack_dir, tf_env).stdout)
        assert report["valid"] and report["error_count"] == 0, json.dumps(report["diagnostics"], indent=1)


# ---------------------------------------------------------------- the public API


def test_every_public_name_exists_and_says_what_it_is():
    for name in tapinfra.__all__:
        value = getattr(tapinfra, name)
        if name != "__version__":
            assert (getattr(value, "__doc__", None) or "").strip(), f"tapinfra.{name} has no docstring"


def test_importing_tapinfra_loads_no_cdktf():
    done = subprocess.run([sys.executable, "-c", "import sys, tapinfra; print('cdktf' in sys.modules, 'jsii' in sys.modules)"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_the_stack_shares_an_app_and_is_one_statement_to_build():
    from cdktf import TerraformStack

    app = scratch_app()
    TerraformStack(app, "neighbour")
    stack = tapinfra.TapStack(app, "tap-dev", with_changes(tapinfra.TapConfig(), packaging={"mode": "asset"}))
    assert {c.node.id for c in app.node.children} == {"neighbour", "tap-dev"}
    assert [s.region.role for s in stack.services] == ["primary", "secondary"]
    assert stack.table.grant_items(stack.primary).actions
