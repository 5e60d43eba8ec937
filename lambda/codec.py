"""DynamoDB attribute-value codec for item data, and the size DynamoDB charges an item.

Reading uses Powertools' ``TypeDeserializer``, except for numbers: it cuts a
number's text at 38 characters (so ``1.2345...E+100`` loses its exponent);
here every ``N`` becomes the exact ``Decimal`` its text says. Writing covers
exactly the JSON value types the API accepts (schemas.py has already checked
them for storability); boto3's serializer would cost an import of boto3 and
s3transfer at cold start.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aws_lambda_powertools.shared.dynamodb_deserializer import TypeDeserializer

from schemas import DYNAMODB_DIGITS

# DynamoDB refuses an item larger than 400 KB: attribute names and values together.
ITEM_SIZE_LIMIT = 400 * 1024


class _ExactDeserializer(TypeDeserializer):
    def _deserialize_n(self, value: str) -> Decimal:
        return Decimal(value)  # DynamoDB only hands back numbers it accepted: at most 38 digits


_deserializer = _ExactDeserializer()


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


def item_size(item: dict) -> int:
    """Bytes DynamoDB counts for an item of attribute values, never fewer.

    AWS's rules (item sizes and formats): names and strings are their UTF-8
    bytes; a number about 1 byte per 2 significant digits plus 1 (counted here
    as digits // 2 + 2, so a pair split by the decimal point is covered); null
    and booleans 1; a list or map 3 bytes plus 1 per element, plus its elements.
    """
    return sum(_utf8_len(name) + _value_size(value) for name, value in item.items())


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _value_size(attr: dict) -> int:
    ((kind, value),) = attr.items()
    if kind == "S":
        return _utf8_len(value)
    if kind == "N":
        return _number_size(value)
    if kind in ("NULL", "BOOL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in value)
    if kind == "M":
        return 3 + sum(1 + _utf8_len(k) + _value_size(v) for k, v in value.items())
    if kind == "B":
        return len(value)
    if kind in ("SS", "NS", "BS"):
        single = kind[0]
        return 3 + sum(1 + _value_size({single: v}) for v in value)
    raise TypeError(f"unknown DynamoDB type {kind}")


def _number_size(text: str) -> int:
    digits = len(Decimal(text).normalize().as_tuple().digits)
    return digits // 2 + 2
