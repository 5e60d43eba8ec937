"""IAM policy documents as typed ``aws_iam_policy_document`` data sources.

Plans show them as readable documents, and tests can read the statements back from the
synthesized JSON. Every policy in tapinfra is built here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from constructs import Construct

from tapinfra.provider import aws


@dataclass(frozen=True)
class Condition:
    test: str
    variable: str
    values: Sequence[str]


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: Sequence[str]
    resources: Sequence[str] = ("*",)
    principals: Mapping[str, Sequence[str]] = field(default_factory=dict)
    conditions: Sequence[Condition] = ()
    effect: str = "Allow"


def policy_document(scope: Construct, id_: str, provider: object, statements: Sequence[Statement]):
    """A ``data.aws_iam_policy_document``; use its ``.json`` where a policy string is needed."""
    doc = aws.data_aws_iam_policy_document
    return doc.DataAwsIamPolicyDocument(
        scope,
        id_,
        provider=provider,
        statement=[
            doc.DataAwsIamPolicyDocumentStatement(
                sid=s.sid,
                effect=s.effect,
                actions=list(s.actions),
                resources=list(s.resources) or None,
                principals=[
                    doc.DataAwsIamPolicyDocumentStatementPrincipals(type=kind, identifiers=list(ids))
                    for kind, ids in s.principals.items()
                ] or None,
                condition=[
                    doc.DataAwsIamPolicyDocumentStatementCondition(test=c.test, variable=c.variable, values=list(c.values))
                    for c in s.conditions
                ] or None,
            )
            for s in statements
        ],
    )


def service_role(scope: Construct, id_: str, *, provider: object, name: str, services: Sequence[str],
                 statements: Sequence[Statement], conditions: Sequence[Condition] = ()):
    """An IAM role trusted by ``services`` with one inline policy of ``statements``.

    Returns ``(role, policy)``; depend on the policy when a consumer must not start
    before its permissions exist.
    """
    trust = policy_document(scope, f"{id_}-trust", provider, [
        Statement(sid="TrustService", actions=["sts:AssumeRole"], resources=[], principals={"Service": list(services)}, conditions=conditions),
    ])
    role = aws.iam_role.IamRole(scope, id_, provider=provider, name=name, assume_role_policy=trust.json)
    permissions = policy_document(scope, f"{id_}-permissions", provider, statements)
    policy = aws.iam_role_policy.IamRolePolicy(scope, f"{id_}-policy", provider=provider, name=name, role=role.id, policy=permissions.json)
    return role, policy
