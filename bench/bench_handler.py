"""Benchmark of the Lambda handler in lambda/: cold import and warm per-request overhead.

Run:  .venv/bin/python bench/bench_handler.py [--runs 7] [--requests 2000]

* Cold import: ``import app`` in a fresh interpreter (the work Lambda does in
  the init phase before the first request), median of ``--runs`` subprocesses.
  Interpreter start-up itself is excluded; it is reported separately.
* Warm overhead: the real ``app.handler`` invoked with API Gateway REST events,
  AWS calls stubbed out, median per request per route. Two stub flavours:
    - fake clients: canned answers, no SDK involved -> the application's own
      overhead (Powertools resolver, Logger, Metrics/EMF, validation, encoding);
    - botocore Stubber on real clients: adds the SDK's parameter validation and
      request serialization (everything but the network).
  Logs and EMF are written to /dev/null (in Lambda they go to stdout too).
  Tracing is disabled (no X-Ray daemon here), as in the tests.

Targets (this machine): import <= 300 ms, overhead <= 2 ms per request.
This is a measurement script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_DIR = ROOT / "lambda"
sys.path.insert(0, str(ROOT))

from tests.app.app_testkit import make_event  # noqa: E402

IMPORT_TARGET_MS = 300.0
OVERHEAD_TARGET_MS = 2.0

ENV = {
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "TABLE_NAME": "tap-items-bench",
    "EVENT_BUS_NAME": "tap-bus-bench",
    "EVENT_SOURCE": "tap.items",
    "RETENTION_DAYS": "30",
    "TENANT_KEYS": json.dumps({"bench-key-id": "tenant-bench"}),
    "DRAIN_PARAMETER_NAME": "/tap/bench/drain",
    "CORS_ALLOWED_ORIGINS": "https://app.example.com",
    "MAX_BODY_BYTES": "16384",
    "HEALTH_CACHE_SECONDS": "5",
    "HEALTH_TIMEOUT_SECONDS": "2",
    "POWERTOOLS_SERVICE_NAME": "tap-items",
    "POWERTOOLS_METRICS_NAMESPACE": "TapBench",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    # As in Lambda: the X-Ray SDK sees LAMBDA_TASK_ROOT and uses its Lambda
    # context and local sampler (outside Lambda it builds two botocore X-Ray
    # clients at import, ~100 ms that never happen in production).
    "LAMBDA_TASK_ROOT": str(LAMBDA_DIR),
    "AWS_LAMBDA_FUNCTION_NAME": "tap-items",
    # /var/task is read-only in Lambda: our modules compile at every cold start
    # (the Powertools layer ships compiled). Also keeps lambda/ free of __pycache__.
    "PYTHONDONTWRITEBYTECODE": "1",
}

# Warm runs: with tracing off (as in the tests), and on with a sampled trace
# header as Lambda sets it; segments then go by UDP to 127.0.0.1:2000, where no
# daemon listens -- the send cost is measured, nothing leaves the machine.
TRACING_MODES = {
    "off": {"POWERTOOLS_TRACE_DISABLED": "true"},
    "on": {
        "POWERTOOLS_TRACE_DISABLED": "false",
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
    },
}

_IMPORT_PROBE = """
import sys, time
sys.path.insert(0, {lambda_dir!r})
t0 = time.perf_counter()
import app
t1 = time.perf_counter()
import clients
clients.dynamodb(); clients.events()
t2 = time.perf_counter()
print((t1 - t0) * 1000.0, (t2 - t1) * 1000.0)
"""


# --------------------------------------------------------------------------- cold import


def cold_import(runs: int, tracing: str) -> dict:
    env = {**os.environ, **ENV, **TRACING_MODES[tracing]}
    probe = _IMPORT_PROBE.format(lambda_dir=str(LAMBDA_DIR))
    # One unmeasured run to warm the OS file cache.
    subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True)
    imports, clients, startups = [], [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True)
        wall = (time.perf_counter() - t0) * 1000.0
        import_ms, clients_ms = map(float, out.stdout.strip().splitlines()[-1].split())
        imports.append(import_ms)
        clients.append(clients_ms)
        startups.append(wall - import_ms - clients_ms)
    return {
        "median_ms": statistics.median(imports),
        "min_ms": min(imports),
        "max_ms": max(imports),
        "clients_median_ms": statistics.median(clients),
        "interpreter_median_ms": statistics.median(startups),
        "runs": runs,
    }


# --------------------------------------------------------------------------- warm requests


class Context:
    function_name = "tap-items"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:tap-items:live"
    aws_request_id = "bench"


BENCH_HEADERS = {"Origin": "https://app.example.com", "Content-Type": "application/json"}


def event(method: str, path: str, body=None, query=None, key="bench-key-id") -> dict:
    """The same API Gateway REST proxy event the application's tests send."""
    return make_event(method, path, body=body, query=query, key=key, headers=BENCH_HEADERS)


