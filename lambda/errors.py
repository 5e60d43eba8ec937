"""HTTP errors raised by the application, all rendered by app.py as JSON.

They subclass Powertools' ``ServiceError`` so the resolver's exception
handling applies. Route-not-found stays Powertools' own ``NotFoundError``;
a missing *item* is ``ItemNotFoundError`` so the two never get mixed up.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.exceptions import (
    BadRequestError,
    ForbiddenError,
    ServiceError,
)

__all__ = [
    "BadRequestError",
    "ConflictError",
    "ForbiddenError",
    "IdempotencyKeyReusedError",
    "ItemNotFoundError",
    "ItemTooLargeError",
    "MethodNotAllowedError",
    "PayloadTooLargeError",
    "PreconditionFailedError",
    "ServiceError",
]


class ItemNotFoundError(ServiceError):
    def __init__(self, item_id: str):
        super().__init__(404, f"item {item_id!r} not found")


class ConflictError(ServiceError):
    """409: the item is not at the version the request stated (or a create's id is taken).

    ``current`` is the item as it is now (its API representation), so the client can merge and
    retry without reading it again, through a cache that may still hold an older copy.
    """

    status = 409

    def __init__(self, msg: str, current: dict | None = None, **details):
        super().__init__(self.status, msg)
        self.current = current
        self.details = details


class PreconditionFailedError(ConflictError):
    """412: an ``If-Match`` the item's current ETag does not satisfy; carries ``current`` as a 409 does."""

    status = 412


class IdempotencyKeyReusedError(ServiceError):
    """422: an ``Idempotency-Key`` already used for a request with another body."""

    def __init__(self, msg: str):
        super().__init__(422, msg)


class MethodNotAllowedError(ServiceError):
    def __init__(self, method: str, path: str, allowed: list[str]):
        super().__init__(405, f"method {method} not allowed on {path}; allowed: {', '.join(allowed)}")
        self.allowed = allowed


class PayloadTooLargeError(ServiceError):
    def __init__(self, size: int, limit: int):
        super().__init__(413, f"request body is {size} bytes; the limit is {limit} bytes")


class ItemTooLargeError(ServiceError):
    def __init__(self, size: int | None, limit: int):
        stored = f"{size} bytes" if size is not None else "too large"
        super().__init__(413, f"the item would be {stored} as stored; DynamoDB holds at most {limit} bytes per item")
