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


@dataclass(frozen=True, order=True)
class Grant:
    principal: str  # "" in identity policies; "*" for everyone; "Service:x", "AWS:arn"
    action: str  # lower-cased; "notaction:[...]" for an Allow with NotAction
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
            actions=_values(st, "Action", "NotAction", lower=True),
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
        actions = [a.lower() for a in st.get("actions") or () if a is not None]
        if st.get("not_actions"):
            actions.append(f"notaction:{_known(st['not_actions'], lower=True)}")
        resources = [r if r is not None else UNKNOWN for r in st.get("resources") or ()]
        if st.get("not_resources"):
            resources.append(f"notresource:{_known(st['not_resources'])}")
        _add(grants, principals or [""], actions, resources or [""], conditional=bool(st.get("condition")))
    return grants


def wildcards(grant: Grant, kind: str, conditional: bool) -> list[str]:
    """The parts of a grant that are wildcards, e.g. ``["action s3:*", "resource *"]``."""
    parts = []
    if grant.principal == "*" and not conditional or grant.principal.startswith("notprincipal:"):
        parts.append(f"principal {grant.principal}")
    if "*" in grant.action or grant.action.startswith("notaction:"):
        parts.append(f"action {grant.action}")
    if kind != "key" and is_wildcard_resource(grant.resource):
        parts.append(f"resource {grant.resource}")
    return parts


def new_wildcards(before: Mapping[Grant, bool], after: Mapping[Grant, bool], kind: str) -> list[str]:
    """Wildcard grants in ``after`` that ``before`` did not have, one readable line each."""
    found = []
    known_actions = {(g.principal, g.action) for g in before}
    for grant in sorted(set(after) - set(before)):
        if grant.resource == UNKNOWN and (grant.principal, grant.action) in known_actions:
            continue  # the same action on what is most likely the same, not yet known, ARN
        parts = wildcards(grant, kind, after[grant])
        if parts:
            who = f" to {grant.principal}" if grant.principal else ""
            found.append(f"{grant.action} on {grant.resource or '(no resource)'}{who} ({', '.join(parts)})")
    return found


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


def _values(st: Mapping[str, Any], key: str, not_key: str, lower: bool = False) -> list[str]:
    if not_key in st:
        return [f"{not_key.lower()}:{_known(_as_list(st[not_key]), lower)}"]
    values = [str(v) for v in _as_list(st.get(key))]
    return [v.lower() for v in values] if lower else values


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


def _known(values: Any, lower: bool = False) -> str:
    items = sorted(str(v).lower() if lower else str(v) for v in _as_list(values) if v is not None)
    return json.dumps(items)
