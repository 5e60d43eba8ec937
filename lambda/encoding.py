"""JSON in and out: Decimal-exact, NaN-free.

DynamoDB hands numbers back as ``decimal.Decimal``. Powertools' own ``Encoder``
renders them as *strings*; API clients expect JSON numbers, and the number a
client stored must come back as the same number: integral values become
``int``, others ``float`` when the float's text is that very number, and any
other (``0.1234567890123456789``, ``1.5E+100``) is written as its exact decimal
text by a slower writer used only for such responses. Request bodies are
parsed with ``parse_float=Decimal`` because boto3 refuses Python floats, and
the non-JSON literals ``NaN``/``Infinity`` are rejected.
"""

from __future__ import annotations

import json
from decimal import Decimal
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


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str):
    """Parse a request body. Raises ValueError on anything that is not strict JSON."""
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
