"""Why an ingested line was refused, in words that carry no client content.

The dead-letter queue outlives the items' retention (and GDPR deletes), so its messages hold
fixed text and positions only: a JSON pointer whose segments are array indices and the names the
CreateItem schema defines; any member name the client chose (every key under ``attributes``, an
unknown top-level field) is written as ``#<n>``, its position among its object's members. The
API's own messages may name the client's fields (the client reads them); these may not.

Whether a line is refused is decided by the same checks the API runs (ingest.py calls them);
this module only describes a refusal, by running those same checks again on the parts of the
line, so the verdict and its description cannot disagree about what is allowed.
"""

from __future__ import annotations

import json
from typing import Any

import fastjsonschema

import schemas
from encoding import NonStandardConstant, NumberOutOfRange
from errors import BadRequestError

_MARK = "\x00"  # stands for the position in the checks' messages, replaced by the redacted pointer


def pointer(body: Any, path: tuple, known: frozenset[str]) -> str:
    """``path`` inside ``body`` as a JSON pointer: indices, and at the top level the ``known`` names."""
    parts = []
    node = body
    for depth, segment in enumerate(path):
        if isinstance(segment, int):
            parts.append(str(segment))
        elif depth == 0 and segment in known:
            parts.append(segment)
        else:
            parts.append(f"#{list(node).index(segment)}" if isinstance(node, dict) and segment in node else "#?")
        node = node[segment] if isinstance(node, (dict, list)) else None
    return "/" + "/".join(parts) if parts else "/"


def _known(schema: dict) -> frozenset[str]:
    return frozenset(schema.get("properties", {}))


_compiled: dict[str, Any] = {}


def _validator(schema: dict):
    """The schema compiled for its structured errors (position, rule), once, on the first refusal."""
    title = schema["title"]
    if title not in _compiled:
        _compiled[title] = fastjsonschema.compile(schema)
    return _compiled[title]


def unparsable(exc: Exception) -> str:
    """A parser error in fixed words and a column."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}"
    if isinstance(exc, NonStandardConstant):
        return "NaN and Infinity are not JSON"
    if isinstance(exc, RecursionError):
        return "nested too deeply to parse"
    return "not JSON"


def out_of_range(exc: NumberOutOfRange, schema: dict) -> str:
    """A number no Decimal can hold, by its position in the parsed line."""
    return f"invalid body: the number at {pointer(exc.document, exc.path, _known(schema))} is too large or too small to read"


def describe(body: Any, schema: dict) -> str:
    """The first reason the line's body fails the API's checks, redacted; a fixed text if none is found."""
    known = _known(schema)
    try:
        _validator(schema)(body)
    except fastjsonschema.JsonSchemaValueException as exc:
        path = tuple(exc.path[1:])  # exc.path starts with fastjsonschema's "data"
        definition = exc.rule_definition if isinstance(exc.rule_definition, (int, str, bool, list)) else None
        rule = f"{exc.rule} {json.dumps(definition)}" if definition is not None else str(exc.rule)
        return f"invalid body: {pointer(body, path, known)} breaks the {schema['title']} rule {rule}"
    item_id = body.get("id")
    if item_id is not None:
        try:
            schemas.check_item_id(item_id, _MARK)
        except BadRequestError as exc:
            return exc.msg.replace(_MARK, "/id")
    for field, value in (("name", body["name"]), ("attributes", body.get("attributes", {}))):
        found = _storable_failure(value, (field,), 0)
        if found is not None:
            path, message = found
            return message.replace(_MARK, pointer(body, path, known))
    return f"invalid body: not a valid {schema['title']}"


def _fails(value: Any, depth: int) -> str | None:
    try:
        schemas.check_storable(value, _MARK, depth)
    except BadRequestError as exc:
        return exc.msg
    return None


def _storable_failure(value: Any, path: tuple, depth: int) -> tuple[tuple, str] | None:
    """The first position (document order) at which ``schemas.check_storable`` fails, and its message there.

    Descends while a child fails; a node whose children all pass failed by itself (its type, its
    depth, or one of its keys, each key tested alone, in order, before its value as the check does).
    """
    message = _fails(value, depth)
    if message is None:
        return None
    if depth > schemas.MAX_DEPTH:
        return path, message
    if isinstance(value, dict):
        for key, item in value.items():
            key_message = _fails({key: None}, depth)
            if key_message is not None:
                return path, key_message
            found = _storable_failure(item, (*path, key), depth + 1)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _storable_failure(item, (*path, index), depth + 1)
            if found is not None:
                return found
    return path, message
