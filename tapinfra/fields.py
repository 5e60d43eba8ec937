"""How a config field is declared (``setting``: its default, what it means, what values are
allowed), and the choices several sections share. tapinfra/config.py and the modules'
sections (tapinfra/modules/) declare their fields with it; the loader, the validator, the
JSON Schema and the README's reference read the declarations."""

from __future__ import annotations

from dataclasses import field, is_dataclass
from typing import Any

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)

# Field metadata keys. ``doc`` is required on every field.
RULE_KEYS = ("minimum", "maximum", "choices", "pattern", "not_pattern", "max_length", "item_choices", "item_pattern", "min_items", "max_items")


def setting(default: Any, doc: str, **rules: Any) -> Any:
    """A config field: its default, what it means, and what values are allowed."""
    unknown = set(rules) - set(RULE_KEYS)
    if unknown:
        raise TypeError(f"unknown rule(s) {sorted(unknown)}")
    meta = {"doc": doc, **rules}
    if isinstance(default, (list, dict, set)):
        raise TypeError("mutable defaults are not allowed; use a tuple")
    if is_dataclass(default):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)
