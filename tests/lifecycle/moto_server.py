"""The rehearsal's moto server: moto's own, with the server gaps fixed in its process.

Run as a script (``python tests/lifecycle/moto_server.py -H 127.0.0.1 -p 0``): it installs
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


# gap key (gaps.py) -> the fix; each returns a function that undoes it.
FIXES: dict[str, Callable[[], Callable[[], None]]] = {
    "route53-health-check-caller-reference": fix_health_check_caller_reference,
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
