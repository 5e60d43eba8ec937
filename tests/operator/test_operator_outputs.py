"""The typed outputs schema (tapinfra/outputs.py): the stack writes through it, the tools read through it.

Each output is declared once: its name, description, scope and kind. The stack's JSON carries
exactly the declared descriptions; no operator tool spells an output name; a deployment's
outputs file is checked against the kinds, with errors that name the output, the value and
what is allowed; the model finds a region's API function through its output, not by type order.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tapinfra import outputs as out
from tapinfra.cli.exits import InputError
from tapinfra.operator import model, smoke
from tapinfra.outputs import OutputRegistry, OutputSpec, StackOutputs
from tests.synth import EXAMPLE_NAMES, example_config, synth

ROOT = Path(__file__).resolve().parent.parent.parent
CORE = [spec for spec in out.REGISTRY]


class _Region:
    def __init__(self, role: str, name: str) -> None:
        self.role, self.name = role, name


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_declared_output_is_written_with_its_declared_description(name):
    doc = synth(example_config(name)).doc
    regions = {p["alias"]: p["region"] for p in doc["provider"]["aws"]}
    written = doc["output"]
    checked = 0
    for spec in CORE:
        for role in (out.ROLES if spec.scope == "regional" else (None,)):
            key = spec.key(role)
            if key not in written:
                continue
            region = _Region(role, regions[role]) if role else None
            if spec is out.CUSTOM_DOMAIN_URL:
                policy = re.search(r"Route 53 (\w+) routing", written[key]["description"]).group(1)
                assert written[key]["description"] == spec.describe(policy=policy)
            else:
                assert written[key]["description"] == spec.describe(region), key
            assert written[key]["sensitive"] is spec.sensitive, key
            checked += 1
    # the outputs every stack has: version, table, replication, dashboard and each region's API
    for spec in (out.VERSION, out.TABLE_NAME, out.TABLE_ARN, out.REPLICATION_ROLE_ARN, out.DASHBOARD_NAME):
        assert spec.key() in written, spec.name
    for spec in (out.DATA_BUCKET, out.INVOKE_URL, out.API_ID, out.FUNCTION_NAME, out.API_KEY_IDS, out.ALARM_TOPIC_ARN):
        assert {spec.key(r) for r in out.ROLES} <= set(written), spec.name
    assert checked >= 25


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_output_description_is_literal_text(name):
    """Terraform shows a description as written: a reference in one (the Glue database's held
    ``${aws_glue_catalog_table...name}``) reaches the user unresolved."""
    written = synth(example_config(name)).doc["output"]
    assert {key: o["description"] for key, o in written.items() if "${" in o["description"]} == {}


def test_no_tool_or_stack_line_spells_an_output_name():
    """Output names live in tapinfra/outputs.py; the writers and readers use its specs."""
    files = ["tapinfra/stack.py", *(f"tapinfra/operator/{n}.py" for n in ("smoke", "drill", "model", "teardown", "stack_shape"))]
    for rel in files:
        text = (ROOT / rel).read_text(encoding="utf-8")
        for spec in CORE:
            quoted = [f'"{spec.name}"', f'_{spec.name}"'] if spec.scope == "regional" else [f'"{spec.name}"']
            for literal in quoted:
                assert literal not in text, f"{rel} spells the output {spec.name} ({literal})"


def test_read_takes_terraform_cdktf_and_flat_outputs():
    flat = {"primary_invoke_url": "https://a.execute-api.us-east-1.amazonaws.com/v1", "table_name": "tap-items-dev"}
    terraform = {k: {"value": v, "type": "string", "sensitive": False} for k, v in flat.items()}
    for given in (flat, terraform, {"tap-dev": flat}, {"tap-dev": terraform}):
        outputs = StackOutputs.read(given)
        assert outputs.require(out.INVOKE_URL, "primary") == flat["primary_invoke_url"]
        assert outputs.get(out.TABLE_NAME) == "tap-items-dev"
        assert outputs.get(out.INVOKE_URL, "secondary") is None


@pytest.mark.parametrize("key,value,allowed", [
    ("primary_invoke_url", "not a url", "http(s) URL"),
    ("secondary_api_key_ids", ["k1"], "object of name -> string"),
    ("warnings", "one", "list of strings"),
    ("table_name", "", "non-empty string"),
    ("primary_release", 5, "JSON object"),
])
def test_a_bad_value_names_the_output_the_value_and_what_is_allowed(key, value, allowed):
    with pytest.raises(InputError) as raised:
        StackOutputs.read({key: {"value": value}})
    problem = raised.value.problems[0]
    assert (problem.path, problem.value) == (f"outputs.{key}", value) and allowed in problem.allowed


def test_a_missing_output_is_named_when_required():
    outputs = StackOutputs.read({})
    with pytest.raises(InputError) as raised:
        outputs.require(out.API_KEY_IDS, "primary")
    assert raised.value.problems[0].path == "outputs.primary_api_key_ids"
    assert outputs.problem(out.HEALTH_CHECK_ID, "secondary", required=False) is None


def test_undeclared_outputs_pass_through_unchecked():
    """A module's output it did not declare is kept as given (its own reader checks it)."""
    assert StackOutputs.read({"primary_widget": 7}).values == {"primary_widget": 7}


