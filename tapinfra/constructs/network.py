"""Private networking in one region: a VPC the function (and the database) run in, with no way out.

Private subnets across ``az_count`` zones with one route table each and no route to the
internet (unless ``nat_gateways``); S3 and DynamoDB reached through gateway endpoints on those
route tables, everything else the function calls through interface endpoints with private DNS.
Every endpoint's policy admits exactly what the function's role may do (:meth:`PrivateNetwork.admit`),
so the endpoints narrow the data paths to this stack's resources. Flow logs of all traffic go
to a log group under the region's key.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from typing import Sequence

import jsii
from cdktf import Fn, Postcondition, TerraformResourceLifecycle
from constructs import Construct, IValidation

from tapinfra.config import NetworkingConfig
from tapinfra.constructs.logs import log_group
from tapinfra.policy import Condition, Statement, policy_document, service_role
from tapinfra.provider import aws
from tapinfra.region import Region

HTTPS = 443
GATEWAY_SERVICES = ("s3", "dynamodb")
# Interface endpoints for what the function calls; ssm (drain switch) only when that is on,
# and what the modules' code calls (secretsmanager for the database secret).
BASE_INTERFACE_SERVICES = ("events", "sqs", "kms", "logs", "xray")


def interface_services(*, drain_switch: bool, modules: Sequence[str] = ()) -> tuple[str, ...]:
    """The interface endpoints: the core's, then each service the enabled modules name (once)."""
    core = BASE_INTERFACE_SERVICES + (("ssm",) if drain_switch else ())
    return core + tuple(dict.fromkeys(s for s in modules if s not in core))
# Standard zones are the region's name and a letter; Local and Wavelength Zones never match.
ZONE_LETTERS = "abcdef"
# Each VPC range is cut into 16 equal subnets: private ones from the start, public ones from the middle.
_SUBNET_BITS = 4
_PUBLIC_OFFSET = 8


