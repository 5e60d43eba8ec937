"""The body of ``GET /health``, stated once.

The handler (``lambda/health.py``) builds it with :func:`health_body`; ``tapinfra smoke`` judges
it with :func:`health_problem`; the canary (Node.js, ``canary/nodejs/node_modules/tapHealth.js``)
judges it with the same rules, read from ``tapHealthContract.json`` beside it, which is
:func:`canary_contract` written out (``tools/update_health_contract.py``; a test fails when it
is stale). Standard library only: this ships in every function zip.

A healthy answer is HTTP 200 with ``{"status": "ok", "region": "<its region>", "checks":
{"table": "ok", "drain": "off"}}``; a degraded or draining region answers 503 with
``status`` ``degraded`` or ``draining``.
"""

from __future__ import annotations

import json
from typing import Any, Optional

STATUS, REGION, CHECKS = "status", "region", "checks"    # the body's fields
TABLE_CHECK, DRAIN_CHECK = "table", "drain"             # the fields of its ``checks`` object
HEALTHY, DEGRADED, DRAINING = "ok", "degraded", "draining"
STATUSES: tuple[str, ...] = (HEALTHY, DEGRADED, DRAINING)
TABLE_OK = "ok"                                         # checks.table of a reachable table (else an error summary)
DRAIN_ON, DRAIN_OFF = "on", "off"                       # checks.drain
HEALTHY_HTTP_STATUS, UNHEALTHY_HTTP_STATUS = 200, 503


def health_body(status: str, region: str, table: str, drain: str) -> dict[str, Any]:
    """The body the function answers ``GET /health`` with."""
    return {STATUS: status, REGION: region, CHECKS: {TABLE_CHECK: table, DRAIN_CHECK: drain}}


def http_status(status: str) -> int:
    """200 for a healthy region, 503 otherwise (Route 53 and the canary read the code)."""
    return HEALTHY_HTTP_STATUS if status == HEALTHY else UNHEALTHY_HTTP_STATUS


def health_problem(http_code: int, body: Any, expected_region: Optional[str] = None) -> Optional[str]:
    """Why an answer to ``GET /health`` is not healthy (the canary's rules); None when it is."""
    if http_code != HEALTHY_HTTP_STATUS:
        return f"status {http_code}"
    if not isinstance(body, dict):
        return "body is not a JSON object"
    if STATUS not in body:
        return f"missing field {STATUS}"
    if body[STATUS] != HEALTHY:
        return f"{STATUS} field is {json.dumps(body[STATUS])}, expected {json.dumps(HEALTHY)}"
    if REGION not in body:
        return f"missing field {REGION}"
    if not isinstance(body[REGION], str) or not body[REGION]:
        return f"field {REGION} is not a non-empty string"
    if expected_region and body[REGION] != expected_region:
        return f"{REGION} {body[REGION]} != expected {expected_region}"
    if CHECKS not in body:
        return f"missing field {CHECKS}"
    if not isinstance(body[CHECKS], dict):
        return f"field {CHECKS} is not an object"
    return None


def canary_contract() -> dict[str, Any]:
    """What the Node.js canary reads of this contract (``tapHealthContract.json``)."""
    return {
        "fields": {"status": STATUS, "region": REGION, "checks": CHECKS},
        "checks": {"table": TABLE_CHECK, "drain": DRAIN_CHECK},
        "statuses": {"healthy": HEALTHY, "degraded": DEGRADED, "draining": DRAINING},
        "httpStatus": {"healthy": HEALTHY_HTTP_STATUS, "unhealthy": UNHEALTHY_HTTP_STATUS},
    }


def canary_contract_json() -> str:
    """:func:`canary_contract` as the file the canary carries (sorted, indented, a final newline)."""
    return json.dumps(canary_contract(), indent=2, sort_keys=True) + "\n"
