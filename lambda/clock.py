"""The one place the application reads the wall clock (tests replace `now`)."""

from __future__ import annotations

import time


def now() -> int:
    """Current time as whole epoch seconds (the unit of the table's TTL attribute)."""
    return int(time.time())
