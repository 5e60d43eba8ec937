"""``drill --experiment`` on moto: FIS templates, experiments, the switches and the health-check calls
are real (moto) API calls; Route 53's verdict and DNS follow the running experiment (moto runs no
fault), and time is a fake clock."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from moto.moto_api import state_manager

from tapinfra.cli.exits import InputError
from tapinfra.constructs.chaos import REPLICATION_PAUSED, output_name
from tapinfra.operator import drill, experiment, model
from tests.operator.test_operator_drill import DOMAIN, FakeTime, World
from tests.synth import example_config, synth

INJECTING = ("pending", "initiating", "running")  # moto's experiments never reach "stopped" unless told to


@pytest.fixture(scope="module")
def full_arch():
    return model.from_document(synth(example_config("full")).doc)


@pytest.fixture(scope="module")
def stacks(tmp_path_factory):
    """The default and full examples' synthesized JSON, for ``--stack-json`` (no second synth)."""
    folder = tmp_path_factory.mktemp("stacks")
    for name in ("default", "full"):
        (folder / f"{name}.tf.json").write_text(json.dumps(synth(example_config(name)).doc))
    return lambda name: str(folder / f"{name}.tf.json")


class ExperimentWorld(World):
    """A deployed full stack on moto, with each region's FIS template created as synthesized; a region is
    unhealthy while an experiment of its template runs (the fault FIS would inject)."""

    def __init__(self, arch):
        super().__init__(arch)
        self.fis = {role: boto3.client("fis", region_name=region) for role, region in self.regions.items()}
        self.templates = {}
        for role in model.ROLES:
            body = experiment.experiments_in(arch, role)[REPLICATION_PAUSED].body
            action = body["action"][0]
            self.templates[role] = self.fis[role].create_experiment_template(
                clientToken=f"template-{role}", description=body["description"],
                roleArn=f"arn:aws:iam::123456789012:role/tap-chaos-fis-{role}",
                stopConditions=[{"source": s["source"], "value": f"arn:aws:cloudwatch:{self.regions[role]}:123456789012:alarm:{i}"}
                                for i, s in enumerate(body["stop_condition"])],
                targets={"target": {"resourceType": body["target"][0]["resource_type"], "selectionMode": "ALL",
                                    "resourceArns": [f"arn:aws:dynamodb:{self.regions[role]}:123456789012:table/tap-items"]}},
                actions={action["name"]: {"actionId": action["action_id"], "targets": {"Tables": "target"},
                                          "parameters": {p["key"]: p["value"] for p in action["parameter"]}}},
                tags={"Experiment": REPLICATION_PAUSED},
            )["experimentTemplate"]["id"]

    def outputs(self):
        return {**super().outputs(), **{output_name(r, REPLICATION_PAUSED): self.templates[r] for r in model.ROLES}}

    def experiments(self, role):
        return self.fis[role].list_experiments(experimentTemplateId=self.templates[role])["experiments"]

    def draining(self, role):
        return any(e["state"]["status"] in INJECTING for e in self.experiments(role))


