"""``cost``, ``diagram`` and ``drill`` on a stack file they cannot use: one InputError naming the JSON path, never a crash.

Two halves of one property. The shape table (tapinfra/operator/stack_shape.py) refuses every
wrong type in every field it lists; the fuzz replaces any node of a real synthesized stack with a
hostile value and checks that what the shape lets through, the readers survive: so a field a
reader uses and the table forgot fails here.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tapinfra.config import CANARY_SCHEDULE_PATTERN, canary_interval_seconds, config_from_dict
from tapinfra.errors import ConfigError
from tapinfra.operator import cost, diagram, drill, model
from tapinfra.operator.stack_shape import RESOURCES, Items, Kind, Obj
from tapinfra.strict_json import MAX_NESTING, Literal, join
from tests.synth import EXAMPLE_NAMES, example_config, synth

PRICES = cost.load_prices()
HOURS = PRICES.hours_per_month
HOSTILE = (None, [], {}, 0, -1, 1.5, "x", "", True, 10**30, float("inf"), Literal("<an integer of 5000 digits>"), [{}], {"a": None})


@pytest.fixture(scope="module")
def docs():
    return {name: synth(example_config(name)).doc for name in EXAMPLE_NAMES}


def use_everything(doc) -> None:
    """Everything the commands compute from a stack: the model, the estimate, the picture, both drill plans."""
    arch = model.from_document(doc, "<stack>")
    est = cost.estimate(arch, PRICES)
    cost.render_text(est)
    json.dumps(est.to_json(), allow_nan=False)
    diagram.to_dot(diagram.build(arch))
    for role in model.ROLES:
        try:
            drill.plan_drill(arch, {}, role, outputs_given=False).describe()
        except ConfigError:
            pass  # a stack without drain switch or DNS: the drill says so, by name


def test_every_example_passes_the_shape_check(docs):
    for name, doc in docs.items():
        use_everything(doc)


# ---------------------------------------------------------------- the shape table refuses every wrong type

def _leaves(shape, path=()):
    """(field path, shape) for every field the table lists, at any depth (list items as index 0)."""
    if isinstance(shape, Obj):
        for key, child in shape.fields.items():
            yield (*path, key), child
            yield from _leaves(child, (*path, key))
    elif isinstance(shape, Items) and shape.item is not None:
        yield (*path, 0), shape.item
        yield from _leaves(shape.item, (*path, 0))


def _wrong_values(shape):
    if isinstance(shape, Kind):
        return [v for v in HOSTILE if not shape.test(v)]
    if isinstance(shape, Obj):
        return [None, [], 3, "x"]
    return [None, {}, 3, "x"]


def _set(node, path, value):
    """Set ``value`` at ``path`` below ``node``, making the objects and lists on the way when absent."""
    for key, following in zip(path, path[1:]):
        if isinstance(node, list):
            while len(node) <= key:
                node.append({})
        if not isinstance(node[key] if isinstance(node, list) else node.get(key), (dict, list)):
            node[key] = [] if isinstance(following, int) else {}
        node = node[key]
    if isinstance(node, list):
        while len(node) <= path[-1]:
            node.append({})
    node[path[-1]] = value


CASES = [(rtype, path, shape) for rtype, body in RESOURCES.items() for path, shape in _leaves(body)]


@pytest.mark.parametrize("rtype,path,shape", CASES, ids=[f"{r}.{'.'.join(map(str, p))}" for r, p, _ in CASES])
def test_every_listed_field_refuses_every_wrong_type_by_its_json_path(docs, rtype, path, shape):
    base = next((d for d in docs.values() if d["resource"].get(rtype)), docs["default"])
    for value in _wrong_values(shape):
        doc = copy.deepcopy(base)
        resources = doc["resource"].setdefault(rtype, {"probe": {"provider": "aws.primary"}})
        name = sorted(resources)[0]
        _set(resources[name], path, value)
        with pytest.raises(ConfigError) as err:
            model.from_document(doc, "--stack-json s.json")
        where = "--stack-json s.json at " + functools.reduce(join, (rtype, name, *path), "resource")
        assert any(p.path.startswith(where) for p in err.value.problems), (value, err.value.problems)


@pytest.mark.parametrize("section", ["provider", "resource", "output"])
@pytest.mark.parametrize("value", [None, [], 3, "x", True])
def test_a_top_level_section_of_the_wrong_type_is_named(docs, section, value):
    doc = copy.deepcopy(docs["minimal"])
    doc[section] = value
    with pytest.raises(ConfigError) as err:
        model.from_document(doc, "--stack-json s.json")
    assert err.value.paths == (f"--stack-json s.json at {section}",)


@pytest.mark.parametrize("value", [None, [], 3, "x", {"aws": None}, {"aws": [None]}, {"aws": [{"alias": 1, "region": "x"}]}])
def test_a_provider_section_of_the_wrong_shape_is_named(docs, value):
    doc = copy.deepcopy(docs["minimal"])
    doc["provider"] = value
    with pytest.raises(ConfigError) as err:
        model.from_document(doc, "--stack-json s.json")
    assert all(p.startswith("--stack-json s.json at provider") for p in err.value.paths)


def test_a_resource_on_a_provider_the_stack_does_not_declare_is_named(docs):
    doc = copy.deepcopy(docs["default"])
    name = sorted(doc["resource"]["aws_s3_bucket_replication_configuration"])[0]
    doc["resource"]["aws_s3_bucket_replication_configuration"][name]["provider"] = "aws.elsewhere"
    with pytest.raises(ConfigError) as err:
        model.from_document(doc, "<stack>")
    assert err.value.paths == ("<stack> at " + functools.reduce(join, ("aws_s3_bucket_replication_configuration", name, "provider"), "resource"),)


# ---------------------------------------------------------------- every field a reader reads: refused or survived

class _Read(dict):
    """A resource body that records the path of every field the readers take from it (list items as index 0)."""

    def __init__(self, body, path, log):
        super().__init__(body)
        self._path, self._log = path, log

    def _wrap(self, key, value):
        path = (*self._path, key)
        self._log.add(path)
        return _wrapped(value, path, self._log)

    def get(self, key, default=None):
        return self._wrap(key, super().get(key, default)) if key in self else (self._log.add((*self._path, key)) or default)

    def __getitem__(self, key):
        return self._wrap(key, super().__getitem__(key))

    def items(self):
        return [(k, self._wrap(k, v)) for k, v in super().items()]

    def values(self):
        return [v for _, v in self.items()]


class _ReadList(list):
    def __init__(self, items, path, log):
        super().__init__(_wrapped(v, (*path, 0), log) for v in items)


def _wrapped(value, path, log):
    if isinstance(value, dict):
        return _Read(value, path, log)
    if isinstance(value, list):
        return _ReadList(value, path, log)
    return value


def fields_read(doc):
    """(resource type, field path) for every field of a resource the commands read from ``doc``."""
    log: set = set()
    arch = model.from_document(doc)
    arch = model.Architecture(arch.regions, tuple(model.Resource(r.type, r.name, r.alias, _Read(r.body, (r.type,), log))
                                                  for r in arch.resources), arch.outputs)
    arch = model.Architecture({a: model.Region(g.alias, g.name, tuple(r for r in arch.resources if r.alias == a))
                               for a, g in arch.regions.items()}, arch.resources, arch.outputs)
    est = cost.estimate(arch, PRICES)
    cost.render_text(est)
    diagram.to_dot(diagram.build(arch))
    for role in model.ROLES:
        try:
            drill.plan_drill(arch, {}, role, outputs_given=False)
        except ConfigError:
            pass
    return {(path[0], path[1:]) for path in log}


@pytest.fixture(scope="module")
def read(docs):
    """Every field read in any example: (type, path) -> the example that has that resource type."""
    found = {}
    for name, doc in docs.items():
        for rtype, path in fields_read(doc):
            found.setdefault((rtype, path), name)
    return found


def _listed(rtype, path):
    shape = RESOURCES.get(rtype)
    for key in path:
        if isinstance(shape, Obj):
            shape = shape.fields.get(key, shape.values)
        elif isinstance(shape, Items):
            shape = shape.item
        else:
            return False
        if shape is None:
            return False
    return shape is not None


def test_the_readers_are_seen_reading(read):
    """The recorder works: fields every example has are among those read."""
    assert ("aws_lambda_function", ("memory_size",)) in read and ("aws_wafv2_web_acl", ("rule",)) in read


def test_every_field_read_is_in_the_shape_table_or_survives_any_value(docs, read):
    unlisted = sorted((k for k in read if not _listed(*k)), key=str)
    crashed = []
    for rtype, path in unlisted:
        base = docs[read[(rtype, path)]]
        for value in HOSTILE:
            doc = copy.deepcopy(base)
            _set(doc["resource"][rtype][sorted(doc["resource"][rtype])[0]], path, value)
            try:
                use_everything(doc)
            except ConfigError:
                pass
            except Exception as exc:  # noqa: BLE001 - the finding: a field the table must list
                crashed.append(f"{rtype}.{'.'.join(map(str, path))} = {value!r}: {type(exc).__name__}: {exc}")
                break
    assert not crashed, "fields read without a type in tapinfra/operator/stack_shape.py:\n" + "\n".join(crashed)


# resources the readers count or follow without reading a field of them (region.of / count / resolve)
COUNTED = ("aws_cloudwatch_event_target", "aws_cloudwatch_event_bus", "aws_kms_key", "aws_cloudwatch_dashboard",
           "aws_route53_key_signing_key", "aws_route53_query_log", "aws_s3_bucket")


@pytest.mark.parametrize("name", ["default", "full"])
def test_a_resource_moved_to_any_provider_is_an_input_error_or_is_survived(docs, name):
    """Regions are read from each resource's provider: moving one (a bus, a table, a replication rule) breaks nothing."""
    base = docs[name]
    providers = [f"aws.{p['alias']}" for p in base["provider"]["aws"]] + [None, "aws", "aws.elsewhere"]
    crashed = []
    for rtype in sorted(set(RESOURCES) | set(COUNTED)):
        for resource in sorted(base["resource"].get(rtype, {}))[:1]:
            for provider in providers:
                doc = copy.deepcopy(base)
                body = doc["resource"][rtype][resource]
                body.pop("provider") if provider is None else body.update(provider=provider)
                try:
                    use_everything(doc)
                except ConfigError as exc:
                    assert provider not in providers[:-3], f"{rtype} on {provider} is a real place: {exc}"
                except Exception as exc:  # noqa: BLE001 - the finding
                    crashed.append(f"{rtype}.{resource} on {provider}: {type(exc).__name__}: {exc}")
    assert not crashed, "\n".join(crashed)


