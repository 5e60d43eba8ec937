"""The parts of a plan JSON that review reads, checked for type before any rule reads them.

A plan that is not what ``terraform show -json`` writes (a section ``null`` or of the wrong
type, a change without an address, actions nested in lists, an object nested far deeper
than any plan) is refused with one line naming the place, the value and what is allowed,
so that a crash never reads as exit 1 ("findings") in CI. Only the sections review reads
are checked: what it ignores may hold anything.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional

from tapinfra.errors import Problem
from tapinfra.strict_json import Literal, join

# Far deeper than any plan (about 20 levels; each module call adds two), far shallower
# than Python's recursion limit, which the recursive readers below it must never meet.
MAX_NESTING = 100
# Every action list terraform writes (the JSON output format's "change representation").
ACTIONS = frozenset({
    ("no-op",), ("create",), ("read",), ("update",), ("delete",),
    ("delete", "create"), ("create", "delete"), ("forget",), ("create", "forget"),
})
MODES = ("managed", "data")
MISSING = Literal("nothing (the key is missing)")


def plan_problem(doc: dict[str, Any]) -> Optional[Problem]:
    """The first thing review cannot read in a plan document, or None."""
    return next(_problems(doc), None)


def nesting_problem(value: Any) -> Optional[Problem]:
    """The first place nested over MAX_NESTING levels (walked iteratively: depth is not trusted).

    Each node keeps only a link to its parent's (trail, key): the path is spelled out for
    the one place that is too deep, not for the hundred thousand nodes of a plan.
    """
    stack: list[tuple[Any, int, Any]] = [(value, 0, None)]
    while stack:
        node, depth, trail = stack.pop()
        if depth >= MAX_NESTING and isinstance(node, (dict, list)):
            keys: list[Any] = []
            while trail is not None:
                trail, key = trail
                keys.append(key)
            path = ""
            for key in reversed(keys):
                path = join(path, key)
            return Problem(path, Literal(f"<a value nested over {MAX_NESTING} levels deep>"),
                           f"at most {MAX_NESTING} levels of nesting (terraform's plans have about 20)")
        if isinstance(node, dict):
            stack.extend((child, depth + 1, (trail, str(key))) for key, child in node.items() if isinstance(child, (dict, list)))
        elif isinstance(node, list):
            stack.extend((child, depth + 1, (trail, index)) for index, child in enumerate(node) if isinstance(child, (dict, list)))
    return None


def _problems(doc: dict[str, Any]) -> Iterator[Problem]:
    yield from _typed(doc, "format_version", str, "a string such as \"1.2\"", required=True)
    yield from _typed(doc, "terraform_version", str, "a string such as \"1.11.0\"")
    yield from _typed(doc, "errored", bool, "true or false")
    for section in ("resource_changes", "resource_drift"):
        yield from _typed(doc, section, list, "a list of resource changes")
        for index, raw in enumerate(doc.get(section) or ()):
            yield from _change(raw, join(section, index))
    yield from _typed(doc, "configuration", dict, "an object (the plan's configuration)")
    configuration = doc.get("configuration") or {}
    yield from _typed(configuration, "provider_config", dict, "an object of provider configurations", "configuration")
    for key, provider in (configuration.get("provider_config") or {}).items():
        where = join("configuration.provider_config", key)
        if not isinstance(provider, dict):
            yield Problem(where, provider, "an object (a provider configuration)")
        else:
            yield from _typed(provider, "expressions", dict, "an object of expressions", where)
    yield from _typed(configuration, "root_module", dict, "an object (the root module)", "configuration")
    yield from _modules(configuration.get("root_module") or {}, "configuration.root_module")
    yield from _typed(doc, "prior_state", dict, "an object (the state before the plan)")
    prior = doc.get("prior_state") or {}
    yield from _typed(prior, "values", dict, "an object", "prior_state")
    values = prior.get("values") or {}
    yield from _typed(values, "root_module", dict, "an object (the root module's state)", "prior_state.values")
    yield from _state_modules(values.get("root_module") or {}, "prior_state.values.root_module")


def _change(raw: Any, where: str) -> Iterator[Problem]:
    if not isinstance(raw, dict):
        yield Problem(where, raw, "an object (a resource change)")
        return
    yield from _address(raw, where)
    yield from _typed(raw, "type", str, "a resource type such as \"aws_s3_bucket\"", where)
    yield from _typed(raw, "action_reason", str, "a string such as \"replace_because_cannot_update\"", where)
    if "mode" in raw and raw["mode"] not in MODES:
        yield Problem(join(where, "mode"), raw["mode"], " or ".join(f'"{m}"' for m in MODES))
    yield from _typed(raw, "change", dict, "an object (before, after, actions)", where, required=True)
    change, at = raw.get("change"), join(where, "change")
    if not isinstance(change, dict):
        return
    actions = change.get("actions", MISSING)
    if not (isinstance(actions, list) and all(isinstance(a, str) for a in actions) and tuple(actions) in ACTIONS):
        allowed = ", ".join(sorted(str(list(a)).replace("'", '"') for a in ACTIONS))
        yield Problem(join(at, "actions"), actions, f"one of {allowed}")
    for side in ("before", "after"):
        if side in change and change[side] is not None and not isinstance(change[side], dict):
            yield Problem(join(at, side), change[side], "an object of attribute values, or null")
    unknown = change.get("after_unknown", {})
    if not isinstance(unknown, (dict, bool)):
        yield Problem(join(at, "after_unknown"), unknown, "an object marking values known only after apply")
    paths = change.get("replace_paths", [])
    if not (isinstance(paths, list) and all(isinstance(p, list) and all(isinstance(s, (str, int)) and not isinstance(s, bool) for s in p) for p in paths)):
        yield Problem(join(at, "replace_paths"), paths, "a list of attribute paths (lists of names and indexes)")


def _modules(module: dict[str, Any], where: str) -> Iterator[Problem]:
    """A configuration module and its module calls (iteratively)."""
    stack = [(module, where)]
    while stack:
        module, where = stack.pop()
        yield from _typed(module, "resources", list, "a list of resource configurations", where)
        for index, res in enumerate(module.get("resources") or ()):
            at = join(join(where, "resources"), index)
            if not isinstance(res, dict):
                yield Problem(at, res, "an object (a resource configuration)")
                continue
            yield from _address(res, at)
            yield from _typed(res, "provider_config_key", str, "a provider key such as \"aws.primary\"", at)
            yield from _typed(res, "expressions", dict, "an object of expressions", at)
        yield from _typed(module, "module_calls", dict, "an object of module calls", where)
        for name, call in (module.get("module_calls") or {}).items():
            at = join(join(where, "module_calls"), name)
            if not isinstance(call, dict):
                yield Problem(at, call, "an object (a module call)")
                continue
            yield from _typed(call, "module", dict, "an object (the called module)", at)
            stack.append((call.get("module") or {}, join(at, "module")))


def _state_modules(module: dict[str, Any], where: str) -> Iterator[Problem]:
    stack = [(module, where)]
    while stack:
        module, where = stack.pop()
        yield from _typed(module, "resources", list, "a list of resources", where)
        for index, res in enumerate(module.get("resources") or ()):
            at = join(join(where, "resources"), index)
            if not isinstance(res, dict):
                yield Problem(at, res, "an object (a resource in the state)")
                continue
            yield from _address(res, at)
            yield from _typed(res, "mode", str, "\"managed\" or \"data\"", at)
            yield from _typed(res, "type", str, "a resource type such as \"aws_s3_bucket\"", at)
            if "values" in res and res["values"] is not None and not isinstance(res["values"], dict):
                yield Problem(join(at, "values"), res["values"], "an object of attribute values")
        yield from _typed(module, "child_modules", list, "a list of modules", where)
        for index, child in enumerate(module.get("child_modules") or ()):
            at = join(join(where, "child_modules"), index)
            if not isinstance(child, dict):
                yield Problem(at, child, "an object (a module's state)")
            else:
                stack.append((child, at))


def _address(raw: dict[str, Any], where: str) -> Iterator[Problem]:
    address = raw.get("address", MISSING)
    if not isinstance(address, str) or not address:
        yield Problem(join(where, "address"), address, "a resource address such as \"aws_s3_bucket.logs\"")


def _typed(obj: dict[str, Any], key: str, kind: type, allowed: str, where: str = "", required: bool = False) -> Iterator[Problem]:
    """``obj[key]`` is a ``kind`` (present and not null, if given at all)."""
    if key not in obj:
        if required:
            yield Problem(join(where, key), MISSING, allowed)
        return
    value = obj[key]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        yield Problem(join(where, key), value, allowed)
