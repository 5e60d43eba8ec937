"""The application keeps the contract (lambda/contract.py) it shares with the infrastructure."""

from __future__ import annotations

import json
import re

import pytest

from app_testkit import fresh_aws
from tapinfra.runtime import ANY_REGION
from tests import item_api as contract


def _contract_path(rule: str) -> str:
    """Powertools' ``/items/<item_id>`` as API Gateway's ``/items/{id}``."""
    return re.sub(r"<[^>]+>", "{id}", rule)


def test_the_resolver_serves_exactly_the_contract_routes(lam):
    """A route added on one side only fails here (the API's side: tests/test_contract.py)."""
    registered = set()
    for key in lam.app.app._route_keys:  # "GET/items/<item_id>"
        method, path = re.fullmatch(r"([A-Z]+)(/.*)", key).groups()
        registered.add((_contract_path(path), method))
    assert registered == {(r.path, r.method) for r in contract.ROUTES}


def test_known_paths_for_405_come_from_the_contract(lam):
    methods = {}
    for route in contract.ROUTES:
        methods.setdefault(route.path, set()).add(route.method)
    known = {pattern.pattern: set(allowed) for pattern, allowed in lam.app._KNOWN_PATHS}
    assert len(known) == len(methods)
    assert sorted(map(sorted, known.values())) == sorted(map(sorted, methods.values()))


def test_every_variable_the_infrastructure_sets_is_read_by_the_app(lam, monkeypatch):
    """Changing each contract variable changes what the application sees."""
    lam.config.reset()
    before = lam.config.get_settings()
    changed = {
        contract.Env.TABLE_NAME: ("table_name", "other-table"),
        contract.Env.EVENT_BUS_NAME: ("event_bus_name", "other-bus"),
        contract.Env.EVENT_SOURCE: ("event_source", "other.source"),
        contract.Env.RETENTION_DAYS: ("retention_days", 7),
        contract.Env.TENANT_KEYS: ("tenant_keys", {"k": "t"}),
        contract.Env.DRAIN_PARAMETER_NAME: ("drain_parameter_name", "/x/y/drain"),
        contract.Env.MAX_BODY_BYTES: ("max_body_bytes", 2048),
        contract.Env.DATABASE_SECRET_ARN: ("database_secret_arn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:tap-aurora-master-dev-AbCdEf"),
        contract.Env.WRITE_MODE: ("write_mode", ANY_REGION),
        contract.Env.WRITE_REGIONS: ("write_regions", ("us-west-2", "us-east-1")),
    }
    for env, (field, value) in changed.items():
        raw = json.dumps(value) if isinstance(value, dict) else ",".join(value) if isinstance(value, tuple) else str(value)
        monkeypatch.setenv(env, raw)
        lam.config.reset()
        assert getattr(lam.config.get_settings(), field) == value != getattr(before, field), env
    monkeypatch.setenv(contract.Env.CORS_ALLOWED_ORIGINS, "https://a.example.com")
    assert lam.config.cors_origins() == ["https://a.example.com"]
    lam.config.reset()
    powertools = {n for n in contract.ENV_NAMES if n.startswith("POWERTOOLS_")}
    assert set(contract.ENV_NAMES) | set(contract.OPTIONAL_ENV_NAMES) == set(changed) | {contract.Env.CORS_ALLOWED_ORIGINS} | powertools


def test_items_are_keyed_and_expire_by_the_contract_attributes(lam):
    import items  # noqa: PLC0415 - imported by the lam fixture's path set-up

    assert set(items._key("t", "i")) == {contract.PARTITION_KEY, contract.SORT_KEY}
    assert (items._NAMES["#tenant"], items._NAMES["#id"], items._NAMES["#expires"]) == (
        contract.PARTITION_KEY, contract.SORT_KEY, contract.TTL_ATTRIBUTE)


@pytest.mark.parametrize("detail_type", contract.DETAIL_TYPES)
def test_events_carry_the_contract_source_type_and_origin(lam, detail_type):
    import events  # noqa: PLC0415

    with fresh_aws(lam):
        entry = events.build_entry(detail_type, "tenant-a", {"id": "i1", "version": 1})
    assert entry["Source"] == contract.EVENT_SOURCE
    assert entry["DetailType"] == detail_type
    assert contract.ORIGIN_REGION_FIELD in json.loads(entry["Detail"])
    assert {events.CREATED, events.UPDATED, events.DELETED} == set(contract.DETAIL_TYPES)
