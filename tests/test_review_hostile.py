"""``tapinfra review`` on input that is not a plan terraform wrote: exit 2 and one line naming
what is wrong, never a traceback (whose exit 1 CI would read as "findings"); and the
encodings and packings a real plan arrives in (gzip, UTF-8 with BOM, PowerShell's UTF-16)."""

from __future__ import annotations

import codecs
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tapinfra.cli import review as review_cli
from tapinfra.review.shape import MAX_NESTING

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
REAL = "policy-widened"  # a real plan with a finding: rules read deep into it


def real_plan(name: str = REAL) -> dict[str, Any]:
    with gzip.open(FIXTURES / f"{name}.json.gz", "rt", encoding="utf-8") as fh:
        return json.load(fh)


def run(tmp_path: Path, data: bytes, capsys) -> tuple[int, str, str]:
    path = tmp_path / "plan.json"
    path.write_bytes(data)
    code = review_cli.main([str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(code: int, err: str, *words: str) -> None:
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tapinfra review: "), err
    for word in words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"


# ---------------------------------------------------------------- encodings and packings


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_every_json_encoding_reads_as_the_same_plan(tmp_path, capsys, codec):
    """UTF-8 with a BOM and UTF-16 (what PowerShell's > writes: LE with BOM) read like UTF-8."""
    text = json.dumps(real_plan())
    expected = run(tmp_path, text.encode("utf-8"), capsys)
    assert expected[0] == 1
    assert run(tmp_path, text.encode(codec), capsys) == expected


@pytest.mark.parametrize("bom", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE])
def test_powershell_utf16_with_bom(tmp_path, capsys, bom):
    text = json.dumps(real_plan())
    data = bom + text.encode("utf-16-le" if bom == codecs.BOM_UTF16_LE else "utf-16-be")
    assert run(tmp_path, data, capsys)[0] == 1


def test_gzipped_plan_reads_like_the_plain_one(tmp_path, capsys):
    plain = run(tmp_path, json.dumps(real_plan()).encode(), capsys)
    assert run(tmp_path, (FIXTURES / f"{REAL}.json.gz").read_bytes(), capsys) == plain


def test_gzipped_plan_from_standard_input(monkeypatch, capsys):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((FIXTURES / f"{REAL}.json.gz").read_bytes())))
    assert review_cli.main(["-"]) == 1


@pytest.mark.parametrize("data, words", [
    (b"\x1f\x8b\x08\x00broken", ["not a readable gzip file"]),
    (gzip.compress(b"{\x80\x81 not text}"), ["is not text", "byte 1"]),
    (b"", ["is not JSON"]),
    (b"\xc3\x28{}", ["is not text"]),
    (b"[" * 100_000 + b"]" * 100_000, ["nests deeper"]),
    (b'{"format_version": "1.2", "resource_changes": [], "n": ' + b"9" * 5000 + b"}", ["an integer of 5000 digits"]),
    (b'{"format_version": "1.2", "resource_changes": [], "n": NaN}', ["NaN"]),
    (b'{"format_version": "1.2", "resource_changes": [], "n": -Infinity}', ["-Infinity"]),
    (b"[]", ["not a terraform plan"]),
    (b'"a plan"', ["not a terraform plan"]),
    (b"42", ["not a terraform plan"]),
    (b"null", ["not a terraform plan"]),
])
def test_unreadable_bytes_are_refused_with_a_reason(tmp_path, capsys, data, words):
    code, _, err = run(tmp_path, data, capsys)
    assert_refused(code, err, *words)


def test_a_directory_is_refused(tmp_path, capsys):
    assert review_cli.main([str(tmp_path)]) == 2
    assert "cannot read" in capsys.readouterr().err


# ---------------------------------------------------------------- wrong shapes, by table


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


