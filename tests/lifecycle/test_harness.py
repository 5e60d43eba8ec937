"""The rehearsal's own parts, without terraform: gap list, patches, plan judge, inventory coverage."""

from __future__ import annotations

import copy
import json

import pytest

from tapinfra.emulator import SERVICES
from tapinfra.rehearsal import document, gaps, inventory, moto_server
from tapinfra.rehearsal.emulator import MotoServer
from tapinfra.rehearsal.judge import judge
from tapinfra.rehearsal.rehearsal import create_before_destroy_dependents, example_config, rehearsal_config, update_config
from tests.synth import EXAMPLE_NAMES, synth


def test_every_gap_says_what_why_and_how():
    assert len({g.key for g in gaps.GAPS}) == len(gaps.GAPS)
    for gap in gaps.GAPS:
        assert gap.kind in (gaps.PATCH, gaps.DRIFT, gaps.MIMIC, gaps.SERVER), gap.key
        assert gap.resource_type.startswith("aws_") and gap.emulator_does and gap.why and gap.workaround, gap.key
        assert (gap.patch is not None) == (gap.kind == gaps.PATCH), gap.key
        assert (gap.mimic is not None) == (gap.kind == gaps.MIMIC), gap.key
        assert gap.kind != gaps.DRIFT or gap.attribute, f"{gap.key}: a drift names its attribute"
    server_gaps = {gap.key for gap in gaps.GAPS if gap.kind == gaps.SERVER}
    assert server_gaps == set(moto_server.FIXES), "every server gap has its fix in moto_server.FIXES, and only those"


HEALTH_CHECK = {"Type": "HTTPS", "FullyQualifiedDomainName": "api.example.com", "Port": 443, "ResourcePath": "/health"}


def test_the_rehearsal_server_answers_a_repeated_caller_reference_as_aws(tmp_path):
    """Through the launcher the rehearsal uses: a retried create returns the same health
    check; the same reference with other settings is refused, as AWS refuses it."""
    from botocore.exceptions import ClientError

    with MotoServer(tmp_path / "moto.log") as server:
        route53 = server.client("route53")
        first = route53.create_health_check(CallerReference="retried", HealthCheckConfig=HEALTH_CHECK)["HealthCheck"]
        again = route53.create_health_check(CallerReference="retried", HealthCheckConfig=HEALTH_CHECK)["HealthCheck"]
        assert again["Id"] == first["Id"]
        assert len(route53.list_health_checks()["HealthChecks"]) == 1
        with pytest.raises(ClientError) as refused:
            route53.create_health_check(CallerReference="retried", HealthCheckConfig={**HEALTH_CHECK, "Port": 8443})
        assert refused.value.response["Error"]["Code"] == "HealthCheckAlreadyExists"
        other = route53.create_health_check(CallerReference="another", HealthCheckConfig=HEALTH_CHECK)["HealthCheck"]
        assert other["Id"] != first["Id"]


def test_server_fixes_are_undone_outside_their_block():
    from moto.route53.models import Route53Backend

    original = Route53Backend.create_health_check
    with moto_server.fixed():
        assert Route53Backend.create_health_check is not original
    assert Route53Backend.create_health_check is original


@pytest.fixture(scope="module")
def patched_examples():
    """example -> (synthesized document, its patched copy, gap key -> touched)."""
    out = {}
    for name in EXAMPLE_NAMES:
        original = synth(example_config(name)).doc
        doc = copy.deepcopy(original)
        out[name] = (original, doc, gaps.apply_patches(doc))
    return out


def test_every_patch_and_drift_finds_its_target_in_some_example(patched_examples):
    for gap in gaps.GAPS:
        if gap.kind == gaps.PATCH:
            assert any(touched[gap.key] for _, _, touched in patched_examples.values()), (
                f"{gap.key}: no example has {gap.resource_type}; remove or update the entry")
        if gap.kind == gaps.DRIFT:
            # a drift may be in an attribute the provider computes (not in the synthesized JSON)
            assert any(document.resources(original, gap.resource_type) for original, _, _ in patched_examples.values()), gap.key