def subnet_ranges(cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """(private, public) subnet ranges of a VPC range: ``az_count`` of each, never overlapping."""
    slots = [str(s) for s in ipaddress.ip_network(cidr).subnets(prefixlen_diff=_SUBNET_BITS)]
    return slots[:az_count], slots[_PUBLIC_OFFSET:_PUBLIC_OFFSET + az_count]


@dataclass(frozen=True)
class NetworkPlacement:
    """Where a function runs: the private subnets and its own security group."""

    subnet_ids: tuple[str, ...]
    subnet_arns: tuple[str, ...]
    security_group_id: str
    security_group_arn: str

    def grant_network_interfaces(self, region: Region) -> list[Statement]:
        """What Lambda does with the function's role to attach it to the VPC, and nothing more."""
        interfaces = region.arn("ec2", "network-interface/*")
        return [
            Statement(sid="CreateFunctionNetworkInterfaces", actions=["ec2:CreateNetworkInterface"],
                      resources=[interfaces, *self.subnet_arns, self.security_group_arn]),
            Statement(sid="ManageFunctionNetworkInterfaces",
                      actions=["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
                      resources=[interfaces]),
            # EC2's Describe actions have no resource-level permissions: AWS accepts only "*".
            Statement(sid="DescribeFunctionNetworkInterfaces",
                      actions=["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], resources=["*"]),
        ]


@dataclass(frozen=True)
class PrivateNetworkResult:
    """What the function, the database and the outputs need of one region's network."""

    vpc_id: str
    private_subnet_ids: tuple[str, ...]
    function_security_group_id: str
    endpoint_ids: dict[str, str]        # service ("s3", "kms", ...) -> endpoint id
    placement: NetworkPlacement


@dataclass(frozen=True)
class PrivateNetworkProps:
    """What one region's network is built from.

    :param region: where it lives (provider, namer, key). Required.
    :param settings: the ``networking`` section: zones, NAT gateways, flow-log retention. Required.
    :param cidr: this region's VPC range (``networking.primary_cidr`` or ``secondary_cidr``: the
        two regions' must not overlap, so they can be peered later). Required.
    :param interface_services: the services that get an interface endpoint with private DNS
        (:func:`interface_services` gives the stack's): without NAT gateways the subnets have no
        route out, so code in the VPC reaches no other AWS service. Default: none (the S3 and
        DynamoDB gateway endpoints only).
    """

    region: Region
    settings: NetworkingConfig
    cidr: str
    interface_services: tuple[str, ...] = ()


class PrivateNetwork(Construct):
    """One region's VPC, subnets, route tables, endpoints, security groups and flow logs, from
    :class:`PrivateNetworkProps`; ``result`` is what others may use.

    Whatever runs in the VPC :meth:`admit` s its role's statements; :meth:`seal` then writes each
    endpoint's policy (synthesis fails if it never runs): no endpoint keeps AWS's default
    full-access policy.
    """

    def __init__(self, scope: Construct, id_: str, props: PrivateNetworkProps) -> None:
        super().__init__(scope, id_)
        self.props = props
        self.region = region = props.region
        settings = props.settings
        self._label = f"{region.namer.app}-{region.namer.environment}-{region.name}"
        private_ranges, public_ranges = subnet_ranges(props.cidr, settings.az_count)

        self._vpc(props.cidr)
        zone_names = self._zone_names(settings.az_count)
        self._private_subnets(private_ranges, zone_names)
        if settings.nat_gateways:
            self._nat_gateways(public_ranges, zone_names)
        endpoint_security_group_id = self._security_groups()
        self._endpoints(props.interface_services, endpoint_security_group_id)
        if settings.nat_gateways:
            self.allow_function_to("internet", HTTPS, "HTTPS to the internet through the NAT gateways", cidr="0.0.0.0/0")
        self._flow_logs(settings.flow_log_retention_days)
        self._admitted: dict[str, list[Statement]] = {service: [] for service in self.endpoints}
        self._sealed = False
        self.node.add_validation(_Sealed(self))

        self.result = PrivateNetworkResult(
            vpc_id=self.vpc_id,
            private_subnet_ids=self.private_subnet_ids,
            function_security_group_id=self.function_security_group_id,
            endpoint_ids={service: endpoint.id for service, endpoint in self.endpoints.items()},
            placement=NetworkPlacement(
                subnet_ids=self.private_subnet_ids,
                subnet_arns=tuple(s.arn for s in self.private_subnets),
                security_group_id=self.function_security_group_id,
                security_group_arn=self.function_security_group.arn,
            ),
        )

    def _vpc(self, cidr: str) -> None:
        """The VPC, and its default security group emptied."""
        p, label = self.region.provider, self._label
        self.vpc = aws.vpc.Vpc(self, "vpc", provider=p, cidr_block=cidr, enable_dns_support=True,
                               enable_dns_hostnames=True, tags={"Name": label})
        self.vpc_id = self.vpc.id  # every id below is read from the kernel once
        # The VPC's default security group is created by AWS with open rules: take them all away.
        aws.default_security_group.DefaultSecurityGroup(self, "default-security-group", provider=p, vpc_id=self.vpc_id,
                                                        tags={"Name": f"{label}-default-unused"})

    def _zone_names(self, az_count: int) -> Sequence[str]:
        """The region's standard zones by name, whatever their state: a zone that is impaired, or
        one AWS adds, never shifts which zones the subnets are in (a shift would replace them).
        The plan fails when the region offers fewer than ``az_count``."""
        region = self.region
        zones = aws.data_aws_availability_zones.DataAwsAvailabilityZones(
            self, "zones", provider=region.provider,
            filter=[aws.data_aws_availability_zones.DataAwsAvailabilityZonesFilter(
                name="zone-name", values=[f"{region.name}{letter}" for letter in ZONE_LETTERS])],
            lifecycle=TerraformResourceLifecycle(postcondition=[Postcondition(
                condition=f"${{length(self.names) >= {az_count}}}",
                error_message=f"networking.az_count is {az_count}, but {region.name} offers fewer availability zones to this account.",
            )]),
        )
        return zones.names

    def _private_subnets(self, ranges: list[str], zone_names: Sequence[str]) -> None:
        """One private subnet per zone, each with its own route table (no route out)."""
        p, vpc_id, label = self.region.provider, self.vpc_id, self._label
        self.private_subnets, self.route_tables = [], []
        subnet_ids, route_table_ids = [], []
        for i, block in enumerate(ranges):
            zone = Fn.element(zone_names, i)
            subnet = aws.subnet.Subnet(self, f"private-subnet-{i}", provider=p, vpc_id=vpc_id, cidr_block=block,
                                       availability_zone=zone, map_public_ip_on_launch=False,
                                       tags={"Name": f"{label}-private-{i}"})
            table = aws.route_table.RouteTable(self, f"private-route-table-{i}", provider=p, vpc_id=vpc_id,
                                               tags={"Name": f"{label}-private-{i}"})
            subnet_ids.append(subnet.id)
            route_table_ids.append(table.id)
            aws.route_table_association.RouteTableAssociation(self, f"private-route-table-{i}-association", provider=p,
                                                              subnet_id=subnet_ids[i], route_table_id=route_table_ids[i])
            self.private_subnets.append(subnet)
            self.route_tables.append(table)
        self.private_subnet_ids, self.route_table_ids = tuple(subnet_ids), tuple(route_table_ids)

    def _security_groups(self) -> str:
        """The function's security group and the interface endpoints' (HTTPS in from the
        function only); returns the endpoints' id."""
        p, vpc_id, namer, label = self.region.provider, self.vpc_id, self.region.namer, self._label
        sg = aws.security_group.SecurityGroup
        self.function_security_group = sg(self, "function-security-group", provider=p, vpc_id=vpc_id,
                                          name=namer.name("api-function", "security_group"),
                                          description="The API function: HTTPS out to this VPC's endpoints only",
                                          tags={"Name": f"{label}-function"})
        self.endpoint_security_group = sg(self, "endpoint-security-group", provider=p, vpc_id=vpc_id,
                                          name=namer.name("endpoints", "security_group"),
                                          description="Interface endpoints: HTTPS in from the API function only",
                                          tags={"Name": f"{label}-endpoints"})
        self.function_security_group_id = self.function_security_group.id
        endpoint_security_group_id = self.endpoint_security_group.id
        self._ingress("endpoint-from-function", endpoint_security_group_id, HTTPS,
                      "HTTPS from the API function", source=self.function_security_group_id)
        return endpoint_security_group_id

    def _endpoints(self, interface_services: Sequence[str], endpoint_security_group_id: str) -> None:
        """The gateway endpoints on the private route tables, the interface endpoints in the
        private subnets, and the function's egress to each."""
        region, vpc_id, label = self.region, self.vpc_id, self._label
        self.endpoints: dict[str, aws.vpc_endpoint.VpcEndpoint] = {}
        for service in GATEWAY_SERVICES:
            self.endpoints[service] = aws.vpc_endpoint.VpcEndpoint(
                self, f"{service}-endpoint", provider=region.provider, vpc_id=vpc_id, vpc_endpoint_type="Gateway",
                service_name=f"com.amazonaws.{region.name}.{service}",
                route_table_ids=list(self.route_table_ids), tags={"Name": f"{label}-{service}"},
            )
            self.allow_function_to(f"{service}-endpoint", HTTPS, f"HTTPS to {service} through its gateway endpoint",
                                   prefix_list_id=self.endpoints[service].prefix_list_id)
        for service in interface_services:
            self.endpoints[service] = aws.vpc_endpoint.VpcEndpoint(
                self, f"{service}-endpoint", provider=region.provider, vpc_id=vpc_id, vpc_endpoint_type="Interface",
                service_name=f"com.amazonaws.{region.name}.{service}", private_dns_enabled=True,
                subnet_ids=list(self.private_subnet_ids),
                security_group_ids=[endpoint_security_group_id], tags={"Name": f"{label}-{service}"},
            )
        self.allow_function_to("interface-endpoints", HTTPS, "HTTPS to the interface endpoints",
                               security_group_id=endpoint_security_group_id)

    def admit(self, statements: Sequence[Statement]) -> None:
        """Let these statements (a role's own) through the endpoint of each one's service, for
        principals of this account only. Statements for services without an endpoint here
        (Lambda's network-interface actions) pass nothing. Call once per user, before :meth:`seal`."""
        if self._sealed:
            raise RuntimeError(f"{self.node.path}: admit() after seal()")
        for statement in statements:
            for service in self.endpoints:
                actions = [a for a in statement.actions if a.split(":")[0] == service]
                if actions:
                    self._admitted[service].append(replace(
                        statement, actions=actions, principals={"AWS": ["*"]},
                        conditions=[*statement.conditions,
                                    Condition("StringEquals", "aws:PrincipalAccount", [self.region.account_id])]))

    def seal(self) -> None:
        """Write every endpoint's policy from what was admitted. An endpoint nobody admitted
        anything through fails here: it would keep AWS's default full-access policy."""
        idle = [service for service, admitted in self._admitted.items() if not admitted]
        if idle:
            raise RuntimeError(f"{self.node.path}: nothing admitted through the {', '.join(idle)} endpoint(s)")
        for service, admitted in self._admitted.items():
            document = policy_document(self, f"{service}-endpoint-policy", self.region.provider, _unique_sids(admitted))
            self.endpoints[service].policy = document.json
        self._sealed = True

    def allow_function_to(self, id_: str, port: int, description: str, *, security_group_id: str | None = None,
                          prefix_list_id: str | None = None, cidr: str | None = None) -> None:
        """Egress from the function's security group on ``port`` to one destination."""
        aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule(
            self, f"function-to-{id_}", provider=self.region.provider,
            security_group_id=self.function_security_group_id, ip_protocol="tcp", from_port=port, to_port=port,
            description=description, referenced_security_group_id=security_group_id,
            prefix_list_id=prefix_list_id, cidr_ipv4=cidr,
        )

    def admit_function_into(self, id_: str, security_group_id: str, port: int, description: str) -> None:
        """Ingress on ``port`` into another security group (a database's) from the function's,
        and the matching egress."""
        self._ingress(id_, security_group_id, port, description, source=self.function_security_group_id)
        self.allow_function_to(id_, port, description, security_group_id=security_group_id)

    def _ingress(self, id_: str, security_group_id: str, port: int, description: str, *, source: str) -> None:
        aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
            self, f"{id_}-ingress", provider=self.region.provider, security_group_id=security_group_id,
            ip_protocol="tcp", from_port=port, to_port=port, description=description,
            referenced_security_group_id=source,
        )

    def _nat_gateways(self, public_ranges: list[str], zone_names: Sequence[str]) -> None:
        """One NAT gateway per zone in public subnets behind an internet gateway, each private
        route table's default route through its zone's."""
        p, vpc_id, label = self.region.provider, self.vpc_id, self._label
        gateway = aws.internet_gateway.InternetGateway(self, "internet-gateway", provider=p, vpc_id=vpc_id,
                                                       tags={"Name": label})
        public_table = aws.route_table.RouteTable(self, "public-route-table", provider=p, vpc_id=vpc_id,
                                                  tags={"Name": f"{label}-public"})
        public_table_id = public_table.id
        aws.route.Route(self, "public-default-route", provider=p, route_table_id=public_table_id,
                        destination_cidr_block="0.0.0.0/0", gateway_id=gateway.id)
        for i, block in enumerate(public_ranges):
            subnet_id = aws.subnet.Subnet(self, f"public-subnet-{i}", provider=p, vpc_id=vpc_id, cidr_block=block,
                                          availability_zone=Fn.element(zone_names, i), map_public_ip_on_launch=False,
                                          tags={"Name": f"{label}-public-{i}"}).id
            aws.route_table_association.RouteTableAssociation(self, f"public-subnet-{i}-association", provider=p,
                                                              subnet_id=subnet_id, route_table_id=public_table_id)
            address = aws.eip.Eip(self, f"nat-address-{i}", provider=p, domain="vpc", tags={"Name": f"{label}-nat-{i}"})
            nat = aws.nat_gateway.NatGateway(self, f"nat-gateway-{i}", provider=p, subnet_id=subnet_id,
                                             allocation_id=address.allocation_id, tags={"Name": f"{label}-{i}"},
                                             depends_on=[gateway])
            aws.route.Route(self, f"private-route-table-{i}-default-route", provider=p,
                            route_table_id=self.route_table_ids[i], destination_cidr_block="0.0.0.0/0",
                            nat_gateway_id=nat.id)

    def _flow_logs(self, retention_days: int) -> None:
        """Flow logs of all the VPC's traffic to a log group under the region's key."""
        region = self.region
        group = log_group(self, "flow-log-group", region=region, name=region.namer.name("vpc-flow-logs", "log_group"),
                          retention_days=retention_days)
        group_arn = group.arn
        role, policy = service_role(
            self, "flow-log-role", provider=region.provider, name=region.namer.name("vpc-flow-logs", "iam_role"),
            services=["vpc-flow-logs.amazonaws.com"],
            conditions=[Condition("StringEquals", "aws:SourceAccount", [region.account_id]),
                        Condition("ArnLike", "aws:SourceArn", [region.arn("ec2", "vpc-flow-log/*")])],
            statements=[
                Statement(sid="WriteFlowLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                          resources=[f"{group_arn}:*"]),
                Statement(sid="FindFlowLogGroup", actions=["logs:DescribeLogGroups"],
                          resources=[region.arn("logs", "log-group:*")]),
            ],
        )
        self.flow_log = aws.flow_log.FlowLog(
            self, "flow-log", provider=region.provider, vpc_id=self.vpc_id, traffic_type="ALL",
            log_destination_type="cloud-watch-logs", log_destination=group_arn, iam_role_arn=role.arn,
            depends_on=[policy],
        )


def _unique_sids(statements: Sequence[Statement]) -> list[Statement]:
    """Statements from several roles may share a sid; a policy needs them distinct."""
    seen: dict[str, int] = {}
    out = []
    for statement in statements:
        seen[statement.sid] = seen.get(statement.sid, 0) + 1
        out.append(statement if seen[statement.sid] == 1 else replace(statement, sid=f"{statement.sid}{seen[statement.sid]}"))
    return out


@jsii.implements(IValidation)
class _Sealed:
    """Synth-time check that the endpoints got their policies (TapStack seals every network)."""

    def __init__(self, network: PrivateNetwork) -> None:
        self.network = network

    def validate(self) -> list[str]:
        return [] if self.network._sealed else [f"{self.network.node.path}: seal() was never called; its endpoints have no policy"]
