"""``python -m tapinfra smoke --outputs outputs.json --tenant T [--key VALUE]``: after ``deploy``.

Against the deployed stack, through each region's invoke URL and the custom domain: /health
in both regions; create, read, list, update and delete an item; and an item written in the
primary read in the secondary once the global table has replicated it. HTTP with urllib
only. Every item it creates is deleted again, whatever fails. The key value comes from
``--key`` (or ``$TAP_API_KEY``), else from API Gateway by the tenant's key id in the outputs.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from tapinfra.cli.exits import NOT_OK, OK, InputError, command
from tapinfra.errors import Problem
from tapinfra import outputs as out
from tapinfra.operator.drill import read_outputs
from tapinfra.outputs import StackOutputs
from tapinfra.runtime import HEALTH_PATH
from tapinfra.runtime import health as health_contract
from tapinfra.runtime.health import health_problem
from tapinfra.operator.model import ROLES

USER_AGENT = "tapinfra-smoke/1"


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any


class Http:
    """JSON over urllib, with the tenant's API key on every request."""

    def __init__(self, key: str, timeout: float = 10.0) -> None:
        self.key, self.timeout = key, timeout

    def __call__(self, method: str, url: str, body: Any = None) -> Reply:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method, headers={
            "x-api-key": self.key, "content-type": "application/json", "user-agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - https URLs from outputs
                return Reply(response.status, _json(response.read()))
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, _json(exc.read()))


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")[:200]


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class SmokeReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


class CheckFailed(Exception):
    pass


class Smoke:
    def __init__(self, endpoints: Mapping[str, str], http: Callable[..., Reply], *, replication_timeout: float = 30.0,
                 interval: float = 1.0, sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 log: Callable[[str], None] = print) -> None:
        self.endpoints, self.http = dict(endpoints), http
        self.replication_timeout, self.interval, self.sleep, self.clock, self.log = replication_timeout, interval, sleep, clock, log
        self.report = SmokeReport()
        self._created: list[tuple[str, str]] = []     # (base url, item id) still to delete

    def run(self) -> SmokeReport:
        try:
            for role in ROLES:
                self._check(f"{role}: GET {HEALTH_PATH}", lambda r=role: self._health(r))
            for name, base in self.endpoints.items():
                self._check(f"{name}: create, read, list, update, delete", lambda b=base: self._crud(b))
            if all(role in self.endpoints for role in ROLES):
                self._check("primary write, read in secondary after replication", self._replication)
        finally:
            self._cleanup()
        return self.report

    def _check(self, name: str, body: Callable[[], str]) -> None:
        started = self.clock()
        try:
            detail = body()
            check = Check(name, True, detail)
        except CheckFailed as exc:
            check = Check(name, False, str(exc))
        except (OSError, http.client.HTTPException) as exc:  # refused, DNS, TLS, timeouts, a reply cut short
            check = Check(name, False, f"{type(exc).__name__}: {exc}")
        self.report.checks.append(check)
        self.log(f"{'ok  ' if check.ok else 'FAIL'} {name} ({self.clock() - started:.1f} s){': ' + check.detail if check.detail else ''}")

    def _expect(self, reply: Reply, status: int, what: str, **fields: type) -> Any:
        """The body of a reply with ``status``; with ``fields``, an object holding each of the given type."""
        if reply.status != status:
            raise CheckFailed(f"{what}: expected {status}, got {reply.status} {reply.body}")
        if fields and not (isinstance(reply.body, dict) and all(
                isinstance(reply.body.get(k), t) and not isinstance(reply.body.get(k), bool) for k, t in fields.items())):
            wanted = ", ".join(f"{k} ({t.__name__})" for k, t in fields.items())
            raise CheckFailed(f"{what}: expected a JSON object with {wanted}, got {str(reply.body)[:200]}")
        return reply.body

    def _health(self, role: str) -> str:
        base = self.endpoints[role]
        reply = self.http("GET", f"{base}{HEALTH_PATH}")
        problem = health_problem(reply.status, reply.body)
        if problem is not None:
            raise CheckFailed(f"GET {HEALTH_PATH}: {problem}: {str(reply.body)[:200]}")
        return f"region {reply.body[health_contract.REGION]}"

    def _create(self, base: str) -> dict:
        item_id = f"smoke-{uuid.uuid4().hex[:16]}"
        body = self._expect(self.http("POST", f"{base}/items", {"id": item_id, "name": "smoke test",
                                                                "attributes": {"by": USER_AGENT}}), 201, "POST /items", id=str)
        self._created.append((base, item_id))
        return body

    def _delete(self, base: str, item_id: str) -> None:
        self._expect(self.http("DELETE", f"{base}/items/{item_id}"), 204, "DELETE /items/{id}")
        self._created = [c for c in self._created if c[1] != item_id]

    def _crud(self, base: str) -> str:
        item = self._create(base)
        item_id = item["id"]
        read = self._expect(self.http("GET", f"{base}/items/{item_id}"), 200, "GET /items/{id}", name=str, version=int)
        if read.get("name") != "smoke test":
            raise CheckFailed(f"GET /items/{{id}}: expected the created item, got {read}")
        if not self._listed(base, item_id):
            raise CheckFailed("GET /items: the created item is not listed")
        updated = self._expect(self.http("PUT", f"{base}/items/{item_id}", {"name": "smoke test, updated",
                                                                           "version": read["version"]}), 200, "PUT /items/{id}", version=int)
        if updated.get("version") != read["version"] + 1:
            raise CheckFailed(f"PUT /items/{{id}}: expected version {read['version'] + 1}, got {updated.get('version')}")
        self._delete(base, item_id)
        self._expect(self.http("GET", f"{base}/items/{item_id}"), 404, "GET /items/{id} after delete")
        return f"item {item_id}"

    def _listed(self, base: str, item_id: str) -> bool:
        token: Optional[str] = None
        for _ in range(100):  # pages; a smoke tenant has few items
            query = "?limit=100" + (f"&next_token={urllib.parse.quote(token)}" if token else "")
            page = self._expect(self.http("GET", f"{base}/items{query}"), 200, "GET /items", items=list)
            if any(isinstance(i, dict) and i.get("id") == item_id for i in page["items"]):
                return True
            token = page.get("next_token")
            if not token or not isinstance(token, str):
                return False
        return False

    def _replication(self) -> str:
        primary, secondary = self.endpoints["primary"], self.endpoints["secondary"]
        item_id = self._create(primary)["id"]
        waited = self._wait_for(secondary, item_id, 200)
        self._delete(secondary, item_id)
        self._wait_for(primary, item_id, 404)
        return f"item {item_id} visible in the secondary after {waited:.1f} s, deleted there, gone in the primary"

    def _wait_for(self, base: str, item_id: str, status: int) -> float:
        started = self.clock()
        while True:
            reply = self.http("GET", f"{base}/items/{item_id}")
            if reply.status == status:
                return self.clock() - started
            if self.clock() - started >= self.replication_timeout:
                raise CheckFailed(f"GET {base}/items/{item_id}: still {reply.status} after {self.replication_timeout:g} s")
            self.sleep(self.interval)

    def _cleanup(self) -> None:
        for base, item_id in list(self._created):
            try:
                self.http("DELETE", f"{base}/items/{item_id}")
            except (OSError, http.client.HTTPException) as exc:
                self.log(f"could not delete smoke item {item_id} at {base}: {exc}")


