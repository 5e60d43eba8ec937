"""The one error a user of tapinfra sees for bad input."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where, what it was, what is allowed."""

    path: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        return f"{self.path}: got {_show(self.value)}; expected {self.allowed}"


def _show(value: Any) -> str:
    """The value as JSON, shortened; never raises (huge integers, deep nesting, odd objects)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"<an integer of about {int(value.bit_length() * 0.30103) + 1} digits>"
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        try:
            text = repr(value)
        except (ValueError, RecursionError):
            text = f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


class ConfigError(ValueError):
    """Every problem found in a configuration, reported together."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid tapinfra configuration ({len(self.problems)} problem(s)):\n{lines}")

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(p.path for p in self.problems)
