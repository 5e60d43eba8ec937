"""JSON in and out: Decimal-exact, NaN-free.

DynamoDB hands numbers back as ``decimal.Decimal``. Powertools' own ``Encoder``
renders them as *strings*; API clients expect JSON numbers, and the number a
client stored must come back as the same number: integral values become
``int``, others ``float`` when the float's text is that very number, and any
other (``0.1234567890123456789``, ``1.5E+100``) is written as its exact decimal
text by a slower writer used only for such responses. Request bodies are
parsed with ``parse_float=Decimal`` because boto3 refuses Python floats, and
the non-JSON literals ``NaN``/``Infinity`` are rejected. A number no ``Decimal``
or ``int`` can hold (an exponent past decimal's limits, an integer past Python's
digit limit) is refused here, for the API and the ingestion processor alike, as
``NumberOutOfRange`` carrying its position in the document.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, DecimalException
from functools import partial
from json.encoder import encode_basestring_ascii

from aws_lambda_powertools.shared.json_encoder import Encoder


class _NeedsExactText(Exception):
    """A Decimal neither int nor float can carry exactly: the response takes the exact writer."""


class DecimalEncoder(Encoder):
    def default(self, obj):
        if isinstance(obj, Decimal):
            if not obj.is_finite():
                return None  # never stored (input rejects NaN/Infinity); do not emit invalid JSON
            if obj == obj.to_integral_value() and obj.adjusted() < 20:
                return int(obj)
            as_float = float(obj)
            if Decimal(repr(as_float)) == obj:
                return as_float
            raise _NeedsExactText
        if isinstance(obj, (set, frozenset)):  # DynamoDB sets, should any appear
            return sorted(obj, key=str)
        return super().default(obj)


_fast_dumps = partial(json.dumps, separators=(",", ":"), cls=DecimalEncoder, allow_nan=False)


def dumps(obj) -> str:
    """Compact JSON in which every Decimal is exactly the number it holds."""
    try:
        return _fast_dumps(obj)
    except _NeedsExactText:
        out: list[str] = []
        _write(obj, out, DecimalEncoder())
        return "".join(out)


def _write(obj, out: list[str], encoder: DecimalEncoder) -> None:
    if isinstance(obj, str):
        out.append(encode_basestring_ascii(obj))
    elif obj is None or isinstance(obj, bool):
        out.append({None: "null", True: "true", False: "false"}[obj])
    elif isinstance(obj, int):
        out.append(int.__repr__(obj))
    elif isinstance(obj, float):
        out.append(_fast_dumps(obj))  # raises on NaN/Infinity, as json.dumps does
    elif isinstance(obj, Decimal):
        try:
            out.append(_fast_dumps(encoder.default(obj)))
        except _NeedsExactText:
            out.append(str(obj))  # Decimal's text is valid JSON number syntax: 1.5E+100, -0.25, 1E-7
    elif isinstance(obj, dict):
        out.append("{")
        for index, (key, value) in enumerate(obj.items()):
            if index:
                out.append(",")
            out.append(encode_basestring_ascii(key if isinstance(key, str) else _fast_dumps(key).strip('"')))
            out.append(":")
            _write(value, out, encoder)
        out.append("}")
    elif isinstance(obj, (list, tuple)):
        out.append("[")
        for index, value in enumerate(obj):
            if index:
                out.append(",")
            _write(value, out, encoder)
        out.append("]")
    else:
        _write(encoder.default(obj), out, encoder)


class NonStandardConstant(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity``: Python's parser takes them, JSON does not."""


class NumberOutOfRange(ValueError):
    """A JSON number beyond what ``Decimal``/``int`` can hold, at ``path`` (member names and indices)."""

    def __init__(self, path: tuple, document):
        super().__init__("a number is out of range")
        self.path = path
        self.document = document  # as parsed, the number replaced by a placeholder: for naming the position


def _reject_constant(name: str):
    raise NonStandardConstant(f"{name} is not valid JSON")


class _Unreadable:
    """Stands in, during one parse, for a number no Decimal can hold; found afterwards by its identity."""


def _zero_or_none(text: str) -> Decimal | None:
    """``0e99999999999999999999`` is zero whatever its exponent; anything else nonzero is out of range."""
    mantissa = re.split("[eE]", text, maxsplit=1)[0]
    if mantissa.strip("-+0.") == "":
        return Decimal("-0") if mantissa.startswith("-") else Decimal(0)
    return None


def _path_to(value, target) -> tuple | None:
    """Where ``target`` sits in ``value``, first in document order (iterative: as deep as the parser went)."""
    stack = [((), value)]
    while stack:
        path, node = stack.pop()
        if node is target:
            return path
        if isinstance(node, dict):
            stack.extend(((*path, key), item) for key, item in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend(((*path, index), item) for index, item in reversed(list(enumerate(node))))
    return None


def loads(text: str):
    """Parse a request body. Raises ValueError on anything that is not strict JSON
    (``NumberOutOfRange`` for a number no Decimal can hold, naming where it is)."""
    unreadable = _Unreadable()
    seen = []

    def number(convert, text: str):
        try:
            return convert(text)
        except (DecimalException, ValueError):  # exponent past decimal's limits; int past its digit limit
            zero = _zero_or_none(text)
            if zero is not None:
                return zero
            seen.append(text)
            return unreadable

    value = json.loads(text, parse_float=partial(number, Decimal), parse_int=partial(number, int),
                       parse_constant=_reject_constant)
    if seen:
        path = _path_to(value, unreadable)
        if path is not None:  # None: a later duplicate key replaced it, so the document no longer holds it
            raise NumberOutOfRange(path, value)
    return value


def field_path(path: tuple) -> str:
    """A position as the API's messages name fields: ``attributes.lines[2]``, ``body`` for the whole."""
    text = ""
    for segment in path:
        if isinstance(segment, int):
            text = f"{text or 'body'}[{segment}]"
        else:
            text = f"{text}.{segment}" if text else segment
    return text or "body"
