"""Configs that pass the field rules but AWS or Terraform would refuse at deploy (issue 21):
names AWS reserves, IAM policy sizes, S3 backend keys and keys, Aurora reserved words, alarm
periods against metric cadences. Each class has a generator or a table; the synthesized
examples check that the pure-Python estimates match what the constructs really build."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tapinfra import limits
from tapinfra.config import (
    LAMBDA_ENVIRONMENT_LIMIT_BYTES, canary_interval_seconds, config_from_dict, environment_bytes,
    function_environment, load_config,
)
from tapinfra.errors import ConfigError
from tests.strategies import TENANT_NAMES
from tests.synth import EXAMPLES, EXAMPLE_NAMES, example_config, synth


def problems_of(raw) -> dict:
    with pytest.raises(ConfigError) as exc:
        config_from_dict(raw)
    return {p.path: p for p in exc.value.problems}


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_shipped_example_still_validates(name):
    load_config(EXAMPLES / f"{name}.json", environ={})


# ---------------------------------------------------------------- names AWS reserves

PRIVATE = {"networking": {"enabled": True}, "table": {"write_mode": "any-region"}}  # single-writer needs NAT in a VPC


@pytest.mark.parametrize("raw, needle", [
    ({"app": "sg", **PRIVATE}, "sg-api-function-"),                                   # EC2: GroupName can't start sg-
    ({"app": "sg", **PRIVATE, "aurora": {"enabled": True}}, "sg-"),
    ({"app": "sthree"}, "sthree-"),                                                   # S3 prefix
    ({"app": "awsome"}, "/awsome/"),                                                  # SSM prefix
    ({"app": "ssmx", "features": {"drain_switch": True}}, "/ssmx/"),
])
def test_names_aws_reserves_are_refused_naming_app_and_the_rule(raw, needle):
    found = problems_of(raw)
    assert list(found) == ["app"] and needle in found["app"].allowed and "reserves" in found["app"].allowed


@pytest.mark.parametrize("raw", [
    {"app": "sg"},                                   # no security group is built without networking
    {"app": "awsome", "features": {"drain_switch": False}},
    {"app": "xn", **PRIVATE},                        # "xn-..." is not "xn--"
    {"app": "sgx", **PRIVATE},
])
def test_names_that_only_look_reserved_are_accepted(raw):
    config_from_dict(raw)


@settings(max_examples=150, deadline=None)
@given(app=st.from_regex(r"(sg|aws|ssm|sthree|xn|s|a)[a-z0-9]{0,4}", fullmatch=True), networking=st.booleans(),
       drain=st.booleans())
def test_an_app_is_refused_exactly_when_a_name_it_starts_is_reserved(app, networking, drain):
    raw = {"app": app, "features": {"drain_switch": drain}, "networking": {"enabled": networking},
           "table": {"write_mode": "any-region"}}
    bad = (app == "sg" and networking) or app == "sthree" or (drain and app.startswith(("aws", "ssm")))
    if bad:
        assert list(problems_of(raw)) == ["app"]
    else:
        assert config_from_dict(raw).app == app


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_the_names_checked_are_every_name_the_stack_issues(name):
    """stack_names mirrors the constructs' namer calls: a new namer.name(...) fails here until listed."""
    config = example_config(name)
    issued = {(kind, key.split("|", 1)[1]) for kind, key in synth(config).stack.foundation.registry.issued}
    built, failed = limits.stack_names(config)
    assert failed == []
    assert {(b.kind, b.name) for b in built if b.kind != "ssm_parameter"} == issued


# ---------------------------------------------------------------- IAM policy sizes

_REF = re.compile(r"\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}")
# Resource ids AWS generates, at their longest: subnet-/sg- plus 17 hex digits, a key id (a UUID or mrk- and 32 hex).
_ID_BOUND = {"aws_subnet": len("subnet-") + 17, "aws_security_group": len("sg-") + 17, "aws_kms_key": 36}
_NAME_ATTRS = ("bucket", "name", "function_name", "identifier", "cluster_identifier", "alarm_name")


def _bounded(text: str, doc: dict, depth: int = 0) -> str:
    """``text`` with every Terraform reference replaced by a string at least as long as its value."""
    def value(match: re.Match) -> str:
        data, rtype, rname, attr = match.groups()
        if rtype == "aws_partition":
            return "p" * limits.PARTITION_MAX
        if rtype == "aws_caller_identity":
            return "0" * limits.ACCOUNT_ID_LENGTH
        body = doc.get("data" if data else "resource", {}).get(rtype, {}).get(rname, {})
        name = next((body[k] for k in _NAME_ATTRS if isinstance(body.get(k), str)), None)
        name = _bounded(name, doc, depth + 1) if name is not None and depth < 4 else None
        if attr == "arn" and rtype == "aws_s3_bucket":  # arn:<partition>:s3:::<bucket>
            return f"arn:{'p' * limits.PARTITION_MAX}:s3:::{name}"
        if attr == "arn":  # arn:<partition>:<service>:<region>:<account>:<type>/<name or id>
            return "a" * (70 + (len(name) if name else _ID_BOUND.get(rtype, 100)))
        if attr in ("id", "name", "bucket", "function_name") and name:
            return name
        return "x" * 100
    return _REF.sub(value, text)


