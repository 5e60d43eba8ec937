"""A Route 53 health check on a region's own execute-api endpoint, with or without a custom domain."""

from __future__ import annotations

from constructs import Construct

from tapinfra.config import DnsConfig
from tapinfra.constructs.api import ApiEndpoint
from tapinfra.provider import aws
from tapinfra.region import Region


def endpoint_health_check(scope: Construct, id_: str, *, region: Region, settings: DnsConfig, api: ApiEndpoint):
    """HTTPS GET of ``/<stage>/health`` on the region's own host (not a shared name), so a
    check tests its region, not DNS; from ``dns.health_check_regions`` at the configured
    interval and threshold, with latency measured."""
    return aws.route53_health_check.Route53HealthCheck(
        scope, id_, provider=region.provider,
        type="HTTPS", fqdn=api.host, port=443, resource_path=api.health_path, enable_sni=True,
        request_interval=settings.health_check_interval_seconds,
        failure_threshold=settings.health_check_failure_threshold,
        regions=list(settings.health_check_regions),
        measure_latency=True,
        tags={"Name": region.namer.name("api", "health_check")},
    )