def _delete(doc: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    node = doc
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return doc


def _nested(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = {"a": [value]}
    return value


SHAPES = [
    (lambda d: _set(d, ("resource_changes",), None), ["resource_changes", "null", "a list"]),
    (lambda d: _set(d, ("resource_changes",), {"a": 1}), ["resource_changes", "a list"]),
    (lambda d: _set(d, ("configuration",), None), ["configuration", "null", "an object"]),
    (lambda d: _set(d, ("configuration",), []), ["configuration", "an object"]),
    (lambda d: _set(d, ("configuration", "root_module"), None), ["configuration.root_module", "null"]),
    (lambda d: _set(d, ("configuration", "provider_config"), "aws"), ["configuration.provider_config", '"aws"']),
    (lambda d: _set(d, ("configuration", "root_module", "resources", 0), 7), ["configuration.root_module.resources[0]", "7"]),
    (lambda d: _set(d, ("configuration", "root_module", "resources", 0, "expressions"), None), ["expressions", "null"]),
    (lambda d: _set(d, ("prior_state",), None), ["prior_state", "null"]),
    (lambda d: _set(d, ("prior_state", "values", "root_module", "resources"), None), ["prior_state.values.root_module.resources"]),
    (lambda d: _set(d, ("prior_state", "values", "root_module", "resources", 0, "values"), [1]), ["values", "[1]"]),
    (lambda d: _set(d, ("resource_drift",), None), ["resource_drift", "null"]),
    (lambda d: _set(d, ("resource_changes", 0), None), ["resource_changes[0]", "null", "an object"]),
    (lambda d: _set(d, ("resource_changes", 0), ["x"]), ["resource_changes[0]", "an object"]),
    (lambda d: _delete(d, ("resource_changes", 0, "address")), ["resource_changes[0].address", "missing"]),
    (lambda d: _set(d, ("resource_changes", 0, "address"), None), ["resource_changes[0].address", "null"]),
    (lambda d: _set(d, ("resource_changes", 0, "address"), ""), ["resource_changes[0].address"]),
    (lambda d: _set(d, ("resource_changes", 0, "address"), 12), ["resource_changes[0].address", "12"]),
    (lambda d: _delete(d, ("resource_changes", 0, "change")), ["resource_changes[0].change", "missing"]),
    (lambda d: _set(d, ("resource_changes", 0, "change"), None), ["resource_changes[0].change", "null"]),
    (lambda d: _set(d, ("resource_changes", 0, "change", "actions"), [["update"]]), ["actions", '[["update"]]', '["update"]']),
    (lambda d: _set(d, ("resource_changes", 0, "change", "actions"), "update"), ["actions", '"update"']),
    (lambda d: _set(d, ("resource_changes", 0, "change", "actions"), []), ["actions", "[]"]),
    (lambda d: _set(d, ("resource_changes", 0, "change", "actions"), ["explode"]), ["actions", "explode"]),
    (lambda d: _delete(d, ("resource_changes", 0, "change", "actions")), ["actions", "missing"]),
    (lambda d: _set(d, ("resource_changes", 0, "change", "before"), "x"), ["change.before", '"x"']),
    (lambda d: _set(d, ("resource_changes", 0, "change", "after"), [1, 2]), ["change.after", "[1, 2]"]),
    (lambda d: _set(d, ("resource_changes", 0, "change", "after_unknown"), None), ["after_unknown", "null"]),
    (lambda d: _set(d, ("resource_changes", 0, "change", "replace_paths"), ["a"]), ["replace_paths"]),
    (lambda d: _set(d, ("resource_changes", 0, "mode"), "remote"), ["mode", "remote"]),
    (lambda d: _set(d, ("format_version",), 1.2), ["format_version", "1.2", "a string"]),
    (lambda d: _set(d, ("terraform_version",), None), ["terraform_version", "null"]),
    (lambda d: _set(d, ("errored",), "no"), ["errored", '"no"']),
    (lambda d: _set(d, ("resource_changes", 0, "change", "after"), _nested(1, MAX_NESTING)), ["resource_changes[0].change.after", "nested over"]),
]


@pytest.mark.parametrize("mutate, words", SHAPES)
def test_wrong_shape_is_exit_2_naming_the_place_and_value(tmp_path, capsys, mutate, words):
    doc = mutate(real_plan())
    code, _, err = run(tmp_path, json.dumps(doc).encode(), capsys)
    assert_refused(code, err, *words)


@pytest.mark.parametrize("attribute, value", [
    ("inline_policy", "not blocks"), ("inline_policy", [1, "x", None]), ("policy", 5), ("policy", {"Statement": 1}),
    ("replica", {"region_name": 1}), ("settings", "INFO"), ("point_in_time_recovery", True), ("ttl", [7]),
    ("rule", {"x": 1}), ("default_action", "allow"), ("api_key_required", "yes"), ("is_enabled", [True]),
])
def test_wrongly_typed_attribute_values_never_crash_a_rule(tmp_path, capsys, attribute, value):
    """A value of a shape the provider never writes, in every change, before and after."""
    doc = real_plan()
    for raw in doc["resource_changes"]:
        for side in ("before", "after"):
            if isinstance(raw["change"].get(side), dict):
                raw["change"][side][attribute] = value
        if raw["change"]["actions"] == ["no-op"]:
            raw["change"]["actions"] = ["update"]
    code, _, err = run(tmp_path, json.dumps(doc).encode(), capsys)
    assert code in (0, 1, 2), err
    if code == 2:
        assert_refused(code, err)


# ---------------------------------------------------------------- wrong shapes, generated


def _paths(doc: Any, limit_depth: int = 7) -> list[tuple[Any, ...]]:
    """Every place in a plan, down to ``limit_depth`` levels (rules and the reader look there)."""
    found: list[tuple[Any, ...]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(doc, ())]
    while stack:
        node, path = stack.pop()
        if path:
            found.append(path)
        if len(path) >= limit_depth:
            continue
        if isinstance(node, dict):
            stack.extend((v, (*path, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(node))
    return sorted(found, key=repr)


PLAN = real_plan()
PATHS = _paths(PLAN)
WRONG_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30), st.text(max_size=8),
    st.just([]), st.just({}), st.just([["update"]]), st.just([None]), st.just({"": None}), st.floats(allow_nan=False),
)


@st.composite
def mutated_plans(draw) -> dict[str, Any]:
    doc = json.loads(json.dumps(PLAN))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(PATHS))
        try:
            node = doc
            for step in path[:-1]:
                node = node[step]
            current = node[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or retyped this place
        how = draw(st.sampled_from(["replace", "delete", "nest", "wrap"]))
        if how == "replace":
            node[path[-1]] = draw(WRONG_VALUES)
        elif how == "delete" and isinstance(node, dict):
            del node[path[-1]]
        elif how == "nest":
            node[path[-1]] = _nested(current, draw(st.sampled_from([1, 3, MAX_NESTING + 5])))
        else:
            node[path[-1]] = [current]
    return doc


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=mutated_plans())
def test_a_structurally_mutated_real_plan_is_judged_or_refused_never_crashes(tmp_path, capsys, doc):
    """Exit 0, 1 or 2 and no exception for any mutation; exit 2 always carries its one-line reason."""
    code, out, err = run(tmp_path, json.dumps(doc).encode(), capsys)
    assert code in (0, 1, 2)
    if code == 2:
        assert_refused(code, err)
    else:
        verdict = out.rstrip().splitlines()[-1]
        assert err == "" and (verdict.startswith("no findings") or "finding(s)" in verdict), (err, verdict)


@pytest.mark.parametrize("policy", ["[" * 50_000 + "]" * 50_000, '{"Statement": [{"Effect": "Allow", "Action": ' + "9" * 5000 + "}]}", "not json", "null"])
def test_a_policy_text_that_is_no_policy_is_a_warning_not_a_crash(tmp_path, capsys, policy):
    doc = real_plan()
    raw = next(r for r in doc["resource_changes"] if r["type"] == "aws_iam_role_policy")
    raw["change"]["actions"] = ["update"]
    raw["change"]["before"]["policy"] = policy
    code, out, err = run(tmp_path, json.dumps(doc).encode(), capsys)
    assert code in (0, 1) and err == "", err
    assert "not a JSON policy document" in out
