"""Object creations answered before the kernel does: Python goes on while node constructs.

jsii waits for the kernel's answer to every ``create``. That answer is an object reference,
``{"$jsii.byref": "<fqn>@<n>"}``, and the kernel numbers every object it hands out from one
counter (``_ObjectTable_makeId``: 10000, 10001, ...). Python sees every reference the kernel
hands out (each answer and callback passes through jsii's ``ohook``), so it knows the next
number. A create is then answered here with the reference the kernel will give, its request
is written, and the kernel's answer is read later, before the next request whose answer
Python needs, and checked: any other answer (an error, a callback, another reference) is
raised there, naming the object being created.

Only where that prediction is certain:

* the request has no overrides, and no object created so far has any (only overridden
  methods make the kernel call back into Python while it constructs);
* the same class, with the same interfaces, was already created once with Python waiting,
  and that answer was exactly the predicted reference without extra interfaces;
* every answer so far matched: the first that did not (``Predictions.broken``) turns this
  off for the rest of the process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_NUMBER = re.compile(r"@(\d+)$")


@dataclass(frozen=True)
class PredictedCreate:
    """A create written to the kernel and answered in advance; its real answer is still owed."""

    fqn: str
    ref: str
    what: str  # for errors: "<fqn> '<construct id>'"


@dataclass
class Predictions:
    last_number: int | None = None  # the highest object number the kernel has handed out
    learned: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)
    overrides_seen: bool = False
    broken: bool = False

    def saw(self, ref: str) -> None:
        """A reference read from the kernel (any answer, any callback)."""
        match = _NUMBER.search(ref)
        if match:
            number = int(match.group(1))
            if self.last_number is None or number > self.last_number:
                self.last_number = number

    def next_ref(self, fqn: str) -> str | None:
        return None if self.last_number is None else f"{fqn}@{self.last_number + 1}"

    def can_answer(self, request: Any) -> bool:
        if request.overrides:
            self.overrides_seen = True
        if self.broken or self.overrides_seen or self.last_number is None:
            return False
        return (request.fqn, tuple(request.interfaces or ())) in self.learned

    def learn(self, request: Any, expected: str | None, answer: Any) -> None:
        """After a create Python waited for: was the answer the one we would have given?"""
        if request.overrides or self.broken:
            return
        if getattr(answer, "ref", None) == expected and not getattr(answer, "interfaces", None):
            self.learned.add((request.fqn, tuple(request.interfaces or ())))
        elif expected is not None:
            self.broken = True

    def answer(self, request: Any) -> PredictedCreate:
        ref = self.next_ref(request.fqn)
        assert ref is not None
        self.saw(ref)
        return PredictedCreate(request.fqn, ref, describe(request))


def describe(request: Any) -> str:
    """``<fqn> '<construct id>'`` (the id: a construct's second argument, when it is a string)."""
    args = request.args or []
    construct_id = args[1] if len(args) > 1 and isinstance(args[1], str) else None
    return f"{request.fqn} {construct_id!r}" if construct_id else request.fqn


def matches(predicted: PredictedCreate, message: Any) -> bool:
    ok = message.get("ok") if isinstance(message, dict) else None
    return getattr(ok, "ref", None) == predicted.ref and not getattr(ok, "interfaces", None)
