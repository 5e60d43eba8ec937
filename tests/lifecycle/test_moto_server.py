"""The rehearsal's moto server fixes (moto_server.FIXES): each answers as AWS does, through the launcher too."""

from __future__ import annotations

import pytest

from tapinfra.rehearsal import moto_server
from tapinfra.rehearsal.emulator import MotoServer

# Method paths of every depth the stack uses (the stage-wide override, one and several resource
# segments, a path parameter), and every setting name moto knows with the value it reads back.
METHOD_PATHS = ("*/*", "health/GET", "items/GET", "items/{id}/GET", "tenants/{tenant}/items/{id}/PUT")
SETTINGS = {
    "metrics/enabled": ("metricsEnabled", "true", True),
    "logging/loglevel": ("loggingLevel", "INFO", "INFO"),
    "logging/dataTrace": ("dataTraceEnabled", "true", True),
    "throttling/burstLimit": ("throttlingBurstLimit", "17", 17),
    "throttling/rateLimit": ("throttlingRateLimit", "3.5", 3.5),
    "caching/enabled": ("cachingEnabled", "true", True),
    "caching/ttlInSeconds": ("cacheTtlInSeconds", "42", 42),
}


def _stage_settings(paths_and_settings):
    from moto.apigateway.models import Stage

    stage = Stage("prod", "deployment")
    stage.apply_operations([{"op": "replace", "path": f"/{path}/{setting}", "value": value}
                            for path, setting, value in paths_and_settings])
    return stage.method_settings


@pytest.mark.parametrize("method_path", METHOD_PATHS)
@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_a_method_setting_is_kept_under_its_whole_method_path(method_path, setting):
    name, value, read_back = SETTINGS[setting]
    with moto_server.fixed():
        settings = _stage_settings([(method_path, setting, value)])
    assert set(settings) == {method_path}
    assert settings[method_path][name] == read_back


def test_unfixed_moto_drops_a_setting_of_a_multi_segment_method_path():
    """What the fix is for (and the gap's probe relies on): outside the fix it still happens."""
    assert "items/{id}/GET" not in _stage_settings([("items/{id}/GET", "caching/enabled", "true")])


def test_the_probes_see_each_fix_work_and_unfixed_moto_still_need_it():
    """Each server gap's probe (moto's unfixed code) finds the gap, and finds none under its fix."""
    from tapinfra.rehearsal import gaps

    for key, fix in moto_server.FIXES.items():
        assert gaps.BY_KEY[key].probe(None) is True, key
        undo = fix()
        try:
            assert gaps.BY_KEY[key].probe(None) is False, key
        finally:
            undo()


def test_the_rehearsal_server_keeps_per_route_caching(tmp_path):
    """Through the launcher the rehearsal uses, as the provider calls it: an integration's cache
    keys read back; a per-route method setting is kept under its whole method path."""
    with MotoServer(tmp_path / "moto.log") as server:
        apigw = server.client("apigateway")
        api = apigw.create_rest_api(name="fix")["id"]
        root = apigw.get_resources(restApiId=api)["items"][0]["id"]
        items = apigw.create_resource(restApiId=api, parentId=root, pathPart="items")["id"]
        item = apigw.create_resource(restApiId=api, parentId=items, pathPart="{id}")["id"]
        apigw.put_method(restApiId=api, resourceId=item, httpMethod="GET", authorizationType="NONE")
        keys = ["method.request.header.x-api-key", "method.request.path.id"]
        apigw.put_integration(restApiId=api, resourceId=item, httpMethod="GET", type="MOCK",
                              cacheNamespace="items-id", cacheKeyParameters=keys)
        integration = apigw.get_integration(restApiId=api, resourceId=item, httpMethod="GET")
        deployment = apigw.create_deployment(restApiId=api)["id"]
        apigw.create_stage(restApiId=api, stageName="prod", deploymentId=deployment)
        apigw.update_stage(restApiId=api, stageName="prod", patchOperations=[
            {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"},
            {"op": "replace", "path": "/items/{id}/GET/caching/enabled", "value": "true"},
            {"op": "replace", "path": "/items/{id}/GET/caching/ttlInSeconds", "value": "60"}])
        settings = apigw.get_stage(restApiId=api, stageName="prod")["methodSettings"]
    assert integration["cacheKeyParameters"] == keys
    assert settings["*/*"]["metricsEnabled"] is True
    assert settings["items/{id}/GET"]["cachingEnabled"] is True
    assert settings["items/{id}/GET"]["cacheTtlInSeconds"] == 60


def _post_api_key(url, name, invocation, attempt):
    import json
    import urllib.request

    request = urllib.request.Request(f"{url}/apikeys", method="POST", data=json.dumps({"name": name, "enabled": True}).encode(),
                                     headers={"Content-Type": "application/json", "amz-sdk-invocation-id": invocation,
                                              "amz-sdk-request": f"attempt={attempt}; max=25",
                                              "Authorization": "AWS4-HMAC-SHA256 Credential=test/20261203/us-east-1/apigateway/"
                                                               "aws4_request, SignedHeaders=host, Signature=test"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, json.loads(answer.read())["id"]


def test_a_retried_sdk_call_gets_its_first_answer_and_a_new_call_a_new_object(tmp_path):
    """Through the launcher, over HTTP as the provider calls it: the second attempt of one call
    (same invocation id) creates nothing and is answered as the first was, logged; another call
    with the same arguments creates another key, as AWS does."""
    with MotoServer(tmp_path / "moto.log") as server:
        first = _post_api_key(server.endpoint, "retried", "invocation-1", 1)
        retried = _post_api_key(server.endpoint, "retried", "invocation-1", 2)
        another = _post_api_key(server.endpoint, "retried", "invocation-2", 1)
        keys = sorted(k["id"] for k in server.client("apigateway").get_api_keys()["items"] if k["name"] == "retried")
    assert retried == first and first[0] == 201
    assert another[1] != first[1]
    assert keys == sorted({first[1], another[1]})
    log = (tmp_path / "moto.log").read_text()
    assert log.count(moto_server.REPLAY_MARK) == 1 and "invocation-1" in log


def test_a_call_that_failed_is_not_replayed(capsys):
    """A first attempt that failed (moto's 500: an exception in its app) changed nothing the SDK
    knows of: its retry is answered anew, not from a kept answer."""
    from werkzeug.test import Client

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    headers = {"Host": "apigateway.us-east-1.amazonaws.com", "amz-sdk-invocation-id": "invocation-500",
               "Authorization": "AWS4-HMAC-SHA256 Credential=test/20261203/us-east-1/apigateway/aws4_request, "
                                "SignedHeaders=host, Signature=test"}
    # PATCH /account without a value: moto 5 fails (KeyError, a 500 from its server; the apigateway-account-reset gap)
    body = '{"patchOperations": [{"op": "replace", "path": "/cloudwatchRoleArn"}]}'
    undo = moto_server.fix_sdk_retry_replay()
    try:
        client = Client(DomainDispatcherApplication(create_backend_app))
        for attempt in (1, 2):
            with pytest.raises(KeyError):
                client.patch("/account", headers={**headers, "amz-sdk-request": f"attempt={attempt}; max=3"}, data=body)
    finally:
        undo()
    assert moto_server.REPLAY_MARK not in capsys.readouterr().err