def test_patches_change_only_the_copy(patched_examples):
    for name, (original, _, _) in patched_examples.items():
        assert json.dumps(original, sort_keys=True) == json.dumps(synth(example_config(name)).doc, sort_keys=True), (
            f"a patch changed the synthesized {name} document itself")


def test_patches_of_the_default_example(default_tf):
    doc = copy.deepcopy(default_tf.doc)
    touched = gaps.apply_patches(doc)
    assert all("replica" not in t for t in document.resources(doc, "aws_dynamodb_table").values())
    assert all(gaps.POWERTOOLS_LAYER_ACCOUNT not in json.dumps(f) for f in document.resources(doc, "aws_lambda_function").values())
    for gone in ("aws_route53_key_signing_key", "aws_route53_hosted_zone_dnssec",
                 "aws_lambda_provisioned_concurrency_config", "aws_synthetics_canary"):
        assert document.resources(doc, gone) == {}, gone
    assert "zone_ds_record" not in doc["output"] and "primary_canary_name" not in doc["output"]
    assert all(q["cloudwatch_log_group_arn"].endswith(":*") for q in document.resources(doc, "aws_route53_query_log").values())
    bucket_documents = {a for p in document.resources(doc, "aws_s3_bucket_policy").values() for a in document.references(p["policy"])}
    assert all(not (s.get("effect") == "Deny" and s.get("condition"))
               for a in bucket_documents for s in document.data_sources(doc, "aws_iam_policy_document")[a.split(".")[2]]["statement"])
    # Nothing else is touched: what is gone is what the patches said they removed, of these types only.
    before = {a for a, _ in document.blocks(default_tf.doc) if not a.startswith("output.")}
    after = {a for a, _ in document.blocks(doc) if not a.startswith("output.")}
    removed = before - after
    assert removed <= {a for found in touched.values() for a in found}
    assert {a.rsplit(".", 1)[0] for a in removed} == {
        "aws_route53_key_signing_key", "aws_route53_hosted_zone_dnssec", "aws_lambda_provisioned_concurrency_config",
        "aws_synthetics_canary", "aws_s3_bucket_policy", "data.aws_iam_policy_document"}


def test_a_workaround_may_not_cut_what_others_still_read():
    doc = {"resource": {"aws_sqs_queue": {"q": {}}, "aws_sns_topic": {"t": {"name": "${aws_sqs_queue.q.name}"}}}}
    with pytest.raises(ValueError, match=r"aws_sns_topic\.t still refers to \['aws_sqs_queue\.q'\]"):
        document.remove_resources(doc, "aws_sqs_queue", ["q"])


def test_removal_drops_outputs_and_depends_on_naming_it():
    doc = {"resource": {"aws_sqs_queue": {"q": {}, "r": {"depends_on": ["aws_sqs_queue.q"]}}},
           "output": {"queue": {"value": "${aws_sqs_queue.q.arn}"}, "other": {"value": "x"}}}
    assert document.remove_resources(doc, "aws_sqs_queue", ["q"]) == ["aws_sqs_queue.q"]
    assert doc == {"resource": {"aws_sqs_queue": {"r": {}}}, "output": {"other": {"value": "x"}}}


def _plan(*changes, configuration=None):
    return {"resource_changes": list(changes), "configuration": configuration or {"root_module": {"resources": []}}}


def _update(address, before, after, unknown=None):
    rtype = address.split(".")[0]
    return {"address": address, "type": rtype,
            "change": {"actions": ["update"], "before": before, "after": after, "after_unknown": unknown or {}}}


def test_judge_excuses_a_listed_drift_and_names_anything_else():
    plan = _plan(
        _update("aws_lambda_function.f", {"dead_letter_config": [], "memory_size": 512},
                {"dead_letter_config": [{"target_arn": "arn"}], "memory_size": 1024}),
        _update("aws_s3_bucket_replication_configuration.r",
                {"rule": [{"delete_marker_replication": [{"status": "Disabled"}], "priority": 1}]},
                {"rule": [{"delete_marker_replication": [{"status": "Enabled"}], "priority": 1}]}),
    )
    verdict = judge(plan, gaps.GAPS)
    assert verdict.unexplained == ["aws_lambda_function.f: memory_size would change"]
    assert verdict.excused == {
        "lambda-dead-letter-config": ["aws_lambda_function.f: dead_letter_config"],
        "s3-replication-delete-markers": ["aws_s3_bucket_replication_configuration.r: rule.delete_marker_replication.status"],
    }


