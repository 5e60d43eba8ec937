"""Reading a JSON config file that may be hostile or careless, without ever raising past the caller.

``json.load`` alone accepts duplicate keys (the last silently wins) and ``NaN``/``Infinity``,
and raises things that are not ``JSONDecodeError`` for input that is not UTF-8, nested
deeper than Python's recursion limit, or holds integers too long for ``int()``. Here every
one of those becomes a :class:`~tapinfra.errors.Problem` that names where it is.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

from tapinfra.errors import Problem

MAX_FILE_BYTES = 1024 * 1024
# A config is three levels deep (section, field, list item); anything far deeper is a mistake
# or an attack, and must be refused before a recursive parser or printer meets it.
MAX_NESTING = 32


class Literal:
    """A JSON value Python cannot keep as a number: NaN, Infinity, an integer of thousands of digits.

    Validation refuses it like any other wrong type; it prints as what the file said.
    """

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class JsonObject(dict):
    """A parsed JSON object that remembers the keys it was given more than once (``repeated``)."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__()
        self.repeated: dict[str, list[Any]] = {}
        for key, value in pairs:
            if key in self:
                self.repeated.setdefault(key, [self[key]]).append(value)
            self[key] = value


def join(path: str, key: str | int) -> str:
    """``a.b``, ``a[3]``, or ``a["odd key"]``: the path notation of every Problem."""
    if isinstance(key, int):
        return f"{path or '<root>'}[{key}]"
    if not re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_]*", key):
        return f"{path}[{json.dumps(key)}]"
    return f"{path}.{key}" if path else key


def read_json_file(path: str | Path) -> tuple[Any, list[Problem]]:
    """The file's JSON value and the problems it has (duplicate keys), or ``(None, [problem])``."""
    where = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as exc:  # ValueError: a path with a NUL byte
        reason = getattr(exc, "strerror", None) or str(exc)
        return None, [Problem("<file>", where, f"a readable JSON file ({reason})")]
    if len(data) > MAX_FILE_BYTES:
        return None, [Problem("<file>", where, f"a JSON file of at most {MAX_FILE_BYTES} bytes")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, [Problem("<file>", where, f"UTF-8 text (byte {exc.start}, on line {line}, is not UTF-8)")]
    return parse_json(text, where)


def parse_json(text: str, where: str = "<text>") -> tuple[Any, list[Problem]]:
    too_deep = _nesting_problem(text)
    if too_deep is not None:
        return None, [too_deep]
    try:
        value = json.loads(text, object_pairs_hook=JsonObject, parse_int=_parse_int, parse_constant=Literal)
    except json.JSONDecodeError as exc:
        return None, [Problem("<file>", where, f"valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")]
    except (ValueError, RecursionError) as exc:  # defensive: the checks above should leave none
        return None, [Problem("<file>", where, f"valid JSON ({type(exc).__name__})")]
    return value, list(duplicate_keys(value))


def _parse_int(text: str) -> int | Literal:
    try:
        return int(text)
    except ValueError:  # longer than sys.get_int_max_str_digits()
        return Literal(f"<an integer of {len(text.lstrip('-'))} digits>")


def duplicate_keys(value: Any) -> Iterator[Problem]:
    """Every key given more than once in one object, by path (iteratively: depth is bounded, not trusted)."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key, values in getattr(node, "repeated", {}).items():
                yield Problem(join(path, key), values,
                              f"each key once per object (it is given {len(values)} times; JSON would silently keep the last)")
                stack.extend((dropped, join(path, key)) for dropped in values[:-1])  # their own repeats count too
            stack.extend((child, join(path, key)) for key, child in node.items())
        elif isinstance(node, list):
            stack.extend((child, join(path, index)) for index, child in enumerate(node))


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"\s*:?|[\[\]{},]')


def _nesting_problem(text: str) -> Problem | None:
    """Scan brackets outside strings; name the field whose value nests deeper than MAX_NESTING."""
    stack: list[list[Any]] = []  # [opening bracket, current key or index]
    for match in _TOKEN.finditer(text):
        token = match.group()
        first = token[0]
        if first == '"':
            if token.endswith(":") and stack and stack[-1][0] == "{":
                stack[-1][1] = _key(token)
        elif first in "[{":
            stack.append([first, 0 if first == "[" else ""])
            if len(stack) > MAX_NESTING:
                line = text.count("\n", 0, match.start()) + 1
                path = ""
                for _, key in stack[:3]:  # the config's own depth names the field
                    path = join(path, key)
                return Problem(path, Literal(f"<a value nested over {MAX_NESTING} levels deep, line {line}>"),
                               f"at most {MAX_NESTING} levels of nesting (a config has 3: section, field, list)")
        elif first in "]}":
            if stack:
                stack.pop()
        elif stack and stack[-1][0] == "[":  # a comma between list items
            stack[-1][1] += 1
    return None


def _key(token: str) -> str:
    raw = token.rstrip(":").rstrip()
    try:
        return json.loads(raw)
    except ValueError:
        return raw[1:-1]


def deep_value_problem(value: Any) -> Problem | None:
    """Like the text scan, for values built in code: the first place nested over MAX_NESTING."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        node, keys = stack.pop()
        if isinstance(node, (dict, list, tuple)) and len(keys) >= MAX_NESTING:
            path = ""
            for key in keys[:3]:
                path = join(path, key)
            return Problem(path, Literal(f"<a value nested over {MAX_NESTING} levels deep>"),
                           f"at most {MAX_NESTING} levels of nesting (a config has 3: section, field, list)")
        if isinstance(node, dict):
            stack.extend((child, (*keys, str(key))) for key, child in node.items())
        elif isinstance(node, (list, tuple)):
            stack.extend((child, (*keys, index)) for index, child in enumerate(node))
    return None
