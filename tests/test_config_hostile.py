"""Hostile and careless config files: every one is exit 2 with a message naming the field, never a trace.

Each class of bad input has a generator over every field of its kind (from the JSON Schema,
so a new field is covered the day it is added), checked through ``load_config`` and, for a
sample, through ``main.main``; non-UTF-8 and deep nesting also through a real subprocess.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import main as cli
from tapinfra.config import (
    AWS_REGIONS, LAMBDA_ENVIRONMENT_LIMIT_BYTES, MAX_BODY_BYTES_LIMIT, TapConfig, canary_interval_seconds,
    config_from_dict, environment_bytes, function_environment, json_schema, load_config,
)
from tapinfra.errors import ConfigError
from tapinfra.strict_json import MAX_NESTING
from tests.strategies import SOURCE_DIRS, TENANT_NAMES
from tests.synth import ROOT, Tf, example_config, synth

SCHEMA = json_schema()
SECTIONS = [k for k, v in SCHEMA["properties"].items() if v.get("type") == "object"]


def leaf_fields():
    """(path, schema node) of every setting."""
    for key, node in SCHEMA["properties"].items():
        if key == "$schema":
            continue
        if node.get("type") == "object":
            for child, sub in node["properties"].items():
                yield f"{key}.{child}", sub
        else:
            yield key, node


def kind(node):
    t = node["type"]
    return t[0] if isinstance(t, list) else t


FIELDS = dict(leaf_fields())
STRING_FIELDS = sorted(p for p, n in FIELDS.items() if kind(n) == "string")
LIST_FIELDS = sorted(p for p, n in FIELDS.items() if kind(n) == "array")
INT_FIELDS = sorted(p for p, n in FIELDS.items() if kind(n) == "integer")
FLOAT_FIELDS = sorted(p for p, n in FIELDS.items() if kind(n) == "number")
NUMBER_FIELDS = INT_FIELDS + FLOAT_FIELDS


def nest(path: str, value) -> dict:
    keys = path.split(".")
    raw = value
    for key in reversed(keys):
        raw = {key: raw}
    return raw


def problems_of(raw) -> dict:
    with pytest.raises(ConfigError) as exc:
        config_from_dict(raw)
    return {p.path: p for p in exc.value.problems}


def file_problems(tmp_path, content: str | bytes) -> dict:
    path = tmp_path / "config.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
    with pytest.raises(ConfigError) as exc:
        load_config(path, environ={})
    return {p.path: p for p in exc.value.problems}


def assert_named(problem, path):
    """The message says where, what it got and what is allowed."""
    text = str(problem)
    assert text.startswith(f"{path}: got "), text
    assert "; expected " in text and text.split("; expected ", 1)[1].strip(), text


@pytest.fixture
def run_main(tmp_path, monkeypatch, capsys):
    """``main.main(["--config", FILE])`` on some content: (exit status, stderr)."""
    for var in ("TAP_CONFIG", "TAP_ENVIRONMENT", "TAP_PRIMARY_REGION", "TAP_SECONDARY_REGION"):
        monkeypatch.delenv(var, raising=False)

    def run(content: str | bytes):
        path = tmp_path / "config.json"
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
        status = cli.main(["--config", str(path), "--outdir", str(tmp_path / "out")])
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert not (tmp_path / "out").exists()
        return status, err

    return run


def run_subprocess(tmp_path, content: bytes):
    path = tmp_path / "config.json"
    path.write_bytes(content)
    return subprocess.run([sys.executable, "main.py", "--config", str(path), "--outdir", str(tmp_path / "out")],
                          cwd=ROOT, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, timeout=120)


def test_the_field_lists_are_not_empty():
    assert len(STRING_FIELDS) > 15 and len(LIST_FIELDS) >= 4 and len(INT_FIELDS) > 40 and len(FLOAT_FIELDS) >= 2


# ====================================================================== the loader

@pytest.mark.parametrize("path", LIST_FIELDS)
@pytest.mark.parametrize("item", [["nested"], {"a": 1}, [], {}, 7, 1.5, None, True])
def test_list_items_of_any_other_kind_are_named(path, item):
    found = problems_of(nest(path, [item, item]))
    assert f"{path}[0]" in found and f"{path}[1]" in found
    assert_named(found[f"{path}[0]"], f"{path}[0]")
    assert "a string" in str(found[f"{path}[0]"])


@settings(max_examples=60, deadline=None)
@given(prefix=st.text(st.characters(max_codepoint=0x7e, min_codepoint=0x20, blacklist_characters='"\\'), max_size=20),
       bad=st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xe2\x82", b"\x80", b"\xf8\x88\x80\x80\x80"]))
def test_files_that_are_not_utf8_are_refused(tmp_path_factory, prefix, bad):
    path = tmp_path_factory.mktemp("u") / "c.json"
    head = b'{"owner": "' + prefix.encode()
    path.write_bytes(head + bad + b'"}')
    with pytest.raises(ConfigError) as exc:
        load_config(path, environ={})
    (problem,) = exc.value.problems
    assert problem.path == "<file>" and "UTF-8" in problem.allowed
    assert f"byte {len(head)}," in problem.allowed


def test_non_utf8_through_main_and_a_subprocess(tmp_path, run_main):
    status, err = run_main(b'{"app": "t\xffp"}')
    assert status == 2 and "<file>" in err and "UTF-8" in err
    out = run_subprocess(tmp_path, b'{"app": "t\xffp"}')
    assert out.returncode == 2 and "UTF-8" in out.stderr and "Traceback" not in out.stderr


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "c.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"app": "bom"}).encode())
    assert load_config(path, environ={}).app == "bom"


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 1000, 200_000])
@pytest.mark.parametrize("where", ["api.tenants", "regions", "<root>", "monitoring.alarm_emails"])
def test_deep_nesting_is_refused_and_named(tmp_path, depth, where):
    deep = "[" * depth + "]" * depth
    if where == "<root>":
        text, path = deep, "<root>[0]"
    else:
        text, path = json.dumps(nest(where, "@")).replace('"@"', deep), where
    found = file_problems(tmp_path, text)
    (problem,) = found.values()
    assert problem.path.startswith(path), (problem.path, path)
    assert_named(problem, problem.path)
    assert f"at most {MAX_NESTING} levels" in problem.allowed


def test_deep_nesting_built_in_code_is_refused_too():
    value: list = []
    for _ in range(5000):
        value = [value]
    found = problems_of({"api": {"tenants": value}})
    assert list(found) == ["api.tenants[0]"]


def test_deep_nesting_through_main_and_a_subprocess(tmp_path, run_main):
    text = '{"api": {"tenants": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    status, err = run_main(text)
    assert status == 2 and "api.tenants" in err
    out = run_subprocess(tmp_path, text.encode())
    assert out.returncode == 2 and "api.tenants" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("path", NUMBER_FIELDS)
def test_integer_literals_too_long_for_python_are_named(tmp_path, path):
    text = json.dumps(nest(path, "@")).replace('"@"', "9" * 5000)
    found = file_problems(tmp_path, text)
    assert list(found) == [path]
    assert_named(found[path], path)
    assert "5000 digits" in str(found[path])


@pytest.mark.parametrize("path", NUMBER_FIELDS)
@pytest.mark.parametrize("literal", ["1" + "0" * 400, "-" + "1" * 4000, "1e400", "-1e400"])
def test_numbers_beyond_any_float_are_named(tmp_path, path, literal):
    found = file_problems(tmp_path, json.dumps(nest(path, "@")).replace('"@"', literal))
    assert list(found) == [path]
    assert_named(found[path], path)


@pytest.mark.parametrize("path", NUMBER_FIELDS)
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_named_not_passed_to_synthesis(tmp_path, path, literal):
    found = file_problems(tmp_path, json.dumps(nest(path, "@")).replace('"@"', literal))
    assert list(found) == [path]
    assert str(found[path]).startswith(f"{path}: got {literal}; expected ")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), 10**400, -(10**5000)],
                         ids=["nan", "inf", "-inf", "1e400", "-1e5000"])
@pytest.mark.parametrize("path", FLOAT_FIELDS + ["function.memory_mb"])
def test_non_finite_and_huge_numbers_built_in_code_are_named(path, value):
    found = problems_of(nest(path, value))
    assert list(found) == [path]
    assert_named(found[path], path)


@pytest.mark.parametrize("path", sorted(FIELDS) + SECTIONS)
def test_a_key_given_twice_is_named(tmp_path, path):
    node = FIELDS.get(path, {})
    value = node.get("default") if path in FIELDS else {}
    one = json.dumps(value)
    *parents, last = path.split(".")
    text = "{" + "".join(f'"{p}": {{' for p in parents) + f'"{last}": {one}, "{last}": {one}' + "}" * len(parents) + "}"
    found = file_problems(tmp_path, text)
    assert path in found, found
    assert_named(found[path], path)
    assert "once per object" in found[path].allowed


def test_duplicate_keys_inside_list_items_and_everywhere_are_reported_together(tmp_path):
    found = file_problems(tmp_path, '{"app": "a", "app": "b", "api": {"tenants": [{"x": 1, "x": 2}]}, "api": {}}')
    assert {"app", "api", 'api.tenants[0].x'} <= set(found)


def test_the_schema_key_editors_add_is_allowed(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"$schema": "./tapinfra.schema.json", "app": "shop"}))
    assert load_config(path, environ={}).app == "shop"
    found = problems_of({"$schema": 3})
    assert_named(found["$schema"], "$schema")
    assert "$schema" in SCHEMA["properties"]


@pytest.mark.parametrize("section", SECTIONS)
@pytest.mark.parametrize("value", [None, [], "x", 1])
def test_a_section_that_is_not_an_object_says_what_the_section_is(section, value):
    found = problems_of({section: value})
    assert list(found) == [section]
    text = str(found[section])
    assert text.startswith(f"{section}: got {json.dumps(value)}; expected a JSON object: the {section} section")
    first_key = next(iter(SCHEMA["properties"][section]["properties"]))
    assert first_key in text


# ---------------------------------------------------------------- no misleading follow-up problems

def values_for(node):
    t = kind(node)
    if "enum" in node:
        return st.sampled_from([v for v in node["enum"] if v is not None])
    if t == "boolean":
        return st.booleans()
    if t == "integer":
        return st.integers(node.get("minimum", 0), node.get("maximum", 1000))
    if t == "number":
        return st.floats(node.get("minimum", 0), node.get("maximum", 100), allow_nan=False)
    if t == "array":
        item = node["items"]
        elems = st.sampled_from(item["enum"]) if "enum" in item else st.from_regex(item["pattern"], fullmatch=True)
        return st.lists(elems, min_size=node.get("minItems", 0), max_size=min(node.get("maxItems", 3), 3), unique=True)
    base = st.from_regex(node["pattern"], fullmatch=True) if "pattern" in node else st.text(max_size=10)
    return base.filter(lambda s: len(s) <= node.get("maxLength", 10**6))


VALUES = {path: values_for(node) for path, node in FIELDS.items()}
VALUES["application.source_dir"] = SOURCE_DIRS


def configs_around(path):
    """A config that sets a few fields near ``path`` (its section, features, top level) to values that
    could clash with ``path``: schema-valid ones, or ``path``'s own default where the types match."""
    section = path.split(".")[0] if "." in path else ""
    near = sorted(k for k in FIELDS if k != path and (k.startswith((section + ".", "features.")) or "." not in k))
    far = sorted(set(FIELDS) - set(near) - {path})
    default = FIELDS[path].get("default")

    def value(key):
        node = FIELDS[key]
        if kind(node) == kind(FIELDS[path]) and default is not None:
            return st.one_of(VALUES[key], st.just(default))
        return VALUES[key]

    keys = st.tuples(st.lists(st.sampled_from(near), max_size=6, unique=True),
                     st.lists(st.sampled_from(far), max_size=2, unique=True))
    return keys.flatmap(lambda ks: st.fixed_dictionaries({k: value(k) for k in ks[0] + ks[1]}))