def test_judge_accepts_unknowns_only_as_consequences():
    configuration = {"root_module": {"resources": [
        {"address": "aws_lambda_alias.a", "expressions": {"function_version": {"references": ["aws_lambda_function.f.version", "aws_lambda_function.f"]}}},
        {"address": "aws_sqs_queue.q", "expressions": {"name": {"constant_value": "q"}}},
    ]}}
    function = _update("aws_lambda_function.f", {"logging_config": [], "version": "2"},
                       {"logging_config": [{"log_format": "JSON"}], "version": None}, {"version": True})
    alias = _update("aws_lambda_alias.a", {"function_version": "2"}, {"function_version": None}, {"function_version": True})
    lonely = _update("aws_sqs_queue.q", {"arn": "x"}, {"arn": None}, {"arn": True})
    assert judge(_plan(function, alias, configuration=configuration), gaps.GAPS).unexplained == []
    assert judge(_plan(alias, configuration=configuration), gaps.GAPS).unexplained == [
        "aws_lambda_alias.a: function_version would become unknown, yet nothing it reads changes"]
    assert judge(_plan(lonely, configuration=configuration), gaps.GAPS).unexplained == [
        "aws_sqs_queue.q: arn would become unknown with no other change"]


def test_judge_follows_unknowns_through_a_data_source_read_at_apply_time():
    configuration = {"root_module": {"resources": [
        {"address": "aws_iam_role_policy.p", "expressions": {"policy": {"references": ["data.aws_iam_policy_document.d.json", "data.aws_iam_policy_document.d"]}}},
    ]}}
    deferred = {"address": "data.aws_iam_policy_document.d", "type": "aws_iam_policy_document", "change": {"actions": ["read"]}}
    policy = _update("aws_iam_role_policy.p", {"policy": "{}"}, {"policy": None}, {"policy": True})
    assert judge(_plan(deferred, policy, configuration=configuration), gaps.GAPS).unexplained == []
    assert judge(_plan(policy, configuration=configuration), gaps.GAPS).unexplained == [
        "aws_iam_role_policy.p: policy would become unknown, yet nothing it reads changes"]


def test_judge_never_excuses_a_create_delete_or_replace():
    changes = [{"address": f"aws_sqs_queue.{a}", "type": "aws_sqs_queue", "change": {"actions": actions}}
               for a, actions in (("c", ["create"]), ("d", ["delete"]), ("r", ["delete", "create"]))]
    assert judge(_plan(*changes), gaps.GAPS).unexplained == [
        "aws_sqs_queue.c: planned create", "aws_sqs_queue.d: planned delete", "aws_sqs_queue.r: planned delete-then-create"]


def test_create_before_destroy_is_traced_to_the_dependent_that_asks_for_it():
    doc = {"resource": {
        "aws_dynamodb_table": {"t": {}},
        "aws_lambda_function": {"f": {"environment": "${aws_dynamodb_table.t.arn}"}},
        "aws_api_gateway_deployment": {"d": {"x": "${aws_lambda_function.f.arn}", "lifecycle": {"create_before_destroy": True}}},
        "aws_sqs_queue": {"q": {"lifecycle": {"create_before_destroy": True}}},
    }}
    assert create_before_destroy_dependents(doc, "aws_dynamodb_table.t") == ["aws_api_gateway_deployment.d"]
    assert create_before_destroy_dependents(doc, "aws_sqs_queue.q") == []


