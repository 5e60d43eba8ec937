"""Issue 13: private networking. Per region a VPC the function runs in, with no way out by default:
private subnets, gateway and interface endpoints whose policies admit this stack's resources only,
security groups that allow HTTPS from the function to the endpoints and nothing else, flow logs."""

from __future__ import annotations

import pytest

from tapinfra.config import TapConfig, with_changes
HANDLER = "app.handler"  # the item API's function (application.handler)
from tapinfra.constructs.network import GATEWAY_SERVICES, subnet_ranges
from tapinfra.errors import ConfigError
from tests.modules import account_id, key_arn, role_statements
from tests.synth import REGIONS, Tf, example_config, scratch_app, synth

FULL = example_config("full")
NET = FULL.networking
INTERFACE = {"events", "sqs", "kms", "logs", "xray", "ssm", "secretsmanager"}  # full: drain switch and Aurora on
ENI_ACTIONS = {"ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
               "ec2:UnassignPrivateIpAddresses", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"}


@pytest.fixture(scope="module")
def nat_tf():
    """The minimal example with networking on, three zones and NAT gateways."""
    config = with_changes(example_config("minimal"), networking={"enabled": True, "nat_gateways": True, "az_count": 3})
    return Tf(synth(config).doc)


def cidr_of(provider: str, settings=NET) -> str:
    return settings.primary_cidr if provider == "aws.primary" else settings.secondary_cidr


def api_function(tf: Tf, provider: str) -> dict:
    return tf.by_provider("aws_lambda_function", handler=HANDLER)[provider][1]


def function_sg(tf: Tf, provider: str) -> str:
    """Name of the function's security group (the one its vpc_config names)."""
    (ref,) = api_function(tf, provider)["vpc_config"]["security_group_ids"]
    return tf.referenced(ref)[1]


def endpoints(tf: Tf, provider: str) -> dict[str, tuple[str, dict]]:
    """service -> (name, body) of the region's VPC endpoints."""
    return {body["service_name"].rsplit(".", 1)[1]: (name, body) for name, body in tf.in_region("aws_vpc_endpoint", provider).items()}


def endpoint_sg(tf: Tf, provider: str) -> str:
    groups = {tuple(b["security_group_ids"]) for _, b in endpoints(tf, provider).values() if b["vpc_endpoint_type"] == "Interface"}
    ((ref,),) = groups
    return tf.referenced(ref)[1]


def rules(tf: Tf, rtype: str, sg_name: str) -> list[dict]:
    return [r for r in tf.resources(rtype).values() if r["security_group_id"] == tf.ref("aws_security_group", sg_name, "id")]


# ------------------------------------------------------------------ VPC and subnets

def test_each_region_has_a_vpc_with_one_private_subnet_per_zone(full_tf):
    for provider in REGIONS:
        (vpc_name, vpc), = full_tf.in_region("aws_vpc", provider).items()
        assert vpc["cidr_block"] == cidr_of(provider)
        assert vpc["enable_dns_support"] is True and vpc["enable_dns_hostnames"] is True  # private DNS needs both
        subnets = full_tf.in_region("aws_subnet", provider).values()
        assert len(subnets) == NET.az_count
        assert sorted(s["cidr_block"] for s in subnets) == sorted(subnet_ranges(cidr_of(provider), NET.az_count)[0])
        assert all(s["vpc_id"] == full_tf.ref("aws_vpc", vpc_name, "id") for s in subnets)
        assert all(s["map_public_ip_on_launch"] is False for s in subnets)
        (zones_name, zones), = [(n, z) for n, z in full_tf.data("aws_availability_zones").items() if z["provider"] == provider]
        names = full_tf.data_ref("aws_availability_zones", zones_name, "names")
        assert sorted(s["availability_zone"] for s in subnets) == [f"${{element({names[2:-1]}, {i})}}" for i in range(NET.az_count)]
        region = full_tf.regions()[provider.split(".")[1]]
        # standard zones only, by name, whatever their state: an impaired zone must not shift the subnets
        assert zones["filter"] == [{"name": "zone-name", "values": [f"{region}{c}" for c in "abcdef"]}]
        assert "state" not in zones
        (check,) = zones["lifecycle"]["postcondition"]
        assert check["condition"] == f"${{length(self.names) >= {NET.az_count}}}"
        assert "networking.az_count" in check["error_message"]


def test_subnet_ranges_never_overlap_and_stay_inside_the_vpc():
    import ipaddress

    for cidr in ("10.10.0.0/16", "172.16.8.0/22"):
        private, public = subnet_ranges(cidr, 6)
        nets = [ipaddress.ip_network(c) for c in private + public]
        assert all(n.subnet_of(ipaddress.ip_network(cidr)) for n in nets)
        assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])