# ---------------------------------------------------------------- schedules: the config's grammar, every form priced

def _with_schedule(doc, expression):
    doc = copy.deepcopy(doc)
    for canary in doc["resource"]["aws_synthetics_canary"].values():
        canary["schedule"]["expression"] = expression
    return doc


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expression=st.from_regex(CANARY_SCHEDULE_PATTERN, fullmatch=True))
def test_every_schedule_the_config_accepts_is_priced(docs, expression):
    # the generator is the config's own grammar: the config takes it (with a timeout that fits any interval)
    config_from_dict({"features": {"canaries": True}, "monitoring": {"canary_schedule": expression, "canary_timeout_seconds": 3}})
    est = cost.estimate(model.from_document(_with_schedule(docs["default"], expression)), PRICES)
    runs = [line.quantity for line in est.lines if line.item == "synthetics_canary_run"]
    interval = canary_interval_seconds(expression)
    assert runs and all(math.isfinite(q) and q > 0 for q in runs)
    assert runs[0] == (1.0 if interval is None else HOURS * 3600 / interval)


def test_the_documented_run_once_schedules_are_one_run(docs):
    for expression in ("rate(0 minute)", "rate(0 hour)"):
        est = cost.estimate(model.from_document(_with_schedule(docs["default"], expression)), PRICES)
        line = next(line for line in est.lines if line.item == "synthetics_canary_run")
        assert line.quantity == 1 and "runs once" in line.what