def _iam_document(doc: dict, ref: str) -> dict:
    """The IAM JSON a ``data.aws_iam_policy_document`` renders, references bounded."""
    match = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}", ref)
    assert match, ref
    statements = []
    for s in doc["data"]["aws_iam_policy_document"][match.group(1)]["statement"]:
        out = {"Sid": s.get("sid"), "Effect": s.get("effect", "Allow"), "Action": s["actions"]}
        if s.get("resources"):
            out["Resource"] = s["resources"]
        for p in s.get("principals", []):
            out.setdefault("Principal", {})[p["type"]] = p["identifiers"]
        for c in s.get("condition", []):
            out.setdefault("Condition", {}).setdefault(c["test"], {})[c["variable"]] = c["values"]
        statements.append(out)
    return json.loads(_bounded(json.dumps({"Version": "2012-10-17", "Statement": statements}), doc))


def _policies(doc: dict) -> dict[str, list[tuple[str, dict]]]:
    res = doc["resource"]
    found = {kind: [] for kind in ("role", "trust", "key", "bucket", "endpoint")}
    for kind, rtype, attr in (("role", "aws_iam_role_policy", "policy"), ("trust", "aws_iam_role", "assume_role_policy"),
                              ("key", "aws_kms_key", "policy"), ("bucket", "aws_s3_bucket_policy", "policy"),
                              ("endpoint", "aws_vpc_endpoint", "policy")):
        for name, body in res.get(rtype, {}).items():
            if isinstance(body.get(attr), str):
                found[kind].append((name, _iam_document(doc, body[attr])))
    return found


def _largest_passing_tenants(base: dict) -> list[str]:
    """The most 32-character tenants ``base`` accepts (the env and policy limits bound them)."""
    tenants = [f"t{i:02d}" + "x" * 29 for i in range(100)]
    while True:
        try:
            config_from_dict({**base, "api": {"tenants": tenants}})
            return tenants
        except ConfigError as exc:
            assert set(exc.paths) == {"api.tenants"}, exc
            tenants = tenants[:-1]


WORST = {"app": "a" * 12, "environment": "e" * 10, "regions": {"primary": "ap-southeast-4", "secondary": "ap-northeast-3"},
         "ingestion": {"enabled": True}, "networking": {"enabled": True, "az_count": 6}, "aurora": {"enabled": True},
         "audit": {"enabled": True}, "analytics": {"enabled": True}, "table": {"write_mode": "any-region"}}


@pytest.fixture(scope="module")
def worst():
    """A config at every policy bound the validator lets through: longest names, most tenants, six zones."""
    config = config_from_dict({**WORST, "api": {"tenants": _largest_passing_tenants(WORST)}})
    return config, synth(config).doc


def test_every_policy_of_the_largest_accepted_config_fits_its_aws_limit(worst):
    config, doc = worst
    found = _policies(doc)
    sizes = {kind: max(limits.policy_chars(d) for _, d in docs) for kind, docs in found.items()}
    assert sizes["role"] <= limits.ROLE_INLINE_POLICY_CHARS, sizes
    assert sizes["trust"] <= limits.ROLE_TRUST_POLICY_CHARS, sizes
    assert max(len(json.dumps(d, indent=2).encode()) for _, d in found["key"]) <= limits.KMS_KEY_POLICY_BYTES
    assert max(len(json.dumps(d, indent=2).encode()) for _, d in found["bucket"]) <= limits.S3_BUCKET_POLICY_BYTES
    # endpoint policies count white space: measured as Terraform writes them (indented)
    assert max(len(json.dumps(d, indent=2)) for _, d in found["endpoint"]) <= limits.VPC_ENDPOINT_POLICY_CHARS


def test_the_ingestion_role_estimate_bounds_the_synthesized_policy_closely(worst):
    config, doc = worst
    roles = {name: d for name, d in _policies(doc)["role"] if any(s["Sid"] == "ReadTenantObjects" for s in d["Statement"])}
    assert len(roles) == 2  # one processor per region
    actual = max(limits.policy_chars(d) for d in roles.values())
    estimate = limits.ingest_role_policy_chars(config)
    assert actual <= estimate <= actual * 1.25, (actual, estimate)