def stored_item(item_id: str, version: int = 1) -> dict:
    return {
        "tenant_id": {"S": "tenant-bench"},
        "item_id": {"S": item_id},
        "name": {"S": f"item {item_id}"},
        "attributes": {"M": {"colour": {"S": "blue"}, "size": {"N": "42"}, "price": {"N": "9.99"}}},
        "version": {"N": str(version)},
        "created_at": {"S": "2025-01-01T00:00:00Z"},
        "updated_at": {"S": "2025-01-01T00:00:00Z"},
        "expires_at": {"N": str(int(time.time()) + 86400 * 30)},
        "updated_region": {"S": "eu-west-1"},
    }


PAGE = [stored_item(f"item-{i:04d}") for i in range(20)]


def _query(select=None):
    if select == "COUNT":  # GET /metrics: one page of counts
        return {"Count": 20, "ScannedCount": 20}
    return {
        "Items": PAGE,
        "Count": 20,
        "ScannedCount": 20,
        "LastEvaluatedKey": {"tenant_id": {"S": "tenant-bench"}, "item_id": {"S": "item-0019"}},
    }


# Canned answers per operation (the shapes DynamoDB and EventBridge return).
RESPONSES = {
    "get_item": lambda **_: {"Item": stored_item("item-0001")},
    "put_item": lambda **_: {},
    "update_item": lambda **_: {"Attributes": stored_item("item-0001", 2)},
    "delete_item": lambda **_: {"Attributes": stored_item("item-0001")},
    "query": lambda **kw: _query(kw.get("Select")),
    "put_events": lambda **_: {"FailedEntryCount": 0, "Entries": [{"EventId": "e-1"}]},
}


class FakeClient:
    """Answers any operation from RESPONSES without touching botocore."""

    def __init__(self, operations):
        for name in operations:
            setattr(self, name, self._make(name))

    @staticmethod
    def _make(name):
        def call(**kwargs):
            return RESPONSES[name](**kwargs)

        return call


SCENARIOS = [
    # (label, method, path, body, query, ddb operation, publishes event)
    ("GET /health (cached)", "GET", "/health", None, None, None, False),
    ("GET /items/{id}", "GET", "/items/item-0001", None, None, "get_item", False),
    ("GET /items?limit=20", "GET", "/items", None, {"limit": "20"}, "query", False),
    (
        "POST /items",
        "POST",
        "/items",
        {"name": "bench", "attributes": {"colour": "blue", "size": 42, "price": 9.99}},
        None,
        "put_item",
        True,
    ),
    (
        "PUT /items/{id}",
        "PUT",
        "/items/item-0001",
        {"name": "bench", "attributes": {"colour": "red"}, "version": 1},
        None,
        "update_item",
        True,
    ),
    ("DELETE /items/{id}", "DELETE", "/items/item-0001", None, None, "delete_item", True),
    ("GET /metrics", "GET", "/metrics", None, None, "query", False),
    ("403 unknown key", "GET", "/items", None, None, None, False),
    ("404 unknown route", "GET", "/nope", None, None, None, False),
]


