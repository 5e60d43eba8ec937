"""A customer-managed KMS key per region, with rotation and a key policy naming its users."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from constructs import Construct

from tapinfra.naming import Namer
from tapinfra.policy import Condition, Statement, policy_document
from tapinfra.protection import Protection
from tapinfra.provider import aws

KEY_USER_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")


@dataclass(frozen=True)
class ServiceKeyGrant:
    """A service principal allowed to use the key, with the conditions that scope it."""

    sid: str
    service: str
    actions: Sequence[str] = KEY_USER_ACTIONS
    conditions: Sequence[Condition] = ()


def logs_grant(region: str, account_id: str, partition: str) -> ServiceKeyGrant:
    """CloudWatch Logs in ``region``, only for this account's log groups (encryption context)."""
    return ServiceKeyGrant(
        sid="CloudWatchLogs",
        service=f"logs.{region}.amazonaws.com",
        conditions=[Condition("ArnLike", "kms:EncryptionContext:aws:logs:arn", [f"arn:{partition}:logs:{region}:{account_id}:log-group:*"])],
    )


def alarms_grant(account_id: str) -> ServiceKeyGrant:
    """CloudWatch alarms publish to KMS-encrypted SNS topics only if the key lets CloudWatch use
    it; only for this account's alarms (confused-deputy guard)."""
    return ServiceKeyGrant(
        sid="CloudWatchAlarmsToEncryptedTopics", service="cloudwatch.amazonaws.com",
        actions=("kms:Decrypt", "kms:GenerateDataKey*"),
        conditions=[Condition("StringEquals", "aws:SourceAccount", [account_id])],
    )


class RegionKey(Construct):
    """``key`` and ``alias`` for one region; ``arn`` is read once and handed on.

    The account root keeps administration (IAM policies then grant the roles that use the
    key); each service principal in ``grants`` gets only the user actions, scoped by its
    conditions. Rotation is on. ``protection`` sets the deletion window (30 days, 7 when
    disposable) and ``prevent_destroy`` (unless disposable). Roles that use the key get their
    statement from :meth:`grant`.
    """

    def __init__(self, scope: Construct, id_: str, *, provider: object, region: str, namer: Namer,
                 account_id: str, partition: str, grants: Sequence[ServiceKeyGrant], protection: Protection = Protection()) -> None:
        super().__init__(scope, id_)
        statements = [
            Statement(
                sid="AccountAdministration",
                actions=["kms:*"],
                principals={"AWS": [f"arn:{partition}:iam::{account_id}:root"]},
            ),
        ]
        for grant in grants:
            statements.append(Statement(
                sid=grant.sid,
                actions=list(grant.actions),
                principals={"Service": [grant.service]},
                conditions=list(grant.conditions),
            ))
        self.policy = policy_document(self, "policy", provider, statements)
        self.key = aws.kms_key.KmsKey(
            self, "key",
            provider=provider,
            description=f"tapinfra data key ({namer.app}-{namer.environment}, {region})",
            enable_key_rotation=True,
            deletion_window_in_days=protection.key_deletion_window_days,
            policy=self.policy.json,
            lifecycle=protection.lifecycle(),
        )
        self.arn: str = self.key.arn
        self.alias = aws.kms_alias.KmsAlias(
            self, "alias",
            provider=provider,
            name="alias/" + namer.name("key", "kms_alias"),
            target_key_id=self.key.key_id,
        )

    def grant(self, sid: str, actions: Sequence[str] = ("kms:Decrypt", "kms:GenerateDataKey"),
              conditions: Sequence[Condition] = ()) -> Statement:
        """A role's permission to use this key (decrypt and data keys unless ``actions`` says otherwise)."""
        return Statement(sid=sid, actions=list(actions), resources=[self.arn], conditions=conditions)
