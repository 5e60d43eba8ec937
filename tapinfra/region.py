"""The context every regional construct receives: constructs never look regions up themselves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Optional

from tapinfra.naming import Namer

if TYPE_CHECKING:  # the bindings load lazily through the seam; these names are for readers and checkers
    from tapinfra.provider import AwsProvider

    from tapinfra.constructs.keys import RegionKey

# primary and secondary serve the API; helper is us-east-1 when neither of them is, holding
# what Route 53 accepts only there (health-check alarms, DNSSEC key, query logs).
Role = Literal["primary", "secondary", "helper"]


@dataclass(frozen=True)
class Region:
    role: Role
    name: str                    # e.g. us-east-1
    peer_name: Optional[str]     # the other serving region; None for the helper
    provider: "AwsProvider"      # this region's aliased provider
    namer: Namer
    key: "RegionKey"             # this region's customer-managed key
    account_id: str              # token: data.aws_caller_identity
    partition: str               # token: data.aws_partition

    @property
    def is_primary(self) -> bool:
        return self.role == "primary"

    @property
    def id_prefix(self) -> str:
        """Prefix of the construct ids of this region's resources (stable Terraform addresses)."""
        return self.name if self.role == "helper" else self.role

    def arn(self, service: str, resource: str, *, region: str | None = None, account: str | None = None) -> str:
        """An ARN in this region (or ``region``; ``""`` for global services) of this account (or
        ``account``; ``""`` for none), partition-aware."""
        where = self.name if region is None else region
        owner = self.account_id if account is None else account
        return f"arn:{self.partition}:{service}:{where}:{owner}:{resource}"

    @property
    def account_root(self) -> str:
        """The account's root principal (key administration)."""
        return self.arn("iam", "root", region="")