def _silence_stdout():
    """Send fd 1 to /dev/null (logs + EMF still get formatted and written)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    return saved


def _restore_stdout(saved):
    sys.stdout.flush()
    os.dup2(saved, 1)
    os.close(saved)


def _time_requests(handler, make_event, requests: int, before_each=None) -> list[float]:
    ctx = Context()
    samples = []
    for _ in range(requests):
        ev = make_event()
        if before_each:
            before_each()
        t0 = time.perf_counter()
        response = handler(ev, ctx)
        samples.append((time.perf_counter() - t0) * 1000.0)
        if response["statusCode"] >= 500:
            raise RuntimeError(f"benchmark request failed: {response}")
    return samples


def warm_fake(requests: int) -> dict:
    import app  # noqa: PLC0415
    import clients  # noqa: PLC0415

    clients.reset()
    clients.set_client("dynamodb", FakeClient(["get_item", "put_item", "update_item", "delete_item", "query"]))
    clients.set_client("events", FakeClient(["put_events"]))
    results = {}
    for label, method, path, body, query, _op, _pub in SCENARIOS:
        key = "unknown-key" if label.startswith("403") else "bench-key-id"

        def make(method=method, path=path, body=body, query=query, key=key):
            return event(method, path, body, query, key)

        _time_requests(app.handler, make, 50)  # warm-up
        results[label] = statistics.median(_time_requests(app.handler, make, requests))
    return results


def warm_stubber(requests: int) -> dict:
    from botocore.stub import Stubber  # noqa: PLC0415

    import app  # noqa: PLC0415
    import clients  # noqa: PLC0415

    clients.reset()
    ddb, bus = clients.dynamodb(), clients.events()  # the application's real clients
    ddb_stub, bus_stub = Stubber(ddb), Stubber(bus)
    ddb_stub.activate()
    bus_stub.activate()

    results = {}
    for label, method, path, body, query, op, publishes in SCENARIOS:
        key = "unknown-key" if label.startswith("403") else "bench-key-id"
        if label == "GET /metrics":

            def answer():
                return _query("COUNT")
        else:
            answer = RESPONSES.get(op) if op else None

        def queue(op=op, answer=answer, publishes=publishes):
            # Queue this request's answers (outside the timed section).
            if op:
                ddb_stub.add_response(op, answer())
            if publishes:
                bus_stub.add_response("put_events", RESPONSES["put_events"]())

        def make(method=method, path=path, body=body, query=query, key=key):
            return event(method, path, body, query, key)

        _time_requests(app.handler, make, 50, queue)
        results[label] = statistics.median(_time_requests(app.handler, make, requests, queue))
    ddb_stub.assert_no_pending_responses()
    bus_stub.assert_no_pending_responses()
    return results


def _warm_health_cache():
    """Prime the health cache with stubbed checks so /health measures the cached path."""
    import health  # noqa: PLC0415

    health.reset()
    original_table, original_drain = health.check_table, health.check_drain
    health.check_table = lambda *_a: "ok"
    health.check_drain = lambda *_a: "off"
    try:
        health.check()
    finally:
        health.check_table, health.check_drain = original_table, original_drain
    # Keep the primed answer for the whole run.
    import config  # noqa: PLC0415

    object.__setattr__(config.get_settings(), "health_cache_seconds", 1e9)


def warm_worker(tracing: str, requests: int) -> None:
    """Runs in a subprocess per tracing mode; prints its figures as JSON."""
    os.environ.update({**ENV, **TRACING_MODES[tracing]})
    sys.dont_write_bytecode = True
    sys.path.insert(0, str(LAMBDA_DIR))
    saved = _silence_stdout()
    try:
        _warm_health_cache()
        results = {"fake": warm_fake(requests), "stubber": warm_stubber(requests)}
    finally:
        _restore_stdout(saved)
    print(json.dumps(results))


def run_warm(tracing: str, requests: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--warm-worker", tracing, "--requests", str(requests)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="cold-import subprocesses per mode (median)")
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per route")
    parser.add_argument("--warm-worker", choices=sorted(TRACING_MODES), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.warm_worker:
        warm_worker(args.warm_worker, args.requests)
        return 0

    cold = {mode: cold_import(args.runs, mode) for mode in ("on", "off")}
    warm = {mode: run_warm(mode, args.requests) for mode in ("off", "on")}

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPU(s); Powertools and boto3 from the project venv")
    print()
    print(f"Cold import of app.py (median of {args.runs} fresh interpreters; interpreter start-up excluded):")
    for mode, label in (("on", "tracing on (as deployed)"), ("off", "tracing off")):
        c = cold[mode]
        verdict = "OK" if c["median_ms"] <= IMPORT_TARGET_MS else "MISSED"
        print(
            f"  {label:<26} {c['median_ms']:7.1f} ms  (min {c['min_ms']:.1f}, max {c['max_ms']:.1f})"
            f"  target <= {IMPORT_TARGET_MS:.0f} ms: {verdict}"
        )
    print(
        f"  then, on the first request: SDK session + DynamoDB and EventBridge clients "
        f"{cold['on']['clients_median_ms']:.1f} ms; interpreter start-up {cold['on']['interpreter_median_ms']:.1f} ms"
    )
    print()
    print(f"Warm per-request overhead, median of {args.requests} requests per route, AWS calls stubbed:")
    print(f"  {'route':<24} {'fake clients':>13} {'+ X-Ray on':>12} {'botocore Stubber':>17}")
    worst = 0.0
    for label, *_ in SCENARIOS:
        fake, traced, stub = warm["off"]["fake"][label], warm["on"]["fake"][label], warm["off"]["stubber"][label]
        worst = max(worst, fake)
        print(f"  {label:<24} {fake:>10.3f} ms {traced:>9.3f} ms {stub:>14.3f} ms")
    verdict = "OK" if worst <= OVERHEAD_TARGET_MS else "MISSED"
    print(f"  worst route, fake clients: {worst:.3f} ms   target <= {OVERHEAD_TARGET_MS:.0f} ms: {verdict}")
    print()
    print("fake clients: the application's own work (Powertools resolver, Logger, Metrics/EMF, validation,")
    print("JSON); + X-Ray on: the same with the Tracer active; botocore Stubber: adds the SDK's request")
    print("validation and serialization. Network time is excluded in all three.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
