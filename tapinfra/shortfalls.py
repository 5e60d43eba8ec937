"""What a valid configuration still lacks that a production deployment needs: said at synth
(the stack's ``warnings`` output), never silently."""

from __future__ import annotations

from tapinfra.config import TapConfig

# Names reserved for documentation and testing (RFC 2606, RFC 6761): mail to them reaches no one.
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TOP_LEVEL = ("example", "test", "invalid", "localhost")


def reserved_domain(name: str) -> bool:
    """True when ``name`` is, or lies under, a domain reserved for documentation."""
    name = name.lower().rstrip(".")
    return (any(name == d or name.endswith("." + d) for d in RESERVED_DOMAINS)
            or name.rsplit(".", 1)[-1] in RESERVED_TOP_LEVEL)


def shortfalls(config: TapConfig) -> list[str]:
    """One plain sentence per missing protection, naming the field that adds it."""
    found = []
    if not config.features.dns:
        found.append("features.dns is false: no custom domain and no Route 53 routing, so nothing moves clients off a "
                     "failing region (no automatic failover): they call each region's invoke URL. The Route 53 health "
                     "checks only raise alarms. Set features.dns and the dns section to route through Route 53.")
    zone = config.dns.create_zone_name
    if config.features.dns and zone and reserved_domain(zone):
        found.append(f"dns.create_zone_name ({zone}) is reserved for documentation: its parent never delegates it, so "
                     f"{config.dns.domain_name} resolves for no one. Set a zone you own (or dns.zone_id).")
    emails = config.monitoring.alarm_emails
    if emails and all(reserved_domain(address.rsplit("@", 1)[1]) for address in emails):
        found.append(f"monitoring.alarm_emails ({', '.join(emails)}) are at domains reserved for documentation: "
                     "every alarm notifies a topic whose mail reaches no one. Set your on-call's address.")
    elif not emails:
        found.append("monitoring.alarm_emails is empty (allowed because disposable is true): every alarm notifies a "
                     "topic nobody subscribes to.")
    return found
