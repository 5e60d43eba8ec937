"""GET /health: deep table check, drain switch, caching, timeouts."""

from __future__ import annotations

import time

import pytest

from app_testkit import REGION, TABLE, fresh_aws


def health(api, **kw):
    reply = api.get("/health", key=None, **kw)
    assert reply.header("Cache-Control") == "no-store"
    return reply


def test_healthy_region_is_200(api):
    reply = health(api)
    assert reply.status == 200
    assert reply.body == {"status": "ok", "region": REGION, "checks": {"table": "ok", "drain": "off"}}


def test_missing_table_is_503_degraded(lam):
    with fresh_aws(lam, with_table=False) as _world:
        from app_testkit import Api  # noqa: PLC0415

        reply = Api(lam).get("/health", key=None)
    assert reply.status == 503
    assert reply.body == {
        "status": "degraded",
        "region": REGION,
        "checks": {"table": "ResourceNotFoundException", "drain": "off"},
    }


def test_table_deleted_after_start_is_detected_once_cache_expires(api, aws, lam, monkeypatch):
    class FakeTime:
        now = 1000.0

        @classmethod
        def monotonic(cls):
            return cls.now

    monkeypatch.setattr(lam.health, "time", FakeTime)
    assert health(api).status == 200
    aws.dynamodb.delete_table(TableName=TABLE)

    FakeTime.now += 4.9
    assert health(api).status == 200  # cached for HEALTH_CACHE_SECONDS=5

    FakeTime.now += 0.2
    reply = health(api)
    assert reply.status == 503
    assert reply.body["checks"]["table"] == "ResourceNotFoundException"


def test_cache_disabled_with_zero_seconds(api, aws, set_env):
    set_env("HEALTH_CACHE_SECONDS", "0")
    assert health(api).status == 200
    aws.dynamodb.delete_table(TableName=TABLE)
    assert health(api).status == 503


@pytest.mark.parametrize("value", ["on", "ON", " true ", "1", "yes", "drain", "draining"])
def test_drain_switch_on_is_503_draining(api, aws, value):
    aws.set_drain(value)
    reply = health(api)
    assert reply.status == 503
    assert reply.body == {"status": "draining", "region": REGION, "checks": {"table": "ok", "drain": "on"}}


@pytest.mark.parametrize("value", ["off", "false", "0", "no", "anything-else"])
def test_drain_switch_off_is_200(api, aws, value):
    aws.set_drain(value)
    reply = health(api)
    assert reply.status == 200
    assert reply.body["checks"]["drain"] == "off"


def test_draining_wins_over_degraded(lam):
    with fresh_aws(lam, with_table=False) as world:
        from app_testkit import Api  # noqa: PLC0415

        world.set_drain("on")
        reply = Api(lam).get("/health", key=None)
    assert reply.status == 503
    assert reply.body["status"] == "draining"
    assert reply.body["checks"] == {"table": "ResourceNotFoundException", "drain": "on"}


def test_drain_can_be_switched_back_off(api, aws, set_env):
    set_env("HEALTH_CACHE_SECONDS", "0")
    aws.set_drain("on")
    assert health(api).status == 503
    aws.set_drain("off")
    assert health(api).status == 200


def test_no_drain_parameter_configured_means_off(api, aws, set_env):
    set_env("DRAIN_PARAMETER_NAME", "")
    aws.set_drain("on")  # exists, but this function is not told about it
    assert health(api).body["checks"]["drain"] == "off"


def test_unreadable_drain_switch_counts_as_off(api, lam, monkeypatch):
    def broken(*_args):
        raise RuntimeError("ssm down")

    monkeypatch.setattr(lam.health, "check_drain", broken)
    reply = health(api)
    assert reply.status == 200
    assert reply.body["checks"]["drain"] == "off"


def test_slow_table_is_a_timeout_within_the_deadline(api, lam, monkeypatch, set_env):
    set_env("HEALTH_TIMEOUT_SECONDS", "0.2")

    def hang(*_args):
        time.sleep(1.0)
        return "ok"

    monkeypatch.setattr(lam.health, "check_table", hang)
    started = time.monotonic()
    reply = health(api)
    elapsed = time.monotonic() - started

    assert reply.status == 503
    assert reply.body["checks"]["table"] == "timeout"
    assert elapsed < 0.9


def test_health_does_not_need_tenant_and_ignores_a_key(api):
    assert api.get("/health", key="unknown-key").status == 200


def test_health_uses_short_single_attempt_clients(api, lam, set_env):
    set_env("HEALTH_TIMEOUT_SECONDS", "1.5")
    health(api)
    client = lam.clients._clients["health-dynamodb-1.5"]
    assert client.meta.config.connect_timeout == 1.5
    assert client.meta.config.read_timeout == 1.5
    assert client.meta.config.retries["total_max_attempts"] == 1
