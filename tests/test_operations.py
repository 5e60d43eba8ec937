"""Issue 6: custom domain and routing, health checks, canaries, event forwarding, alarms, dashboard."""

import json
import re

import pytest

from tapinfra.config import config_from_dict, with_changes
from tests.synth import REGIONS, Tf, example_config, synth


def tf_for(policy: str) -> Tf:
    dns = {"routing_policy": policy}
    if policy == "weighted":
        dns.update(primary_weight=70, secondary_weight=30)
    return Tf(synth(with_changes(example_config("default"), dns=dns)).doc)


@pytest.fixture(scope="module", params=["latency", "failover", "weighted"])
def routed(request):
    return request.param, tf_for(request.param)


def regions_of(tf):
    return {f"aws.{alias}": region for alias, region in tf.regions().items()}


# ------------------------------------------------------------------ routing

def test_one_alias_record_per_region_under_the_chosen_policy(routed):
    policy, tf = routed
    regions = regions_of(tf)
    records = [r for r in tf.resources("aws_route53_record").values() if "alias" in r]
    assert sorted(r["provider"] for r in records) == sorted(REGIONS)
    domains = {p: n for n, d in tf.resources("aws_api_gateway_domain_name").items() for p in [d["provider"]]}
    checks = {c["provider"]: n for n, c in tf.resources("aws_route53_health_check").items()}
    for rec in records:
        p = rec["provider"]
        assert rec["name"] == "api.example.com" and rec["type"] == "A"
        assert rec["set_identifier"] == f"{p.split('.')[1]}-{regions[p]}"
        assert rec["health_check_id"] == tf.ref("aws_route53_health_check", checks[p], "id")
        assert rec["alias"] == {"name": tf.ref("aws_api_gateway_domain_name", domains[p], "regional_domain_name"),
                                "zone_id": tf.ref("aws_api_gateway_domain_name", domains[p], "regional_zone_id"),
                                "evaluate_target_health": True}
        kinds = {k for k in rec if k.endswith("_routing_policy")}
        assert kinds == {f"{policy}_routing_policy"}
        if policy == "latency":
            assert rec["latency_routing_policy"] == {"region": regions[p]}
        elif policy == "failover":
            assert rec["failover_routing_policy"] == {"type": "PRIMARY" if p == "aws.primary" else "SECONDARY"}
        else:
            assert rec["weighted_routing_policy"] == {"weight": 70 if p == "aws.primary" else 30}


def test_custom_domain_per_region_is_regional_tls12_and_mapped_to_the_stage(default_tf):
    stages = {s["provider"]: n for n, s in default_tf.resources("aws_api_gateway_stage").items()}
    validations = {v["provider"]: n for n, v in default_tf.resources("aws_acm_certificate_validation").items()}
    for name, d in default_tf.resources("aws_api_gateway_domain_name").items():
        p = d["provider"]
        assert d["endpoint_configuration"] == {"types": ["REGIONAL"]}
        assert d["security_policy"] == "TLS_1_2"
        assert d["regional_certificate_arn"] == default_tf.ref("aws_acm_certificate_validation", validations[p], "certificate_arn")
        (mapping,) = [m for m in default_tf.resources("aws_api_gateway_base_path_mapping").values() if m["provider"] == p]
        assert mapping["stage_name"] == default_tf.ref("aws_api_gateway_stage", stages[p], "stage_name")
        assert mapping["domain_name"] == default_tf.ref("aws_api_gateway_domain_name", name, "domain_name")
    certs = default_tf.resources("aws_acm_certificate").values()
    assert sorted(c["provider"] for c in certs) == sorted(REGIONS)
    assert all(c["validation_method"] == "DNS" for c in certs)


