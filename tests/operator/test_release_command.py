"""``tapinfra release`` on moto: the function versions, the alias, the alarms and the CodeDeploy
application and group are moto's; what moto does not do (a deployment that shifts traffic and
stops on an alarm, StopDeployment, the group's alarm configuration, provisioned concurrency) is a
small fake on top that moves moto's alias and reads moto's alarm states. Time is a fake clock."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest
from moto import mock_aws

from tapinfra.operator import release
from tapinfra.rollout import ALL_AT_ONCE

REGIONS = {"primary": "us-east-1", "secondary": "us-west-2"}
FUNCTION, ALIAS, APP, GROUP = "tap-api-dev", "live", "tap-api-dev", "tap-api-live-dev"
ALARMS = ("tap-api-5xx-rate-dev", "tap-lambda-error-rate-dev", "tap-api-p99-latency-dev",
          "tap-release-error-rate-dev", "tap-release-p99-duration-dev")
CANARY = "CodeDeployDefault.LambdaCanary10Percent10Minutes"
POLLS_TO_FINISH = 3   # get_deployment calls a canary takes in the fake: start, 10%, done


def _zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(zipfile.ZipInfo("app.py", date_time=(2020, 1, 1, 0, 0, 0)), f"def handler(event, context):\n    return {text!r}\n")
    return buffer.getvalue()


class FakeLambda:
    """moto's Lambda, plus the alias's provisioned concurrency moto does not implement."""

    def __init__(self, client, world):
        self._client, self._world = client, world

    def __getattr__(self, name):
        return getattr(self._client, name)

    def get_provisioned_concurrency_config(self, FunctionName, Qualifier):
        statuses = self._world.provisioned
        status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        return {"RequestedProvisionedConcurrentExecutions": 2, "Status": status,
                "AvailableProvisionedConcurrentExecutions": 2 if status == "READY" else 0}


class FakeCodeDeploy:
    """moto's CodeDeploy (it checks the application and group and keeps the revision) plus what it lacks:
    a deployment that moves moto's alias step by step, stops and rolls back when one of the group's
    alarms is in ALARM in moto's CloudWatch, StopDeployment, and the group's alarm configuration."""

    def __init__(self, role, client, lam, cloudwatch, world):
        self.role, self._client, self._lam, self._cw, self._world = role, client, lam, cloudwatch, world
        self.deployments: dict[str, dict] = {}

    def __getattr__(self, name):
        return getattr(self._client, name)

    def get_deployment_group(self, applicationName, deploymentGroupName):
        info = self._client.get_deployment_group(applicationName=applicationName, deploymentGroupName=deploymentGroupName)
        info["deploymentGroupInfo"]["alarmConfiguration"] = self._world.alarm_configuration[self.role]
        return info

    def create_deployment(self, **kwargs):
        deployment_id = self._client.create_deployment(**kwargs)["deploymentId"]
        (resource,) = json.loads(kwargs["revision"]["appSpecContent"]["content"])["Resources"]
        props = next(iter(resource.values()))["Properties"]
        config = kwargs.get("deploymentConfigName") or CANARY
        self.deployments[deployment_id] = {"props": props, "config": config, "polls": 0, "status": "Created"}
        self._world.started.append((self.role, props["CurrentVersion"], props["TargetVersion"], config))
        return {"deploymentId": deployment_id}

    def _alias(self, version, weights=None):
        self._lam.update_alias(FunctionName=FUNCTION, Name=ALIAS, FunctionVersion=version,
                               RoutingConfig={"AdditionalVersionWeights": weights or {}})
        self._world.traffic.append((self.role, version, dict(weights or {})))

    def get_deployment(self, deploymentId):
        d = self.deployments[deploymentId]
        if d["status"] not in ("Succeeded", "Stopped"):
            d["polls"] += 1
            self._world.on_poll(self.role, d)
            props = d["props"]
            alarms = self._cw.describe_alarms(AlarmNames=list(ALARMS))["MetricAlarms"]
            if any(a["StateValue"] == "ALARM" for a in alarms):
                self._alias(props["CurrentVersion"])
                d.update(status="Stopped", errorInformation={"code": "ALARM_ACTIVE", "message": "One or more alarms have been activated."},
                         rollbackInfo={"rollbackMessage": "rolled back on alarm"})
            elif d["config"] == ALL_AT_ONCE or d["polls"] >= POLLS_TO_FINISH:
                self._alias(props["TargetVersion"])
                d["status"] = "Succeeded"
            elif d["polls"] == 2:
                self._alias(props["CurrentVersion"], {props["TargetVersion"]: 0.1})
                d["status"] = "InProgress"
            else:
                d["status"] = "InProgress"
        return {"deploymentInfo": {"deploymentId": deploymentId, "status": d["status"],
                                   "errorInformation": d.get("errorInformation", {}), "rollbackInfo": d.get("rollbackInfo", {})}}

    def stop_deployment(self, deploymentId, autoRollbackEnabled):
        d = self.deployments[deploymentId]
        self._world.stops.append((self.role, autoRollbackEnabled))
        if autoRollbackEnabled:
            self._alias(d["props"]["CurrentVersion"])
        d.update(status="Stopped", errorInformation={"code": "MANUAL_STOP", "message": "stopped on request"})
        return {"status": "Succeeded", "statusMessage": "stopped"}


class World:
    """Both regions deployed: versions 1 and 2 published, the alias on 1, the alarms OK, the group watching them."""

    def __init__(self, tmp_path):
        role_arn = boto3.client("iam", region_name="us-east-1").create_role(
            RoleName="api", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        self.started, self.traffic, self.stops = [], [], []
        self.provisioned = ["READY"]
        self.poll_hooks = []
        self.alarm_configuration = {}
        self.lam, self.cw, self.cd = {}, {}, {}
        for role, region in REGIONS.items():
            lam = boto3.client("lambda", region_name=region)
            lam.create_function(FunctionName=FUNCTION, Runtime="python3.12", Role=role_arn, Handler="app.handler",
                                Code={"ZipFile": _zip("one")}, Publish=True)
            lam.update_function_code(FunctionName=FUNCTION, ZipFile=_zip("two"), Publish=True)
            lam.create_alias(FunctionName=FUNCTION, Name=ALIAS, FunctionVersion="1")
            cw = boto3.client("cloudwatch", region_name=region)
            for name in ALARMS:
                cw.put_metric_alarm(AlarmName=name, Namespace="AWS/Lambda", MetricName="Errors", Statistic="Sum",
                                    Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold")
            cd = boto3.client("codedeploy", region_name=region)
            cd.create_application(applicationName=APP, computePlatform="Lambda")
            self.alarm_configuration[role] = {"enabled": True, "ignorePollAlarmFailure": False,
                                              "alarms": [{"name": a} for a in ALARMS]}
            cd.create_deployment_group(
                applicationName=APP, deploymentGroupName=GROUP, serviceRoleArn=role_arn, deploymentConfigName=CANARY,
                alarmConfiguration=self.alarm_configuration[role],
                autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM",
                                                                       "DEPLOYMENT_STOP_ON_REQUEST"]},
                deploymentStyle={"deploymentOption": "WITH_TRAFFIC_CONTROL", "deploymentType": "BLUE_GREEN"})
            fake_lam = FakeLambda(lam, self)
            self.lam[role], self.cw[role] = fake_lam, cw
            self.cd[role] = FakeCodeDeploy(role, cd, lam, cw, self)
        self.outputs = tmp_path / "outputs.json"
        self.outputs.write_text(json.dumps({f"{role}_release": {"sensitive": False, "type": "object", "value": {
            "region": region, "function_name": FUNCTION, "alias_name": ALIAS, "application": APP,
            "deployment_group": GROUP, "deployment_config": CANARY, "alarms": list(ALARMS)}} for role, region in REGIONS.items()}
            | {"table_name": {"value": "tap-items-dev"}}))
        self.calls = []

    def clients(self, service, region):
        role = next(r for r, name in REGIONS.items() if name == region)
        self.calls.append((service, region))
        return {"lambda": self.lam, "codedeploy": self.cd, "cloudwatch": self.cw}[service][role]

    def on_poll(self, role, deployment):
        for hook in self.poll_hooks:
            hook(role, deployment)

    def alias(self, role):
        a = self.lam[role].get_alias(FunctionName=FUNCTION, Name=ALIAS)
        return a["FunctionVersion"], (a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}

    def fire(self, role, name=ALARMS[3]):
        self.cw[role].set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="forced by the test")

    def run(self, *args, sleep=lambda s: None):
        return release.main(["--outputs", str(self.outputs), "--interval", "1", *args], self.clients, sleep=sleep)


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield World(tmp_path)


def test_a_release_shifts_traffic_gradually_secondary_first_and_ends_on_the_new_version(world, capsys):
    assert world.run() == 0
    assert [(r, cur, tgt) for r, cur, tgt, _ in world.started] == [("secondary", "1", "2"), ("primary", "1", "2")]
    # the traffic configuration CodeDeploy was asked for: 10% on version 2 first, in each region
    assert ("secondary", "1", {"2": 0.1}) in world.traffic and ("primary", "1", {"2": 0.1}) in world.traffic
    assert world.alias("primary") == ("2", {}) and world.alias("secondary") == ("2", {})
    out = capsys.readouterr().out
    assert "traffic 1 90%, 2 10%" in out and "released: secondary 2, primary 2" in out
    assert "watches " + ", ".join(sorted(ALARMS)) in out


def test_a_forced_alarm_in_the_primary_rolls_it_back_and_moves_the_secondary_back(world, capsys):
    world.poll_hooks.append(lambda role, d: role == "primary" and d["polls"] == 2 and world.fire("primary"))
    assert world.run() == 1
    assert world.alias("primary") == ("1", {}) and world.alias("secondary") == ("1", {})
    # the secondary had released: it goes back to 1 at once, through CodeDeploy
    assert world.started[-1] == ("secondary", "2", "1", ALL_AT_ONCE)
    out = capsys.readouterr().out
    assert "primary (us-east-1): rolled back: ALARM_ACTIVE" in out and "not released: secondary 1, primary 1" in out


def test_a_forced_alarm_in_the_secondary_rolls_it_back_and_the_primary_never_starts(world):
    world.poll_hooks.append(lambda role, d: d["polls"] == 2 and world.fire(role, ALARMS[0]))
    assert world.run() == 1
    assert [r for r, *_ in world.started] == ["secondary"]
    assert world.alias("secondary") == ("1", {}) and world.alias("primary") == ("1", {})


def test_ctrl_c_stops_the_running_deployment_with_rollback_and_both_regions_end_on_one_version(world, capsys):
    def sleep(seconds):
        if world.started and world.started[-1][0] == "primary" and not world.stops:
            raise KeyboardInterrupt
    assert world.run(sleep=sleep) == 1
    assert world.stops == [("primary", True)]
    assert world.alias("primary") == ("1", {}) and world.alias("secondary") == ("1", {})
    assert "interrupted: stopping the release with rollback" in capsys.readouterr().out


def test_a_firing_alarm_refuses_the_release_before_anything_changes(world, capsys):
    world.fire("primary", ALARMS[2])
    assert world.run() == 1
    assert world.started == []
    assert f"{ALARMS[2]} already in ALARM" in capsys.readouterr().out


def test_a_group_that_does_not_watch_the_alarms_refuses_the_release(world, capsys):
    world.alarm_configuration["secondary"] = {"enabled": True, "alarms": [{"name": ALARMS[0]}]}
    assert world.run() == 1
    assert world.started == [] and "does not watch tap-lambda-error-rate-dev" in capsys.readouterr().out


def test_regions_whose_targets_carry_different_code_refuse_the_release(world, capsys):
    world.lam["secondary"].update_function_code(FunctionName=FUNCTION, ZipFile=_zip("three"), Publish=True)
    assert world.run() == 1
    assert world.started == [] and "carry different code" in capsys.readouterr().out


def test_a_release_waits_for_the_alias_provisioned_concurrency(world, capsys):
    world.provisioned[:] = ["IN_PROGRESS", "IN_PROGRESS", "READY"]
    assert world.run() == 0
    out = capsys.readouterr().out
    assert "provisioned concurrency 0/2 IN_PROGRESS" in out and "provisioned concurrency 2/2 READY" in out
    assert out.index("provisioned concurrency 2/2 READY") < out.index("deployment ")


def test_a_region_already_on_the_version_is_left_alone(world):
    assert world.run("--version", "1") == 0
    assert world.started == []


def test_dry_run_prints_the_steps_and_calls_no_aws(world, capsys):
    assert world.run("--dry-run") == 0
    out = capsys.readouterr().out
    assert world.calls == []
    assert out.index("1. secondary (us-west-2)") < out.index("2. primary (us-east-1)")
    assert "StopDeployment with autoRollbackEnabled=True" in out and ALARMS[3] in out


def test_dry_run_without_outputs_prints_the_steps():
    assert release.main(["--dry-run"], lambda *a: pytest.fail("no client in a dry run")) == 0


@pytest.mark.parametrize("argv, field, allowed", [
    ([], "--outputs", "terraform output -json"),
    (["--timeout", "0"], "--timeout", "a positive, finite number"),
    (["--version", "9"], "--version", "a published version of tap-api-dev in us-west-2 (newest: 2)"),
])
def test_bad_input_exits_2_naming_the_field_the_value_and_what_is_allowed(world, capsys, argv, field, allowed):
    prefix = ["--outputs", str(world.outputs)] if argv else []
    assert release.main([*prefix, *argv], world.clients) == 2
    err = capsys.readouterr().err
    assert field in err and allowed in err and "Traceback" not in err
    assert world.started == []


def test_a_version_that_is_no_number_is_a_usage_error(world, capsys):
    with pytest.raises(SystemExit) as exit_:
        world.run("--version", "$LATEST")
    assert exit_.value.code == 2 and "never $LATEST" in capsys.readouterr().err


def test_outputs_without_the_release_say_which_output_and_what_is_allowed(world, capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"primary_release": {"value": {"region": "us-east-1"}}}))
    assert release.main(["--outputs", str(bad)], world.clients) == 2
    err = capsys.readouterr().err
    assert "outputs.secondary_release" in err and "outputs.primary_release.function_name" in err
    assert "release.enabled is true" in err


def test_emulator_gap_probe_moto_codedeploy_lacks_what_a_rehearsal_needs():
    """The gap list's probe: moto 5.2.5 cannot apply and destroy the release resources (no
    CreateDeploymentConfig, DeleteDeploymentGroup, DeleteApplication, StopDeployment; the group's
    alarm configuration reads back empty; deployments never leave Created). When this fails, moto
    has caught up: drop the gap."""
    with mock_aws():
        cd = boto3.client("codedeploy", region_name="us-east-1")
        cd.create_application(applicationName="a", computePlatform="Lambda")
        cd.create_deployment_group(applicationName="a", deploymentGroupName="g", serviceRoleArn="arn:aws:iam::123456789012:role/r",
                                   alarmConfiguration={"enabled": True, "alarms": [{"name": "x"}]})
        assert cd.get_deployment_group(applicationName="a", deploymentGroupName="g")["deploymentGroupInfo"]["alarmConfiguration"] == {}
        for call, kwargs in (("delete_deployment_group", {"applicationName": "a", "deploymentGroupName": "g"}),
                             ("delete_application", {"applicationName": "a"}),
                             ("create_deployment_config", {"deploymentConfigName": "c", "computePlatform": "Lambda"})):
            with pytest.raises(NotImplementedError):
                getattr(cd, call)(**kwargs)
