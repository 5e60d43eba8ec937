"""Policy documents as sets of grants, so a plan's before and after can be compared.

A grant is one (principal, action, resource) an Allow statement permits. Review flags the
wildcard grants an update or replacement adds; grants that were there before are not news.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

_SEP = re.compile(r"[/:]")
UNKNOWN = "(known after apply)"
_REGION = re.compile(r"\b[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]\b")


@dataclass(frozen=True, order=True)
class Grant:
    principal: str  # "" in identity policies; "*" for everyone; "Service:x", "AWS:arn"
    action: str  # as written; "notaction:[...]" for an Allow with NotAction
    resource: str  # "" when the document has none (trust policies); "notresource:[...]"


def parse_document(text: str) -> dict[Grant, bool]:
    """Every grant of a JSON policy -> whether all its statements carry a condition."""
    doc = json.loads(text)
    if not isinstance(doc, dict):
        raise ValueError("a policy document is a JSON object")
    statements = doc.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    grants: dict[Grant, bool] = {}
    for st in statements:
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
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
    for st in statements or ():
        if (st.get("effect") or "Allow") != "Allow":
            continue
        principals = [
            _principal(p.get("type"), ident)
            for p in st.get("principals") or ()
            for ident in p.get("identifiers") or ()
            if ident is not None
        ]
        principals += [f"notprincipal:{_known(p.get('identifiers'))}" for p in st.get("not_principals") or ()]
        actions = [a for a in st.get("actions") or () if a is not None]
        if st.get("not_actions"):
            actions.append(f"notaction:{_known(st['not_actions'])}")
        resources = [r if r is not None else UNKNOWN for r in st.get("resources") or ()]
        if st.get("not_resources"):
            resources.append(f"notresource:{_known(st['not_resources'])}")
        _add(grants, principals or [""], actions, resources or [""], conditional=bool(st.get("condition")))
    return grants


def wildcards(grant: Grant, kind: str, conditional: bool) -> list[str]:
    """Which parts of a grant are wildcards: some of ``principal``, ``action``, ``resource``."""
    parts = []
    if grant.principal == "*" and not conditional or grant.principal.startswith("notprincipal:"):
        parts.append("principal")
    if "*" in grant.action or grant.action.startswith("notaction:"):
        parts.append("action")
    if kind != "key" and is_wildcard_resource(grant.resource):
        parts.append("resource")
    return parts


def new_wildcards(before: Mapping[Grant, bool], after: Mapping[Grant, bool], kind: str) -> list[str]:
    """Wildcard grants in ``after`` that ``before`` did not have, one readable line each.

    Grants are compared by shape: actions ignore case (as IAM does) and region names are
    placeholders, so the same grant moving with its region is not news (the region rule
    reports the move) while ``us-east-1`` becoming ``*`` is.
    """
    had = {_shape(g) for g in before}
    had_actions = {(_shape(g)[0], _shape(g)[1]) for g in before}
    found = []
    for grant in sorted(after):
        shape = _shape(grant)
        if shape in had or grant.resource == UNKNOWN and shape[:2] in had_actions:
            continue  # unchanged, or the same action on a resource not known yet (an ARN)
        parts = wildcards(grant, kind, after[grant])
        if parts:
            who = f" to {grant.principal}" if grant.principal else ""
            found.append(f"{grant.action} on {grant.resource or '(no resource)'}{who} (wildcard {', '.join(parts)})")
    return found


def _shape(grant: Grant) -> tuple[str, str, str]:
    return (_REGION.sub("{region}", grant.principal), grant.action.lower(), _REGION.sub("{region}", grant.resource))


def is_wildcard_resource(resource: str) -> bool:
    """``*``, a ``*`` in an ARN's partition, service, region or account, or in the resource's name.

    ``arn:aws:s3:::bucket/*`` (one bucket's objects), ``table/t/index/*`` (one table's
    indexes) and ``log-group:/aws/lambda/f:*`` (one group's streams) are scoped.
    """
    if resource.startswith("notresource:"):
        return True
    if "*" not in resource:
        return False
    parts = resource.split(":", 5)
    if len(parts) < 6 or any("*" in p for p in parts[1:5]):
        return True
    service, rest = parts[2], parts[5]
    if service == "s3":
        return "*" in rest.split("/", 1)[0]
    pieces = _SEP.split(rest, 1)
    if len(pieces) == 1:
        return True  # the whole resource part is the (wildcarded) name
    name = _SEP.split(pieces[1].lstrip("/"), 1)[0]
    return "*" in name or pieces[1] in ("", "*")


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


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _known(values: Any) -> str:
    return json.dumps(sorted(str(v) for v in _as_list(values) if v is not None))