def test_health_checks_probe_each_regions_own_endpoint_on_a_path_that_exists(routed):
    _, tf = routed
    cfg = example_config("default")
    apis = {a["provider"]: n for n, a in tf.resources("aws_api_gateway_rest_api").items()}
    regions = regions_of(tf)
    for check in tf.resources("aws_route53_health_check").values():
        p = check["provider"]
        assert check["type"] == "HTTPS" and check["port"] == 443 and check["enable_sni"] is True
        assert check["fqdn"] == f"{tf.ref('aws_api_gateway_rest_api', apis[p], 'id')}.execute-api.{regions[p]}.amazonaws.com"
        assert check["resource_path"] == f"/{cfg.api.stage_name}/health"
        # the path exists: a GET /health method on that region's API, deployed to that stage
        health = [r for r in tf.resources("aws_api_gateway_resource").values() if r["provider"] == p and r["path_part"] == "health"]
        assert len(health) == 1 and health[0]["parent_id"].endswith(".root_resource_id}")
        assert check["request_interval"] == cfg.dns.health_check_interval_seconds
        assert check["failure_threshold"] == cfg.dns.health_check_failure_threshold
        assert check["regions"] == list(cfg.dns.health_check_regions)


def test_health_check_alarms_live_in_us_east_1(default_tf, full_tf):
    # default: the primary is us-east-1, no third provider
    assert sorted(p["alias"] for p in default_tf.doc["provider"]["aws"]) == ["primary", "secondary"]
    hc_alarms = [a for a in default_tf.resources("aws_cloudwatch_metric_alarm").values() if a.get("namespace") == "AWS/Route53"]
    assert len(hc_alarms) == 2 and {a["provider"] for a in hc_alarms} == {"aws.primary"}
    # full: eu-west-1 + eu-central-1, so a third aliased provider in us-east-1 holds them
    third = [p for p in full_tf.doc["provider"]["aws"] if p["alias"] not in ("primary", "secondary")]
    assert [(p["alias"], p["region"]) for p in third] == [("us_east_1", "us-east-1")]
    hc_alarms = [a for a in full_tf.resources("aws_cloudwatch_metric_alarm").values() if a.get("namespace") == "AWS/Route53"]
    assert len(hc_alarms) == 2 and {a["provider"] for a in hc_alarms} == {"aws.us_east_1"}
    topics = {n for n, t in full_tf.resources("aws_sns_topic").items() if t["provider"] == "aws.us_east_1"}
    assert len(topics) == 1
    for a in hc_alarms:
        assert a["alarm_actions"] == [full_tf.ref("aws_sns_topic", next(iter(topics)), "arn")]
        assert a["comparison_operator"] == "LessThanThreshold" and a["threshold"] == 1


def test_created_zone_is_signed_logged_and_protected(default_tf):
    (zname, zone), = default_tf.resources("aws_route53_zone").items()
    assert zone["name"] == "example.com" and zone["lifecycle"] == {"prevent_destroy": True}
    (ql,) = default_tf.resources("aws_route53_query_log").values()
    _, _, lg = default_tf.referenced(ql["cloudwatch_log_group_arn"])
    assert lg["name"] == "/aws/route53/example.com" and lg["provider"] == "aws.primary" and lg["kms_key_id"]
    (ksk,) = default_tf.resources("aws_route53_key_signing_key").values()
    _, _, key = default_tf.referenced(ksk["key_management_service_arn"])
    assert key["customer_master_key_spec"] == "ECC_NIST_P256" and key["key_usage"] == "SIGN_VERIFY"
    (dnssec,) = default_tf.resources("aws_route53_hosted_zone_dnssec").values()
    assert dnssec["signing_status"] == "SIGNING"
    assert {"zone_name_servers", "zone_ds_record", "custom_domain_url"} <= set(default_tf.doc["output"])


def test_existing_zone_is_looked_up_not_created():
    tf = Tf(synth(with_changes(example_config("default"), dns={"zone_id": "Z0123456789ABC", "create_zone_name": None})).doc)
    assert tf.resources("aws_route53_zone") == {}
    (z,) = tf.data("aws_route53_zone").values()
    assert z["zone_id"] == "Z0123456789ABC"
    assert "zone_ds_record" not in tf.doc["output"]


