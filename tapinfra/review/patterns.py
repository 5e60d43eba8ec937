"""IAM's wildcard patterns compared by what they match, not by how they are written.

``*`` matches any run of characters and ``?`` any one, in actions (case-insensitively)
and in ARNs, where each of the first five segments (partition, service, region,
account) is matched on its own and the resource part is the rest, colons included
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
``covers(a, b)``: every string ``b`` matches, ``a`` matches too; a grant widens when no
pattern it had covers the new one.
"""

from __future__ import annotations

import re
from functools import lru_cache

WILDCARDS = frozenset("*?")
ARN_SEGMENTS = 6  # arn:partition:service:region:account:resource


def has_wildcard(pattern: str) -> bool:
    return any(ch in WILDCARDS for ch in pattern)


def normalize(pattern: str) -> str:
    """The same strings, one spelling: ``**`` -> ``*``, and ``?`` before ``*`` in a run (``*?`` = ``?*``)."""
    out: list[str] = []
    for run in re.split(r"([*?]+)", pattern):
        if run and run[0] in WILDCARDS:
            out.append("?" * run.count("?") + ("*" if "*" in run else ""))
        else:
            out.append(run)
    return "".join(out)


def glob_matches(pattern: str, text: str) -> bool:
    """``text`` is one of the strings ``pattern`` matches (``*``: any run, ``?``: any one character)."""
    return re.fullmatch("".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern), text, re.DOTALL) is not None


def glob_covers(a: str, b: str) -> bool:
    """Every string pattern ``b`` matches, pattern ``a`` matches too (exact, for ``*`` and ``?``)."""
    return a == b or _covers(normalize(a), normalize(b))


@lru_cache(maxsize=4096)
def _covers(a: str, b: str) -> bool:
    # Run a's automaton (state i: a[:i] consumed) over every string b matches at once: the
    # family of state sets some string of b's prefix leads to. Characters a and b do not
    # name behave alike, so one fresh character stands for all of them: the answer is exact.
    alphabet = sorted((set(a) | set(b)) - WILDCARDS) + [_fresh(a + b)]
    end = len(a)

    def closure(states: frozenset[int]) -> frozenset[int]:
        out = set(states)
        for i in sorted(states):
            while i < end and a[i] == "*":
                i += 1
                out.add(i)
        return frozenset(out)

    def step(states: frozenset[int], ch: str) -> frozenset[int]:
        return closure(frozenset(i if a[i] == "*" else i + 1 for i in states if i < end and a[i] in ("*", "?", ch)))

    family = {closure(frozenset({0}))}
    for token in b:
        if token == "*":
            frontier = set(family)
            while frontier:
                new = {step(states, ch) for states in frontier for ch in alphabet} - family
                family |= new
                frontier = new
        else:
            family = {step(states, ch) for states in family for ch in (alphabet if token == "?" else [token])}
        if frozenset() in family:
            return False  # some string of b has already left every path of a
    return all(end in states for states in family)


def _fresh(used: str) -> str:
    return next(ch for ch in map(chr, range(0x100, 0x200)) if ch not in used)


def arn_segments(pattern: str) -> list[str] | None:
    """``[arn, partition, service, region, account, resource]``, or None when it is not an ARN."""
    parts = pattern.split(":", ARN_SEGMENTS - 1)
    return parts if len(parts) == ARN_SEGMENTS and parts[0] == "arn" else None


def resource_covers(a: str, b: str) -> bool:
    """Resource pattern ``a`` matches every resource ``b`` does: ``*``, else segment by segment."""
    if a == b or all(ch == "*" for ch in a) and a:
        return True
    sa, sb = arn_segments(a), arn_segments(b)
    if sa is None or sb is None:
        return glob_covers(a, b) if sa is None and sb is None else False
    return all(glob_covers(x, y) for x, y in zip(sa, sb))


def action_covers(a: str, b: str) -> bool:
    """Action pattern ``a`` matches every action ``b`` does (``service:name``, case-insensitive)."""
    a, b = a.lower(), b.lower()
    if a == b or a and all(ch == "*" for ch in a):
        return True
    if ":" not in a or ":" not in b:
        return glob_covers(a, b)
    (service_a, name_a), (service_b, name_b) = a.split(":", 1), b.split(":", 1)
    return glob_covers(service_a, service_b) and glob_covers(name_a, name_b)
