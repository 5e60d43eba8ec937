"""The rehearsal's moto server: moto's own, with the server gaps fixed in its process.

Run as a script (``python tapinfra/rehearsal/moto_server.py -H 127.0.0.1 -p 0``): it installs
every fix in :data:`FIXES`, then hands over to ``moto.server.main``. A fix makes moto answer
as AWS documents it does, for an API contract the provider relies on; it never makes moto
accept what AWS refuses. Each fix is listed as a ``server`` gap in ``gaps.py``, whose probe
checks that moto's unfixed code still needs it.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator


def _health_check_settings(health_check: Any) -> dict[str, Any]:
    return {name: value for name, value in vars(health_check).items() if name not in ("id", "health_check_version")}


def fix_health_check_caller_reference() -> Callable[[], None]:
    """CreateHealthCheck is idempotent on its CallerReference, as in AWS.

    AWS: a second request with the same CallerReference and settings returns the existing
    health check; with other settings it fails with HealthCheckAlreadyExists (409). moto
    makes a new one each time, so an SDK retry of a create whose answer was lost (the AWS
    SDK retries transport errors, POSTs included) leaves a health check no state knows.
    """
    from moto.route53.exceptions import Route53ClientError
    from moto.route53.models import HealthCheck, Route53Backend

    original = Route53Backend.create_health_check

    def create_health_check(self: Any, caller_reference: str, health_check_args: dict[str, Any]) -> Any:
        for existing in list(self.health_checks.values()):  # the server is threaded
            if existing.caller_reference != caller_reference:
                continue
            probe = HealthCheck(existing.id, caller_reference, health_check_args)
            probe.set_children(health_check_args.get("children", []))
            probe.set_regions(health_check_args.get("regions", []))
            if _health_check_settings(probe) != _health_check_settings(existing):
                raise Route53ClientError(
                    "HealthCheckAlreadyExists",
                    f"A health check with caller reference {caller_reference} already exists with other settings.")
            return existing
        return original(self, caller_reference, health_check_args)

    Route53Backend.create_health_check = create_health_check  # type: ignore[method-assign]

    def undo() -> None:
        Route53Backend.create_health_check = original  # type: ignore[method-assign]

    return undo


def fix_method_settings_path() -> Callable[[], None]:
    """UpdateStage keys a method setting by its whole method path, as in AWS.

    A stage patch path is ``/{resource_path}/{http_method}/{setting}``, and every setting is
    two segments (``caching/enabled``), so the method path is all but the last two. moto
    splits after the second segment instead: for ``items/{id}/GET`` it reads the method
    ``items/{id}`` and the setting ``GET/caching/enabled``, drops it, and the provider's read
    finds no ``items/{id}/GET`` (``empty result``): every per-route override fails to apply.
    """
    from moto.apigateway.models import Stage

    original = Stage._patch_method_setting

    def patch_method_setting(self: Any, resource_path_and_method: str, key: str, value: str) -> None:
        whole = f"{resource_path_and_method}/{key}".split("/")
        if len(whole) > 4:  # more than resource/method/setting(2): re-split from the right
            resource_path_and_method, key = "/".join(whole[:-2]), "/".join(whole[-2:])
        original(self, resource_path_and_method, key, value)

    Stage._patch_method_setting = patch_method_setting  # type: ignore[method-assign]

    def undo() -> None:
        Stage._patch_method_setting = original  # type: ignore[method-assign]

    return undo


def fix_integration_cache_key_parameters() -> Callable[[], None]:
    """PutIntegration keeps ``cacheKeyParameters``, as AWS documents.

    moto reads every other field of the request but that one, so the provider reads back no
    cache keys, plans to add them, and the update (UpdateIntegration, which moto does not
    implement) fails with 500 after the SDK's retries: a cached read cannot be deployed.
    """
    import json

    from moto.apigateway.responses import APIGatewayResponse

    original = APIGatewayResponse.put_integration

    def put_integration(self: Any) -> Any:
        status, headers, body = original(self)
        keys = self._get_param("cacheKeyParameters")
        if keys:
            _, _, api_id, _, resource_id, _, method = self.path.split("/")[:7]
            integration = self.backend.get_integration(api_id, resource_id, method)
            integration.cache_key_parameters = list(keys)
            body = json.dumps(integration.to_json())
        return status, headers, body

    APIGatewayResponse.put_integration = put_integration  # type: ignore[method-assign]

    def undo() -> None:
        APIGatewayResponse.put_integration = original  # type: ignore[method-assign]

    return undo


def fix_delete_trail_by_arn() -> Callable[[], None]:
    """DeleteTrail takes the trail's name or ARN, as AWS documents.

    moto looks the name up among trail names only, so a delete by ARN (the provider's id
    for a trail) answers 200 and deletes nothing: destroy succeeds and the trail stays.
    """
    from moto.cloudtrail.models import CloudTrailBackend

    original = CloudTrailBackend.delete_trail

    def delete_trail(self: Any, name: str) -> None:
        by_arn = next((trail.trail_name for trail in list(self.trails.values()) if trail.arn == name), None)
        original(self, by_arn or name)

    CloudTrailBackend.delete_trail = delete_trail  # type: ignore[method-assign]

    def undo() -> None:
        CloudTrailBackend.delete_trail = original  # type: ignore[method-assign]

    return undo


def fix_codedeploy_deletes() -> Callable[[], None]:
    """DeleteApplication and DeleteDeploymentGroup exist, as AWS documents them.

    moto 5.2.5 implements neither: it answers 500 (NotImplementedError), the SDK retries, and
    destroy of a release (CodeDeploy application and deployment group) waits until it gives
    up. AWS deletes a deployment group by application and name, and an application with its
    deployment groups; both are idempotent for a name that is already gone.
    """
    from moto.core.responses import ActionResult, EmptyResult
    from moto.codedeploy.models import CodeDeployBackend
    from moto.codedeploy.responses import CodeDeployResponse

    def delete_application(self: Any, application_name: str) -> None:
        self.applications.pop(application_name, None)
        self.deployment_groups.pop(application_name, None)

    def delete_deployment_group(self: Any, application_name: str, deployment_group_name: str) -> None:
        self.deployment_groups.get(application_name, {}).pop(deployment_group_name, None)

    def respond_delete_application(self: Any) -> Any:
        self.codedeploy_backend.delete_application(self._get_param("applicationName"))
        return EmptyResult()

    def respond_delete_deployment_group(self: Any) -> Any:
        self.codedeploy_backend.delete_deployment_group(self._get_param("applicationName"), self._get_param("deploymentGroupName"))
        return ActionResult({"hooksNotCleanedUp": []})

    added = {CodeDeployBackend: {"delete_application": delete_application, "delete_deployment_group": delete_deployment_group},
             CodeDeployResponse: {"delete_application": respond_delete_application,
                                  "delete_deployment_group": respond_delete_deployment_group}}
    for cls, methods in added.items():
        for name, method in methods.items():
            setattr(cls, name, method)

    def undo() -> None:
        for cls, methods in added.items():
            for name in methods:
                delattr(cls, name)

    return undo


REPLAY_MARK = "tapinfra-moto: replayed"
_REPLAY_KEPT = 4096          # answers kept; an SDK retries within seconds, never thousands of calls later
_REPLAY_WAIT = 120.0         # seconds a retry waits for its first attempt still being answered


def fix_sdk_retry_replay() -> Callable[[], None]:
    """A retried attempt of one SDK call gets the answer its first attempt got.

    The AWS SDKs mark every attempt of one call with the same ``amz-sdk-invocation-id`` and
    count it in ``amz-sdk-request: attempt=N``. Under load the rehearsal's local server loses
    an answer now and then (seen in CI: two ``POST /apikeys`` in one second, one key no state
    knows); the SDK retries, and moto makes a second object. AWS does not lose answers on a
    loopback, so the second object is the emulator's own leftover: here the retry of a call
    moto already answered (below 500) is answered from that first answer, and logged.
    """
    import threading
    from collections import OrderedDict

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.__call__
    lock = threading.Lock()
    answered: OrderedDict[tuple[str, str, str], tuple[str, list[tuple[str, str]], bytes]] = OrderedDict()
    in_flight: dict[tuple[str, str, str], threading.Event] = {}

    def call(self: Any, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID")
        if not invocation or environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return original(self, environ, start_response)
        key = (invocation, environ["REQUEST_METHOD"], environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", ""))
        while True:  # claim the call, or wait for the attempt answering it, or replay its answer
            with lock:
                kept, first = answered.get(key), in_flight.get(key)
                if kept is None and first is None:
                    in_flight[key] = threading.Event()
                    break
            if kept is not None:
                status, headers, body = kept
                print(f"{REPLAY_MARK} {environ.get('HTTP_AMZ_SDK_REQUEST', 'attempt=?')} of {key[1]} {key[2]} "
                      f"(invocation {invocation}): {status}", file=sys.stderr, flush=True)
                start_response(status, headers)
                return [body]
            first.wait(_REPLAY_WAIT)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
            captured["status"], captured["headers"] = status, list(headers)
            return lambda data: None  # moto's Flask app never writes through it

        try:
            iterable = original(self, environ, capture)
            try:
                body = b"".join(iterable)
            finally:
                getattr(iterable, "close", lambda: None)()
            status = captured["status"]
            if int(status.split(" ", 1)[0]) < 500:
                with lock:
                    answered[key] = (status, captured["headers"], body)
                    while len(answered) > _REPLAY_KEPT:
                        answered.popitem(last=False)
        finally:
            with lock:
                in_flight.pop(key).set()
        start_response(status, captured["headers"])
        return [body]

    DomainDispatcherApplication.__call__ = call  # type: ignore[method-assign]

    def undo() -> None:
        DomainDispatcherApplication.__call__ = original  # type: ignore[method-assign]

    return undo


# gap key (gaps.py) -> the fix; each returns a function that undoes it.
FIXES: dict[str, Callable[[], Callable[[], None]]] = {
    "route53-health-check-caller-reference": fix_health_check_caller_reference,
    "apigateway-method-settings-path": fix_method_settings_path,
    "apigateway-integration-cache-keys": fix_integration_cache_key_parameters,
    "cloudtrail-delete-by-arn": fix_delete_trail_by_arn,
    "codedeploy-deletes": fix_codedeploy_deletes,
    "sdk-retry-replay": fix_sdk_retry_replay,
}


@contextmanager
def fixed() -> Iterator[None]:
    """Every fix installed in this process for the ``with`` block (tests of the fixes)."""
    undos = [fix() for fix in FIXES.values()]
    try:
        yield
    finally:
        for undo in reversed(undos):
            undo()


def main(argv: list[str]) -> None:
    for fix in FIXES.values():
        fix()
    from moto.server import main as moto_main

    moto_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