def test_no_nat_gateway_no_internet_gateway_and_no_route_out_by_default(full_tf):
    assert NET.nat_gateways is False
    for rtype in ("aws_nat_gateway", "aws_internet_gateway", "aws_eip", "aws_route", "aws_egress_only_internet_gateway"):
        assert full_tf.resources(rtype) == {}, rtype
    for table in full_tf.resources("aws_route_table").values():
        assert not table.get("route"), "no inline routes: a private table has only its local route and the gateway endpoints"
    assert not [r for r in full_tf.resources("aws_vpc_security_group_egress_rule").values() if r.get("cidr_ipv4") or r.get("cidr_ipv6")]


def test_the_vpcs_default_security_group_is_emptied(full_tf):
    for provider in REGIONS:
        (_, default), = full_tf.in_region("aws_default_security_group", provider).items()
        assert not default.get("ingress") and not default.get("egress")


# ------------------------------------------------------------------ endpoints

def test_gateway_endpoints_for_s3_and_dynamodb_are_on_every_private_route_table(full_tf):
    for provider in REGIONS:
        tables = {full_tf.ref("aws_route_table", n, "id") for n in full_tf.in_region("aws_route_table", provider)}
        associated = {a["route_table_id"] for a in full_tf.in_region("aws_route_table_association", provider).values()}
        assert len(tables) == NET.az_count and associated == tables  # one private table per subnet
        found = endpoints(full_tf, provider)
        for service in GATEWAY_SERVICES:
            body = found[service][1]
            assert body["vpc_endpoint_type"] == "Gateway"
            assert set(body["route_table_ids"]) == tables


def test_interface_endpoints_have_private_dns_in_the_private_subnets(full_tf):
    for provider in REGIONS:
        found = endpoints(full_tf, provider)
        assert set(found) == INTERFACE | set(GATEWAY_SERVICES)
        subnets = {full_tf.ref("aws_subnet", n, "id") for n in full_tf.in_region("aws_subnet", provider)}
        region = full_tf.regions()[provider.split(".")[1]]
        for service in INTERFACE:
            body = found[service][1]
            assert body["service_name"] == f"com.amazonaws.{region}.{service}"
            assert body["vpc_endpoint_type"] == "Interface" and body["private_dns_enabled"] is True
            assert set(body["subnet_ids"]) == subnets
            assert body["security_group_ids"] == [full_tf.ref("aws_security_group", endpoint_sg(full_tf, provider), "id")]


def test_the_endpoint_security_group_admits_443_only_from_the_functions(full_tf):
    for provider in REGIONS:
        sg, fsg = endpoint_sg(full_tf, provider), function_sg(full_tf, provider)
        (ingress,) = rules(full_tf, "aws_vpc_security_group_ingress_rule", sg)
        assert (ingress["ip_protocol"], ingress["from_port"], ingress["to_port"]) == ("tcp", 443, 443)
        assert ingress["referenced_security_group_id"] == full_tf.ref("aws_security_group", fsg, "id")
        assert "cidr_ipv4" not in ingress and "prefix_list_id" not in ingress
        assert rules(full_tf, "aws_vpc_security_group_egress_rule", sg) == []  # Terraform removes AWS's allow-all


def test_the_function_security_group_reaches_the_endpoints_and_the_database_only(full_tf):
    for provider in REGIONS:
        fsg = function_sg(full_tf, provider)
        found = endpoints(full_tf, provider)
        (db_sg,) = [n for n, b in full_tf.in_region("aws_security_group", provider).items() if n.startswith("aurora_")]
        allowed = {(r["ip_protocol"], r["from_port"], r["to_port"],
                    r.get("referenced_security_group_id") or r.get("prefix_list_id") or r.get("cidr_ipv4"))
                   for r in rules(full_tf, "aws_vpc_security_group_egress_rule", fsg)}
        assert allowed == {
            ("tcp", 443, 443, full_tf.ref("aws_security_group", endpoint_sg(full_tf, provider), "id")),
            ("tcp", 443, 443, full_tf.ref("aws_vpc_endpoint", found["s3"][0], "prefix_list_id")),
            ("tcp", 443, 443, full_tf.ref("aws_vpc_endpoint", found["dynamodb"][0], "prefix_list_id")),
            ("tcp", 5432, 5432, full_tf.ref("aws_security_group", db_sg, "id")),
        }
        assert rules(full_tf, "aws_vpc_security_group_ingress_rule", fsg) == []


