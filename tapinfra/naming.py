"""Resource names: ``<app>-<resource>-<env>[-<region>]``, fitted to each AWS limit.

A name longer than its limit keeps its readable start and ends in a stable hash of the
full name, so it stays unique and deterministic. Every name is issued through a shared
registry that refuses duplicates, so two resources can never be given the same name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NameRule:
    limit: int
    pattern: str
    regional_suffix: bool  # the name is global (or would collide across regions): add the region
    lowercase: bool = False
    single_hyphens: bool = False  # the service refuses "--" (RDS): runs of hyphens become one
    reserved: str = ""  # a regex the service refuses anywhere in the name (prefixes AWS keeps for itself)
    reserved_source: str = ""  # where AWS documents that reservation


# S3 general purpose bucket naming rules (S3 User Guide, "General purpose bucket naming rules"):
# prefixes and suffixes S3 keeps for other features. The namer's S3 names are the start of a
# bucket name (SecureBucket appends "-<account id>"), so only the prefixes can apply to them.
S3_RESERVED_PREFIX = r"^(xn--|sthree-|amzn-s3-demo-)"
S3_RESERVED_SUFFIX = r"(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$"
S3_NAMING_RULES = "S3 User Guide, general purpose bucket naming rules"


# Limits and character sets from each service's API reference.
RULES: dict[str, NameRule] = {
    # S3 bucket names are global across all accounts; 13 characters stay free for "-<account id>".
    "s3": NameRule(63 - 13, r"^[a-z0-9][a-z0-9-]*[a-z0-9]$", True, lowercase=True,
                   reserved=S3_RESERVED_PREFIX, reserved_source=S3_NAMING_RULES),
    "iam_role": NameRule(64, r"^[\w+=,.@-]+$", True),
    "iam_policy": NameRule(128, r"^[\w+=,.@-]+$", True),
    "lambda": NameRule(64, r"^[a-zA-Z0-9_-]+$", False),
    "dynamodb": NameRule(255, r"^[a-zA-Z0-9_.-]{3,}$", False),
    "log_group": NameRule(512, r"^[\w#/.-]+$", False,
                          reserved=r"^aws/", reserved_source="CloudWatch Logs API reference, CreateLogGroup: names can't start with aws/"),
    # The alias is "alias/" + this name; KMS keeps alias/aws/ for AWS managed keys.
    "kms_alias": NameRule(256 - len("alias/"), r"^[a-zA-Z0-9/_-]+$", False,
                          reserved=r"^aws/", reserved_source="KMS API reference, CreateAlias: alias/aws/ is reserved for AWS managed keys"),
    "sqs": NameRule(80, r"^[a-zA-Z0-9_-]+$", False),
    "sns": NameRule(256, r"^[a-zA-Z0-9_-]+$", False),
    "event_bus": NameRule(256, r"^[a-zA-Z0-9_.-]+$", False),
    "event_rule": NameRule(64, r"^[a-zA-Z0-9_.-]+$", False),
    "event_archive": NameRule(48, r"^[a-zA-Z0-9_.-]+$", False),
    "waf": NameRule(128, r"^[a-zA-Z0-9_-]+$", False),
    # WAF log groups must start with aws-waf-logs-.
    "waf_log_group": NameRule(512 - len("aws-waf-logs-"), r"^[\w#/.-]+$", False),
    "canary": NameRule(21, r"^[0-9a-z_-]+$", False, lowercase=True),
    "alarm": NameRule(255, r"^[^:]+$", False),
    "api": NameRule(1024, r"^[\w .-]+$", False),
    "api_key": NameRule(1024, r"^[\w .-]+$", False),
    "usage_plan": NameRule(1024, r"^[\w .-]+$", False),
    "dashboard": NameRule(255, r"^[a-zA-Z0-9_-]+$", False),
    "ssm_parameter": NameRule(1011, r"^[a-zA-Z0-9_./-]+$", False),
    "health_check": NameRule(255, r"^[\w .-]+$", True),
    # CodeDeploy application, deployment group and deployment config names (CodeDeploy API reference: 1-100 characters).
    "codedeploy": NameRule(100, r"^[A-Za-z0-9_.+-]+$", False),
    "security_group": NameRule(255, r"^[\w .:/()#,@+=&;{}!$*-]+$", False,
                               reserved=r"^sg-", reserved_source="EC2 API reference, CreateSecurityGroup: GroupName can't start with sg-"),
}
# The optional modules add their own kinds (Module.name_rules, registered with the module).


def register_name_rule(kind: str, rule: NameRule) -> None:
    """Add a kind of name (a module's ``name_rules``); a kind keeps one rule."""
    if RULES.get(kind, rule) != rule:
        raise ValueError(f"name kind {kind!r} already has another rule")
    RULES[kind] = rule


def rule_for(kind: str) -> NameRule:
    """The rule of ``kind``: tapinfra's own, or a registered module's (the built-in ones register on first use)."""
    if kind not in RULES:
        import tapinfra.modules  # noqa: F401  (registers the built-in modules and their kinds)
    try:
        return RULES[kind]
    except KeyError:
        raise KeyError(f"no name kind {kind!r}: one of {', '.join(sorted(RULES))}, or a module's name_rules") from None


class DuplicateName(ValueError):
    pass


class ReservedName(ValueError):
    """A derived name AWS would refuse because it reserves its prefix; the config check reports it first."""


@dataclass
class NameRegistry:
    """Every name issued in one stack, by kind and scope."""

    issued: dict[tuple[str, str], str] = field(default_factory=dict)

    def claim(self, kind: str, scope: str, name: str, owner: str) -> None:
        key = (kind, scope + "|" + name)
        if key in self.issued:
            raise DuplicateName(f"{kind} name {name!r} issued twice ({self.issued[key]}, {owner})")
        self.issued[key] = owner


def fit(full: str, limit: int) -> str:
    """``full`` if it fits, else its start plus a 6-hex hash of all of it."""
    if len(full) <= limit:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:6]
    return full[: limit - 7].rstrip("-_./") + "-" + digest


@dataclass(frozen=True)
class Namer:
    """Names for one region of one deployment."""

    app: str
    environment: str
    region: str
    registry: NameRegistry = field(default_factory=NameRegistry, compare=False)

    def name(self, resource: str, kind: str) -> str:
        rule = rule_for(kind)
        parts = [self.app, resource, self.environment]
        if rule.regional_suffix:
            parts.append(self.region)
        full = "-".join(parts)
        if rule.lowercase:
            full = full.lower()
        if rule.single_hyphens:
            full = re.sub("-{2,}", "-", full).strip("-")
        name = fit(full, rule.limit)
        if not re.fullmatch(rule.pattern, name):
            raise ValueError(f"derived {kind} name {name!r} does not match {rule.pattern}")
        if rule.reserved and re.search(rule.reserved, name):
            raise ReservedName(f"derived {kind} name {name!r} matches {rule.reserved}, which AWS reserves ({rule.reserved_source})")
        # Regional kinds may repeat across regions; global ones (and regional names) may not.
        scope = "global" if rule.regional_suffix or kind == "s3" else self.region
        self.registry.claim(kind, scope, name, f"{self.region}/{resource}")
        return name
