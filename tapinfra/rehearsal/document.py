"""Edits of a synthesized Terraform JSON document -- only ever the rehearsal's own copy."""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Iterator

# A resource or data source named inside a ${...} expression or a depends_on entry.
_REFERENCE = re.compile(r"(?<![\w.-])((?:data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)")


def resources(doc: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return doc.get("resource", {}).get(rtype, {})


def data_sources(doc: dict[str, Any], dtype: str) -> dict[str, dict[str, Any]]:
    return doc.get("data", {}).get(dtype, {})


def references(value: Any) -> set[str]:
    """Addresses (``type.name``, ``data.type.name``) that ``value`` mentions anywhere."""
    return set(_REFERENCE.findall(json.dumps(value)))


def blocks(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(address, body) of every resource, data source and output."""
    for rtype, items in doc.get("resource", {}).items():
        for name, body in items.items():
            yield f"{rtype}.{name}", body
    for dtype, items in doc.get("data", {}).items():
        for name, body in items.items():
            yield f"data.{dtype}.{name}", body
    for name, body in doc.get("output", {}).items():
        yield f"output.{name}", body


def remove_resources(doc: dict[str, Any], rtype: str, names: Iterable[str], kind: str = "resource") -> list[str]:
    """Remove resources (or data sources), the outputs that show them and ``depends_on``
    entries naming them.

    Any other block that still reads one of them is an error: the copy must stay a
    coherent configuration, so a workaround may not silently cut more than it says.
    """
    names = list(names)
    prefix = "data." if kind == "data" else ""
    removed = {f"{prefix}{rtype}.{name}" for name in names}
    for name in names:
        del doc[kind][rtype][name]
    if not doc[kind][rtype]:
        del doc[kind][rtype]
    for output in [name for name, body in doc.get("output", {}).items() if references(body) & removed]:
        del doc["output"][output]
    for address, body in blocks(doc):
        if "depends_on" in body:
            body["depends_on"] = [d for d in body["depends_on"] if d not in removed]
            if not body["depends_on"]:
                del body["depends_on"]
        still = references(body) & removed
        if still:
            raise ValueError(f"{address} still refers to {sorted(still)}, which a workaround removed")
    return sorted(removed)


def address_of_reference(expression: str) -> str:
    """``${aws_s3_bucket.x.id}`` -> ``aws_s3_bucket.x``."""
    found = _REFERENCE.search(expression)
    if not found:
        raise ValueError(f"not a reference: {expression}")
    return found.group(1)
