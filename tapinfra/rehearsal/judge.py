"""Judge a plan (``terraform show -json``): every change must be a listed emulator gap.

A change is explained when each attribute it changes to a known value is a listed drift
of that resource type, and each attribute it leaves unknown follows from a change in the
same plan: a computed attribute of a resource that changes anyway (a new Lambda version),
or an argument that reads a resource that changes (the alias reading that version).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

from tapinfra.rehearsal.gaps import Gap

QUIET = (["no-op"], ["read"])


@dataclass
class Verdict:
    unexplained: list[str] = field(default_factory=list)           # "address: what"
    excused: dict[str, list[str]] = field(default_factory=dict)    # gap key -> "address: path"


def changed_paths(before: Any, after: Any, unknown: Any, path: str = "") -> Iterator[tuple[str, bool]]:
    """(dotted path, known) for every difference; list indices are left out of the path."""
    if unknown is True:
        yield path, False
        return
    if isinstance(before, dict) and isinstance(after, dict):
        unknown = unknown if isinstance(unknown, dict) else {}
        for key in sorted(set(before) | set(after)):
            yield from changed_paths(before.get(key), after.get(key), unknown.get(key), f"{path}.{key}" if path else key)
        return
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        unknown = unknown if isinstance(unknown, list) else [None] * len(after)
        for b, a, u in zip(before, after, unknown):
            yield from changed_paths(b, a, u, path)
        return
    if before != after:
        yield path, True


def _references(configuration: dict[str, Any]) -> dict[str, dict[str, set[str]]]:
    """address -> argument -> addresses of the resources it reads (root module)."""
    out: dict[str, dict[str, set[str]]] = {}
    for resource in configuration.get("root_module", {}).get("resources", []):
        arguments = out.setdefault(resource["address"], {})
        for argument, expression in resource.get("expressions", {}).items():
            arguments[argument] = {_resource_address(ref) for ref in _all_references(expression)}
    return out


def _all_references(expression: Any) -> Iterator[str]:
    if isinstance(expression, dict):
        yield from expression.get("references", [])
        for value in expression.values():
            if isinstance(value, (dict, list)):
                yield from _all_references(value)
    elif isinstance(expression, list):
        for item in expression:
            yield from _all_references(item)


def _resource_address(reference: str) -> str:
    parts = reference.split(".")
    return ".".join(parts[:3] if parts[0] == "data" else parts[:2])


def judge(plan: dict[str, Any], gaps: Sequence[Gap]) -> Verdict:
    verdict = Verdict()
    changes = [rc for rc in plan.get("resource_changes", []) if rc["change"]["actions"] not in QUIET]
    # A data source read at apply time (it reads something that changes) passes unknowns on.
    changing = {rc["address"] for rc in plan.get("resource_changes", []) if rc["change"]["actions"] != ["no-op"]}
    reads = _references(plan.get("configuration", {}))
    for rc in changes:
        address, actions, change = rc["address"], rc["change"]["actions"], rc["change"]
        if actions != ["update"]:
            reason = f" ({rc['action_reason']})" if rc.get("action_reason") else ""
            verdict.unexplained.append(f"{address}: planned {'-then-'.join(actions)}{reason}")
            continue
        paths = list(changed_paths(change.get("before"), change.get("after"), change.get("after_unknown")))
        known = [p for p, is_known in paths if is_known]
        for path in known:
            gap = next((g for g in gaps if g.explains(rc["type"], path)), None)
            if gap is None:
                verdict.unexplained.append(f"{address}: {path} would change")
            else:
                verdict.excused.setdefault(gap.key, []).append(f"{address}: {path}")
        for path in (p for p, is_known in paths if not is_known):
            argument = path.split(".")[0]
            read = reads.get(address, {}).get(argument)
            if read is not None:
                if not read & (changing - {address}):
                    verdict.unexplained.append(f"{address}: {path} would become unknown, yet nothing it reads changes")
            elif not known:
                verdict.unexplained.append(f"{address}: {path} would become unknown with no other change")
    return verdict