@pytest.mark.parametrize("expression", ["rate(0 minutes)", "rate(61 minutes)", "rate(2 hours)", "rate(1 minutes)", "rate(1 day)",
                                        "cron(0/5 * * * ? *)", "", "rate(5 minutes) ", "RATE(5 minutes)"])
def test_a_schedule_the_config_refuses_is_named_in_the_stack(docs, expression):
    assert not re.fullmatch(CANARY_SCHEDULE_PATTERN, expression), "the case must be one the config refuses"
    with pytest.raises(ConfigError) as err:
        model.from_document(_with_schedule(docs["default"], expression), "--stack-json s.json")
    assert err.value.paths[0].endswith(".schedule.expression") and "monitoring.canary_schedule" in str(err.value)


# ---------------------------------------------------------------- the file itself: the config's strict loader

def _deep(levels):
    return "[" * levels + "]" * levels


FILES = {
    "not UTF-8": (b'{"provider": "\xff\xfe"}', "UTF-8"),
    "UTF-16 with BOM": ('{"provider": {}}'.encode("utf-16"), "UTF-8"),
    "not JSON": (b"{provider", "valid JSON"),
    "empty": (b"", "valid JSON"),
    "deeply nested": (('{"resource": {"aws_lambda_function": ' + _deep(MAX_NESTING + 8) + "}}").encode(), f"at most {MAX_NESTING} levels"),
    "huge integer": (b'{"provider": {"aws": []}, "resource": {"aws_lambda_function": {"f": {"memory_size": ' + b"9" * 5000 + b"}}}}",
                     "a number from 0"),
    "NaN": (b'{"resource": {"aws_lambda_function": {"f": {"memory_size": NaN}}}}', "a number from 0"),
    "duplicate keys": (b'{"resource": {}, "resource": {}}', "each key once"),
    "a list": (b"[]", "a JSON object"),
    "null": (b"null", "a JSON object"),
}


@pytest.mark.parametrize("command", ["cost", "diagram"])
@pytest.mark.parametrize("case", sorted(FILES))
def test_a_stack_file_it_cannot_use_is_exit_2_naming_the_file(command, case, tmp_path, capsys):
    content, allowed = FILES[case]
    stack = tmp_path / "cdk.tf.json"
    stack.write_bytes(content)
    argv = ["--stack-json", str(stack)] + (["--out", str(tmp_path / "a.dot")] if command == "diagram" else [])
    main = cost.main if command == "cost" else diagram.main
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tapinfra {command}: --stack-json") and allowed in err and "Traceback" not in err


@pytest.mark.parametrize("value", ["", "/nonexistent/cdk.tf.json", "/", "/dev/null/x"])
def test_a_stack_path_it_cannot_read_is_exit_2(value, capsys):
    assert cost.main(["--stack-json", value]) == 2
    err = capsys.readouterr().err
    assert "--stack-json" in err and json.dumps(value) in err and "Traceback" not in err
