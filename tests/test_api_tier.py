"""Issue 5: function behind a provisioned alias, a complete REST stage, keys, CORS, WAF on the stage."""

import json
import re

import pytest

from tapinfra.config import config_from_dict
HANDLER = "app.handler"  # the item API's function (application.handler; the ingestion processor is another)
from tests.item_api import ITEM_MODELS, ROUTES
from tests.synth import REGIONS, Tf, example_config, synth


def key_arn(tf, provider):
    return tf.ref("aws_kms_key", tf.region_keys()[provider], "arn")


# ------------------------------------------------------------------ function

def test_function_settings_in_both_regions(full_tf):
    cfg = example_config("full").function
    fns = full_tf.by_provider("aws_lambda_function", handler=HANDLER)
    assert set(fns) == set(REGIONS)
    for provider, (name, fn) in fns.items():
        assert fn["runtime"] == cfg.runtime == "python3.12"
        assert (fn["memory_size"], fn["timeout"]) == (cfg.memory_mb, cfg.timeout_seconds)
        assert fn["tracing_config"] == {"mode": "Active"}
        assert fn["publish"] is True
        assert fn["handler"] == "app.handler"
        assert fn["kms_key_arn"] == key_arn(full_tf, provider)
        (layer,) = fn["layers"]
        assert layer.endswith(f":017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:{cfg.powertools_layer_version}")
        assert f":lambda:{full_tf.regions()[provider.split('.')[1]]}:" in layer
        assert fn["reserved_concurrent_executions"] >= cfg.provisioned_concurrency


def test_function_code_comes_from_the_inline_archive_with_its_hash(default_tf):
    (zip_name,) = [n for n, b in default_tf.data("archive_file").items() if "/function-" in b["output_path"]]
    for _, fn in default_tf.by_provider("aws_lambda_function", handler=HANDLER).values():
        assert fn["filename"] == default_tf.data_ref("archive_file", zip_name, "output_path")
        assert fn["source_code_hash"] == default_tf.data_ref("archive_file", zip_name, "output_base64sha256")


def test_asset_mode_function_uses_the_asset_and_its_file_hash():
    from tapinfra.config import with_changes
    tf = Tf(synth(with_changes(example_config("default"), packaging={"mode": "asset"})).doc)
    for _, fn in tf.by_provider("aws_lambda_function", handler=HANDLER).values():
        assert fn["filename"].startswith("assets/") and fn["filename"].endswith(".zip")
        assert fn["source_code_hash"] == f'${{filebase64sha256("{fn["filename"]}")}}'


def test_function_environment_is_complete_and_encrypted(default_tf):
    buses = default_tf.by_provider("aws_cloudwatch_event_bus")
    keys = {p: n for p, (n, _) in default_tf.by_provider("aws_api_gateway_api_key").items()}
    (table_name,) = [t["name"] for t in default_tf.resources("aws_dynamodb_table").values()]
    for provider, (_, fn) in default_tf.by_provider("aws_lambda_function", handler=HANDLER).items():
        env = fn["environment"]["variables"]
        assert env["TABLE_NAME"] == table_name
        assert env["EVENT_BUS_NAME"] == default_tf.ref("aws_cloudwatch_event_bus", buses[provider][0], "name")
        assert env["RETENTION_DAYS"] == "365"
        assert json.loads(re.sub(r"\$\{[^}]+\}", "abc123", env["TENANT_KEYS"])) == {"abc123": "demo"}
        assert env["TENANT_KEYS"] == '{"%s":"demo"}' % default_tf.ref("aws_api_gateway_api_key", keys[provider], "id")
        assert env["DRAIN_PARAMETER_NAME"].startswith("${aws_ssm_parameter.")
        assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "CORS_ALLOWED_ORIGINS", "EVENT_SOURCE"} <= set(env)


def test_tenant_map_holds_every_tenant_with_that_regions_key(full_tf):
    tenants = example_config("full").api.tenants
    for provider, (_, fn) in full_tf.by_provider("aws_lambda_function", handler=HANDLER).items():
        mapping = fn["environment"]["variables"]["TENANT_KEYS"]
        for tenant in tenants:
            (key,) = [n for n, k in full_tf.resources("aws_api_gateway_api_key").items()
                      if k["provider"] == provider and k["description"].endswith(f" {tenant}")]
            assert f'"{full_tf.ref("aws_api_gateway_api_key", key, "id")}":"{tenant}"' in mapping


