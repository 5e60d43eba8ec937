"""How the fast path says it stepped aside: one exception, one line on stderr."""

from __future__ import annotations

import sys

WARN_PREFIX = "tapinfra fast import:"


class FastImportUnavailable(Exception):
    """The installed layout is not the one the fast path was written for."""


def warn(message: str) -> None:
    print(f"{WARN_PREFIX} {message}", file=sys.stderr, flush=True)
