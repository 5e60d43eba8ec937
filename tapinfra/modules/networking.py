"""Private networking module: a VPC per region that the function runs in (``networking``)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Sequence

from tapinfra.errors import Problem
from tapinfra.fields import LOG_RETENTION_DAYS, setting
from tapinfra.modules.base import FunctionParts, Module, Output, StackContext
from tapinfra.outputs import TEXT_LIST, OutputSpec, register_output
from tapinfra.runtime import SINGLE_WRITER


# A VPC range: a dotted-quad network with a /16../22 prefix (cut into 16 subnets: /20../26).
_CIDR = (r"^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
         r"/(1[6-9]|2[0-2])$")


@dataclass(frozen=True)
class NetworkingConfig:
    """Private networking (optional module, off by default): a VPC per region that the function runs in."""

    enabled: bool = setting(False, "Run the function in a VPC per region: private subnets with no route out (no NAT gateway, no internet gateway), gateway endpoints for S3 and DynamoDB, interface endpoints with private DNS for what the function calls (policies scoped to this stack's resources), flow logs to a KMS-encrypted log group.")
    primary_cidr: str = setting("10.10.0.0/16", "The primary region's VPC range: RFC 1918, /16 to /22, cut into 16 equal subnets.", pattern=_CIDR)
    secondary_cidr: str = setting("10.20.0.0/16", "The secondary region's VPC range: like primary_cidr, and not overlapping it (so the two can be peered later).", pattern=_CIDR)
    az_count: int = setting(2, "Availability zones per region, one private subnet each; interface endpoints bill per zone. The plan fails if a region offers fewer.", minimum=2, maximum=6)
    nat_gateways: bool = setting(False, "One NAT gateway per zone (public subnets, an internet gateway) and egress on 443 to the internet for the function, for an application that calls outside AWS. Off: nothing in the VPC reaches the internet.")
    flow_log_retention_days: int = setting(365, "Retention of the VPC flow-log group (a year: an investigation often starts months after the traffic).", choices=LOG_RETENTION_DAYS)


RFC1918 = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")

_ON = "`networking.enabled`"
VPC_ID = register_output(OutputSpec("vpc_id", "VPC the function runs in, in {region}.", scope="regional", when=_ON))
PRIVATE_SUBNET_IDS = register_output(OutputSpec(
    "private_subnet_ids", "Private subnets (no route to the internet unless networking.nat_gateways) in {region}.",
    scope="regional", kind=TEXT_LIST, when=_ON))


class NetworkingModule(Module):
    """Builds both regions' :class:`~tapinfra.constructs.network.PrivateNetwork` (``<role>-network``),
    places the function in it, admits what each region's code calls through its endpoints,
    and seals them once everything is built."""

    name = "networking"
    constructs = "tapinfra.constructs.network"

    def enabled(self, config) -> bool:
        return config.networking.enabled

    def checks(self, c, ok) -> list[Problem]:
        """Private ranges that do not overlap; and no single-writer mode without a way out of the VPC."""
        p: list[Problem] = []
        n = c.networking
        ranges = {}
        for path, value in (("networking.primary_cidr", n.primary_cidr), ("networking.secondary_cidr", n.secondary_cidr)):
            if not ok(path):
                continue
            network = ipaddress.ip_network(value, strict=False)
            if str(network) != value:
                p.append(Problem(path, value, f"a network address with no host bits set ({network})"))
            elif not any(network.subnet_of(ipaddress.ip_network(block)) for block in RFC1918):
                p.append(Problem(path, value, "a private (RFC 1918) range inside " + ", ".join(RFC1918)))
            else:
                ranges[path] = network
        if len(ranges) == 2 and ranges["networking.primary_cidr"].overlaps(ranges["networking.secondary_cidr"]):
            p.append(Problem("networking.secondary_cidr", n.secondary_cidr, f"a range that does not overlap networking.primary_cidr ({n.primary_cidr})"))
        if ok("table.write_mode", "networking.nat_gateways") and not n.nat_gateways and c.table.write_mode == SINGLE_WRITER:
            p.append(Problem("table.write_mode", c.table.write_mode,
                             "any-region, or networking.nat_gateways true: in single-writer mode each region's function "
                             "calls the other region's table and drain switch, which private subnets without a NAT gateway "
                             "cannot reach (VPC endpoints serve their own region only)"))
        return p

    def build_global(self, ctx: StackContext):
        from tapinfra.constructs.network import PrivateNetwork, PrivateNetworkProps, interface_services
        from tapinfra.modules.base import enabled_modules

        c = ctx.config
        services = interface_services(drain_switch=c.features.drain_switch,
                                      modules=[s for m in enabled_modules(c) for s in m.interface_services(c)])
        return tuple(
            PrivateNetwork(ctx.stack, f"{region.role}-network", PrivateNetworkProps(
                region=region, settings=c.networking,
                cidr=c.networking.primary_cidr if region.is_primary else c.networking.secondary_cidr,
                interface_services=services))
            for region in ctx.regions
        )

    def _network(self, ctx: StackContext, region):
        return ctx.parts[self.name][0 if region.is_primary else 1]

    def function_parts(self, ctx: StackContext, region) -> FunctionParts:
        return FunctionParts(placement=self._network(ctx, region).result.placement)

    def admit(self, ctx: StackContext, region, statements: Sequence) -> None:
        self._network(ctx, region).admit(statements)

    def build_links(self, ctx: StackContext) -> None:
        for network in ctx.parts[self.name]:
            network.seal()  # every user has admitted what it calls

    def outputs(self, ctx: StackContext) -> list[Output]:
        out = []
        for network in ctx.parts[self.name]:
            out += [VPC_ID.output(network.result.vpc_id, network.region),
                    PRIVATE_SUBNET_IDS.output(list(network.result.private_subnet_ids), network.region)]
        return out

    def diagram(self, d, arch, region) -> None:
        count = region.count("aws_vpc_endpoint")
        if count:
            d.node(f"{region.alias}_vpc_endpoint", f"VPC interface endpoints ({count})", region.alias)
        nat = region.count("aws_nat_gateway")
        if nat:
            d.node(f"{region.alias}_nat_gateway", f"NAT gateways ({nat}) → internet :443", region.alias)

    def cost(self, arch, add, hours: float) -> None:
        for alias, region in arch.regions.items():
            for endpoint in region.of("aws_vpc_endpoint"):
                if endpoint.get("vpc_endpoint_type") == "Interface":
                    zones = len(endpoint.get("subnet_ids") or [])
                    add(alias, region.name, "vpc_interface_endpoint_hour",
                        f"VPC interface endpoint {endpoint.get('service_name')}: {zones} AZ × {hours:g} h", zones * hours)
            nat = region.count("aws_nat_gateway")
            if nat:
                add(alias, region.name, "nat_gateway_hour", f"NAT gateways: {nat} × {hours:g} h", nat * hours)
