"""The shape of the house: foundation -> table -> one RegionalService per region -> links."""

from __future__ import annotations

import json

import pytest

from tapinfra.config import TapConfig, with_changes
from tapinfra.naming import DuplicateName
from tapinfra.region import Region
from tests.synth import Tf, example_config, scratch_app, synth


@pytest.fixture(scope="module")
def lone_service():
    """One RegionalService synthesized alone: foundation, table and the primary's tier only."""
    from cdktf import Testing, TerraformStack

    from tapinfra.constructs.packaging import CodePackage
    from tapinfra.constructs.regional import RegionalService, RegionalServiceProps
    from tapinfra.constructs.table import GlobalTable
    from tapinfra.foundation import build_foundation
    from tapinfra.protection import Protection
    from tapinfra.application import load_application

    config = with_changes(TapConfig(), features={"canaries": False, "dns": False}, packaging={"mode": "asset"})
    stack = TerraformStack(scratch_app(), "lone")
    foundation = build_foundation(stack, config)
    table = GlobalTable(stack, "items-table", primary=foundation.primary, secondary=foundation.secondary,
                        settings=config.table, protection=Protection(disposable=True))
    application = load_application(config.application)
    package = CodePackage(stack, "function-package", files=application.files(), name="function", mode="asset")
    service = RegionalService(stack, "primary-service", RegionalServiceProps(
        region=foundation.primary, config=config, table=table, application=application, function_package=package))
    return service.result, Tf(json.loads(Testing.synth(stack)))


def test_a_regional_service_builds_its_whole_tier_in_its_region(lone_service):
    result, tf = lone_service
    for rtype in ("aws_lambda_function", "aws_lambda_alias", "aws_api_gateway_rest_api", "aws_api_gateway_stage",
                  "aws_wafv2_web_acl", "aws_wafv2_web_acl_association", "aws_sns_topic", "aws_cloudwatch_event_bus",
                  "aws_ssm_parameter", "aws_sqs_queue"):
        assert set(tf.by_provider(rtype)) == {"aws.primary"}, rtype
    assert len(tf.resources("aws_s3_bucket")) == 2  # data and access logs
    assert all(b["provider"] == "aws.primary" for b in tf.resources("aws_s3_bucket").values())
    assert len(tf.resources("aws_cloudwatch_metric_alarm")) >= 8
    # nothing of the secondary's tier: only its key (foundation) lives there
    secondary = {(t, n) for kind, t, n, b in tf.all_blocks() if b.get("provider") == "aws.secondary" and kind == "resource"}
    assert {t for t, _ in secondary} == {"aws_kms_key", "aws_kms_alias"}


def test_the_result_hands_on_references_to_its_own_resources(lone_service):
    result, tf = lone_service
    (api_name, _), = tf.by_provider("aws_api_gateway_rest_api").values()
    (stage_name, _), = tf.by_provider("aws_api_gateway_stage").values()
    (fn_name, _), = tf.by_provider("aws_lambda_function").values()
    (topic_name, _), = tf.by_provider("aws_sns_topic").values()
    assert tf.doc.get("output", {}) == {}  # outputs belong to the stack, not to a construct
    assert result.region.role == "primary"
    assert result.api.stage_name == TapConfig().api.stage_name
    assert result.api.health_path == f"/{TapConfig().api.stage_name}/health"
    assert result.drain is not None and result.canary_name is None
    # tokens: strings until synthesis, references after (checked through a dependent resource)
    (_, perm), = tf.by_provider("aws_lambda_permission").values()
    assert perm["function_name"] == tf.ref("aws_lambda_function", fn_name, "function_name")
    assert perm["source_arn"].startswith(tf.ref("aws_api_gateway_rest_api", api_name, "execution_arn"))
    for alarm in tf.resources("aws_cloudwatch_metric_alarm").values():
        assert alarm["alarm_actions"] == [tf.ref("aws_sns_topic", topic_name, "arn")]
    (_, waf), = tf.by_provider("aws_wafv2_web_acl_association").values()
    assert waf["resource_arn"] == tf.ref("aws_api_gateway_stage", stage_name, "arn")


def test_the_stack_keeps_no_role_keyed_dicts():
    from tapinfra.stack import TapStack

    stack = synth(example_config("minimal")).stack
    assert isinstance(stack, TapStack)
    role_keyed = [name for name, value in vars(stack).items()
                  if isinstance(value, dict) and {"primary", "secondary"} & set(value)]
    assert role_keyed == []
    assert [s.region.role for s in stack.services] == ["primary", "secondary"]


def test_the_route53_helper_is_a_region_built_like_the_others():
    full = synth(example_config("full")).stack
    helper = full.foundation.route53_home()
    assert isinstance(helper, Region)
    assert (helper.role, helper.name, helper.peer_name) == ("helper", "us-east-1", None)
    assert helper.namer.registry is full.primary.namer.registry
    assert type(helper.key) is type(full.primary.key)
    default = synth(example_config("default")).stack
    assert default.foundation.route53_home() is default.primary  # us-east-1 serves: no helper


def test_two_services_for_one_region_collide_on_their_names():
    """The name registry provokes a real collision: a second tier in the same region."""
    from tapinfra.constructs.regional import RegionalService, RegionalServiceProps
    from tapinfra.stack import TapStack

    config = with_changes(TapConfig(), features={"canaries": False, "dns": False}, packaging={"mode": "asset"})
    stack = TapStack(scratch_app(), "twice", config)
    first = stack.services[0]
    with pytest.raises(DuplicateName, match=r"issued twice \(us-east-1/.*, us-east-1/"):
        RegionalService(stack, "primary-again", RegionalServiceProps(
            region=first.region, config=config, table=stack.table, application=stack.application,
            function_package=stack.node.find_child("function-package")))


def test_the_stack_and_the_regional_service_name_no_module():
    """They loop over the registered modules (tapinfra/modules/): none is named in their code."""
    import re

    from tapinfra.modules import registered_modules
    from tests.synth import ROOT

    names = [m.name for m in registered_modules()]
    assert {"networking", "aurora", "audit", "analytics", "ingestion"} <= set(names)
    words = [*names, "PrivateNetwork", "GlobalDatabase", "AuditTrail", "Analytics", "IngestPipeline"]
    for path in ("tapinfra/stack.py", "tapinfra/constructs/regional.py"):
        code = (ROOT / path).read_text()
        named = [w for w in words if re.search(rf"\b{w}\b", code, re.IGNORECASE)]
        assert named == [], f"{path} names {named}"
