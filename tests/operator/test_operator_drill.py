"""The failover drill on moto: the switch and the health-check calls are real API calls; Route 53's
verdict and DNS are emulated from the switch, and time is a fake clock (no real waiting)."""

from __future__ import annotations

import json
import signal

import boto3
import pytest
from moto import mock_aws

from tapinfra.errors import ConfigError
from tapinfra.config import with_changes
from tapinfra.operator import drill, model
from tests.synth import example_config, synth

DOMAIN = "api.example.com"
ADDRESSES = {"primary": frozenset({"192.0.2.10", "192.0.2.11"}), "secondary": frozenset({"198.51.100.20"})}


@pytest.fixture(scope="module")
def arch():
    return model.from_document(synth(example_config("default")).doc)


class World:
    """A deployed default stack on moto: both drain switches, both health checks, both custom domains."""

    def __init__(self, arch):
        self.arch = arch
        self.regions = {role: arch.region(role).name for role in model.ROLES}
        self.parameter = arch.drain_parameter("primary").get("name")
        self.ssm = {role: boto3.client("ssm", region_name=region) for role, region in self.regions.items()}
        self.keys = {}
        for role, region in self.regions.items():
            key = boto3.client("kms", region_name=region).create_key()["KeyMetadata"]["KeyId"]
            self.keys[role] = key
            self.ssm[role].put_parameter(Name=self.parameter, Value="off", Type="SecureString", KeyId=key)
        route53 = boto3.client("route53", region_name="us-east-1")
        self.checks = {}
        for role, region in self.regions.items():
            self.checks[role] = route53.create_health_check(CallerReference=role, HealthCheckConfig={
                "Type": "HTTPS", "FullyQualifiedDomainName": f"abc.execute-api.{region}.amazonaws.com",
                "ResourcePath": "/v1/health", "Port": 443, "RequestInterval": 30, "FailureThreshold": 3})["HealthCheck"]["Id"]
        self.regional = {}
        for role, region in self.regions.items():
            apigw = boto3.client("apigateway", region_name=region)
            self.regional[role] = apigw.create_domain_name(domainName=DOMAIN, regionalCertificateArn="arn:aws:acm:x",
                                                           endpointConfiguration={"types": ["REGIONAL"]})["regionalDomainName"]
        self.resolved: list[str] = []
        self.on_resolve = None
        self.stale_dns = False      # a resolver that keeps answering with the primary

    def outputs(self):
        return {"primary_health_check_id": self.checks["primary"], "secondary_health_check_id": self.checks["secondary"],
                "custom_domain_url": f"https://{DOMAIN}"}

    def switch(self, role):
        return self.ssm[role].get_parameter(Name=self.parameter, WithDecryption=True)["Parameter"]["Value"]

    def draining(self, role):
        return self.switch(role) == "on"

    # Route 53 as moto cannot: a region whose switch is on fails its checks (its /health answers 503).
    def clients(self, service, region):
        client = boto3.client(service, region_name=region)
        if service != "route53":
            return client
        world = self

        class Route53:
            def get_health_check_status(self, HealthCheckId):
                real = client.get_health_check_status(HealthCheckId=HealthCheckId)   # moto checks the id exists
                role = next(r for r, i in world.checks.items() if i == HealthCheckId)
                status = "Failure: HTTP Status Code 503" if world.draining(role) else "Success: HTTP Status Code 200"
                checker = real["HealthCheckObservations"][0]
                return {"HealthCheckObservations": [
                    {**checker, "Region": r, "StatusReport": {**checker["StatusReport"], "Status": status}}
                    for r in ("us-east-1", "us-west-2", "eu-west-1")]}

        return Route53()

    # DNS: the custom domain answers with the healthy regions' addresses (latency routing from here: primary).
    def resolve(self, name):
        self.resolved.append(name)
        if self.on_resolve is not None:
            self.on_resolve(len(self.resolved))
        for role, regional in self.regional.items():
            if name == regional:
                return ADDRESSES[role]
        if name == DOMAIN and self.stale_dns:
            return ADDRESSES["primary"]
        if name == DOMAIN:
            healthy = [r for r in model.ROLES if not self.draining(r)]
            return ADDRESSES[healthy[0]] if healthy else frozenset()
        return frozenset()


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def world(arch, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        yield World(arch)


def _drill(world, role="primary", **kw):
    fake = FakeTime()
    plan = drill.plan_drill(world.arch, world.outputs(), role)
    log: list[str] = []
    d = drill.Drill(plan, world.clients, world.resolve, interval=kw.pop("interval", 5), timeout=kw.pop("timeout", 60),
                    clock=fake.clock, sleep=fake.sleep, log=log.append)
    return d, log


def test_plan_takes_the_switch_from_the_synthesized_stack_and_ids_from_outputs(world):
    plan = drill.plan_drill(world.arch, world.outputs(), "secondary")
    assert plan.parameter_name == world.arch.drain_parameter("secondary").get("name") == "/tap/dev/drain"
    assert plan.region == "us-west-2" and plan.peer == "primary"
    assert plan.health_checks == world.checks and plan.domain == DOMAIN and plan.routing_policy == "latency"


def test_drill_fails_over_recovers_and_leaves_the_switch_off(world):
    d, log = _drill(world)
    result = d.run()
    assert result.completed
    assert result.time_to_unhealthy == 0 and result.time_to_failover == 0   # the emulated Route 53 reacts at once
    assert result.time_to_recover == 0
    phases = [(o.phase, o.healthy, o.drained_in_answer) for o in result.observations]
    assert phases == [("failover", False, False), ("recovery", True, True)]
    assert world.switch("primary") == "off" and world.switch("secondary") == "off"
    assert any("drain switch /tap/dev/drain in us-east-1: on" in line for line in log)


def test_draining_the_writer_moves_the_writer_to_the_peer_and_back(world):
    """Default stack: single-writer; the writer is the primary until its switch is on."""
    d, log = _drill(world, "primary")
    assert d.plan.write_mode == "single-writer" and d.plan.write_regions == ("us-east-1", "us-west-2")
    seen = []
    world.on_resolve = lambda n: seen.append((world.switch("primary"), d.writer()))
    result = d.run()
    assert (result.writer_before, result.writer_while_drained, result.writer_after) == ("us-east-1", "us-west-2", "us-east-1")
    assert ("on", "us-west-2") in seen and seen[-1] == ("off", "us-east-1"), "the writer follows the switch at every poll"
    assert any("writer while us-east-1 is drained: us-west-2" in line for line in log)


def test_draining_the_other_region_leaves_the_writer_where_it_is(world):
    result = _drill(world, "secondary")[0].run()
    assert (result.writer_before, result.writer_while_drained, result.writer_after) == ("us-east-1",) * 3


def test_a_drill_with_the_peer_already_drained_names_the_rule_s_fallback(world):
    world.ssm["secondary"].put_parameter(Name=world.parameter, Value="on", Type="SecureString", Overwrite=True)
    result = _drill(world, "primary")[0].run()
    assert result.writer_while_drained == "us-east-1", "both drained: the first of the preference list"


def test_any_region_mode_has_no_writer_to_move(world):
    import dataclasses

    d, _ = _drill(world)
    d.plan = dataclasses.replace(d.plan, write_mode="any-region")
    result = d.run()
    assert result.completed and result.writer_before is result.writer_while_drained is result.writer_after is None


def test_switch_keeps_its_type_and_kms_key(world):
    _drill(world)[0].run()
    described = world.ssm["primary"].describe_parameters(
        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [world.parameter]}])["Parameters"][0]
    assert described["Type"] == "SecureString" and world.keys["primary"] in described["KeyId"]