def as_raw(flat: dict) -> dict:
    raw: dict = {}
    for path, value in flat.items():
        node = raw
        *parents, last = path.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return raw


def problem_paths(raw) -> set[str]:
    try:
        config_from_dict(raw)
    except ConfigError as exc:
        return set(exc.paths)
    return set()


@pytest.mark.parametrize("path", sorted(FIELDS))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_an_invalid_field_never_lends_its_default_to_a_cross_field_rule(data, path):
    """Other problems of a config whose ``path`` is garbage are problems whatever valid value ``path`` had."""
    flat = data.draw(configs_around(path))
    garbage = data.draw(st.sampled_from([[["x"]], {"x": 1}, "\u0000", -(10**30)]))
    broken = problem_paths(as_raw({**flat, path: garbage}))
    assert path in broken or any(b.startswith(path + "[") for b in broken)
    others = {b for b in broken if b != path and not b.startswith(path + "[")}
    for _ in range(3):
        valid = data.draw(VALUES[path])
        assert others <= problem_paths(as_raw({**flat, path: valid})), (path, valid, others)


def test_the_issues_example_primary_garbage_gives_one_problem():
    assert problem_paths({"regions": {"primary": "garbage", "secondary": "us-east-1"}}) == {"regions.primary"}
    assert problem_paths({"function": {"provisioned_concurrency": "x", "reserved_concurrency": 1}}) == {"function.provisioned_concurrency"}