def test_dead_letter_queue_is_kms_encrypted(any_tf):
    for provider, (_, fn) in any_tf.by_provider("aws_lambda_function", handler=HANDLER).items():
        rtype, _, queue = any_tf.referenced(fn["dead_letter_config"]["target_arn"])
        assert (rtype, queue["provider"]) == ("aws_sqs_queue", provider)
        assert queue["kms_master_key_id"] == key_arn(any_tf, provider)


def test_log_group_first_then_function_after_its_role_policy(any_tf):
    for provider, (_, fn) in any_tf.by_provider("aws_lambda_function", handler=HANDLER).items():
        (lg_name, lg), = [(n, g) for n, g in any_tf.resources("aws_cloudwatch_log_group").items()
                          if g["name"] == f"/aws/lambda/{fn['function_name']}" and g["provider"] == provider]
        assert lg["kms_key_id"] == key_arn(any_tf, provider) and lg["retention_in_days"] >= 1
        assert f"aws_cloudwatch_log_group.{lg_name}" in fn["depends_on"]
        _, _, role = any_tf.referenced(fn["role"].replace(".arn}", ".id}"))
        policies = [f"aws_iam_role_policy.{n}" for n, p in any_tf.resources("aws_iam_role_policy").items()
                    if p["role"] == fn["role"].replace(".arn}", ".id}")]
        assert len(policies) == 1 and policies[0] in fn["depends_on"]
        assert fn["logging_config"]["log_group"] == any_tf.ref("aws_cloudwatch_log_group", lg_name, "name")


def test_alias_with_provisioned_concurrency_is_what_api_gateway_invokes(full_tf):
    cfg = example_config("full").function
    aliases = full_tf.by_provider("aws_lambda_alias")
    pcs = full_tf.by_provider("aws_lambda_provisioned_concurrency_config")
    for provider, (fname, fn) in full_tf.by_provider("aws_lambda_function", handler=HANDLER).items():
        aname, alias = aliases[provider]
        assert alias["name"] == cfg.alias_name
        assert alias["function_version"] == full_tf.ref("aws_lambda_function", fname, "version")
        _, pc = pcs[provider]
        assert pc["qualifier"] == full_tf.ref("aws_lambda_alias", aname, "name")
        assert pc["provisioned_concurrent_executions"] == cfg.provisioned_concurrency
        integrations = [i for i in full_tf.resources("aws_api_gateway_integration").values()
                        if i["provider"] == provider and i["type"] == "AWS_PROXY"]
        assert len(integrations) == len(ROUTES)
        # by ARN, not by reference: the deployment must not depend on the function (create order
        # and replacement), while the stage waits for the alias
        region = full_tf.regions()[provider.split(".")[1]]
        function_arn = f"arn:${{data.aws_partition.partition.partition}}:lambda:{region}:${{data.aws_caller_identity.identity.account_id}}:function:{fn['function_name']}:{cfg.alias_name}"
        assert {i["uri"] for i in integrations} == {
            f"arn:${{data.aws_partition.partition.partition}}:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"}
        stage = full_tf.by_provider("aws_api_gateway_stage")[provider][1]
        assert f"aws_lambda_alias.{aname}" in stage["depends_on"]


def test_invoke_permission_is_scoped_to_this_api_stage_and_the_alias(any_tf):
    apis = any_tf.by_provider("aws_api_gateway_rest_api")
    stages = any_tf.by_provider("aws_api_gateway_stage")
    aliases = any_tf.by_provider("aws_lambda_alias")
    for provider, (_, perm) in any_tf.by_provider("aws_lambda_permission", principal="apigateway.amazonaws.com").items():
        assert perm["principal"] == "apigateway.amazonaws.com"
        assert perm["action"] == "lambda:InvokeFunction"
        assert perm["qualifier"] == any_tf.ref("aws_lambda_alias", aliases[provider][0], "name")
        stage = stages[provider][1]["stage_name"]
        assert perm["source_arn"] == f"{any_tf.ref('aws_api_gateway_rest_api', apis[provider][0], 'execution_arn')}/{stage}/*/*"


