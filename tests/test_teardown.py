"""The teardown steps say what destroy of the synthesized disposable stack does and leaves:
each statement of the generated text is checked against the JSON it was generated from, and
changing the JSON changes the text."""

from __future__ import annotations

import copy

import pytest

from tapinfra.config import with_changes
from tapinfra.operator.teardown import API_GATEWAY_WELCOME_LOG_GROUP, EMPTY_BUCKET, teardown_text
from tests.synth import Tf, example_config, synth


@pytest.fixture(scope="module", params=["default", "minimal"])
def disposable(request):
    return Tf(synth(with_changes(example_config(request.param), disposable=True)).doc)


def test_nothing_in_a_disposable_stack_blocks_destroy_and_the_text_says_so(disposable):
    tf = disposable
    blocked = [n for _, _, n, b in tf.all_blocks() if (b.get("lifecycle") or {}).get("prevent_destroy")]
    assert blocked == []
    assert not any(t.get("deletion_protection_enabled") for t in tf.resources("aws_dynamodb_table").values())
    assert "Nothing has `prevent_destroy` or deletion protection" in teardown_text(tf.doc)


def test_the_zone_claim_is_the_zones_json(disposable):
    tf, text = disposable, teardown_text(disposable.doc)
    zones = tf.resources("aws_route53_zone")
    for zone in zones.values():
        assert zone["force_destroy"] is True and "lifecycle" not in zone
        assert f"the created zone `{zone['name']}` with every record in it (`force_destroy`)" in text
    if not zones:
        assert "created zone" not in text


def test_the_bucket_claim_counts_the_buckets_destroy_empties(disposable):
    tf, text = disposable, teardown_text(disposable.doc)
    buckets = tf.resources("aws_s3_bucket").values()
    assert all(b["force_destroy"] is True for b in buckets)
    assert f"{len(buckets)} buckets with every object version in them (`force_destroy`: no need to empty them first)" in text
    assert EMPTY_BUCKET not in text


def test_the_synthetics_claim_is_the_canaries_json(disposable):
    tf, text = disposable, teardown_text(disposable.doc)
    canaries = tf.resources("aws_synthetics_canary")
    assert canaries and all(c["delete_lambda"] is True for c in canaries.values())
    groups = [g for g in tf.resources("aws_cloudwatch_log_group").values() if "aws_synthetics_canary." in g["name"]]
    assert len(groups) == len(canaries)
    assert (f"Synthetics made for each of the {len(canaries)} canaries (`delete_lambda`) and the function's log group, "
            "which the stack owns") in text
    assert "cwsyn-<name>-*` Lambda function and layers by hand" not in text


def test_the_key_claim_is_the_keys_waiting_period(disposable):
    tf, text = disposable, teardown_text(disposable.doc)
    keys = tf.resources("aws_kms_key").values()
    (window,) = {k["deletion_window_in_days"] for k in keys}
    assert window == 7
    assert f"{len(keys)} KMS keys, scheduled for deletion after {window} days" in text


def test_the_account_setting_claims_name_each_region(disposable):
    tf, text = disposable, teardown_text(disposable.doc)
    regions = {p["alias"]: p["region"] for p in tf.doc["provider"]["aws"]}
    reset = [regions[a["provider"].split(".")[1]] for a in tf.resources("aws_api_gateway_account").values() if a.get("reset_on_delete")]
    assert reset and f"setting in {', '.join(reset)} (`reset_on_delete`)" in text
    for region in reset:
        assert f"aws logs delete-log-group --region {region} --log-group-name {API_GATEWAY_WELCOME_LOG_GROUP}" in text


def test_the_text_follows_the_json(disposable):
    """Each claim is read, not written: change the JSON and the text changes with it."""
    doc = copy.deepcopy(disposable.doc)
    bucket = next(iter(doc["resource"]["aws_s3_bucket"]))
    doc["resource"]["aws_s3_bucket"][bucket]["force_destroy"] = False
    for canary in doc["resource"]["aws_synthetics_canary"].values():
        canary["delete_lambda"] = False
    for key in doc["resource"]["aws_kms_key"].values():
        key["deletion_window_in_days"] = 30
    for account in doc["resource"]["aws_api_gateway_account"].values():
        account.pop("reset_on_delete")
    text = teardown_text(doc)
    assert f"`aws_s3_bucket.{bucket}` has no `force_destroy`: empty it first" in text and EMPTY_BUCKET in text
    assert "has no `delete_lambda`" in text and "scheduled for deletion after 30 days" in text
    assert "naming the role destroy deleted" in text and "(`reset_on_delete`)" not in text
    doc["resource"]["aws_s3_bucket"][bucket]["lifecycle"] = {"prevent_destroy": True}
    assert teardown_text(doc).startswith(f"`terraform destroy` refuses this stack: `aws_s3_bucket.{bucket}` has `prevent_destroy`")


def test_a_stack_that_is_not_disposable_is_refused_with_what_protects_it():
    tf = Tf(synth(example_config("default")).doc)
    text = teardown_text(tf.doc)
    for rtype in ("aws_dynamodb_table", "aws_route53_zone", "aws_kms_key", "aws_api_gateway_account"):
        for name, body in tf.resources(rtype).items():
            if (body.get("lifecycle") or {}).get("prevent_destroy"):
                assert f"`{rtype}.{name}` has `prevent_destroy`" in text
    assert text.startswith("`terraform destroy` refuses this stack")