def test_without_dns_there_is_no_domain_or_routing_but_each_region_is_still_health_checked():
    no_dns = Tf(synth(with_changes(example_config("minimal"), features={"dns": False})).doc)
    for rtype in ("aws_route53_zone", "aws_route53_record", "aws_acm_certificate", "aws_api_gateway_domain_name"):
        assert no_dns.resources(rtype) == {}
    assert "custom_domain_url" not in no_dns.doc["output"]
    assert sorted(c["provider"] for c in no_dns.resources("aws_route53_health_check").values()) == sorted(REGIONS)


# ------------------------------------------------------------------ canaries

def test_each_canary_zip_comes_from_inline_archive_sources_matching_the_handler(default_tf):
    canaries = default_tf.resources("aws_synthetics_canary")
    assert sorted(c["provider"] for c in canaries.values()) == sorted(REGIONS)
    for c in canaries.values():
        m = c["zip_file"]
        assert m.startswith("${data.archive_file.") and m.endswith(".output_path}")
        zname = m.split(".")[2]
        archive = default_tf.data("archive_file")[zname]
        files = [s["filename"] for s in archive["source"]]
        module, function = c["handler"].split(".")
        assert f"nodejs/node_modules/{module}.js" in files
        assert all(f.startswith("nodejs/node_modules/") for f in files)
        (source,) = [s["content"] for s in archive["source"] if s["filename"] == f"nodejs/node_modules/{module}.js"]
        assert f"exports.{function} =" in source


def test_canaries_probe_their_own_regions_health(default_tf):
    cfg = example_config("default").monitoring
    stages = {s["provider"]: n for n, s in default_tf.resources("aws_api_gateway_stage").items()}
    regions = regions_of(default_tf)
    for c in default_tf.resources("aws_synthetics_canary").values():
        p = c["provider"]
        env = c["run_config"]["environment_variables"]
        assert env["TARGET_URL"] == default_tf.ref("aws_api_gateway_stage", stages[p], "invoke_url") + "/health"
        assert env["EXPECTED_REGION"] == regions[p]
        assert c["runtime_version"] == cfg.canary_runtime and c["start_canary"] is True
        assert c["schedule"] == {"expression": cfg.canary_schedule}
        assert c["run_config"]["active_tracing"] is True and c["run_config"]["timeout_in_seconds"] == cfg.canary_timeout_seconds
        assert len(c["name"]) <= 21
        assert c["artifact_config"]["s3_encryption"]["encryption_mode"] == "SSE_KMS"
        location = re.fullmatch(r"s3://\$\{aws_s3_bucket\.([^.]+)\.bucket\}/runs/", c["artifact_s3_location"])
        assert location, c["artifact_s3_location"]
        assert default_tf.resources("aws_s3_bucket")[location.group(1)]["provider"] == p


def test_canary_role_is_least_privilege(default_tf):
    for c in default_tf.resources("aws_synthetics_canary").values():
        role_ref = c["execution_role_arn"].replace(".arn}", ".id}")
        (policy,) = [x for x in default_tf.resources("aws_iam_role_policy").values() if x["role"] == role_ref]
        st = {s["sid"]: s for s in default_tf.policy(policy["policy"])}
        metrics = st["MetricsInSyntheticsNamespaceOnly"]
        assert metrics["actions"] == ["cloudwatch:PutMetricData"]
        assert metrics["condition"] == [{"test": "StringEquals", "variable": "cloudwatch:namespace", "values": ["CloudWatchSynthetics"]}]
        assert st["WriteArtifacts"]["resources"][0].endswith("/runs/*")
        assert all("*" not in s["resources"] or set(s["actions"]) <= {"cloudwatch:PutMetricData", "xray:PutTraceSegments", "s3:ListAllMyBuckets"}
                   for s in st.values())


