"""DynamoDB attribute-value codec for item data.

Reading uses Powertools' ``TypeDeserializer`` (numbers become ``Decimal``).
Writing covers exactly the JSON value types the API accepts (schemas.py has
already checked them for storability); boto3's serializer would cost an
import of boto3 and s3transfer at cold start.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aws_lambda_powertools.shared.dynamodb_deserializer import TypeDeserializer

from schemas import DYNAMODB_DIGITS

_deserializer = TypeDeserializer()


def to_attr(value: Any) -> dict:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):  # before int: bool is an int
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (int, Decimal)):
        return {"N": _number(value)}
    if isinstance(value, dict):
        return {"M": {str(k): to_attr(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [to_attr(v) for v in value]}
    raise TypeError(f"cannot store a {type(value).__name__} in DynamoDB")


def _number(value: int | Decimal) -> str:
    # Normalized, so trailing zeros never count against DynamoDB's 38 digits;
    # exact (raises Inexact rather than round: schemas.py rejected such input).
    if isinstance(value, int) and -(10**38) < value < 10**38:
        return str(value)
    number = Decimal(value)
    return "0" if number.is_zero() else str(number.normalize(DYNAMODB_DIGITS))


def to_item(values: dict[str, Any]) -> dict:
    return {k: to_attr(v) for k, v in values.items()}


def from_item(item: dict) -> dict:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}