def _endpoint_statements(tf: Tf, provider: str) -> dict[str, list[dict]]:
    return {service: tf.policy(body["policy"]) for service, (_, body) in endpoints(tf, provider).items()}


def test_every_endpoint_policy_admits_this_accounts_principals_only(full_tf):
    for provider in REGIONS:
        for service, statements in _endpoint_statements(full_tf, provider).items():
            assert statements, service
            for s in statements:
                assert s["effect"] == "Allow" and s["principals"] == [{"type": "AWS", "identifiers": ["*"]}], service
                assert {"test": "StringEquals", "variable": "aws:PrincipalAccount", "values": [account_id(full_tf)]} in s["condition"]
                assert all(a.split(":")[0] == service for a in s["actions"]), (service, s["actions"])


def _vpc_functions(tf: Tf, provider: str) -> list[dict]:
    return [fn for fn in tf.in_region("aws_lambda_function", provider).values() if "vpc_config" in fn]


def test_endpoints_pass_exactly_what_the_functions_in_the_vpc_may_do(full_tf):
    for provider in REGIONS:
        got = {service: sorted((tuple(s["actions"]), tuple(s["resources"])) for s in statements)
               for service, statements in _endpoint_statements(full_tf, provider).items()}
        for service in got:
            allowed = sorted(
                (tuple(a for a in s["actions"] if a.split(":")[0] == service), tuple(s["resources"]))
                for fn in _vpc_functions(full_tf, provider) for s in role_statements(full_tf, fn).values()
                if any(a.split(":")[0] == service for a in s["actions"])
            )
            if service == "s3":  # and the region's data bucket, through S3's gateway
                (bucket,) = [b for b in full_tf.data_buckets() if full_tf.resources("aws_s3_bucket")[b]["provider"] == provider]
                arn = full_tf.ref("aws_s3_bucket", bucket, "arn")
                allowed = sorted(allowed + [(("s3:GetObject", "s3:PutObject", "s3:ListBucket"), (arn, f"{arn}/*"))])
            assert got[service] == allowed, service


def full_tf_config_write_mode() -> str:
    return example_config("full").table.write_mode


def test_endpoint_policies_name_this_stacks_table_bus_queue_key_logs_switch_and_secret(full_tf):
    for provider in REGIONS:
        fn = api_function(full_tf, provider)
        got = {service: {tuple(s["resources"]) for s in statements}
               for service, statements in _endpoint_statements(full_tf, provider).items()}
        bus = full_tf.by_provider("aws_cloudwatch_event_bus")[provider][0]
        assert (full_tf.ref("aws_cloudwatch_event_bus", bus, "arn"),) in got["events"]
        assert (key_arn(full_tf, provider),) in got["kms"]
        assert (fn["dead_letter_config"]["target_arn"],) in got["sqs"]
        assert (fn["logging_config"]["log_group"].replace(".name}", ".arn}") + ":*",) in got["logs"]
        drain = full_tf.by_provider("aws_ssm_parameter")[provider][0]
        assert got["ssm"] == {(full_tf.ref("aws_ssm_parameter", drain, "arn"),)}
        assert got["secretsmanager"] == {(fn["environment"]["variables"]["DATABASE_SECRET_ARN"],)}
        assert got["xray"] == {("*",)}  # X-Ray takes no resource ARN
        (table_name, table), = full_tf.resources("aws_dynamodb_table").items()
        this_copy = (full_tf.ref("aws_dynamodb_table", table_name, "arn") if provider == "aws.primary" else
                     f"arn:${{data.aws_partition.partition.partition}}:dynamodb:{full_tf.regions()['secondary']}:"
                     f"{account_id(full_tf)}:table/{table['name']}")
        # this region's copy, and (any-region writes: the full example) its stream for the conflict count
        streams = got["dynamodb"] - {(this_copy,)}
        assert (this_copy,) in got["dynamodb"]
        assert full_tf_config_write_mode() == "any-region" and len(streams) == 1
        assert all(len(s) == 1 and "stream_arn" in s[0] for s in streams)


# ------------------------------------------------------------------ the function in the VPC

def test_the_function_runs_in_the_private_subnets_with_its_own_security_group(full_tf):
    for provider in REGIONS:
        config = api_function(full_tf, provider)["vpc_config"]
        assert set(config["subnet_ids"]) == {full_tf.ref("aws_subnet", n, "id") for n in full_tf.in_region("aws_subnet", provider)}
        sg = full_tf.resources("aws_security_group")[function_sg(full_tf, provider)]
        assert sg["provider"] == provider and "function" in sg["description"]


