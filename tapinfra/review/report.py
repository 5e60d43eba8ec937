"""The result of a review: counts per region and type, findings and warnings."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from tapinfra.review.plan import Plan

COUNTED = ("create", "update", "replace", "delete")
# What a rule says of a change: a finding blocks the apply (exit 1); a warning is worth reading;
# unjudged: a security-relevant value is known only after apply, so no rule could judge it.
FINDING, WARNING, UNJUDGED = "finding", "warning", "unjudged"


@dataclass(frozen=True, order=True)
class Finding:
    """One dangerous change: which rule, which resource, and why."""

    rule: str
    address: str
    reason: str


# (level, Finding): what every rule, built in or a team's own, yields.
Result = tuple[str, Finding]


@dataclass(frozen=True)
class Row:
    region: Optional[str]  # None when nothing places it (global services)
    provider: Optional[str]  # provider configuration key, e.g. "aws.primary"
    type: str
    counts: dict[str, int] = field(compare=False)

    @property
    def label(self) -> str:
        """``us-east-1 (aws.primary)``, or ``global``."""
        if self.region and self.provider:
            return f"{self.region} ({self.provider})"
        return self.region or "global"


@dataclass
class Report:
    terraform_version: str
    rows: list[Row]
    findings: list[Finding]
    warnings: list[Finding]
    unjudged: list[Finding] = field(default_factory=list)
    rule_help: dict[str, str] = field(default_factory=dict)  # rule id -> what it checks (built in and the team's own)
    rule_levels: dict[str, str] = field(default_factory=dict)  # rule id -> FINDING or WARNING, where --level set it

    @property
    def totals(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for row in self.rows:
            total.update(row.counts)
        return {kind: total[kind] for kind in COUNTED}

    @property
    def exit_code(self) -> int:
        return 1 if self.findings else 0


def summarize(plan: Plan) -> list[Row]:
    """Create/update/replace/delete counts per region and resource type (reads and no-ops left out)."""
    counts: dict[tuple[str, str, str], Counter[str]] = {}
    for change in plan.managed():
        if change.kind not in COUNTED:
            continue
        region = plan.region_of(change)
        key = change.provider_key or _only_provider_in(plan, region)
        counts.setdefault((region or "", key or "", change.type), Counter())[change.kind] += 1
    return [
        Row(region or None, key or None, rtype, {kind: c[kind] for kind in COUNTED})
        for (region, key, rtype), c in sorted(counts.items())
    ]


def _only_provider_in(plan: Plan, region: str | None) -> str | None:
    """The provider of a resource that left the configuration: the one configured for its region."""
    keys = [key for key, r in plan.provider_regions.items() if r == region]
    return keys[0] if len(keys) == 1 else None
