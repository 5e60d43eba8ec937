"""JSON in and out: Decimal-safe, NaN-free.

DynamoDB hands numbers back as ``decimal.Decimal``. Powertools' own ``Encoder``
renders them as *strings*; API clients expect JSON numbers, so integral values
become ``int`` and the rest ``float``. Request bodies are parsed with
``parse_float=Decimal`` because boto3 refuses Python floats, and the non-JSON
literals ``NaN``/``Infinity`` are rejected.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import partial

from aws_lambda_powertools.shared.json_encoder import Encoder


class DecimalEncoder(Encoder):
    def default(self, obj):
        if isinstance(obj, Decimal):
            if obj.is_finite():
                return int(obj) if obj == obj.to_integral_value() else float(obj)
            return None  # never stored (input rejects NaN/Infinity); do not emit invalid JSON
        if isinstance(obj, (set, frozenset)):  # DynamoDB sets, should any appear
            return sorted(obj, key=str)
        return super().default(obj)


dumps = partial(json.dumps, separators=(",", ":"), cls=DecimalEncoder, allow_nan=False)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str):
    """Parse a request body. Raises ValueError on anything that is not strict JSON."""
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
