"""Policy documents as sets of grants, so a plan's before and after can be compared.

A grant is one (principal, action, resource) an Allow statement permits. Review flags the
wildcard grants an update or replacement adds that no grant it had covers: compared by what
their patterns match (``patterns``), so ``log-group:/aws/*`` replacing
``log-group:/aws/lambda/f:*`` is news and ``s3:Get*`` replacing ``s3:*`` is not.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from tapinfra.review.patterns import action_covers, arn_segments, has_wildcard, resource_covers

UNKNOWN = "(known after apply)"
_REGION = re.compile(r"\b[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]\b")
REGION_PLACEHOLDER = "{region}"
# Resource parts (after the five ARN segments) that name parts of ONE resource written out
# in full: one bucket's objects, one table's indexes and streams, one log group's streams.
# Any other wildcard can reach resources the policy's author never saw.
_CHILDREN_OF_ONE = {
    "s3": re.compile(r"[^*?/]+/.*", re.DOTALL),
    "dynamodb": re.compile(r"table/[^*?/]+/.*", re.DOTALL),
    "logs": re.compile(r"log-group:[^*?:]+:(?:\*|log-stream:.*)", re.DOTALL),
}


@dataclass(frozen=True, order=True)
class Grant:
    principal: str  # "" in identity policies; "*" for everyone; "Service:x", "AWS:arn"
    action: str  # as written; "notaction:[...]" for an Allow with NotAction
    resource: str  # "" when the document has none (trust policies); "notresource:[...]"


def parse_document(text: str) -> dict[Grant, bool]:
    """Every grant of a JSON policy -> whether all its statements carry a condition."""
    if not isinstance(text, str):
        raise ValueError("a policy document is JSON text")
    try:
        doc = json.loads(text)
    except RecursionError:
        raise ValueError("a policy document nested deeper than IAM allows") from None
    if not isinstance(doc, dict):
        raise ValueError("a policy document is a JSON object")
    grants: dict[Grant, bool] = {}
    for st in _objects(doc.get("Statement")):
        if st.get("Effect") != "Allow":
            continue
        _add(
            grants,
            principals=_json_principals(st),
            actions=_values(st, "Action", "NotAction"),
            resources=_values(st, "Resource", "NotResource") or [""],
            conditional=bool(st.get("Condition")),
        )
    return grants


def statement_grants(statements: Iterable[Mapping[str, Any]]) -> dict[Grant, bool]:
    """Grants of ``aws_iam_policy_document`` statement blocks as a plan shows them.

    Unknown principals and actions (``null`` until apply) are left out, an unknown resource
    becomes ``UNKNOWN``: they come from attributes of other resources (ARNs), not from
    wildcards written in the configuration.
    """
    grants: dict[Grant, bool] = {}
    for st in _objects(statements):
        if (st.get("effect") or "Allow") != "Allow":
            continue
        principals = [
            _principal(p.get("type"), ident)
            for p in _objects(st.get("principals"))
            for ident in _as_list(p.get("identifiers"))
            if ident is not None
        ]
        principals += [f"notprincipal:{_known(p.get('identifiers'))}" for p in _objects(st.get("not_principals"))]
        actions = [str(a) for a in _as_list(st.get("actions")) if a is not None]
        if st.get("not_actions"):
            actions.append(f"notaction:{_known(st['not_actions'])}")
        resources = [str(r) if r is not None else UNKNOWN for r in _as_list(st.get("resources"))]
        if st.get("not_resources"):
            resources.append(f"notresource:{_known(st['not_resources'])}")
        _add(grants, principals or [""], actions, resources or [""], conditional=bool(st.get("condition")))
    return grants


def wildcards(grant: Grant, kind: str, conditional: bool) -> list[str]:
    """Which parts of a grant are wildcards: some of ``principal``, ``action``, ``resource``."""
    parts = []
    if grant.principal == "*" and not conditional or grant.principal.startswith("notprincipal:"):
        parts.append("principal")
    if has_wildcard(grant.action) or grant.action.startswith("notaction:"):
        parts.append("action")
    if kind != "key" and is_wildcard_resource(grant.resource):
        parts.append("resource")
    return parts


def new_wildcards(before: Mapping[Grant, bool], after: Mapping[Grant, bool], kind: str) -> list[str]:
    """Wildcard grants in ``after`` that no grant of ``before`` covers, one readable line each.

    A grant covers another when its principal, action and resource patterns each match
    everything the other's do, and it needs no condition the other lacks. Region names are
    placeholders, so the same grant moving with its region is not news (the region rule
    reports the move) while ``us-east-1`` becoming ``*`` is.
    """
    had = [(_placed(g), conditional) for g, conditional in before.items()]
    found = []
    for grant in sorted(after):
        new, conditional = _placed(grant), after[grant]
        if any(covers(old, new) and (conditional or not old_conditional) for old, old_conditional in had):
            continue
        if grant.resource == UNKNOWN and any(_principal_covers(old.principal, new.principal) and action_covers(old.action, new.action) for old, _ in had):
            continue  # the same action on a resource not known yet (an ARN another resource gets)
        parts = wildcards(grant, kind, conditional)
        if parts:
            who = f" to {grant.principal}" if grant.principal else ""
            found.append(f"{grant.action} on {grant.resource or '(no resource)'}{who} (wildcard {', '.join(parts)})")
    return found


def covers(old: Grant, new: Grant) -> bool:
    """``old`` permits everything ``new`` does (same kind of value, patterns compared by what they match)."""
    return (
        _principal_covers(old.principal, new.principal)
        and _covers_or_equal(old.action, new.action, action_covers, "notaction:")
        and _covers_or_equal(old.resource, new.resource, resource_covers, "notresource:")
    )


def _covers_or_equal(old: str, new: str, pattern_covers: Any, negated: str) -> bool:
    """Negated lists (NotAction, NotResource) and empty resources compare as written."""
    if old.startswith(negated) or new.startswith(negated) or not old or not new:
        return old == new
    return pattern_covers(old, new)


def _principal_covers(old: str, new: str) -> bool:
    return old == new or old == "*" and not new.startswith("notprincipal:")


def _placed(grant: Grant) -> Grant:
    return Grant(_REGION.sub(REGION_PLACEHOLDER, grant.principal), grant.action, _REGION.sub(REGION_PLACEHOLDER, grant.resource))


def is_wildcard_resource(resource: str) -> bool:
    """``*`` or ``?`` anywhere but in the parts of one fully named resource.

    ``arn:aws:s3:::bucket/*`` (one bucket's objects), ``table/t/index/*`` (one table's
    indexes) and ``log-group:/aws/lambda/f:*`` (one group's streams) are scoped;
    ``log-group:/aws/lambda/*:*``, ``role/service-role/*``, ``parameter/tap/*`` or an
    account ``11112222333?`` are not.
    """
    if resource.startswith("notresource:"):
        return True
    if not has_wildcard(resource):
        return False
    segments = arn_segments(resource)
    if segments is None or any(has_wildcard(p) for p in segments[1:5]):
        return True
    scoped = _CHILDREN_OF_ONE.get(segments[2])
    return not (scoped and scoped.fullmatch(segments[5]))


def _add(grants: dict[Grant, bool], principals: list[str], actions: list[str], resources: list[str], conditional: bool) -> None:
    for principal in principals:
        for action in actions:
            for resource in resources:
                key = Grant(principal, action, resource)
                grants[key] = grants.get(key, True) and conditional


def _values(st: Mapping[str, Any], key: str, not_key: str) -> list[str]:
    if not_key in st:
        return [f"{not_key.lower()}:{_known(_as_list(st[not_key]))}"]
    return [str(v) for v in _as_list(st.get(key))]


def _json_principals(st: Mapping[str, Any]) -> list[str]:
    if "NotPrincipal" in st:
        return [f"notprincipal:{json.dumps(st['NotPrincipal'], sort_keys=True)}"]
    principal = st.get("Principal")
    if principal is None:
        return [""]
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        return [_principal(kind, ident) for kind, ids in principal.items() for ident in _as_list(ids)]
    return [str(principal)]


def _principal(kind: Any, ident: Any) -> str:
    return "*" if ident == "*" and kind in ("*", "AWS") else f"{kind}:{ident}"


def _objects(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in _as_list(value) if isinstance(v, Mapping)]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _known(values: Any) -> str:
    return json.dumps(sorted(str(v) for v in _as_list(values) if v is not None))