def test_a_spec_knows_its_scope():
    with pytest.raises(ValueError, match="needs a region role"):
        out.INVOKE_URL.key()
    with pytest.raises(ValueError, match="takes no region role"):
        out.TABLE_NAME.key("primary")
    with pytest.raises(ValueError, match="scope"):
        OutputSpec("x", "d", scope="everywhere")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lower-case"):
        OutputSpec("Bad-Name", "d")


def test_a_module_declares_its_outputs_through_the_same_registry():
    registry = OutputRegistry()
    widget = registry.register(OutputSpec("widget_url", "Widget of {where}.", scope="regional", kind=out.URL))
    assert registry.register(widget) is widget  # the same declaration twice is harmless
    with pytest.raises(ValueError, match="already declared"):
        registry.register(OutputSpec("widget_url", "Another."))
    produced = widget.output("${aws_x.y.url}", _Region("secondary", "eu-west-1"))
    assert produced == out.Output("secondary_widget_url", "${aws_x.y.url}", "Widget of the secondary region (eu-west-1).", False)
    with pytest.raises(InputError) as raised:
        StackOutputs.read({"secondary_widget_url": 3}, registry)
    assert raised.value.problems[0].path == "outputs.secondary_widget_url"


def test_the_api_function_is_found_by_its_output_not_by_type_order():
    """With ingestion on, a region runs two functions; the model picks the API's, whatever the order."""
    doc = json.loads(json.dumps(synth(example_config("full")).doc))
    functions = doc["resource"]["aws_lambda_function"]
    assert len([f for f in functions.values() if f["provider"] == "aws.primary"]) >= 2, "full example: ingestion on"
    doc["resource"]["aws_lambda_function"] = dict(reversed(list(functions.items())))
    arch = model.from_document(doc)
    for role in out.ROLES:
        fn = arch.function(role)
        assert fn is not None and fn.get("handler") == "app.handler", role
        assert arch.health_check(role) is not None and arch.table is not None


def test_smoke_reads_its_urls_and_key_ids_through_the_schema(tmp_path):
    outputs = StackOutputs.read({"primary_invoke_url": "https://p.execute-api.eu-west-1.amazonaws.com/v1/",
                                 "secondary_invoke_url": "https://s.execute-api.eu-central-1.amazonaws.com/v1",
                                 "primary_api_key_ids": {"acme": "k-1"}})
    assert smoke.endpoints_from(outputs) == {"primary": "https://p.execute-api.eu-west-1.amazonaws.com/v1",
                                             "secondary": "https://s.execute-api.eu-central-1.amazonaws.com/v1"}
    with pytest.raises(InputError) as raised:
        smoke.key_from_api_gateway(outputs, "other", lambda s, r: None)
    assert raised.value.problems[0].path == "--tenant" and "acme" in raised.value.problems[0].allowed