@pytest.fixture
def world(full_arch, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    # Experiments stay where FIS puts them (pending) until the drill stops them; a test may let them end.
    state_manager.set_transition(model_name="fis::experiment", transition={"progression": "manual", "times": 10**9})
    try:
        with mock_aws():
            yield ExperimentWorld(full_arch)
    finally:
        state_manager.unset_transition("fis::experiment")


def _drill(world, role="primary", **kw):
    fake = FakeTime()
    plan = experiment.plan_experiment(world.arch, world.outputs(), role, REPLICATION_PAUSED)
    log: list[str] = []
    d = experiment.ExperimentDrill(plan, world.clients, world.resolve, interval=kw.pop("interval", 5),
                                   timeout=kw.pop("timeout", 60), clock=fake.clock, sleep=fake.sleep, log=log.append)
    return d, log


def test_the_plan_names_the_template_from_outputs_and_its_stop_conditions_from_the_stack(world):
    plan = experiment.plan_experiment(world.arch, world.outputs(), "secondary", REPLICATION_PAUSED)
    assert plan.template_id == world.templates["secondary"]
    assert plan.action_ids == ("aws:dynamodb:global-table-pause-replication",) and plan.duration == "PT10M"
    assert len(plan.stop_alarms) == 2 and all("aws_cloudwatch_metric_alarm.secondary-alarms_" in a for a in plan.stop_alarms)


def test_an_experiment_drill_starts_measures_and_stops_the_experiment(world):
    d, log = _drill(world)
    result = d.run()
    assert result.completed and result.time_to_failover == 0 and result.time_to_recover == 0
    (started,) = world.experiments("primary")
    assert started["id"] == result.experiment_id and started["tags"] == {"StartedBy": "tapinfra drill"}
    assert result.final_status in ("stopping", "stopped"), "the drill stopped the experiment"
    assert world.experiments("secondary") == [], "the peer's template is left alone"
    assert world.switch("primary") == "off", "the drain switch is not the impairment here"
    assert any(f"FIS experiment {REPLICATION_PAUSED} ({result.experiment_id}) in {world.regions['primary']}: started" in line
               for line in log)


def test_a_running_experiment_refuses_a_second_drill(world):
    world.fis["primary"].start_experiment(clientToken="someone-else", experimentTemplateId=world.templates["primary"])
    d, _ = _drill(world)
    with pytest.raises(drill.DrillError, match="already pending.*a drill is in progress"):
        d.run()
    assert len(world.experiments("primary")) == 1, "no second experiment was started"


def test_an_experiment_that_ends_by_itself_ends_the_failover_wait(world):
    world.stale_dns = True   # traffic would never move: only the experiment's end stops the wait
    state_manager.set_transition(model_name="fis::experiment", transition={"progression": "immediate"})
    d, log = _drill(world, interval=5, timeout=60)
    result = d.run()
    assert result.time_to_failover is None and not result.completed
    assert [o.phase for o in result.observations].count("failover") == 1, "one poll, then the experiment had ended"
    assert result.final_status == "completed"
    assert any("completed by itself" in line for line in log)


def test_ctrl_c_mid_poll_stops_the_experiment(world):
    d, log = _drill(world)
    calls_before_starting = 2   # the regional name and the baseline answer
    world.on_resolve = lambda n: (_ for _ in ()).throw(KeyboardInterrupt()) if n == calls_before_starting + 2 else None
    with pytest.raises(KeyboardInterrupt):
        d.run()
    (started,) = world.experiments("primary")
    assert started["state"]["status"] in ("stopping", "stopped")
    assert any("stopped (on exit)" in line for line in log)


def test_a_stack_without_the_chaos_module_is_refused_with_exit_2(stacks, capsys):
    code = drill.main(["--region", "primary", "--stack-json", stacks("default"), "--dry-run", "--experiment", REPLICATION_PAUSED])
    err = capsys.readouterr().err
    assert code == 2 and "--experiment" in err and "chaos.enabled: true" in err and "Traceback" not in err


def test_an_unknown_experiment_lists_the_allowed_ones_with_exit_2(stacks, capsys):
    code = drill.main(["--region", "secondary", "--stack-json", stacks("full"), "--dry-run", "--experiment", "meteor-strike"])
    err = capsys.readouterr().err
    assert code == 2 and "meteor-strike" in err and REPLICATION_PAUSED in err and "Traceback" not in err


def test_an_outputs_file_without_the_template_id_is_refused(world, tmp_path):
    outputs = {k: v for k, v in world.outputs().items() if "chaos" not in k}
    with pytest.raises(InputError) as raised:
        experiment.plan_experiment(world.arch, outputs, "primary", REPLICATION_PAUSED)
    assert raised.value.problems[0].path == f"outputs.{output_name('primary', REPLICATION_PAUSED)}"


def test_dry_run_prints_the_steps_and_touches_nothing(stacks, capsys):
    def no_aws(service, region):
        raise AssertionError(f"dry run created a {service} client")

    code = drill.main(["--region", "primary", "--stack-json", stacks("full"), "--dry-run", "--experiment", REPLICATION_PAUSED],
                      clients=no_aws)
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("DRY RUN: nothing is changed.")
    assert "start the experiment replication-paused" in out and "stop the experiment" in out
    assert "aws:dynamodb:global-table-pause-replication" in out and "fis:StopExperiment" in out


def test_the_command_line_runs_the_drill_and_reports_the_experiment(world, stacks, tmp_path, capsys, monkeypatch):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({k: {"value": v} for k, v in world.outputs().items()}))
    monkeypatch.setattr(experiment.ExperimentDrill, "__init__", _fake_clock_init(experiment.ExperimentDrill.__init__))
    code = drill.main(["--region", "primary", "--stack-json", stacks("full"), "--outputs", str(path),
                       "--experiment", REPLICATION_PAUSED, "--interval", "1", "--timeout", "5"], world.clients, world.resolve)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "time to fail over: 0 s" in out and "experiment " in out and "(Experiment is stopp" in out


def _fake_clock_init(original):
    def init(self, plan, clients, resolver, **options):
        fake = FakeTime()
        original(self, plan, clients, resolver, **{**options, "clock": fake.clock, "sleep": fake.sleep})
    return init