def test_function_role_is_least_privilege(any_tf):
    tables = list(any_tf.resources("aws_dynamodb_table").items())
    (tname, table), = tables
    for provider, (_, fn) in any_tf.by_provider("aws_lambda_function", handler=HANDLER).items():
        role_ref = fn["role"].replace(".arn}", ".id}")
        _, role_name, role = any_tf.referenced(role_ref)
        assert any_tf.policy(role["assume_role_policy"])[0]["principals"] == [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}]
        (policy,) = [p for p in any_tf.resources("aws_iam_role_policy").values() if p["role"] == role_ref]
        st = {s["sid"]: s for s in any_tf.policy(policy["policy"])}
        items = st["ItemsInThisRegionsTable"]
        assert not any(a.endswith("*") for a in items["actions"])
        assert "dynamodb:Scan" not in items["actions"]
        if provider == "aws.primary":
            assert items["resources"] == [any_tf.ref("aws_dynamodb_table", tname, "arn")]
        else:
            assert items["resources"] == [f"arn:${{data.aws_partition.partition.partition}}:dynamodb:{any_tf.regions()['secondary']}:${{data.aws_caller_identity.identity.account_id}}:table/{table['name']}"]
        bus = any_tf.by_provider("aws_cloudwatch_event_bus")[provider][0]
        assert st["PublishToThisRegionsBus"] == {**st["PublishToThisRegionsBus"], "actions": ["events:PutEvents"], "resources": [any_tf.ref("aws_cloudwatch_event_bus", bus, "arn")]}
        assert st["UseThisRegionsKey"]["resources"] == [key_arn(any_tf, provider)]
        assert st["DeadLetters"]["actions"] == ["sqs:SendMessage"]
        assert st["WriteOwnLogs"]["resources"][0].endswith(".arn}:*")
        drain = any_tf.by_provider("aws_ssm_parameter")[provider][0]
        assert st["ReadDrainSwitch"]["resources"] == [any_tf.ref("aws_ssm_parameter", drain, "arn")]


def test_every_wildcard_iam_resource_is_an_action_aws_does_not_scope(any_tf):
    """X-Ray trace writes accept no resource ARN; nothing else may use "*" (key policies aside)."""
    # X-Ray writes, PutMetricData (scoped by a namespace condition instead) and ListAllMyBuckets
    # accept no resource ARN at all.
    unscoped_actions = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData", "s3:ListAllMyBuckets",
                        "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",  # EC2 Describe*: a function in a VPC
                        # FIS experiment logs are vended logs: the FIS user guide grants these on "*"
                        # (log delivery and account resource policies have no resource ARN to name).
                        "logs:CreateLogDelivery", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"}
    key_policies = {b["policy"] for b in any_tf.resources("aws_kms_key").values()}  # "*" there means "this key"
    for name, doc in any_tf.data("aws_iam_policy_document").items():
        if any_tf.data_ref("aws_iam_policy_document", name, "json") in key_policies:
            continue
        for s in doc["statement"]:
            if "*" in s.get("resources", []) and s.get("effect", "Allow") == "Allow":
                assert set(s["actions"]) <= unscoped_actions, (name, s)


def test_drain_switch_is_an_encrypted_parameter_terraform_leaves_to_operators(default_tf):
    for provider, (_, param) in default_tf.by_provider("aws_ssm_parameter").items():
        assert param["type"] == "SecureString" and param["key_id"] == key_arn(default_tf, provider)
        assert param["value"] == "off"
        assert param["lifecycle"] == {"ignore_changes": ["value"]}


# ------------------------------------------------------------------ REST API

def _methods(tf, provider):
    resources = {n: r for n, r in tf.resources("aws_api_gateway_resource").items() if r["provider"] == provider}

    def path_of(ref):
        if ref.endswith(".root_resource_id}"):
            return ""
        _, n, r = tf.referenced(ref)
        return path_of(r["parent_id"]) + "/" + r["path_part"]

    return {(path_of(m["resource_id"]), m["http_method"]): (n, m)
            for n, m in tf.resources("aws_api_gateway_method").items() if m["provider"] == provider}


