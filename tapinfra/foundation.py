"""The stack's foundation: aliased providers, the account's identity, one typed Region per region.

Every region, the us-east-1 helper included, is built by :func:`build_region`: its provider
(default tags, the emulator wiring when configured), its namer (one shared name registry) and
its customer-managed key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from constructs import Construct

from tapinfra.config import TapConfig
from tapinfra.constructs.events import dead_letter_key_grant
from tapinfra.constructs.keys import RegionKey, ServiceKeyGrant, alarms_grant, logs_grant
from tapinfra.emulator import provider_settings
from tapinfra.naming import NameRegistry, Namer
from tapinfra.protection import Protection
from tapinfra.provider import aws
from tapinfra.region import Region, Role

# Route 53 publishes health-check metrics, and takes DNSSEC keys and query-log groups, only here.
ROUTE53_HOME_REGION = "us-east-1"


def default_tags(config: TapConfig) -> dict[str, str]:
    return {
        "Environment": config.environment,
        "Application": config.app,
        "Owner": config.owner,
        "CostCenter": config.cost_center,
        "DataClassification": config.data_classification,
        "ManagedBy": "tapinfra",
    }


@dataclass
class Foundation:
    """The account, the regions, and how to build one more (the helper)."""

    scope: Construct
    config: TapConfig
    registry: NameRegistry
    account_id: str
    partition: str
    primary: Region = field(init=False)
    secondary: Region = field(init=False)
    _helper: Optional[Region] = field(default=None, init=False)
    trail_name: Optional[str] = field(default=None, init=False)  # the audit trail's, when audit is on
    protection: Protection = field(init=False)  # what config.disposable means, for every construct

    def __post_init__(self) -> None:
        self.protection = Protection.of(self.config)

    @property
    def regions(self) -> tuple[Region, Region]:
        return (self.primary, self.secondary)

    def route53_home(self) -> Region:
        """us-east-1 as a Region: one of ours when it serves, else a helper built on first use."""
        for region in self.regions:
            if region.name == ROUTE53_HOME_REGION:
                return region
        if self._helper is None:
            provider = aws_provider(self.scope, self.config, "helper", ROUTE53_HOME_REGION)
            self._helper = build_region(self, "helper", ROUTE53_HOME_REGION, None, provider)
        return self._helper


def aws_provider(scope: Construct, config: TapConfig, role: Role, name: str):
    alias = name.replace("-", "_") if role == "helper" else role
    return aws.provider.AwsProvider(
        scope, f"aws-{name if role == 'helper' else role}", alias=alias, region=name,
        default_tags=[aws.provider.AwsProviderDefaultTags(tags=default_tags(config))],
        **provider_settings(config.emulator),
    )


def build_region(foundation: Foundation, role: Role, name: str, peer: Optional[str], provider) -> Region:
    config = foundation.config
    namer = Namer(config.app, config.environment, name, foundation.registry)
    prefix = name if role == "helper" else role
    key = RegionKey(
        foundation.scope, f"{prefix}-key",
        provider=provider, region=name, namer=namer,
        account_id=foundation.account_id, partition=foundation.partition,
        grants=[logs_grant(name, foundation.account_id, foundation.partition), alarms_grant(foundation.account_id),
                *_module_grants(foundation, role, name, namer), *_event_grants(foundation, role, name)],
        protection=foundation.protection,
    )
    return Region(role=role, name=name, peer_name=peer, provider=provider, namer=namer, key=key,
                  account_id=foundation.account_id, partition=foundation.partition)


def _module_grants(foundation: Foundation, role: Role, name: str, namer: Namer) -> list[ServiceKeyGrant]:
    """What the enabled modules' services need of this region's key (``Module.key_grants``: the audit trail's)."""
    from tapinfra.modules.base import enabled_modules

    return [grant for module in enabled_modules(foundation.config)
            for grant in module.key_grants(foundation, role, name, namer)]


def _event_grants(foundation: Foundation, role: Role, name: str) -> list[ServiceKeyGrant]:
    """Event forwarding dead-letters under the serving regions' keys: they admit EventBridge, only when forwarding is on."""
    if role == "helper" or not foundation.config.features.event_forwarding:
        return []
    return [dead_letter_key_grant(foundation.partition, name, foundation.account_id)]


def build_foundation(scope: Construct, config: TapConfig) -> Foundation:
    """Providers for both regions, the caller's account and partition, and both Regions."""
    names = {"primary": config.regions.primary, "secondary": config.regions.secondary}
    providers = {role: aws_provider(scope, config, role, name) for role, name in names.items()}
    identity = aws.data_aws_caller_identity.DataAwsCallerIdentity(scope, "identity", provider=providers["primary"])
    partition = aws.data_aws_partition.DataAwsPartition(scope, "partition", provider=providers["primary"])
    foundation = Foundation(scope, config, NameRegistry(), identity.account_id, partition.partition)
    foundation.primary = build_region(foundation, "primary", names["primary"], names["secondary"], providers["primary"])
    foundation.secondary = build_region(foundation, "secondary", names["secondary"], names["primary"], providers["secondary"])
    return foundation
