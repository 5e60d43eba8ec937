"""Issue 12 at the edge: the cache never mixes tenants, the body limit is one limit end to end,
gateway errors are readable from every allowed origin, alarms decide what silence means, and
the logging role and key policy grant no more than they must."""

from __future__ import annotations

import json

import pytest

from tests import item_api as contract
from tapinfra.config import WAF_BODY_INSPECTION_KB, with_changes
from tests.synth import REGIONS, Tf, example_config, synth


def _paths(tf: Tf, provider: str) -> dict[str, str]:
    from tests.test_contract import _resource_paths

    return _resource_paths(tf, provider)


# ------------------------------------------------------------------ the cache

def test_without_a_cache_nothing_is_cached(default_tf):
    for settings in default_tf.resources("aws_api_gateway_method_settings").values():
        assert settings["method_path"] == "*/*" and settings["settings"]["caching_enabled"] is False


def test_the_cache_answers_only_cacheable_reads_keyed_per_tenant(full_tf):
    cacheable = {f"{r.path.lstrip('/')}/{r.method}" for r in contract.ROUTES if r.cacheable}
    assert "health/GET" not in cacheable and all(p.endswith("/GET") for p in cacheable)
    for provider in REGIONS:
        settings = [s for s in full_tf.resources("aws_api_gateway_method_settings").values() if s["provider"] == provider]
        cached = {s["method_path"] for s in settings if s["settings"]["caching_enabled"]}
        assert cached == cacheable
        (everything,) = [s for s in settings if s["method_path"] == "*/*"]
        assert everything["settings"]["caching_enabled"] is False  # writes and /health
        assert all(s["settings"]["cache_data_encrypted"] for s in settings)
        paths = _paths(full_tf, provider)
        for integration in full_tf.resources("aws_api_gateway_integration").values():
            if integration["provider"] != provider or integration["type"] != "AWS_PROXY":
                continue
            method = full_tf.referenced(integration["http_method"])[2]["http_method"]
            (route,) = [r for r in contract.ROUTES if (r.path, r.method) == (paths[integration["resource_id"]], method)]
            keys = set(integration.get("cache_key_parameters") or ())
            if not route.cacheable:
                assert not keys
                continue
            # the tenant (its key), every input of the answer, and the headers the answer varies on
            expected = {"method.request.header.x-api-key", "method.request.header.Origin",
                        "method.request.header.If-None-Match", *(f"method.request.querystring.{q}" for q in route.query)}
            if "{id}" in route.path:
                expected.add("method.request.path.id")
            assert keys == expected, route


# ------------------------------------------------------------------ one body limit

@pytest.mark.parametrize("max_body, inspection", [(1024, 16), (16384, 16), (16385, 32), (40000, 48), (65536, 64)])
def test_the_firewall_answers_oversized_bodies_like_the_function(max_body, inspection):
    config = with_changes(example_config("minimal"), api={"max_body_bytes": max_body, "waf_body_inspection_kb": inspection})
    tf = Tf(synth(config).doc)
    assert inspection in WAF_BODY_INSPECTION_KB
    for provider, (_, acl) in tf.by_provider("aws_wafv2_web_acl").items():
        (body_rule,) = [r for r in acl["rule"] if "size_constraint_statement" in r["statement"]]
        size = body_rule["statement"]["size_constraint_statement"]
        assert (size["comparison_operator"], size["size"]) == ("GT", max_body)
        assert size["field_to_match"]["body"]["oversize_handling"] == "MATCH"
        assert body_rule["action"]["block"]["custom_response"]["response_code"] == 413
        (common,) = [r for r in acl["rule"] if r["name"] == "AWSManagedRulesCommonRuleSet"]
        overrides = common["statement"]["managed_rule_group_statement"]["rule_action_override"]
        assert overrides == [{"name": "SizeRestrictions_BODY", "action_to_use": {"count": {}}}]
        limit = acl["association_config"]["request_body"][0]["api_gateway"]["default_size_inspection_limit"]
        assert limit == f"KB_{inspection}" and inspection * 1024 >= max_body
        (_, fn) = tf.by_provider("aws_lambda_function")[provider]
        assert fn["environment"]["variables"][contract.Env.MAX_BODY_BYTES] == str(max_body)
        response = json.loads(acl["custom_response_body"][0]["content"])
        assert response["error"] == "payload_too_large"