@pytest.mark.parametrize("content", [
    b'{"app": "t\xffp"}', "[" * 50 + "]" * 50, '{"function": {"memory_mb": ' + "9" * 5000 + "}}",
    '{"monitoring": {"api_5xx_rate_percent": NaN}}', '{"app": "a", "app": "b"}', '{"regions": null}',
    '{"api": {"tenants": [["x"]]}}', '{"monitoring": {"api_5xx_rate_percent": 1' + "0" * 400 + "}}",
    '{"monitoring": {"alarm_emails": ["a${x}@example.com"]}}',
])
def test_each_loader_class_exits_2_through_main(run_main, content):
    status, err = run_main(content)
    assert status == 2
    assert err.startswith("invalid tapinfra configuration")
    assert re.search(r"^  - \S+: got .+; expected .+$", err, re.M), err


# ====================================================================== strings Terraform would evaluate

TEMPLATES = ["${var.x}", "%{if true}x%{endif}", "a${", "$${escaped}", "%{", "x\u0000y", "tab\there", "\ud800"]


@pytest.mark.parametrize("path", STRING_FIELDS)
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_string_field_refuses_template_syntax_and_control_characters(path, template):
    found = problems_of(nest(path, f"a{template}b"))
    assert list(found) == [path], found
    assert "Terraform template syntax" in found[path].allowed