def test_canary_success_alarm_per_region(default_tf):
    canaries = {c["provider"]: c["name"] for c in default_tf.resources("aws_synthetics_canary").values()}
    alarms = [a for a in default_tf.resources("aws_cloudwatch_metric_alarm").values() if a.get("metric_name") == "SuccessPercent"]
    assert sorted((a["provider"], a["dimensions"]["CanaryName"]) for a in alarms) == sorted(canaries.items())
    assert all(a["comparison_operator"] == "LessThanThreshold" for a in alarms)


# ------------------------------------------------------------------ events

def test_bus_and_archive_per_region(any_tf):
    buses = {b["provider"]: n for n, b in any_tf.resources("aws_cloudwatch_event_bus").items()}
    assert set(buses) == set(REGIONS)
    for a in any_tf.resources("aws_cloudwatch_event_archive").values():
        assert a["event_source_arn"] == any_tf.ref("aws_cloudwatch_event_bus", buses[a["provider"]], "arn")


def test_forwarding_goes_to_the_peer_bus_and_never_loops(default_tf):
    regions = regions_of(default_tf)
    buses = {b["provider"]: n for n, b in default_tf.resources("aws_cloudwatch_event_bus").items()}
    peer = {"aws.primary": "aws.secondary", "aws.secondary": "aws.primary"}
    rules = {r["provider"]: (n, r) for n, r in default_tf.resources("aws_cloudwatch_event_rule").items()}
    assert set(rules) == set(REGIONS)
    for p, (rname, rule) in rules.items():
        pattern = json.loads(rule["event_pattern"])
        assert pattern["detail"]["origin_region"] == [regions[p]]
        assert rule["event_bus_name"] == default_tf.ref("aws_cloudwatch_event_bus", buses[p], "name")
        (target,) = [t for t in default_tf.resources("aws_cloudwatch_event_target").values() if t["rule"] == default_tf.ref("aws_cloudwatch_event_rule", rname, "name")]
        assert target["arn"] == default_tf.ref("aws_cloudwatch_event_bus", buses[peer[p]], "arn")
        role_ref = target["role_arn"].replace(".arn}", ".id}")
        (policy,) = [x for x in default_tf.resources("aws_iam_role_policy").values() if x["role"] == role_ref]
        (st,) = default_tf.policy(policy["policy"])
        assert st["actions"] == ["events:PutEvents"] and st["resources"] == [target["arn"]]
    # an event forwarded into the peer carries the origin region, which the peer's rule never matches
    for p, (_, rule) in rules.items():
        forwarded_origin = regions[peer[p]]
        assert forwarded_origin not in json.loads(rule["event_pattern"])["detail"]["origin_region"]


def test_forwarding_can_be_switched_off():
    tf = Tf(synth(with_changes(example_config("minimal"), features={"event_forwarding": False})).doc)
    assert tf.resources("aws_cloudwatch_event_rule") == {} and tf.resources("aws_cloudwatch_event_target") == {}
    assert len(tf.resources("aws_cloudwatch_event_bus")) == 2


# ------------------------------------------------------------------ monitoring

def test_topic_per_region_is_encrypted_and_every_alarm_notifies_it(full_tf):
    keys = {**full_tf.region_keys(), **{k["provider"]: n for n, k in full_tf.resources("aws_kms_key").items() if k["provider"] == "aws.us_east_1" and "customer_master_key_spec" not in k}}
    topics = {t["provider"]: n for n, t in full_tf.resources("aws_sns_topic").items()}
    for p, n in topics.items():
        assert full_tf.resources("aws_sns_topic")[n]["kms_master_key_id"] == full_tf.ref("aws_kms_key", keys[p], "arn")
    subs = full_tf.resources("aws_sns_topic_subscription").values()
    assert {(s["protocol"], s["endpoint"]) for s in subs} == {("email", "oncall@example.com")}
    for a in full_tf.resources("aws_cloudwatch_metric_alarm").values():
        assert a["alarm_actions"] == [full_tf.ref("aws_sns_topic", topics[a["provider"]], "arn")] == a["ok_actions"]