def test_timeout_when_traffic_never_moves_still_clears_the_switch(world):
    world.stale_dns = True   # the answer never loses the primary's addresses
    d, log = _drill(world, interval=5, timeout=20)
    result = d.run()
    assert result.time_to_unhealthy == 0 and result.time_to_failover is None and not result.completed
    assert [o.at for o in result.observations if o.phase == "failover"] == [0, 5, 10, 15, 20]
    assert world.switch("primary") == "off"
    assert any("gave up after --timeout 20 s" in line for line in log)


def test_ctrl_c_mid_poll_leaves_the_switch_off(world):
    d, log = _drill(world)
    calls_before_switching = 2   # the regional name and the baseline answer
    world.on_resolve = lambda n: (_ for _ in ()).throw(KeyboardInterrupt()) if n == calls_before_switching + 2 else None
    with pytest.raises(KeyboardInterrupt):
        d.run()
    assert world.switch("primary") == "off"
    assert any("cleared on exit" in line for line in log)


def test_sigterm_mid_poll_leaves_the_switch_off_and_restores_the_handler(world):
    before = signal.getsignal(signal.SIGTERM)
    d, _ = _drill(world)
    world.on_resolve = lambda n: signal.raise_signal(signal.SIGTERM) if n == 4 else None
    with pytest.raises(drill.DrillInterrupted):
        d.run()
    assert world.switch("primary") == "off"
    assert signal.getsignal(signal.SIGTERM) is before