def test_regional_endpoint_in_both_regions(any_tf):
    apis = any_tf.by_provider("aws_api_gateway_rest_api")
    assert set(apis) == set(REGIONS)
    for _, api in apis.values():
        assert api["endpoint_configuration"] == {"types": ["REGIONAL"]}


def test_routes_exist_and_only_health_and_preflights_are_open(any_tf):
    for provider in REGIONS:
        methods = _methods(any_tf, provider)
        expected = {(r.path, r.method) for r in ROUTES} | {(p, "OPTIONS") for p in {r.path for r in ROUTES}}
        assert set(methods) == expected
        for (path, verb), (_, m) in methods.items():
            open_ = not m.get("api_key_required", False)
            assert open_ == (verb == "OPTIONS" or (path, verb) == ("/health", "GET")), (path, verb)
            assert m["authorization"] == "NONE"
            assert "request_validator_id" in m


def test_post_and_put_bodies_are_validated_against_models(any_tf):
    for provider in REGIONS:
        methods = _methods(any_tf, provider)
        models = {n: m for n, m in any_tf.resources("aws_api_gateway_model").items() if m["provider"] == provider}
        for (path, verb), expected in ((("/items", "POST"), "CreateItem"), (("/items/{id}", "PUT"), "UpdateItem")):
            _, m = methods[(path, verb)]
            ref = m["request_models"]["application/json"]
            _, _, model = any_tf.referenced(ref)
            assert model["name"] == expected
            assert json.loads(model["schema"])["$schema"] == "http://json-schema.org/draft-04/schema#"
            _, _, validator = any_tf.referenced(m["request_validator_id"])
            assert validator["validate_request_body"] is True


def test_edge_models_agree_with_the_functions_schemas(app_schemas):
    for name, module_attr in (("CreateItem", "CREATE_ITEM_SCHEMA"), ("UpdateItem", "UPDATE_ITEM_SCHEMA")):
        edge, app = ITEM_MODELS[name], getattr(app_schemas, module_attr)
        assert edge["required"] == app["required"]
        assert set(edge["properties"]) == set(app["properties"])
        assert edge["additionalProperties"] is app["additionalProperties"] is False
        for prop, spec in edge["properties"].items():
            assert spec["type"] == app["properties"][prop]["type"]
            for bound in ("minLength", "maxLength", "minimum", "maxProperties"):
                if bound in spec:
                    assert spec[bound] == app["properties"][prop][bound], (name, prop, bound)


