"""Entity tags and the conditional request headers (RFC 9110 section 13).

An item's ETag is derived from its version alone: the strong tag ``"v<version>"``. Every write
increments the version, so two answers with the same tag carry the same item, and a tag names
exactly the version a PUT's body would state.

``If-Match`` compares strongly (a ``W/`` tag never matches); ``If-None-Match`` weakly. A tag
that is not one of ours, or a header that does not parse, matches nothing: a precondition the
server cannot judge true is false (``If-Match``: 412) or absent of a match (``If-None-Match``:
the full answer), never a 400 or a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ANY = "*"
# DynamoDB takes at most 100 operands in IN; more tags than that in one If-Match is refused.
MAX_TAGS = 100

_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)')
_OURS = re.compile(r"v([1-9][0-9]{0,15})")


def etag(version: int) -> str:
    return f'"v{version}"'


@dataclass(frozen=True)
class Condition:
    """A parsed If-Match / If-None-Match: ``any`` for ``*``, else the versions its tags name."""

    any: bool
    versions: frozenset[int]

    def matches(self, version: int) -> bool:
        return self.any or version in self.versions


def _versions(value: str, weak_ok: bool) -> frozenset[int] | None:
    """The versions named by a list of entity tags; None if the list does not parse."""
    found: set[int] = set()
    position = 0
    text = value.strip()
    while position < len(text):
        match = _TAG.match(text, position)
        if not match:
            return None
        weak, opaque = match.group(1), match.group(2)
        ours = _OURS.fullmatch(opaque)
        if ours and (weak_ok or not weak):
            found.add(int(ours.group(1)))
        position = match.end()
    return frozenset(found)


def parse(value: str | None, *, weak_ok: bool) -> Condition | None:
    """None when the header is absent; a Condition that matches nothing when it does not parse."""
    if value is None:
        return None
    if value.strip() == ANY:
        return Condition(any=True, versions=frozenset())
    versions = _versions(value, weak_ok)
    return Condition(any=False, versions=versions or frozenset())


def if_match(value: str | None) -> Condition | None:
    return parse(value, weak_ok=False)


def if_none_match(value: str | None) -> Condition | None:
    return parse(value, weak_ok=True)
