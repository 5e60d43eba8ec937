"""Unit checks: schemas agree with Powertools' validate(), encoding, codec, packaging."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app_testkit import APP_ENV, LAMBDA_DIR

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "id": json_values | st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
            "name": json_values | st.text(min_size=0, max_size=210),
            "attributes": json_values,
            "version": json_values | st.integers(min_value=-2, max_value=2**53 + 2),
            "extra": json_values,
        },
    ),
)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies)
def test_compiled_validation_agrees_with_powertools_validate(lam, body):
    """schemas.py compiles once; Powertools' validate() must accept and reject exactly the same."""
    from aws_lambda_powertools.utilities.validation import (  # noqa: PLC0415
        SchemaValidationError,
        validate,
    )

    import schemas  # noqa: PLC0415
    from errors import BadRequestError  # noqa: PLC0415

    for schema in (schemas.CREATE_ITEM_SCHEMA, schemas.UPDATE_ITEM_SCHEMA):
        try:
            validate(event=body, schema=schema)
            powertools_ok, powertools_msg = True, None
        except SchemaValidationError as exc:
            powertools_ok, powertools_msg = False, exc.validation_message
        try:
            schemas.validate_body(body, schema)
            ours_ok, ours_msg = True, None
        except BadRequestError as exc:
            ours_ok, ours_msg = False, exc.msg
        assert ours_ok == powertools_ok
        if not ours_ok:
            field = powertools_msg.split(" ", 1)[1]
            assert ours_msg.endswith(field)


def test_encoder_renders_decimals_as_json_numbers(lam):
    from encoding import dumps, loads  # noqa: PLC0415

    data = {
        "i": Decimal("42"),
        "f": Decimal("1.5"),
        "e": Decimal("1E+2"),
        "neg": Decimal("-0.25"),
        "nested": [Decimal("3")],
        "set": {Decimal("2"), Decimal("1")},
    }
    text = dumps(data)
    assert json.loads(text) == {"i": 42, "f": 1.5, "e": 100, "neg": -0.25, "nested": [3], "set": [1, 2]}
    assert '"i":42' in text and '"e":100' in text
    assert loads('{"x": 1.1}') == {"x": Decimal("1.1")}
    for bad in ("NaN", "Infinity", "-Infinity", '{"x": NaN}'):
        with pytest.raises(ValueError):
            loads(bad)


def test_codec_round_trips_and_normalizes_numbers(lam):
    from codec import from_item, to_attr, to_item  # noqa: PLC0415

    assert to_attr(Decimal("1.500")) == {"N": "1.5"}
    assert to_attr(10**40) == {"N": "1E+40"}
    assert to_attr(Decimal("-0.0")) == {"N": "0"}
    assert to_attr(True) == {"BOOL": True}
    value = {"a": [1, None, True, "x", {"b": Decimal("2.5")}]}
    assert from_item(to_item({"k": value})) == {"k": {"a": [Decimal(1), None, True, "x", {"b": Decimal("2.5")}]}}
    with pytest.raises(TypeError):
        to_attr(object())


def test_settings_reject_a_broken_environment(lam, monkeypatch):
    import config  # noqa: PLC0415

    for name, value in [
        ("RETENTION_DAYS", "0"),
        ("RETENTION_DAYS", "x"),
        ("MAX_BODY_BYTES", "-1"),
        ("HEALTH_TIMEOUT_SECONDS", "nan"),
        ("TENANT_KEYS", '{"k": ""}'),
        ("TENANT_KEYS", "{"),
    ]:
        with monkeypatch.context() as m:
            m.setenv(name, value)
            config.reset()
            with pytest.raises(config.ConfigurationError):
                config.get_settings()
    config.reset()
    settings_ = config.get_settings()
    assert settings_.event_source == "tap.items"
    assert settings_.retention_days == 30


# ---------------------------------------------------------------------------- packaging


def test_lambda_dir_is_runtime_only():
    """Everything in lambda/ is zipped into the function: Python modules and the API's OpenAPI
    document (the router reads it), no tests or docs."""
    names = sorted(p.name for p in LAMBDA_DIR.iterdir() if p.name != "__pycache__")
    assert names, "lambda/ is empty"
    assert all(n.endswith(".py") or n == "openapi.json" for n in names), names
    assert not [n for n in names if n.startswith("test") or n == "conftest.py"]
    assert "app.py" in names


def test_import_is_light_and_creates_no_clients(tmp_path):
    """A fresh interpreter imports the handler, from the function zip's files as Lambda unpacks
    them (its tapinfra is the zip's: tapinfra.runtime only), without creating AWS clients or
    importing boto3."""
    from tapinfra.application import load_application
    from tapinfra.config import TapConfig

    for name, data in load_application(TapConfig().application).files():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import app, clients, tapinfra; "
        "assert tapinfra.__file__.startswith(sys.argv[1]), tapinfra.__file__; "
        "assert 'tapinfra.config' not in sys.modules, 'the infrastructure was imported'; "
        "assert callable(app.handler); "
        "assert clients._clients == {}, clients._clients; "
        "assert 'boto3' not in sys.modules, 'boto3 imported'; "
        "assert 'pydantic' not in sys.modules, 'pydantic imported'; "
        "print('ok')"
    )
    env = {**os.environ, **APP_ENV, "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")


def test_modules_import_only_stdlib_powertools_and_botocore():
    """lambda/ must not rely on anything the runtime + Powertools layer lack."""
    allowed_roots = {"aws_lambda_powertools", "botocore", "fastjsonschema", "tapinfra"}  # tapinfra: the zip's runtime
    own = {p.stem for p in LAMBDA_DIR.glob("*.py")}
    stdlib = set(sys.stdlib_module_names)
    for path in LAMBDA_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                roots = [(node.module or "").split(".")[0]]
            else:
                continue
            for root in roots:
                assert root in own | stdlib | allowed_roots, f"{path.name} imports {root}"
                if root == "tapinfra":  # the zip holds tapinfra/runtime/ only
                    assert isinstance(node, ast.ImportFrom) and node.module.startswith("tapinfra.runtime"), path.name