def test_keys_let_cloudwatch_publish_to_encrypted_topics(full_tf):
    for k in full_tf.resources("aws_kms_key").values():
        if "customer_master_key_spec" in k:
            continue
        sids = {s["sid"] for s in full_tf.policy(k["policy"])}
        assert "CloudWatchAlarmsToEncryptedTopics" in sids


def _alarm_names(tf, provider):
    return {a["alarm_name"] for a in tf.resources("aws_cloudwatch_metric_alarm").values() if a["provider"] == provider}


def test_every_alarm_kind_exists_in_both_regions(default_tf):
    common = ["api-5xx-rate", "api-p99-latency", "lambda-error-rate", "lambda-throttles", "lambda-spillover",
              "table-throttles", "table-system-errors", "table-replication-latency", "canary-success", "waf-blocked-spike"]
    for p in REGIONS:
        names = _alarm_names(default_tf, p)
        for kind in common:
            assert f"tap-{kind}-dev" in names, (p, kind)
    primary = _alarm_names(default_tf, "aws.primary")
    assert {"tap-s3-replication-latency-dev", "tap-s3-replication-failed-dev"} <= primary


def test_lambda_error_rate_is_metric_math_over_the_alias(default_tf):
    cfg = example_config("default")
    for a in default_tf.resources("aws_cloudwatch_metric_alarm").values():
        if a["alarm_name"] != "tap-lambda-error-rate-dev":
            continue
        queries = {q["id"]: q for q in a["metric_query"]}
        assert queries["result"]["expression"] == "IF(invocations > 0, 100 * errors / invocations, 0)"
        assert queries["result"]["return_data"] is True
        assert queries["errors"]["metric"]["metric_name"] == "Errors"
        assert queries["invocations"]["metric"]["metric_name"] == "Invocations"
        assert queries["errors"]["metric"]["dimensions"]["Resource"].endswith(f":{cfg.function.alias_name}")
        assert a["threshold"] == cfg.monitoring.lambda_error_rate_percent


def test_thresholds_come_from_the_config():
    tf = Tf(synth(config_from_dict({"monitoring": {"api_p99_latency_ms": 1234, "waf_blocked_requests": 77}})).doc)
    by_name = {a["alarm_name"]: a for a in tf.resources("aws_cloudwatch_metric_alarm").values()}
    assert by_name["tap-api-p99-latency-dev"]["threshold"] == 1234
    assert by_name["tap-api-p99-latency-dev"]["extended_statistic"] == "p99"
    assert by_name["tap-waf-blocked-spike-dev"]["threshold"] == 77


def test_one_dashboard_whose_widgets_name_their_region(default_tf):
    (d,) = default_tf.resources("aws_cloudwatch_dashboard").values()
    widgets = json.loads(d["dashboard_body"])["widgets"]
    regions = set(regions_of(default_tf).values())
    assert {w["properties"]["region"] for w in widgets} == regions
    for w in widgets:
        assert w["properties"]["region"] in w["properties"]["title"]


def test_operations_outputs(default_tf):
    """The outputs operators act on (tapinfra/outputs.py declares them) are written, described."""
    from tapinfra import outputs as out

    outputs = default_tf.doc["output"]
    names = [out.CUSTOM_DOMAIN_URL.key(), out.DASHBOARD_NAME.key(),
             *(spec.key(role) for spec in (out.HEALTH_CHECK_ID, out.CANARY_NAME, out.ALARM_TOPIC_ARN) for role in out.ROLES)]
    for name in names:
        assert name in outputs and outputs[name]["description"], name
