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
    "ItemNotFoundError",
    "ItemTooLargeError",
    "MethodNotAllowedError",
    "PayloadTooLargeError",
    "ServiceError",
]


class ItemNotFoundError(ServiceError):
    def __init__(self, item_id: str):
        super().__init__(404, f"item {item_id!r} not found")


class ConflictError(ServiceError):
    def __init__(self, msg: str, **details):
        super().__init__(409, msg)
        self.details = details


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