def test_every_resource_type_is_inventoried_or_lives_inside_one_that_is(any_tf):
    for rtype in any_tf.doc["resource"]:
        assert rtype in inventory.KIND_OF_TYPE or inventory.PART_OF_PARENT.get(rtype), (
            f"{rtype}: add it to inventory.KIND_OF_TYPE (with a lister) or PART_OF_PARENT, or a leftover would go unseen")
    for parent in inventory.PART_OF_PARENT.values():
        assert not parent.startswith("aws_") or parent in inventory.KIND_OF_TYPE, parent
    assert set(inventory.KIND_OF_TYPE.values()) <= set(inventory.REGIONAL) | set(inventory.GLOBAL)


def test_the_rehearsed_update_changes_what_it_says():
    base = rehearsal_config(example_config("default"), "http://127.0.0.1:1")
    updated = update_config(base)
    assert updated.api.tenants[-1] == "rehearsal" and updated.api.tenants[:-1] == base.api.tenants
    assert updated.function.memory_mb != base.function.memory_mb
    assert updated.api.throttle_rate_limit != base.api.throttle_rate_limit
    assert updated.features.drain_switch != base.features.drain_switch
    assert (base.disposable, base.packaging.mode, base.backend.type, base.emulator) == (True, "asset", "local", "http://127.0.0.1:1")


def test_the_full_example_rehearses_with_local_state():
    assert rehearsal_config(example_config("full"), "http://127.0.0.1:1").backend.type == "local"


# Resource and data-source type prefixes -> the provider endpoint that serves them (None: computed locally).
ENDPOINT_OF_PREFIX = {
    "acm_": "acm", "api_gateway_": "apigateway", "appautoscaling_": "applicationautoscaling",
    "cloudwatch_log_": "cloudwatchlogs", "cloudwatch_event_": "events", "cloudwatch_": "cloudwatch",
    "dynamodb_": "dynamodb", "iam_policy_document": None, "iam_": "iam", "kms_": "kms", "lambda_": "lambda_",
    "route53_": "route53", "s3_": "s3", "sns_": "sns", "sqs_": "sqs", "ssm_": "ssm", "synthetics_": "synthetics",
    "wafv2_": "wafv2", "caller_identity": "sts", "partition": None, "availability_zones": "ec2",
    "vpc": "ec2", "subnet": "ec2", "route": "ec2", "eip": "ec2", "nat_gateway": "ec2", "internet_gateway": "ec2",
    "security_group": "ec2", "default_security_group": "ec2", "flow_log": "ec2",
    "rds_": "rds", "db_": "rds", "secretsmanager_": "secretsmanager",
    "cloudtrail": "cloudtrail", "athena_": "athena", "glue_": "glue",
    "codedeploy_": "codedeploy", "fis_": "fis",
}


def test_the_emulator_serves_every_service_the_stack_calls(any_tf):
    """A service left out of tapinfra.emulator.SERVICES would be called at AWS during a rehearsal."""
    for kind, rtype, _, _ in any_tf.all_blocks():
        if not rtype.startswith("aws_"):
            continue  # another provider's (archive_file): never an AWS call
        name = rtype.removeprefix("aws_")
        prefix = max((p for p in ENDPOINT_OF_PREFIX if name.startswith(p)), key=len, default=None)
        assert prefix is not None, f"{kind} {rtype}: which endpoint serves it? add it to ENDPOINT_OF_PREFIX"
        endpoint = ENDPOINT_OF_PREFIX[prefix]
        assert endpoint is None or endpoint in SERVICES, f"{kind} {rtype} needs the {endpoint!r} endpoint in tapinfra.emulator.SERVICES"


def test_the_emulator_takes_the_port_it_was_given_and_is_stopped_by_its_pid(tmp_path):
    pytest.importorskip("moto.server")
    from tapinfra.rehearsal.emulator import MotoServer

    with MotoServer(tmp_path / "moto.log") as server:
        process = server.process
        assert server.endpoint.startswith("http://127.0.0.1:") and not server.endpoint.endswith(":0")
        assert server.client("sqs").list_queues().get("QueueUrls", []) == []
    assert process.poll() is not None, "the moto server outlived its with block"
    assert server.pid is None
    server.stop()  # a second stop is harmless