@pytest.mark.parametrize("path", LIST_FIELDS)
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_list_item_refuses_template_syntax(path, template):
    found = problems_of(nest(path, [f"a{template}b"]))
    assert f"{path}[0]" in found
    assert "Terraform template syntax" in found[f"{path}[0]"].allowed


@settings(max_examples=200, deadline=None)
@given(path=st.sampled_from(STRING_FIELDS + LIST_FIELDS), text=st.text(max_size=30))
def test_no_accepted_string_contains_template_syntax(path, text):
    value = [text] if path in LIST_FIELDS else text
    try:
        cfg = config_from_dict(nest(path, value))
    except ConfigError:
        return
    assert not re.search(r"[$%]\{", json.dumps(cfg.to_dict()))


def test_the_schema_says_the_same():
    import jsonschema

    validator = jsonschema.Draft202012Validator(SCHEMA)
    for path in STRING_FIELDS:
        assert not validator.is_valid(nest(path, "${x}")), path
        assert not validator.is_valid(nest(path, "a\u0001")), path
    for path in LIST_FIELDS:
        assert not validator.is_valid(nest(path, ["%{x}"])), path
    assert validator.is_valid({"$schema": "./tapinfra.schema.json"})


# ====================================================================== AWS limits a valid config must meet

tenant_names = TENANT_NAMES
origins = st.builds(lambda host, port: f"https://{host}" + (f":{port}" if port else ""),
                    st.from_regex(r"[a-z0-9]{1,60}(\.[a-z0-9]{1,60}){0,3}", fullmatch=True),
                    st.one_of(st.none(), st.integers(1, 65535)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tenants=st.lists(tenant_names, min_size=1, max_size=100, unique=True),
       cors=st.lists(origins, min_size=1, max_size=20, unique=True),
       app=st.from_regex(r"[a-z][a-z0-9]{0,11}", fullmatch=True).filter(lambda a: not a.startswith(("aws", "ssm")) and a != "sthree"),
       drain=st.booleans())
def test_the_function_environment_fits_lambdas_4kb_or_the_config_is_refused(tenants, cors, app, drain):
    raw = {"app": app, "api": {"tenants": tenants, "cors_allowed_origins": cors}, "features": {"drain_switch": drain}}
    try:
        cfg = config_from_dict(raw)
    except ConfigError as exc:
        paths = set(exc.paths)
        assert paths & {"api.tenants", "api.cors_allowed_origins"}, exc
        problem = next(p for p in exc.problems if p.path in ("api.tenants", "api.cors_allowed_origins"))
        assert "4096" in problem.allowed
        return
    assert environment_bytes(function_environment(cfg)) <= LAMBDA_ENVIRONMENT_LIMIT_BYTES


def test_many_long_tenants_are_refused_naming_tenants():
    tenants = [f"tenant-{i:03d}-" + "x" * 20 for i in range(100)]
    found = problems_of({"api": {"tenants": tenants}})
    assert list(found) == ["api.tenants"]
    assert "Lambda allows 4096" in found["api.tenants"].allowed


def _secret_arn(doc: dict, rid: str, region: str | None = None) -> str:
    """A secret's ARN as AWS issues it: its region, the account, its name and a 6-character suffix."""
    body = doc["resource"]["aws_secretsmanager_secret"][rid]
    region = region or next(p["region"] for p in doc["provider"]["aws"] if f"aws.{p.get('alias')}" == body["provider"])
    return f"arn:aws:secretsmanager:{region}:{'0' * 12}:secret:{body['name']}-{'x' * 6}"


def _resolve(doc: dict, value: str) -> str:
    """A synthesized env value as it is at apply time: key ids are 10 characters, names are the
    resources' names, a secret's ARN (or its replica's) is the ARN AWS issues."""
    value = re.sub(r'\$\{replace\(aws_secretsmanager_secret\.([A-Za-z0-9_-]+)\.arn, "[^"]*", ":([a-z0-9-]+):"\)\}',
                   lambda m: _secret_arn(doc, m.group(1), m.group(2)), value)

    def one(match):
        rtype, rid, attr = match.groups()
        if rtype == "aws_api_gateway_api_key" and attr == "id":
            return "k" * 10
        if rtype == "aws_secretsmanager_secret" and attr == "arn":
            return _secret_arn(doc, rid)
        assert attr == "name", match.group()
        return doc["resource"][rtype][rid]["name"]
    return re.sub(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}", one, value)


@pytest.mark.parametrize("name", ["full", "default"])
def test_the_environment_estimate_covers_what_the_stack_deploys(name):
    cfg = example_config(name)
    doc = synth(cfg).doc
    estimate = function_environment(cfg)
    # The API's function in each region (other modules' functions have environments of their own).
    functions = [fn for fn in Tf(doc).resources("aws_lambda_function").values() if fn["handler"] == "app.handler"]
    assert len(functions) == 2
    for fn in functions:
        variables = fn["environment"]["variables"]
        assert set(variables) == set(estimate), "function.py and config.function_environment list different variables"
        deployed = {k: _resolve(doc, v) for k, v in variables.items()}
        for key, value in deployed.items():
            assert len(value.encode()) <= len(estimate[key].encode()), (key, value, estimate[key])
        assert environment_bytes(deployed) <= environment_bytes(estimate)


@settings(max_examples=80, deadline=None)
@given(labels=st.lists(st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True), min_size=1, max_size=6))
def test_certificate_domain_names_longer_than_64_are_refused(labels):
    domain = ".".join([*labels, "example", "com"])
    raw = {"dns": {"create_zone_name": "example.com", "domain_name": domain}}
    if len(domain) <= 64:
        assert config_from_dict(raw).dns.domain_name == domain
    else:
        found = problems_of(raw)
        assert list(found) == ["dns.domain_name"] and "at most 64" in found["dns.domain_name"].allowed


