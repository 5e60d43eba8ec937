"""The context every regional construct receives: constructs never look regions up themselves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from tapinfra.naming import Namer

Role = Literal["primary", "secondary"]


@dataclass(frozen=True)
class Region:
    role: Role
    name: str          # e.g. us-east-1
    peer_name: str     # the other region
    provider: Any      # the aliased AwsProvider for this region
    namer: Namer
    key: Any           # this region's customer-managed KmsKey
    account_id: str    # token: data.aws_caller_identity
    partition: str     # token: data.aws_partition

    @property
    def is_primary(self) -> bool:
        return self.role == "primary"

    def arn(self, service: str, resource: str, *, region: str | None = None, account: bool = True) -> str:
        """An ARN in this region (or ``region``) of this account, partition-aware."""
        where = self.name if region is None else region
        owner = self.account_id if account else ""
        return f"arn:{self.partition}:{service}:{where}:{owner}:{resource}"