def endpoints_from(outputs: Mapping[str, Any] | StackOutputs) -> dict[str, str]:
    """Each region's invoke URL and the custom domain's (when the stack has one), from the outputs."""
    outputs = outputs if isinstance(outputs, StackOutputs) else StackOutputs.parse(outputs)[0]
    problems = [p for p in (outputs.problem(out.INVOKE_URL, role) for role in ROLES) if p is not None]
    problems += [p for p in [outputs.problem(out.CUSTOM_DOMAIN_URL, required=False)] if p is not None]
    if problems:
        raise InputError(problems)
    endpoints = {role: outputs.require(out.INVOKE_URL, role).rstrip("/") for role in ROLES}
    custom = outputs.get(out.CUSTOM_DOMAIN_URL)
    if custom is not None:
        endpoints["custom domain"] = custom.rstrip("/")
    return endpoints


def key_from_api_gateway(outputs: Mapping[str, Any] | StackOutputs, tenant: str, clients: Callable[[str, str], Any]) -> str:
    outputs = outputs if isinstance(outputs, StackOutputs) else StackOutputs.parse(outputs)[0]
    ids = outputs.require(out.API_KEY_IDS, "primary")
    if tenant not in ids:
        where = out.API_KEY_IDS.key("primary")
        raise InputError([Problem("--tenant", tenant, f"a tenant with a key in outputs.{where} ({', '.join(sorted(ids)) or 'none'})")])
    region = _region_of(outputs.get(out.INVOKE_URL, "primary", ""))
    return clients("apigateway", region).get_api_key(apiKey=ids[tenant], includeValue=True)["value"]


def _region_of(invoke_url: str) -> str:
    host = invoke_url.split("//", 1)[-1].split("/", 1)[0]          # <id>.execute-api.<region>.amazonaws.com
    parts = host.split(".")
    return parts[2] if len(parts) > 3 and parts[1] == "execute-api" else os.environ.get("AWS_REGION", "us-east-1")


@command("tapinfra smoke")
def main(argv: list[str], clients: Optional[Callable[[str, str], Any]] = None) -> int:
    """Exit 0 when every check passes; 1 when one fails (or AWS refuses the key lookup); 2 on bad
    input: the outputs file, the tenant, a missing AWS credential, region or endpoint."""
    parser = argparse.ArgumentParser(prog="python -m tapinfra smoke", description=__doc__.splitlines()[0])
    parser.add_argument("--outputs", required=True, help="terraform output -json of the deployment")
    parser.add_argument("--tenant", required=True, help="the tenant whose key the smoke test uses")
    parser.add_argument("--key", help="the key's value (default: $TAP_API_KEY, else read from API Gateway)")
    parser.add_argument("--replication-timeout", type=float, default=30.0, help="seconds to wait for the secondary to see a write")
    args = parser.parse_args(argv)
    if not (math.isfinite(args.replication_timeout) and args.replication_timeout >= 0):
        raise InputError([Problem("--replication-timeout", args.replication_timeout, "a finite number of seconds, 0 or more")])
    outputs = StackOutputs.read(read_outputs(args.outputs))
    endpoints = endpoints_from(outputs)
    key = args.key or os.environ.get("TAP_API_KEY")
    if key and not (key.isascii() and key.isprintable()):
        raise InputError([Problem("--key" if args.key else "TAP_API_KEY", key, "an API key: printable ASCII characters")])
    if not key:
        from tapinfra.operator.drill import boto3_clients

        key = key_from_api_gateway(outputs, args.tenant, clients or boto3_clients)
    report = Smoke(endpoints, Http(key), replication_timeout=args.replication_timeout).run()
    passed = sum(c.ok for c in report.checks)
    print(f"{passed} passed, {len(report.checks) - passed} failed")
    return OK if report.ok else NOT_OK