@pytest.mark.parametrize("port", [0, 1, 80, 443, 8443, 9999, 10000, 59999, 65000, 65499, 65535, 65536, 65540, 70000, 99999, "00080"])
def test_ports_must_be_1_to_65535(port):
    good = isinstance(port, int) and 1 <= port <= 65535
    for path, value in [("api.cors_allowed_origins", [f"https://app.example.com:{port}"]),
                        ("emulator", f"http://127.0.0.1:{port}")]:
        raw = nest(path, value)
        if good:
            config_from_dict(raw)
        else:
            assert any(p.startswith(path) for p in problems_of(raw)), (path, port)


SYNTHETICS_RATES = {f"rate({n} {u})" for n, u in [(0, "minute"), (0, "hour"), (1, "minute"), (1, "hour")]} | {
    f"rate({n} minutes)" for n in range(2, 61)}


@pytest.mark.parametrize("n", [0, 1, 2, 5, 59, 60, 61, 90, 120, 1440])
@pytest.mark.parametrize("unit", ["minute", "minutes", "hour", "hours", "day", "days", "second"])
def test_canary_schedules_are_what_synthetics_accepts(n, unit):
    schedule = f"rate({n} {unit})"
    raw = {"monitoring": {"canary_schedule": schedule, "canary_timeout_seconds": 3}}
    if schedule in SYNTHETICS_RATES:
        assert config_from_dict(raw).monitoring.canary_schedule == schedule
    else:
        assert list(problems_of(raw)) == ["monitoring.canary_schedule"]