def test_the_function_role_gains_exactly_the_network_interface_actions_lambda_needs(full_tf):
    for provider in REGIONS:
        fn = api_function(full_tf, provider)
        role = role_statements(full_tf, fn)
        ec2 = {sid: s for sid, s in role.items() if any(a.startswith("ec2:") for a in s["actions"])}
        assert {a for s in ec2.values() for a in s["actions"]} == ENI_ACTIONS
        assert all(a.startswith("ec2:") for s in ec2.values() for a in s["actions"])
        interfaces = f"arn:${{data.aws_partition.partition.partition}}:ec2:{full_tf.regions()[provider.split('.')[1]]}:{account_id(full_tf)}:network-interface/*"
        create = ec2["CreateFunctionNetworkInterfaces"]
        subnets = [r.replace(".id}", ".arn}") for r in fn["vpc_config"]["subnet_ids"]]
        assert create["resources"] == [interfaces, *subnets, fn["vpc_config"]["security_group_ids"][0].replace(".id}", ".arn}")]
        assert ec2["ManageFunctionNetworkInterfaces"]["resources"] == [interfaces]
        # only the Describe actions, which take no resource ARN, are on "*"
        assert [s["actions"] for s in ec2.values() if s["resources"] == ["*"]] == [["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]]


# ------------------------------------------------------------------ flow logs

def test_flow_logs_of_all_traffic_go_to_a_kms_log_group_with_retention(full_tf):
    for provider in REGIONS:
        (vpc_name, _), = full_tf.in_region("aws_vpc", provider).items()
        (_, flow), = full_tf.in_region("aws_flow_log", provider).items()
        assert flow["vpc_id"] == full_tf.ref("aws_vpc", vpc_name, "id")
        assert (flow["traffic_type"], flow["log_destination_type"]) == ("ALL", "cloud-watch-logs")
        rtype, _, group = full_tf.referenced(flow["log_destination"])
        assert rtype == "aws_cloudwatch_log_group" and group["provider"] == provider
        assert group["kms_key_id"] == key_arn(full_tf, provider)
        assert group["retention_in_days"] == NET.flow_log_retention_days == 365
        _, role_name, role = full_tf.referenced(flow["iam_role_arn"])
        (trust,) = full_tf.policy(role["assume_role_policy"])
        assert trust["principals"] == [{"type": "Service", "identifiers": ["vpc-flow-logs.amazonaws.com"]}]
        assert {c["variable"] for c in trust["condition"]} == {"aws:SourceAccount", "aws:SourceArn"}
        (policy,) = [p for p in full_tf.resources("aws_iam_role_policy").values() if p["role"] == full_tf.ref("aws_iam_role", role_name, "id")]
        write = {s["sid"]: s for s in full_tf.policy(policy["policy"])}["WriteFlowLogs"]
        assert write["resources"] == [flow["log_destination"] + ":*"]


def test_outputs_name_each_regions_vpc_and_private_subnets(full_tf):
    out = full_tf.doc["output"]
    for provider in REGIONS:
        role = provider.split(".")[1]
        (vpc_name, _), = full_tf.in_region("aws_vpc", provider).items()
        assert out[f"{role}_vpc_id"]["value"] == full_tf.ref("aws_vpc", vpc_name, "id")
        assert set(out[f"{role}_private_subnet_ids"]["value"]) == {full_tf.ref("aws_subnet", n, "id") for n in full_tf.in_region("aws_subnet", provider)}


# ------------------------------------------------------------------ off, and the NAT option

def test_off_by_default_builds_no_network_and_leaves_the_function_as_it_was(default_tf):
    assert TapConfig().networking.enabled is False
    for rtype in ("aws_vpc", "aws_subnet", "aws_vpc_endpoint", "aws_security_group", "aws_flow_log", "aws_default_security_group"):
        assert default_tf.resources(rtype) == {}, rtype
    for provider in REGIONS:
        fn = api_function(default_tf, provider)
        assert "vpc_config" not in fn
        assert not [a for s in role_statements(default_tf, fn).values() for a in s["actions"] if a.startswith("ec2:")]


def test_nat_gateways_give_each_zone_its_own_way_out_on_443(nat_tf):
    def zone_of_table(table_ref):
        (association,) = [a for a in nat_tf.resources("aws_route_table_association").values() if a["route_table_id"] == table_ref]
        return nat_tf.referenced(association["subnet_id"])[2]["availability_zone"]

    for provider in REGIONS:
        subnets = nat_tf.in_region("aws_subnet", provider)
        assert len(subnets) == 6  # three private, three public
        (gateway, _), = nat_tf.in_region("aws_internet_gateway", provider).items()
        nats = nat_tf.in_region("aws_nat_gateway", provider)
        assert len(nats) == 3 and len(nat_tf.in_region("aws_eip", provider)) == 3
        default_routes = [r for r in nat_tf.in_region("aws_route", provider).values() if r["destination_cidr_block"] == "0.0.0.0/0"]
        to_gateway = [r for r in default_routes if "gateway_id" in r]
        assert [r["gateway_id"] for r in to_gateway] == [nat_tf.ref("aws_internet_gateway", gateway, "id")]
        to_nat = [r for r in default_routes if "nat_gateway_id" in r]
        assert len(to_nat) == 3
        for route in to_nat:  # each private table leaves through the NAT gateway of its own zone
            nat = nat_tf.referenced(route["nat_gateway_id"])[2]
            nat_subnet = nat_tf.referenced(nat["subnet_id"])[2]
            assert nat_subnet["availability_zone"] == zone_of_table(route["route_table_id"])
            assert nat_subnet["cidr_block"] in subnet_ranges(cidr_of(provider, TapConfig().networking), 3)[1]  # a public subnet
        egress = rules(nat_tf, "aws_vpc_security_group_egress_rule", function_sg(nat_tf, provider))
        assert [(r["from_port"], r["cidr_ipv4"]) for r in egress if r.get("cidr_ipv4")] == [(443, "0.0.0.0/0")]


def test_the_cost_estimate_and_the_diagram_show_the_nat_gateways(nat_tf):
    from tapinfra.operator.cost import estimate, load_prices
    from tapinfra.operator.diagram import build
    from tapinfra.operator.model import from_document

    arch, prices = from_document(nat_tf.doc), load_prices()
    lines = [line for line in estimate(arch, prices).lines if line.item == "nat_gateway_hour"]
    assert sorted(line.scope for line in lines) == ["primary", "secondary"]
    assert all(line.quantity == 3 * prices.hours_per_month for line in lines)  # three zones, one gateway each
    diagram = build(arch)
    assert {"primary_nat_gateway", "secondary_nat_gateway"} <= set(diagram.nodes)
    assert diagram.nodes["primary_nat_gateway"].label.startswith("NAT gateways (3)")


# ------------------------------------------------------------------ guards

def test_ranges_must_be_private_aligned_and_apart_naming_the_field():
    for raw, path, words in (
        ({"primary_cidr": "11.0.0.0/16"}, "networking.primary_cidr", "RFC 1918"),
        ({"secondary_cidr": "10.20.0.1/16"}, "networking.secondary_cidr", "no host bits"),
        ({"secondary_cidr": "10.10.128.0/17"}, "networking.secondary_cidr", "does not overlap networking.primary_cidr"),
        ({"az_count": 7}, "networking.az_count", "from 2 to 6"),
        ({"primary_cidr": "10.0.0.0/8"}, "networking.primary_cidr", "matching"),
    ):
        with pytest.raises(ConfigError) as caught:
            with_changes(TapConfig(), networking={"enabled": True, **raw}, table={"write_mode": "any-region"})
        (problem,) = caught.value.problems
        assert problem.path == path and words in problem.allowed, (raw, problem)


def _bare_network(enabled_drain: bool = False):
    from cdktf import TerraformStack

    from tapinfra.constructs.network import PrivateNetwork, PrivateNetworkProps, interface_services
    from tapinfra.foundation import build_foundation

    config = with_changes(TapConfig(), networking={"enabled": True}, table={"write_mode": "any-region"})  # no NAT
    stack = TerraformStack(scratch_app(), "bare")
    region = build_foundation(stack, config).primary
    network = PrivateNetwork(stack, "network", PrivateNetworkProps(
        region=region, settings=config.networking, cidr="10.10.0.0/16",
        interface_services=interface_services(drain_switch=enabled_drain)))
    return stack, network


def test_an_endpoint_nobody_admits_anything_through_is_refused():
    _, network = _bare_network()
    with pytest.raises(RuntimeError, match="nothing admitted through the .*endpoint"):
        network.seal()


def test_a_network_never_sealed_fails_validation_and_nothing_is_admitted_after_sealing():
    from tapinfra.policy import Statement

    stack, network = _bare_network()
    assert any("seal() was never called" in e for e in network.node.validate())
    network.admit([Statement(sid=s, actions=[f"{s}:Call"], resources=["arn:aws:x"]) for s in network.endpoints])
    network.seal()
    assert network.node.validate() == []
    with pytest.raises(RuntimeError, match="after seal"):
        network.admit([])
