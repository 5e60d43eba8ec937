"""Request body schemas and their validation.

Validation is Powertools' validation utility's engine, fastjsonschema, with
the same JSON Schema semantics and error fields as
``aws_lambda_powertools.utilities.validation.validate`` -- but each schema is
compiled once per container. ``validate()`` recompiles the schema on every
call (about 1.5 ms, three times the rest of a write request's overhead);
tests/app/test_app_units.py checks that both accept and reject the same bodies.

Every client mistake is a 400 whose message names the offending field. On top
of the JSON Schema, ``attributes`` are checked for what DynamoDB can store
(number range and precision, nesting depth, non-empty map keys, UTF-8 text), so
a body that passes validation can never turn into a 500 at write time.
"""

from __future__ import annotations

import copy
import re
from decimal import Context, Decimal, Inexact
from typing import Any

import fastjsonschema

from contract import ITEM_MODELS
from errors import BadRequestError

ITEM_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_DEPTH = 16  # DynamoDB allows 32 levels; stay well inside
MAX_VERSION = 2**53 - 1
MAX_KEY_LENGTH = 128


def _function_schema(model: str, **stricter: dict) -> dict:
    """The edge's request model (``contract.ITEM_MODELS``) as draft-07, with the bounds only
    the function checks added: the item fields are stated once, in the contract."""
    schema = copy.deepcopy(ITEM_MODELS[model])
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    for prop, bounds in stricter.items():
        schema["properties"][prop].update(bounds)
    return schema


CREATE_ITEM_SCHEMA: dict = _function_schema("CreateItem")
# A version past 2**53 - 1 loses precision in JSON clients; API Gateway's draft-04 model has no
# need to know it.
UPDATE_ITEM_SCHEMA: dict = _function_schema("UpdateItem", version={"maximum": MAX_VERSION})

# DynamoDB numbers: up to 38 significant digits, magnitude 1E-130 .. <1E+126.
# Rounding to 38 digits under this context raises Inexact if anything but
# trailing zeros would be lost (the default context would round silently).
DYNAMODB_DIGITS = Context(prec=38, traps=[Inexact])
_DDB_MAX_EXP = 125
_DDB_MIN_EXP = -130


def _field(name: str | None) -> str:
    # fastjsonschema names fields "data.attributes.x"; clients sent "attributes.x".
    if not name or name == "data":
        return "body"
    return name[5:] if name.startswith("data.") else name


_compiled: dict[str, Any] = {}


def _validator(schema: dict):
    title = schema["title"]
    validator = _compiled.get(title)
    if validator is None:
        validator = _compiled[title] = fastjsonschema.compile(schema)
    return validator


def validate_body(body: Any, schema: dict) -> dict:
    try:
        _validator(schema)(body)
    except fastjsonschema.JsonSchemaValueException as exc:
        message = exc.message or "invalid body"
        if message.startswith("data"):
            message = _field(exc.name) + message[len(exc.name or "data") :]
        raise BadRequestError(f"invalid body: {message}") from None
    return body


def check_item_id(item_id: str, where: str = "item id") -> str:
    if not isinstance(item_id, str) or not ITEM_ID_RE.fullmatch(item_id):
        raise BadRequestError(f"{where} must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'")
    return item_id


def _check_text(value: str, path: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequestError(f"invalid body: {path} is not valid UTF-8 text") from None


def _check_number(value: int | Decimal, path: str) -> None:
    number = Decimal(value) if isinstance(value, int) else value
    if not number.is_finite():
        raise BadRequestError(f"invalid body: {path} must be a finite number")
    if number.is_zero():
        return
    try:
        DYNAMODB_DIGITS.plus(number)
        in_range = _DDB_MIN_EXP <= number.adjusted() <= _DDB_MAX_EXP
    except Inexact:
        in_range = False
    if not in_range:
        raise BadRequestError(
            f"invalid body: {path} is out of the storable range "
            "(at most 38 significant digits, magnitude 1e-130 to 1e125)"
        )


def check_storable(value: Any, path: str = "attributes", depth: int = 0) -> None:
    """Reject values DynamoDB would refuse, naming the first offending path."""
    if depth > MAX_DEPTH:
        raise BadRequestError(f"invalid body: {path} is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, str):
        _check_text(value, path)
    elif isinstance(value, (int, Decimal)):
        _check_number(value, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not key:
                raise BadRequestError(f"invalid body: {path} has an empty key")
            if len(key) > MAX_KEY_LENGTH:
                raise BadRequestError(f"invalid body: {path} has a key longer than {MAX_KEY_LENGTH} characters")
            _check_text(key, f"{path} key")
            check_storable(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_storable(item, f"{path}[{index}]", depth + 1)
    else:  # not produced by the JSON parser
        raise BadRequestError(f"invalid body: {path} has an unsupported type")
