"""The smoke test itself, run against the real application served locally (moto behind it).

Against a real deployment it is opt-in (``python -m tapinfra smoke``); here it runs in
``make test`` so its own code is tested.
"""

from __future__ import annotations

import json
import socket

import pytest

from operator_local_api import KEY_VALUE, import_application, serve
from tapinfra.operator import smoke

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

ENDPOINTS = {"primary": ("primary", "/v1"), "secondary": ("secondary", "/v1"), "custom domain": ("primary", "")}


@pytest.fixture
def local_api(monkeypatch):
    from app_testkit import APP_ENV, fresh_aws  # noqa: PLC0415

    app = import_application()
    for key, value in APP_ENV.items():
        monkeypatch.setenv(key, value)
    import clients, config, health  # noqa: PLC0415,E401 - the application's modules, imported with app

    lam = type("Lam", (), {"clients": clients, "config": config, "health": health})
    with fresh_aws(lam) as world:
        with serve(app, ENDPOINTS) as urls:
            yield urls, world


def _outputs(urls, tmp_path):
    outputs = {"primary_invoke_url": {"value": urls["primary"]}, "secondary_invoke_url": {"value": urls["secondary"]},
               "custom_domain_url": {"value": urls["custom domain"]}, "primary_api_key_ids": {"value": {"tenant-a": "key-a"}}}
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


def test_smoke_passes_against_the_application(local_api, tmp_path, capsys):
    urls, world = local_api
    assert smoke.main(["--outputs", str(_outputs(urls, tmp_path)), "--tenant", "tenant-a", "--key", KEY_VALUE]) == 0
    out = capsys.readouterr().out
    for name in ("primary: GET /health", "secondary: GET /health", "custom domain: create, read, list, update, delete",
                 "primary write, read in secondary after replication"):
        assert f"ok   {name}" in out, out
    assert "6 passed, 0 failed" in out
    assert world.raw_items("tenant-a") == [], "the smoke test leaves no item behind"


def test_smoke_fails_on_a_wrong_key_and_cleans_up(local_api, tmp_path, capsys):
    urls, world = local_api
    assert smoke.main(["--outputs", str(_outputs(urls, tmp_path)), "--tenant", "tenant-a", "--key", "wrong"]) == 1
    out = capsys.readouterr().out
    assert "FAIL primary: create, read, list, update, delete" in out and "expected 201, got 403" in out
    assert "ok   primary: GET /health" in out   # /health needs no key


def test_smoke_reports_a_draining_region(local_api, tmp_path, capsys):
    urls, world = local_api
    world.ssm.put_parameter(Name="/tap/test/drain", Value="on", Type="SecureString", Overwrite=True)
    assert smoke.main(["--outputs", str(_outputs(urls, tmp_path)), "--tenant", "tenant-a", "--key", KEY_VALUE]) == 1
    assert "FAIL primary: GET /health" in capsys.readouterr().out


def test_replication_that_never_arrives_fails_within_the_timeout():
    """The secondary never sees the item: the check fails after --replication-timeout (fake clock)."""
    now = [0.0]
    store: dict[str, dict] = {}

    def http(method, url, body=None):
        primary = "//primary" in url
        item_id = url.rsplit("/", 1)[-1]
        if method == "POST":
            store[body["id"]] = {**body, "version": 1}
            return smoke.Reply(201, store[body["id"]])
        if method == "GET" and "/items/" in url:
            return smoke.Reply(200, store[item_id]) if primary and item_id in store else smoke.Reply(404, None)
        if method == "DELETE":
            store.pop(item_id, None)
            return smoke.Reply(204, None)
        return smoke.Reply(200, {"status": "ok", "region": "x", "items": []})

    runner = smoke.Smoke({"primary": "http://primary", "secondary": "http://secondary"}, http, replication_timeout=5,
                         interval=1, sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0], log=lambda line: None)
    report = runner.run()
    failed = {c.name: c.detail for c in report.checks if not c.ok}
    assert "still 404 after 5 s" in failed["primary write, read in secondary after replication"]
    assert store == {}, "created items are deleted even when a check fails"


def test_unreachable_endpoint_is_a_failed_check_not_a_traceback(tmp_path, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]            # closed again: nothing listens there
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"primary_invoke_url": f"http://127.0.0.1:{port}/v1",
                                   "secondary_invoke_url": f"http://127.0.0.1:{port}/v1"}))
    assert smoke.main(["--outputs", str(outputs), "--tenant", "t", "--key", "k"]) == 1
    out = capsys.readouterr().out
    assert "FAIL primary: GET /health" in out and "Traceback" not in out


def test_missing_invoke_urls_are_config_errors(tmp_path, capsys):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"table_name": "x"}))
    assert smoke.main(["--outputs", str(outputs), "--tenant", "t", "--key", "k"]) == 2
    err = capsys.readouterr().err
    assert "outputs.primary_invoke_url" in err and "outputs.secondary_invoke_url" in err


def test_key_is_read_from_api_gateway_by_the_tenants_key_id():
    calls = []

    class ApiGateway:
        def get_api_key(self, apiKey, includeValue):
            calls.append((apiKey, includeValue))
            return {"value": "the-value"}

    outputs = {"primary_invoke_url": "https://abc.execute-api.eu-west-1.amazonaws.com/v1", "primary_api_key_ids": {"acme": "k1"}}
    assert smoke.key_from_api_gateway(outputs, "acme", lambda service, region: ApiGateway() if region == "eu-west-1" else None) == "the-value"
    assert calls == [("k1", True)]