@settings(max_examples=150, deadline=None)
@given(schedule=st.sampled_from(sorted(SYNTHETICS_RATES)), timeout=st.integers(3, 840), canaries=st.booleans())
def test_a_canary_timeout_never_exceeds_its_interval(schedule, timeout, canaries):
    raw = {"monitoring": {"canary_schedule": schedule, "canary_timeout_seconds": timeout}, "features": {"canaries": canaries}}
    interval = canary_interval_seconds(schedule)
    if canaries and interval is not None and timeout > interval:
        found = problems_of(raw)
        assert list(found) == ["monitoring.canary_timeout_seconds"] and str(interval) in found["monitoring.canary_timeout_seconds"].allowed
    else:
        config_from_dict(raw)


@settings(max_examples=100, deadline=None)
@given(app=st.from_regex(r"(aws|ssm|sthree|as|ss|st)[a-z0-9]{0,6}", fullmatch=True), drain=st.booleans())
def test_names_aws_reserves_are_refused(app, drain):
    raw = {"app": app, "features": {"drain_switch": drain}}
    bad = app == "sthree" or (drain and app.startswith(("aws", "ssm")))
    if bad:
        found = problems_of(raw)
        assert list(found) == ["app"]
        assert ("sthree-" if app == "sthree" else f"/{app}/") in found["app"].allowed
    else:
        assert config_from_dict(raw).app == app


