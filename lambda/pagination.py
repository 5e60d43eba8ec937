"""Opaque pagination tokens and the ``limit`` query parameter.

A token is url-safe base64 (unpadded) of ``{"t": tenant_id, "k": item_id}``,
the key DynamoDB's ``LastEvaluatedKey`` points at. On the way in it is decoded
and checked strictly: a token that is malformed, tampered with or issued to
another tenant is a 400 — never a 500, never a read outside the caller's
partition (the tenant of the query always comes from the API key).
"""

from __future__ import annotations

import base64
import binascii
import json

from errors import BadRequestError
from schemas import ITEM_ID_RE

DEFAULT_LIMIT = 20
MIN_LIMIT = 1
MAX_LIMIT = 100
_MAX_TOKEN_CHARS = 512


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 4:
        raise BadRequestError(f"limit must be an integer from {MIN_LIMIT} to {MAX_LIMIT}")
    value = int(text)
    if not MIN_LIMIT <= value <= MAX_LIMIT:
        raise BadRequestError(f"limit must be an integer from {MIN_LIMIT} to {MAX_LIMIT}")
    return value


def encode_token(tenant_id: str, item_id: str) -> str:
    raw = json.dumps({"t": tenant_id, "k": item_id}, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_token(token: str, tenant_id: str) -> str:
    """Return the item id to resume after, or raise a 400."""
    invalid = BadRequestError("invalid pagination token")
    if not token or len(token) > _MAX_TOKEN_CHARS or not token.isascii():
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise invalid from None
    if not isinstance(data, dict) or set(data) != {"t", "k"}:
        raise invalid
    if data["t"] != tenant_id:
        raise invalid
    item_id = data["k"]
    if not isinstance(item_id, str) or not ITEM_ID_RE.fullmatch(item_id):
        raise invalid
    return item_id
