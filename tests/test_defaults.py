"""Issue 20's "defaults that are not seed failures" and "account-wide singletons", in every
shipped example (each examples/*.json, the library example, and the project ``tapinfra init``
writes, with and without ``--domain``): Route 53 routing with a health check per region,
dead-lettered cross-region events, exports that expire with the items, canaries in both
regions, alarm topics someone subscribes to (or a warning that says none does), account-wide
settings owned by one environment, and retention on every log group the stack causes to exist."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from tapinfra import scaffold
from tapinfra.config import TapConfig, config_from_dict, load_config, with_changes
from tapinfra.errors import ConfigError
from tapinfra.shortfalls import reserved_domain, shortfalls
from tests.synth import EXAMPLES, REGIONS, Tf, example_config, synth

ROLE_ARN = "arn:aws:iam::123456789012:role/platform/apigw-cloudwatch"
SCAFFOLD_DOMAIN = "svc.corp.dev"
# Every config a user gets from us: found, not listed, so a new example is walked too.
PROJECTS = tuple(sorted(p.parent.name for p in EXAMPLES.glob("*/tapinfra.json")))  # cdktf apps: examples/library/
SHIPPED = (*sorted(p.stem for p in EXAMPLES.glob("*.json")), *PROJECTS, "scaffold", "scaffold-domain")
# The one shipped shape without routing: init without --domain cannot know a domain.
UNROUTED = {"scaffold"}


def scaffolded(domain: str | None) -> TapConfig:
    """The config of a project ``tapinfra init`` writes (``--domain`` when given), from its templates."""
    root = Path(tempfile.mkdtemp(prefix="tapinfra-scaffold-"))
    scaffold.write_project(root, "svc", domain)
    return load_config(root / "tapinfra.json", environ={})


def shipped_config(name: str) -> TapConfig:
    if name in PROJECTS:
        return load_config(EXAMPLES / name / "tapinfra.json", environ={})
    if name.startswith("scaffold"):
        return scaffolded(SCAFFOLD_DOMAIN if name == "scaffold-domain" else None)
    return example_config(name)


def test_the_walk_finds_every_example():
    assert {"minimal", "default", "full", "library"} <= set(SHIPPED)


@pytest.fixture(scope="module", params=SHIPPED)
def example(request):
    s = synth(shipped_config(request.param))
    return s.config, Tf(s.doc), s.stack


@pytest.fixture(scope="module", params=SHIPPED)
def shipped(request):
    s = synth(shipped_config(request.param))
    return request.param, s.config, Tf(s.doc), s.stack


def problems(raw: dict) -> list[str]:
    try:
        config_from_dict(raw)
    except ConfigError as error:
        return [p.path for p in error.problems]
    return []


def topic_of_region(tf: Tf, provider: str) -> str:
    (name, _), = tf.in_region("aws_sns_topic", provider).items()
    return tf.ref("aws_sns_topic", name, "arn")


# --- 1. cross-region event targets dead-letter into a KMS queue, and their failures alarm ---

def test_every_forwarding_target_dead_letters_into_a_queue_under_its_regions_key(example):
    config, tf, _ = example
    targets = tf.resources("aws_cloudwatch_event_target")
    assert config.features.event_forwarding and len(targets) == 2
    keys = tf.region_keys()
    for name, target in targets.items():
        provider = target["provider"]
        qtype, queue_name, queue = tf.referenced(target["dead_letter_config"]["arn"])
        assert qtype == "aws_sqs_queue" and queue["provider"] == provider
        assert queue["kms_master_key_id"] == tf.ref("aws_kms_key", keys[provider], "arn")
        assert target["retry_policy"]["maximum_retry_attempts"] > 0
        (_, policy), = [(n, p) for n, p in tf.resources("aws_sqs_queue_policy").items()
                        if p["queue_url"] == tf.ref("aws_sqs_queue", queue_name, "url")]
        (statement,) = tf.policy(policy["policy"])
        rule = target["rule"].replace(".name}", ".arn}")
        assert statement["principals"] == [{"type": "Service", "identifiers": ["events.amazonaws.com"]}]
        assert statement["actions"] == ["sqs:SendMessage"]
        assert statement["condition"] == [{"test": "ArnEquals", "variable": "aws:SourceArn", "values": [rule]}]
        # EventBridge may only dead-letter once the queue admits it
        assert any(d.startswith("aws_sqs_queue_policy.") for d in target["depends_on"])


def test_each_regions_key_lets_eventbridge_encrypt_only_this_accounts_rules_there(example):
    _, tf, _ = example
    regions = tf.regions()
    for provider, key in tf.region_keys().items():
        (grant,) = [s for s in tf.policy(tf.resources("aws_kms_key")[key]["policy"])
                    if s["principals"] == [{"type": "Service", "identifiers": ["events.amazonaws.com"]}]]
        assert set(grant["actions"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
        conditions = {c["variable"]: c for c in grant["condition"]}
        assert conditions["aws:SourceAccount"]["values"] == ["${data.aws_caller_identity.identity.account_id}"]
        (rules,) = conditions["aws:SourceArn"]["values"]
        assert f":events:{regions[provider.split('.')[1]]}:" in rules and rules.endswith(":rule/*")


def test_a_dead_lettered_or_undeliverable_event_alarms_the_regions_topic(example):
    _, tf, _ = example
    alarms = tf.resources("aws_cloudwatch_metric_alarm").values()
    for target in tf.resources("aws_cloudwatch_event_target").values():
        provider, queue_ref = target["provider"], target["dead_letter_config"]["arn"]
        topic = topic_of_region(tf, provider)
        depth = [a for a in alarms if a.get("metric_name") == "ApproximateNumberOfMessagesVisible"
                 and a["dimensions"] == {"QueueName": queue_ref.replace(".arn}", ".name}")}]
        lost = [a for a in alarms if a.get("metric_name") == "InvocationsFailedToBeSentToDlq"
                and a["dimensions"] == {"EventBusName": target["event_bus_name"], "RuleName": target["rule"]}]
        for alarm in (*depth, *lost):
            assert alarm["provider"] == provider and alarm["alarm_actions"] == [topic] and alarm["threshold"] == 1
        assert len(depth) == 1 and len(lost) == 1


# --- 2. exports expire with the items they copy --------------------------------------------

@settings(max_examples=60, deadline=None)
@given(retention=st.integers(1, 3650), expiration=st.one_of(st.none(), st.integers(1, 3650)), noncurrent=st.integers(1, 3650))
def test_a_config_is_refused_exactly_when_its_exports_could_outlive_the_items(retention, expiration, noncurrent):
    raw = {"table": {"item_retention_days": retention},
           "storage": {"expiration_days": expiration, "noncurrent_version_expiration_days": noncurrent,
                       "transition_to_ia_days": 30, "transition_to_glacier_days": 60}}
    outlives = expiration is None or expiration + noncurrent > retention
    found = problems(raw)
    assert ("storage.expiration_days" in found) == (outlives or (expiration is not None and expiration <= 60))
    if outlives:
        with pytest.raises(ConfigError, match="no copy outlives the items' retention"):
            config_from_dict(raw)


def test_the_embedded_default_expires_exports_with_the_items():
    s, t = TapConfig().storage, TapConfig().table
    assert s.expiration_days + s.noncurrent_version_expiration_days == t.item_retention_days


def test_both_data_buckets_expire_every_copy_within_the_items_retention(example):
    config, tf, _ = example
    data = tf.data_buckets()
    assert len(data) == 2  # the primary's and its replica in the secondary
    for bucket in data:
        _, lifecycle = tf.bucket_part("aws_s3_bucket_lifecycle_configuration", bucket)
        (rule,) = lifecycle["rule"]
        kept = rule["expiration"][0]["days"] + rule["noncurrent_version_expiration"][0]["noncurrent_days"]
        assert kept <= config.table.item_retention_days, bucket


# --- 3. health checks in both regions, with or without a domain; canaries everywhere ---------

def test_every_example_health_checks_each_regions_own_endpoint_and_alarms_on_it(example):
    config, tf, _ = example
    checks = tf.resources("aws_route53_health_check")
    apis = {body["provider"]: name for name, body in tf.resources("aws_api_gateway_rest_api").items()}
    assert sorted(c["provider"] for c in checks.values()) == sorted(REGIONS)
    for name, check in checks.items():
        assert check["resource_path"] == f"/{config.api.stage_name}/health" and check["type"] == "HTTPS"
        assert f"aws_api_gateway_rest_api.{apis[check['provider']]}.id" in check["fqdn"]
        (alarm,) = [a for a in tf.resources("aws_cloudwatch_metric_alarm").values()
                    if a.get("dimensions") == {"HealthCheckId": tf.ref("aws_route53_health_check", name, "id")}]
        assert alarm["treat_missing_data"] == "breaching" and tf.regions().get(alarm["provider"].split(".")[1], "us-east-1") == "us-east-1"


def test_every_shipped_example_routes_both_regions_through_route53_behind_their_health_checks(shipped):
    name, config, tf, stack = shipped
    if name in UNROUTED:
        assert not config.features.dns and any("no automatic failover" in w for w in stack.warnings)
        return
    assert config.features.dns, f"{name}: features.dns is off"
    domains = {body["provider"]: n for n, body in tf.resources("aws_api_gateway_domain_name").items()}
    checks = {tf.ref("aws_route53_health_check", n, "id"): c for n, c in tf.resources("aws_route53_health_check").items()}
    routed = [r for r in tf.resources("aws_route53_record").values() if r.get("alias")]
    assert sorted(r["provider"] for r in routed) == sorted(REGIONS)
    assert {r["type"] for r in routed} <= {"A", "AAAA"} and len({r["set_identifier"] for r in routed}) == len(routed)
    policy = config.dns.routing_policy
    for record in routed:
        provider = record["provider"]
        # the record's health check probes the record's own region, and the alias targets that region's domain
        assert checks[record["health_check_id"]]["provider"] == provider
        alias = record["alias"]
        assert alias["name"] == tf.ref("aws_api_gateway_domain_name", domains[provider], "regional_domain_name")
        assert alias["evaluate_target_health"] is True
        assert record["name"] == config.dns.domain_name
        assert record.get(f"{policy}_routing_policy"), (name, policy)


def test_init_without_a_domain_warns_at_synth_and_with_one_it_routes():
    assert not scaffolded(None).features.dns
    routed = scaffolded(SCAFFOLD_DOMAIN)
    assert routed.features.dns and routed.dns.domain_name == routed.dns.create_zone_name == SCAFFOLD_DOMAIN
    assert not any("dns." in w or "features.dns" in w for w in shortfalls(routed))


def test_the_synth_command_says_what_a_deployment_without_a_domain_lacks(tmp_path, capsys):
    from tapinfra.cli.synth import synth_main

    root = tmp_path / "project"
    scaffold.write_project(root, "svc", None)
    assert synth_main(["--config", str(root / "tapinfra.json"), "--outdir", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "warning: features.dns is false" in err and "no automatic failover" in err


@pytest.mark.parametrize("domain,words", [
    ("api.example.com", "reserved for documentation"), ("Upper.Corp.dev", "lowercase DNS name"),
    ("nodots", "lowercase DNS name"), ("a" * 60 + ".corp.dev", "at most 64"),
])
def test_init_refuses_a_domain_that_cannot_route(domain, words, tmp_path, capsys):
    assert scaffold.main([str(tmp_path / "p"), "--app", "svc", "--domain", domain, "--no-snapshot"]) == 2
    err = capsys.readouterr().err
    assert "--domain" in err and repr(domain) in err and words in err
    assert not (tmp_path / "p").exists()


def test_a_deployment_without_a_domain_says_so_in_its_outputs(example):
    config, tf, stack = example
    lacks_routing = any("no automatic failover" in w for w in stack.warnings)
    assert lacks_routing == (not config.features.dns)
    assert (tf.doc["output"].get("warnings", {}).get("value") or []) == stack.warnings
    assert bool(tf.resources("aws_route53_record")) == config.features.dns


def test_every_example_runs_a_canary_in_each_region(example):
    _, tf, _ = example
    assert sorted(c["provider"] for c in tf.resources("aws_synthetics_canary").values()) == sorted(REGIONS)


# --- 4. alarm topics someone subscribes to --------------------------------------------------

@pytest.mark.parametrize("disposable,emails,refused", [
    (False, [], True), (True, [], False), (False, ["oncall@corp.dev"], False), (True, ["oncall@corp.dev"], False),
])
def test_an_alarm_topic_without_a_subscriber_is_refused_outside_disposable_environments(disposable, emails, refused):
    assert ("monitoring.alarm_emails" in problems({"disposable": disposable, "monitoring": {"alarm_emails": emails}})) == refused


def test_the_embedded_default_is_valid_and_its_reserved_subscriber_is_reported():
    config = config_from_dict(TapConfig().to_dict())
    assert config.monitoring.alarm_emails
    assert any("monitoring.alarm_emails" in w and "reaches no one" in w for w in shortfalls(config))
    real = with_changes(config, monitoring={"alarm_emails": ["oncall@corp.dev"]})
    assert not any("monitoring.alarm_emails" in w for w in shortfalls(real))


@pytest.mark.parametrize("name,reserved", [
    ("example.com", True), ("ops.example.org", True), ("corp.test", True), ("x.invalid", True), ("example.net.", True),
    ("examples.com", False), ("corp.dev", False), ("myexample.com", False),
])
def test_documentation_domains_are_recognised(name, reserved):
    assert reserved_domain(name) == reserved


def test_every_alarm_topic_in_every_example_has_a_subscriber_or_the_stack_says_none_does(example):
    config, tf, stack = example
    subscribed = {s["topic_arn"] for s in tf.resources("aws_sns_topic_subscription").values()}
    topics = {tf.ref("aws_sns_topic", name, "arn") for name in tf.resources("aws_sns_topic")}
    notified = {arn for a in tf.resources("aws_cloudwatch_metric_alarm").values() for arn in a["alarm_actions"]}
    assert notified <= topics
    if topics <= subscribed:
        return
    assert config.disposable and not config.monitoring.alarm_emails and not subscribed
    assert any("monitoring.alarm_emails is empty" in w for w in stack.warnings)


# --- 5. account-wide singletons -------------------------------------------------------------

# Types whose one instance is shared by the whole account (or account and region): each needs an
# owner, so the stack may hold one only as noted.
ACCOUNT_SINGLETONS = {
    "aws_api_gateway_account": "only with api.account_logging_role create",
    "aws_cloudwatch_log_resource_policy": "only with dns.query_log_policy create, for a zone the stack creates (10 per region)",
    "aws_route53_hosted_zone_dnssec": "only on a zone the stack creates",
    "aws_s3_account_public_access_block": None, "aws_iam_service_linked_role": None,
    "aws_xray_encryption_config": None, "aws_ebs_encryption_by_default": None,
    "aws_cloudwatch_log_account_policy": None, "aws_iam_account_password_policy": None,
    "aws_guardduty_detector": None, "aws_securityhub_account": None, "aws_macie2_account": None,
    "aws_config_configuration_recorder": None, "aws_lambda_code_signing_config": None,
}


def test_the_stack_holds_account_singletons_only_where_it_owns_them(example):
    config, tf, _ = example
    for rtype, allowed in ACCOUNT_SINGLETONS.items():
        if tf.resources(rtype):
            assert allowed is not None, f"{rtype} is account-wide: no environment may take it over"
    assert bool(tf.resources("aws_api_gateway_account")) == (config.api.account_logging_role == "create")
    created_zone = bool(tf.resources("aws_route53_zone"))
    assert bool(tf.resources("aws_route53_hosted_zone_dnssec")) == created_zone
    assert bool(tf.resources("aws_cloudwatch_log_resource_policy")) == (created_zone and config.dns.query_log_policy == "create")


def test_the_query_log_policy_is_owned_and_protected_unless_disposable(example):
    config, tf, _ = example
    for name, policy in tf.resources("aws_cloudwatch_log_resource_policy").items():
        assert (policy.get("lifecycle") or {}).get("prevent_destroy") is (None if config.disposable else True), name
        (statement,) = tf.policy(policy["policy_document"])
        assert statement["principals"] == [{"type": "Service", "identifiers": ["route53.amazonaws.com"]}]
        (resource,) = statement["resources"]
        assert resource.endswith(":log-group:/aws/route53/*")
        for log in tf.resources("aws_route53_query_log").values():
            assert f"aws_cloudwatch_log_resource_policy.{name}" in log["depends_on"]


def test_an_environment_that_does_not_own_the_query_log_policy_creates_none_and_still_logs():
    config = with_changes(example_config("default"), dns={"query_log_policy": "existing"})
    tf = Tf(synth(config).doc)
    assert not tf.resources("aws_cloudwatch_log_resource_policy")
    (log,) = tf.resources("aws_route53_query_log").values()
    (group_name,) = [n for n, g in tf.resources("aws_cloudwatch_log_group").items() if g["name"].startswith("/aws/route53/")]
    assert log["cloudwatch_log_group_arn"] == tf.ref("aws_cloudwatch_log_group", group_name, "arn")
    assert not any(d.startswith("aws_cloudwatch_log_resource_policy.") for d in log.get("depends_on") or [])


@pytest.mark.parametrize("value", ["sometimes", "", None])
def test_the_query_log_policy_mode_is_create_or_existing(value):
    assert "dns.query_log_policy" in problems({"dns": {"query_log_policy": value}})


def test_the_owner_protects_the_account_setting_and_its_role_unless_disposable(example):
    config, tf, _ = example
    assert config.api.account_logging_role == "create"
    for name, account in tf.resources("aws_api_gateway_account").items():
        _, role_name, role = tf.referenced(account["cloudwatch_role_arn"])
        protected = [(account.get("lifecycle") or {}).get("prevent_destroy"), (role.get("lifecycle") or {}).get("prevent_destroy")]
        assert protected == ([None, None] if config.disposable else [True, True]), name
        assert account.get("reset_on_delete") is (True if config.api.reset_account_logging_on_destroy else None)


def _existing_logging() -> Tf:
    config = with_changes(example_config("minimal"), api={"account_logging_role": "existing", "account_logging_role_arn": ROLE_ARN})
    return Tf(synth(config).doc)


def test_an_environment_that_does_not_own_the_setting_never_changes_it_and_logs_only_once_the_role_exists():
    tf = _existing_logging()
    assert not tf.resources("aws_api_gateway_account")
    assert not [r for r in tf.resources("aws_iam_role").values() if "apigateway.amazonaws.com" in str(r)]
    roles = tf.data("aws_iam_role")
    assert sorted(r["provider"] for r in roles.values()) == sorted(REGIONS)
    for name, role in roles.items():
        assert role["name"] == "apigw-cloudwatch"
        (check,) = role["lifecycle"]["postcondition"]
        assert ROLE_ARN in check["condition"] and "self.arn" in check["condition"]
    for stage in tf.resources("aws_api_gateway_stage").values():
        assert any(d.startswith("data.aws_iam_role.") for d in stage["depends_on"])


@pytest.mark.parametrize("api,field", [
    ({"account_logging_role": "existing"}, "api.account_logging_role_arn"),
    ({"account_logging_role": "create", "account_logging_role_arn": ROLE_ARN}, "api.account_logging_role_arn"),
    ({"account_logging_role": "existing", "account_logging_role_arn": "arn:aws:iam::123456789012:user/x"}, "api.account_logging_role_arn"),
    ({"account_logging_role": "sometimes"}, "api.account_logging_role"),
])
def test_the_logging_role_mode_and_its_arn_must_agree(api, field):
    assert field in problems({"api": api})


def test_no_reset_when_the_owner_says_not_to():
    tf = Tf(synth(with_changes(example_config("minimal"), api={"reset_account_logging_on_destroy": False})).doc)
    assert tf.resources("aws_api_gateway_account")
    assert all("reset_on_delete" not in a for a in tf.resources("aws_api_gateway_account").values())


# --- 6. every log group the stack causes to exist has a retention ----------------------------

def test_each_canarys_lambda_log_group_is_the_stacks_with_a_retention(example):
    config, tf, _ = example
    keys = tf.region_keys()
    groups = tf.resources("aws_cloudwatch_log_group")
    for name, canary in tf.resources("aws_synthetics_canary").items():
        (group,) = [g for g in groups.values() if f"aws_synthetics_canary.{name}.engine_arn" in g["name"]]
        assert group["name"] == f'/aws/lambda/${{element(split(":", aws_synthetics_canary.{name}.engine_arn), 6)}}'
        assert group["retention_in_days"] == config.monitoring.canary_log_retention_days
        assert group["kms_key_id"] == tf.ref("aws_kms_key", keys[canary["provider"]], "arn")
        # the canary cannot make a group of its own (one without a retention)
        _, _, role = tf.referenced(canary["execution_role_arn"])
        (policy,) = [p for p in tf.resources("aws_iam_role_policy").values()
                     if p["role"] == canary["execution_role_arn"].replace(".arn}", ".id}")
                     or p["role"] == canary["execution_role_arn"].replace(".arn}", ".name}")]
        actions = [a for s in tf.policy(policy["policy"]) for a in s["actions"]]
        assert "logs:CreateLogGroup" not in actions and "logs:PutLogEvents" in actions


def test_every_log_group_has_a_retention(example):
    _, tf, _ = example
    assert all(g.get("retention_in_days") for g in tf.resources("aws_cloudwatch_log_group").values())