@pytest.fixture(scope="module")
def app_schemas():
    import importlib.util
    import sys
    from tapinfra.assets import reference_application_dir
    LAMBDA_DIR = reference_application_dir()
    sys.path.insert(0, str(LAMBDA_DIR))
    try:
        spec = importlib.util.spec_from_file_location("tap_lambda_schemas", LAMBDA_DIR / "schemas.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(LAMBDA_DIR))


def test_cors_preflight_on_every_resource(full_tf):
    origins = example_config("full").api.cors_allowed_origins
    for provider in REGIONS:
        methods = _methods(full_tf, provider)
        paths = {r.path for r in ROUTES}
        for path in paths:
            mname, m = methods[(path, "OPTIONS")]
            (integ,) = [i for i in full_tf.resources("aws_api_gateway_integration").values()
                        if i["http_method"] == full_tf.ref("aws_api_gateway_method", mname, "http_method")]
            assert integ["type"] == "MOCK"
            (resp,) = [r for r in full_tf.resources("aws_api_gateway_integration_response").values()
                       if r["http_method"] == full_tf.ref("aws_api_gateway_method", mname, "http_method")]
            params = resp["response_parameters"]
            allowed_methods = params["method.response.header.Access-Control-Allow-Methods"].strip("'").split(",")
            assert set(allowed_methods) == {r.method for r in ROUTES if r.path == path} | {"OPTIONS"}
            assert "X-Api-Key" in params["method.response.header.Access-Control-Allow-Headers"]
            assert params["method.response.header.Access-Control-Allow-Origin"] == f"'{origins[0]}'"
            # more than one origin: the preflight echoes whichever allowed origin asked
            template = resp["response_templates"]["application/json"]
            assert all(f'"{o}"' in template for o in origins)


def test_gateway_errors_carry_cors_headers(any_tf):
    kinds = sorted((g["provider"], g["response_type"]) for g in any_tf.resources("aws_api_gateway_gateway_response").values())
    assert kinds == sorted((p, k) for p in REGIONS for k in ("DEFAULT_4XX", "DEFAULT_5XX"))


def test_deployment_waits_for_every_part_of_the_api_and_is_never_create_before_destroy(any_tf):
    """A new declaration is a new deployment address (tests/test_lifecycle_guards.py)."""
    for provider, (_, dep) in any_tf.by_provider("aws_api_gateway_deployment").items():
        assert "lifecycle" not in dep and "triggers" not in dep
        deps = set(dep["depends_on"])
        for rtype in ("aws_api_gateway_method", "aws_api_gateway_integration", "aws_api_gateway_model",
                      "aws_api_gateway_gateway_response", "aws_api_gateway_integration_response"):
            mine = {f"{rtype}.{n}" for n, b in any_tf.resources(rtype).items() if b["provider"] == provider}
            assert mine and mine <= deps, rtype


def test_deployment_address_changes_when_cors_changes():
    base = Tf(synth(example_config("default")).doc)
    changed = Tf(synth(config_from_dict({"api": {"cors_allowed_origins": ["https://app.example.org"]}})).doc)
    assert set(base.resources("aws_api_gateway_deployment")).isdisjoint(changed.resources("aws_api_gateway_deployment"))


def test_stage_is_complete(full_tf):
    cfg = example_config("full").api
    for provider, (sname, stage) in full_tf.by_provider("aws_api_gateway_stage").items():
        assert stage["stage_name"] == cfg.stage_name
        assert stage["xray_tracing_enabled"] is True
        _, _, lg = full_tf.referenced(stage["access_log_settings"]["destination_arn"])
        assert lg["kms_key_id"] == key_arn(full_tf, provider) and lg["retention_in_days"] == cfg.log_retention_days
        fmt = json.loads(stage["access_log_settings"]["format"])
        assert fmt["requestId"] == "$context.requestId" and "apiKeyId" in fmt
        assert stage["cache_cluster_enabled"] is True and stage["cache_cluster_size"] == cfg.cache_size_gb
        assert any(d.startswith("aws_api_gateway_account.") for d in stage["depends_on"])
        (_, settings), = [(n, s) for n, s in full_tf.resources("aws_api_gateway_method_settings").items()
                          if s["provider"] == provider and s["method_path"] == "*/*"]
        assert settings["stage_name"] == full_tf.ref("aws_api_gateway_stage", sname, "stage_name")
        s = settings["settings"]
        assert s["metrics_enabled"] is True and s["logging_level"] == "INFO" and s["data_trace_enabled"] is False
        assert (s["throttling_burst_limit"], s["throttling_rate_limit"]) == (cfg.throttle_burst_limit, cfg.throttle_rate_limit)
        assert s["caching_enabled"] is False and s["cache_data_encrypted"] is True  # per route: test_edge_consistency


def test_cache_off_by_default(default_tf):
    for _, stage in default_tf.by_provider("aws_api_gateway_stage").values():
        assert stage["cache_cluster_enabled"] is False and "cache_cluster_size" not in stage


def test_api_gateway_account_per_region_with_a_role_created_here(any_tf):
    accounts = any_tf.by_provider("aws_api_gateway_account")
    assert set(accounts) == set(REGIONS)
    for _, acct in accounts.values():
        _, _, role = any_tf.referenced(acct["cloudwatch_role_arn"])
        assert any_tf.policy(role["assume_role_policy"])[0]["principals"] == [{"type": "Service", "identifiers": ["apigateway.amazonaws.com"]}]


def test_api_keys_share_values_across_regions(full_tf):
    tenants = example_config("full").api.tenants
    keys = full_tf.resources("aws_api_gateway_api_key")
    for tenant in tenants:
        prim = [(n, k) for n, k in keys.items() if k["provider"] == "aws.primary" and k["description"].endswith(f" {tenant}")]
        sec = [(n, k) for n, k in keys.items() if k["provider"] == "aws.secondary" and k["description"].endswith(f" {tenant}")]
        (pname, pkey), (sname, skey) = prim[0], sec[0]
        assert "value" not in pkey
        assert skey["value"] == full_tf.ref("aws_api_gateway_api_key", pname, "value")


def test_usage_plan_binds_every_key_to_the_stage_with_throttling_and_quota(full_tf, default_tf):
    cfg = example_config("full").api
    for provider, (pname, plan) in full_tf.by_provider("aws_api_gateway_usage_plan").items():
        stage = full_tf.by_provider("aws_api_gateway_stage")[provider][0]
        (api_stage,) = plan["api_stages"]
        assert api_stage["stage"] == full_tf.ref("aws_api_gateway_stage", stage, "stage_name")
        assert plan["throttle_settings"] == {"rate_limit": cfg.usage_plan_rate_limit, "burst_limit": cfg.usage_plan_burst_limit}
        assert plan["quota_settings"] == {"limit": cfg.quota_limit, "period": cfg.quota_period}
        bound = {k["key_id"] for k in full_tf.resources("aws_api_gateway_usage_plan_key").values()
                 if k["usage_plan_id"] == full_tf.ref("aws_api_gateway_usage_plan", pname, "id")}
        assert len(bound) == len(cfg.tenants)
    for _, plan in default_tf.by_provider("aws_api_gateway_usage_plan").values():
        assert plan["throttle_settings"]["rate_limit"] == 1000
        assert "quota_settings" not in plan


# ------------------------------------------------------------------ WAF

def test_a_regional_acl_per_region_with_the_managed_groups_and_rate_rule(full_tf):
    cfg = example_config("full").api
    acls = full_tf.by_provider("aws_wafv2_web_acl")
    assert set(acls) == set(REGIONS)
    assert len({a["name"] for _, a in acls.values()}) in (1, 2)
    for _, acl in acls.values():
        assert acl["scope"] == "REGIONAL"
        groups = {r["statement"]["managed_rule_group_statement"]["name"] for r in acl["rule"] if "managed_rule_group_statement" in r["statement"]}
        assert groups == {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList"}
        (rate,) = [r for r in acl["rule"] if "rate_based_statement" in r["statement"]]
        assert rate["statement"]["rate_based_statement"] == {"limit": cfg.waf_rate_limit, "aggregate_key_type": "IP"}
        assert rate["action"] == {"block": {}}
        assert all(r["visibility_config"]["cloudwatch_metrics_enabled"] for r in acl["rule"])
        assert len({r["priority"] for r in acl["rule"]}) == len(acl["rule"])


def test_waf_association_points_at_the_stage_arn_and_waits_for_it(any_tf):
    stages = any_tf.by_provider("aws_api_gateway_stage")
    acls = any_tf.by_provider("aws_wafv2_web_acl")
    for provider, (_, assoc) in any_tf.by_provider("aws_wafv2_web_acl_association").items():
        sname = stages[provider][0]
        assert assoc["resource_arn"] == any_tf.ref("aws_api_gateway_stage", sname, "arn")
        assert assoc["web_acl_arn"] == any_tf.ref("aws_wafv2_web_acl", acls[provider][0], "arn")
        assert f"aws_api_gateway_stage.{sname}" in assoc["depends_on"]


def test_waf_logs_are_encrypted_and_redact_credentials(any_tf):
    for provider, (_, logging) in any_tf.by_provider("aws_wafv2_web_acl_logging_configuration").items():
        (dest,) = logging["log_destination_configs"]
        _, _, lg = any_tf.referenced(dest)
        assert lg["name"].startswith("aws-waf-logs-")
        assert lg["kms_key_id"] == key_arn(any_tf, provider) and lg["retention_in_days"] >= 1
        assert sorted(f["single_header"]["name"] for f in logging["redacted_fields"]) == ["authorization", "x-api-key"]


def test_waf_can_be_switched_off():
    tf = Tf(synth(config_from_dict({"features": {"waf": False}})).doc)
    assert tf.resources("aws_wafv2_web_acl") == {}


def test_api_tier_outputs(any_tf):
    outputs = any_tf.doc["output"]
    for role in ("primary", "secondary"):
        for suffix in ("invoke_url", "api_id", "stage_name", "function_name", "alias_name", "api_key_ids"):
            assert f"{role}_{suffix}" in outputs and outputs[f"{role}_{suffix}"]["description"]
        assert ".value}" not in json.dumps(outputs[f"{role}_api_key_ids"])
