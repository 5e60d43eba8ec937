"""Generated configs: valid ones synthesize and keep the invariants; anything else is a ConfigError."""

import json

from hypothesis import HealthCheck, given, settings, strategies as st

from tapinfra.config import TapConfig, config_from_dict, json_schema
from tapinfra.errors import ConfigError
from tests.strategies import SOURCE_DIRS
from tests.synth import Tf, synth


def from_schema(node, name=""):
    """Values the schema admits for one field (cross-field rules may still reject them)."""
    if node.get("type") == "object":
        props = node["properties"]
        return st.fixed_dictionaries({}, optional={k: from_schema(v, k) for k, v in props.items()})
    if name == "source_dir":
        return st.one_of(st.none(), SOURCE_DIRS)
    kind = node["type"]
    if "enum" in node:
        return st.sampled_from(node["enum"])
    nullable = isinstance(kind, list)
    kind = kind[0] if nullable else kind
    if kind == "boolean":
        base = st.booleans()
    elif kind == "integer":
        base = st.integers(node.get("minimum", -10), node.get("maximum", 10_000))
    elif kind == "number":
        base = st.floats(node.get("minimum", 0), node.get("maximum", 100), allow_nan=False)
    elif kind == "array":
        item = node["items"]
        elems = st.sampled_from(item["enum"]) if "enum" in item else st.from_regex(item["pattern"], fullmatch=True)
        base = st.lists(elems, min_size=node.get("minItems", 0), max_size=min(node.get("maxItems", 4), 4), unique=True)
    else:
        base = st.from_regex(node["pattern"], fullmatch=True) if "pattern" in node else st.text(max_size=20)
        if "maxLength" in node:
            base = base.filter(lambda s, n=node["maxLength"]: len(s) <= n)
    return st.one_of(st.none(), base) if nullable else base


SCHEMA = json_schema()
schema_configs = from_schema(SCHEMA)
junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
mutated = st.builds(
    lambda base, section, key, value: {**base, section: value} if key is None else {**base, section: {key: value}},
    schema_configs,
    st.sampled_from(sorted(SCHEMA["properties"])),
    st.none() | st.sampled_from(["primary", "memory_mb", "mode", "stage_name", "routing_policy", "typo"]),
    junk,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.one_of(schema_configs, mutated, junk))
def test_any_input_is_a_config_or_a_config_error(raw):
    try:
        cfg = config_from_dict(raw)
    except ConfigError as exc:
        assert exc.problems and all(p.path and p.allowed for p in exc.problems)
        return
    assert isinstance(cfg, TapConfig)
    # what loads round-trips
    assert config_from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(raw=schema_configs)
def test_valid_configs_synthesize_and_keep_the_invariants(raw):
    try:
        cfg = config_from_dict(raw)
    except ConfigError:
        return
    tf = Tf(synth(cfg).doc)
    assert tf.regions() == {"primary": cfg.regions.primary, "secondary": cfg.regions.secondary}
    for _, _, _, body in tf.all_blocks():
        assert body.get("provider") in ("aws.primary", "aws.secondary", "aws.us_east_1", "archive.packaging")
    (table,) = tf.resources("aws_dynamodb_table").values()
    assert table["provider"] == "aws.primary" and table["replica"][0]["region_name"] == cfg.regions.secondary
    buckets = [b["bucket"] for b in tf.resources("aws_s3_bucket").values()]
    assert len(buckets) == len(set(buckets))
    for name in buckets:
        assert len(name.replace("${data.aws_caller_identity.identity.account_id}", "123456789012")) <= 63
    roles = [r["name"] for r in tf.resources("aws_iam_role").values()]
    assert len(roles) == len(set(roles)) and all(len(r) <= 64 for r in roles)