# ------------------------------------------------------------------ CORS on gateway errors

def test_gateway_errors_echo_any_allowed_origin(full_tf, default_tf):
    for response in full_tf.resources("aws_api_gateway_gateway_response").values():
        params = response["response_parameters"]
        assert params["gatewayresponse.header.Access-Control-Allow-Origin"] == "method.request.header.Origin"
        assert params["gatewayresponse.header.Vary"] == "'Origin'"
    for response in default_tf.resources("aws_api_gateway_gateway_response").values():
        assert response["response_parameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"


# ------------------------------------------------------------------ alarms

SILENCE_IS_FAILURE = {"CloudWatchSynthetics/SuccessPercent", "AWS/Route53/HealthCheckStatus"}


def _metrics(alarm) -> set[str]:
    if "metric_name" in alarm:
        return {f"{alarm['namespace']}/{alarm['metric_name']}"}
    metrics = [q["metric"] for q in alarm["metric_query"] if q.get("metric")]
    metrics = [m[0] if isinstance(m, list) else m for m in metrics]
    return {f"{m['namespace']}/{m['metric_name']}" for m in metrics}


def test_each_alarm_decides_what_missing_data_means(any_tf):
    for name, alarm in any_tf.resources("aws_cloudwatch_metric_alarm").items():
        expected = "breaching" if _metrics(alarm) & SILENCE_IS_FAILURE else "notBreaching"
        assert alarm["treat_missing_data"] == expected, name


def test_an_alarm_fires_before_reserved_concurrency_throttles(full_tf):
    reserved = example_config("full").function.reserved_concurrency
    alarms = [a for a in full_tf.resources("aws_cloudwatch_metric_alarm").values()
              if a.get("metric_name") == "ConcurrentExecutions"]
    assert sorted(a["provider"] for a in alarms) == sorted(REGIONS)
    for alarm in alarms:
        assert 0 < alarm["threshold"] < reserved and alarm["statistic"] == "Maximum"


# ------------------------------------------------------------------ least privilege

def test_the_api_gateway_logging_role_only_writes_its_own_groups(any_tf):
    for _, account in any_tf.by_provider("aws_api_gateway_account").values():
        _, role_name, _ = any_tf.referenced(account["cloudwatch_role_arn"])
        (policy,) = [p for p in any_tf.resources("aws_iam_role_policy").values() if p["role"].startswith(f"${{aws_iam_role.{role_name}.")]
        actions = {a for s in any_tf.policy(policy["policy"]) for a in s["actions"]}
        assert not actions & {"logs:GetLogEvents", "logs:FilterLogEvents"}
        for statement in any_tf.policy(policy["policy"]):
            if statement["actions"] != ["logs:DescribeLogGroups"]:
                assert all(":log-group:API-Gateway-Execution-Logs_" in r or ":log-group:/aws/apigateway/" in r
                           for r in statement["resources"])


def test_cloudwatch_may_use_a_key_only_for_this_accounts_alarms(any_tf):
    for name in any_tf.region_keys().values():
        key = any_tf.resources("aws_kms_key")[name]
        (grant,) = [s for s in any_tf.policy(key["policy"]) if s["sid"] == "CloudWatchAlarmsToEncryptedTopics"]
        assert {"test": "StringEquals", "variable": "aws:SourceAccount",
                "values": ["${data.aws_caller_identity.identity.account_id}"]} in grant["condition"]