@pytest.mark.parametrize("bucket", ["xn--state", "sthree-state", "sthree-configurator-x", "amzn-s3-demo-state", "state-s3alias",
                                    "state--ol-s3", "state.mrap", "state--x-s3", "state--table-s3", "my..state", "192.168.5.4"])
def test_state_buckets_with_names_s3_reserves_are_refused(bucket):
    found = problems_of({"backend": {"type": "s3", "bucket": bucket}})
    assert list(found) == ["backend.bucket"] and "reserve" in found["backend.bucket"].allowed


@settings(max_examples=200, deadline=None)
@given(body=st.integers(1024, 300_000), kb=st.sampled_from([16, 32, 48, 64]), waf=st.booleans())
def test_the_body_limit_fits_the_waf_inspection_and_one_dynamodb_item(body, kb, waf):
    raw = {"api": {"max_body_bytes": body, "waf_body_inspection_kb": kb}, "features": {"waf": waf}}
    fits = body <= MAX_BODY_BYTES_LIMIT and (not waf or body <= kb * 1024)
    if fits:
        config_from_dict(raw)
    else:
        assert list(problems_of(raw)) == ["api.max_body_bytes"]


def test_the_body_limit_leaves_room_for_a_dynamodb_item():
    # JSON text takes at most 2 bytes per character as an item (tests/app check the codec's side).
    assert 2 * MAX_BODY_BYTES_LIMIT + 16 * 1024 <= 400 * 1024


@settings(max_examples=200, deadline=None)
@given(reserved=st.integers(1, 10000), limit=st.integers(101, 20000), provisioned=st.integers(1, 50))
def test_reserved_concurrency_leaves_lambdas_unreserved_minimum(reserved, limit, provisioned):
    raw = {"function": {"reserved_concurrency": reserved, "account_concurrency_limit": limit, "provisioned_concurrency": provisioned}}
    expected = set()
    if reserved > limit - 100 or reserved < provisioned:
        expected = {"function.reserved_concurrency"}
    assert problem_paths(raw) == expected


def test_the_defaults_still_meet_every_limit():
    cfg = TapConfig()
    assert config_from_dict(cfg.to_dict()) == cfg
    assert environment_bytes(function_environment(cfg)) < LAMBDA_ENVIRONMENT_LIMIT_BYTES
    assert cfg.api.max_body_bytes <= cfg.api.waf_body_inspection_kb * 1024
    assert set(AWS_REGIONS) >= {cfg.regions.primary, cfg.regions.secondary}


@pytest.mark.parametrize("raw", [
    {"api": {"tenants": [f"t{i:02d}-" + "x" * 28 for i in range(100)]}},
    {"dns": {"domain_name": "a" * 60 + ".example.com"}},
    {"api": {"cors_allowed_origins": ["https://app.example.com:65536"]}},
    {"monitoring": {"canary_schedule": "rate(2 hours)"}},
    {"monitoring": {"canary_schedule": "rate(1 minute)", "canary_timeout_seconds": 120}},
    {"app": "awsome"}, {"app": "sthree"},
    {"api": {"max_body_bytes": 32768}},
    {"function": {"reserved_concurrency": 950}},
])
def test_each_deploy_limit_exits_2_through_main(run_main, raw):
    status, err = run_main(json.dumps(raw))
    assert status == 2 and re.search(r"^  - \S+: got .+; expected .+$", err, re.M), err