def test_the_ingestion_estimate_without_networking_bounds_the_synthesized_policy():
    config = example_config("full")
    config = config_from_dict({**config.to_dict(), "networking": {"enabled": False}, "aurora": {"enabled": False}})
    roles = [d for _, d in _policies(synth(config).doc)["role"] if any(s["Sid"] == "ReadTenantObjects" for s in d["Statement"])]
    actual = max(limits.policy_chars(d) for d in roles)
    assert actual <= limits.ingest_role_policy_chars(config) <= actual * 1.5


tenant_names = TENANT_NAMES


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tenants=st.lists(tenant_names, min_size=60, max_size=100, unique=True), ingestion=st.booleans(),
       networking=st.booleans())
def test_the_ingestion_role_fits_10240_characters_or_the_tenants_are_refused(tenants, ingestion, networking):
    raw = {"api": {"tenants": tenants}, "ingestion": {"enabled": ingestion}, "networking": {"enabled": networking},
           "table": {"write_mode": "any-region"}}
    probe = config_from_dict({"ingestion": {"enabled": ingestion}, "networking": {"enabled": networking},
                              "table": {"write_mode": "any-region"}})
    probe = replace(probe, api=replace(probe.api, tenants=tuple(tenants)))
    too_big = ingestion and limits.ingest_role_policy_chars(probe) > limits.ROLE_INLINE_POLICY_CHARS
    env_too_big = environment_bytes(function_environment(probe)) > LAMBDA_ENVIRONMENT_LIMIT_BYTES
    if too_big or env_too_big:
        found = problems_of(raw)
        assert list(found) == ["api.tenants"]
        if too_big and not env_too_big:
            assert str(limits.ROLE_INLINE_POLICY_CHARS) in found["api.tenants"].allowed
    else:
        config_from_dict(raw)


def test_the_issue_example_100_long_tenants_with_ingestion_is_refused():
    # With the longest app and environment, 100 tenants of 14 characters fit Lambda's 4 KB
    # environment but not the ingestion role's 10,240 characters.
    raw = {"app": "a" * 12, "environment": "e" * 10, "api": {"tenants": [f"tenant-{i:03d}-xyz" for i in range(100)]}}
    assert environment_bytes(function_environment(config_from_dict(raw))) <= LAMBDA_ENVIRONMENT_LIMIT_BYTES
    found = problems_of({**raw, "ingestion": {"enabled": True}})
    assert list(found) == ["api.tenants"] and "10240" in found["api.tenants"].allowed


# ---------------------------------------------------------------- the S3 state backend

S3 = {"type": "s3", "bucket": "tapinfra-state"}


@pytest.mark.parametrize("key, ok", [
    ("tapinfra/terraform.tfstate", True), ("state.tfstate", True), ("a/b/c.tfstate", True),
    ("/state.tfstate", False), ("state/", False), ("a//b", False), ("/", False), ("a/b//", False), ("//a", False),
])
def test_backend_keys_terraform_refuses_are_refused(key, ok):
    raw = {"backend": {**S3, "key": key}}
    if ok:
        assert config_from_dict(raw).backend.key == key
    else:
        found = problems_of(raw)
        assert list(found) == ["backend.key"] and "Terraform S3 backend" in found["backend.key"].allowed


@settings(max_examples=200, deadline=None)
@given(key=st.from_regex(r"[A-Za-z0-9_./-]{1,40}", fullmatch=True))
def test_a_backend_key_is_refused_exactly_when_it_has_an_empty_or_edge_segment(key):
    raw = {"backend": {**S3, "key": key}}
    if key.startswith("/") or key.endswith("/") or "//" in key:
        assert list(problems_of(raw)) == ["backend.key"]
    else:
        config_from_dict(raw)


@pytest.mark.parametrize("kms, region, ok", [
    ("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", None, True),   # primary is us-east-1
    ("arn:aws:kms:eu-west-1:123456789012:alias/state", "eu-west-1", True),
    ("arn:aws:kms:eu-west-1:123456789012:key/abc", None, False),
    ("arn:aws:kms:us-east-1:123456789012:key/abc", "eu-west-1", False),
    ("arn:aws-cn:kms:us-east-1:123456789012:key/abc", None, False),
    ("arn:aws-us-gov:kms:us-east-1:123456789012:key/abc", "us-east-1", False),
])
def test_a_backend_kms_key_outside_the_state_buckets_region_or_partition_is_refused(kms, region, ok):
    raw = {"backend": {**S3, "kms_key_id": kms, "region": region}}
    if ok:
        config_from_dict(raw)
    else:
        found = problems_of(raw)
        assert list(found) == ["backend.kms_key_id"] and "region" in found["backend.kms_key_id"].allowed


# ---------------------------------------------------------------- Aurora reserved words

