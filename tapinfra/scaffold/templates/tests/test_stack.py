"""__APP__'s stack: a snapshot, and the properties it must keep whatever the snapshot says.

Regenerate the snapshot on purpose only (``python -m pytest --snapshot-update``), and read its diff.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
from pathlib import Path

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tapinfra  # noqa: E402

tapinfra.enable_fast_import()  # before cdktf loads

import cdktf  # noqa: E402

import main  # noqa: E402

REGIONS = ("aws.primary", "aws.secondary")


@pytest.fixture(scope="module")
def config():
    return tapinfra.load_config(main.CONFIG)


@pytest.fixture(scope="module")
def doc(config):
    return json.loads(cdktf.Testing.synth(main.build(cdktf.Testing.app(), config)))


@pytest.fixture(scope="module")
def api():
    return tapinfra.load_application(tapinfra.load_config(main.CONFIG).application).api


def resources(doc, kind):
    return doc.get("resource", {}).get(kind, {})


def test_snapshot(doc, snapshot):
    """The whole stack, with inline sources as hashes; a diff here is a change to review."""
    shown = copy.deepcopy(doc)
    for body in shown.get("data", {}).get("archive_file", {}).values():
        for source in body.get("source", []):
            source["content"] = "sha256:" + hashlib.sha256(source["content"].encode()).hexdigest()
    assert shown == snapshot.use_extension(JSONSnapshotExtension)


def test_every_route_of_the_document_is_served_in_both_regions(doc, api):
    paths = {r["path_part"] for r in resources(doc, "aws_api_gateway_resource").values()}
    for route in api.routes:
        assert route.path.rsplit("/", 1)[-1] in paths
    methods = resources(doc, "aws_api_gateway_method")
    for provider in REGIONS:
        served = {(m["http_method"], m["api_key_required"]) for m in methods.values() if m["provider"] == provider}
        for route in api.served_routes:
            assert (route.method, route.api_key) in served, (provider, route)


def test_only_health_and_the_preflights_are_open(doc, api):
    open_routes = [r for r in api.served_routes if not r.api_key]
    for provider in REGIONS:
        methods = [m for m in resources(doc, "aws_api_gateway_method").values() if m["provider"] == provider]
        opened = [m for m in methods if not m["api_key_required"] and m["http_method"] != "OPTIONS"]
        assert len(opened) == len(open_routes), provider
        assert not any(m["api_key_required"] for m in methods if m["http_method"] == "OPTIONS")


def test_the_function_runs_this_projects_handler_behind_its_alias(doc, config):
    functions = resources(doc, "aws_lambda_function")
    handlers = {f["handler"] for f in functions.values()}
    assert config.application.handler in handlers
    assert {a["provider"] for a in resources(doc, "aws_lambda_alias").values()} == set(REGIONS)


def test_the_function_package_holds_the_source_and_tapinfra_runtime(doc):
    (package,) = [b for b in doc["data"]["archive_file"].values() if b["output_path"].split("/")[-1].startswith("function-")]
    names = {s["filename"] for s in package["source"]}
    assert {"handler.py", "openapi.json", "tapinfra/runtime/__init__.py"} <= names


def test_both_regions_are_health_checked_and_routed_or_the_stack_says_it_is_not(doc, config):
    checks = resources(doc, "aws_route53_health_check")
    assert sorted(c["provider"] for c in checks.values()) == sorted(REGIONS)
    records = [r for r in resources(doc, "aws_route53_record").values() if r.get("alias")]
    warnings = doc.get("output", {}).get("warnings", {}).get("value") or []
    if config.features.dns:
        assert sorted(r["provider"] for r in records) == sorted(REGIONS)
        assert all(r["health_check_id"].startswith("${aws_route53_health_check.") for r in records)
    else:
        assert not records and any("no automatic failover" in w for w in warnings)