def test_refuses_to_start_when_the_switch_is_already_on(world):
    world.ssm["primary"].put_parameter(Name=world.parameter, Value="on", Type="SecureString", Overwrite=True)
    with pytest.raises(drill.DrillError, match="already 'on'"):
        _drill(world)[0].run()
    assert world.switch("primary") == "on", "an incident's switch is not ours to clear"


def test_health_verdict_follows_route53s_18_percent_rule(world):
    d, _ = _drill(world)
    d.route53 = type("R", (), {"get_health_check_status": lambda self, HealthCheckId: {"HealthCheckObservations": [
        {"StatusReport": {"Status": "Success"}}] + [{"StatusReport": {"Status": "Failure"}}] * 5}})()
    assert d.health("primary") == (False, "1/6")          # 17% healthy
    d.route53 = type("R", (), {"get_health_check_status": lambda self, HealthCheckId: {"HealthCheckObservations": [
        {"StatusReport": {"Status": "Success"}}] + [{"StatusReport": {"Status": "Failure"}}] * 4}})()
    assert d.health("primary") == (True, "1/5")           # 20% healthy


def test_dry_run_prints_steps_and_resources_and_touches_nothing(arch, tmp_path, capsys):
    stack = tmp_path / "cdk.tf.json"
    stack.write_text(json.dumps(synth(example_config("default")).doc))

    def no_aws(service, region):
        raise AssertionError(f"dry run created a {service} client")

    assert drill.main(["--region", "secondary", "--stack-json", str(stack), "--dry-run"], clients=no_aws) == 0
    out = capsys.readouterr().out
    assert "DRY RUN" in out and "/tap/dev/drain in us-west-2" in out and "route53:GetHealthCheckStatus" in out
    assert "Writes (single-writer): the writer is the first of us-east-1, us-west-2" in out


def test_bad_inputs_are_config_errors(arch, tmp_path, capsys):
    with pytest.raises(ConfigError) as err:
        drill.plan_drill(arch, {"custom_domain_url": "api.example.com"}, "primary")
    assert {"outputs.primary_health_check_id", "outputs.custom_domain_url"} <= set(err.value.paths)
    no_dns = model.from_document(synth(with_changes(example_config("minimal"), features={"dns": False})).doc)
    with pytest.raises(ConfigError) as err:
        drill.plan_drill(no_dns, {}, "primary")
    assert "features.dns" in err.value.paths
    stack = tmp_path / "cdk.tf.json"
    stack.write_text(json.dumps(synth(example_config("default")).doc))
    assert drill.main(["--region", "primary", "--stack-json", str(stack)]) == 2
    assert "--outputs" in capsys.readouterr().err


def test_outputs_files_in_every_shape_terraform_and_cdktf_write(tmp_path):
    shapes = {
        "terraform": {"primary_health_check_id": {"value": "abc", "type": "string", "sensitive": False}},
        "cdktf": {"tap-dev": {"primary_health_check_id": "abc"}},
        "flat": {"primary_health_check_id": "abc"},
    }
    for name, content in shapes.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(content))
        assert drill.read_outputs(path) == {"primary_health_check_id": "abc"}, name