AURORA = {"networking": {"enabled": True}, "table": {"write_mode": "any-region"}}


def _aurora(engine, **fields):
    version = "16.6" if engine == "aurora-postgresql" else "8.0.mysql_aurora.3.08.0"
    return {**AURORA, "aurora": {"enabled": True, "engine": engine, "engine_version": version, **fields}}


@pytest.mark.parametrize("engine, field, value, ok", [
    ("aurora-postgresql", "master_username", "admin", False),      # Aurora PostgreSQL refuses admin
    ("aurora-mysql", "master_username", "admin", True),            # Aurora MySQL takes it
    ("aurora-postgresql", "master_username", "RDSADMIN", False),   # rds* is refused by the field pattern too
    ("aurora-mysql", "master_username", "rdsadmin", False),
    ("aurora-postgresql", "master_username", "postgres", True),
    ("aurora-postgresql", "master_username", "pg_owner", False),
    ("aurora-postgresql", "master_username", "user", False),
    ("aurora-postgresql", "master_username", "Public", False),
    ("aurora-mysql", "master_username", "select", False),
    ("aurora-mysql", "master_username", "user", True),             # not reserved in MySQL 8.0
    ("aurora-postgresql", "database_name", "template1", False),
    ("aurora-postgresql", "database_name", "admin", False),
    ("aurora-mysql", "database_name", "mysql", False),
    ("aurora-mysql", "database_name", "Interval", False),
    ("aurora-postgresql", "database_name", "interval", True),      # non-reserved in PostgreSQL
    ("aurora-postgresql", "database_name", "tap", True),
    ("aurora-mysql", "database_name", "tap", True),
])
def test_aurora_names_the_engine_reserves_are_refused(engine, field, value, ok):
    raw = _aurora(engine, **{field: value})
    if ok:
        config_from_dict(raw)
    else:
        assert f"aurora.{field}" in problems_of(raw)


@settings(max_examples=150, deadline=None)
@given(engine=st.sampled_from(sorted(limits.ENGINE_RESERVED)), data=st.data())
def test_every_reserved_word_of_the_engine_is_refused_in_any_case(engine, data):
    word = data.draw(st.sampled_from(sorted(w for w in limits.ENGINE_RESERVED[engine] if len(w) <= 16)))
    cased = "".join(c.upper() if data.draw(st.booleans()) else c for c in word)
    if not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_]*", cased) or cased.lower().startswith("rds"):
        return  # the field patterns refuse these already
    found = problems_of(_aurora(engine, master_username=cased, database_name=cased))
    assert {"aurora.master_username", "aurora.database_name"} <= set(found)
    assert "reserve" in found["aurora.database_name"].allowed


def test_reserved_words_do_not_matter_while_aurora_is_off():
    config_from_dict({"aurora": {"master_username": "admin", "database_name": "select"}})


# ---------------------------------------------------------------- alarm periods and metric cadences

SYNTHETICS_RATES = sorted({"rate(0 minute)", "rate(0 hour)", "rate(1 minute)", "rate(1 hour)"}
                          | {f"rate({n} minutes)" for n in range(2, 61)})


@pytest.mark.parametrize("period", [60, 300, 900, 3600])
@pytest.mark.parametrize("schedule", SYNTHETICS_RATES)
def test_the_canary_alarm_period_covers_a_run_and_run_once_gets_no_alarm(schedule, period):
    config = config_from_dict({"monitoring": {"canary_schedule": schedule, "alarm_period_seconds": period,
                                              "canary_timeout_seconds": 3}})
    derived = limits.canary_alarm_period_seconds(config.monitoring)
    interval = canary_interval_seconds(schedule)
    if interval is None:
        assert derived is None
    else:
        assert derived >= interval and derived >= period and derived % 60 == 0
        assert derived in (period, interval)


def test_every_alarm_period_covers_its_metrics_publishing_interval():
    """Each alarm in every example watches a namespace whose cadence is known, at a period that covers it."""
    for name in EXAMPLE_NAMES:
        config = example_config(name)
        for alarm_id, alarm in synth(config).doc["resource"]["aws_cloudwatch_metric_alarm"].items():
            metrics = [alarm] if "namespace" in alarm else [q["metric"] for q in alarm["metric_query"] if "metric" in q]
            for m in metrics:
                period = m["period"]
                if m["namespace"] == limits.CANARY_NAMESPACE:
                    assert period == limits.canary_alarm_period_seconds(config.monitoring), alarm_id
                    continue
                assert not m["namespace"].startswith("AWS/") or m["namespace"] in limits.METRIC_CADENCE_SECONDS, alarm_id
                cadence = limits.metric_cadence_seconds(m["namespace"])
                assert cadence is None or period >= cadence, alarm_id
