"""Failures rehearsed on purpose (optional module): FIS experiment templates in one region.

One experiment per region today, described in :data:`EXPERIMENTS`:

- ``replication-paused``: ``aws:dynamodb:global-table-pause-replication`` on this region's
  replica of the global table, for ``chaos.duration_minutes``. Its stop conditions are the
  region's API 5xx-rate and function error-rate alarms (a paused replica must not break
  serving); not the replication-latency alarm, which a pause trips on purpose. FIS reads stop
  conditions in the experiment's own region, so a template watches its region's alarms.

What hashicorp/aws 5.100.0 cannot express: FIS's Lambda actions (``aws:lambda:invocation-error``,
``-add-delay``), whose action target key ``Functions`` the provider refuses (it accepts
AutoScalingGroups, Buckets, Cluster(s), DBInstances, Instances, ManagedResources, Nodegroups,
Pods, ReplicationGroups, Roles, SpotInstances, Subnets, Tables, Tasks, TransitGateways,
Volumes). An impaired region for this serverless API is a 100% ``invocation-error``; the
network actions (``aws:network:disrupt-connectivity``) need subnets and would cut the
function's AWS calls, not its callers. Until the provider takes ``Functions``, the drain switch
(``tapinfra drill`` without ``--experiment``) is the region impairment the drill rehearses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from constructs import Construct

from tapinfra.config import ChaosConfig
from tapinfra.constructs.logs import log_group
from tapinfra.modules.chaos import REPLICATION_PAUSED, template_id_output
from tapinfra.policy import Condition, Statement, service_role
from tapinfra.provider import aws
from tapinfra.region import Region

FIS = "fis.amazonaws.com"
EXPERIMENT_TAG = "Experiment"  # the drill finds a template's name in this tag (its id in the outputs)


@dataclass(frozen=True)
class Experiment:
    """One kind of experiment: its FIS action, the target it takes, and the alarms (name stems) that stop it."""

    name: str
    action_id: str
    resource_type: str
    target_key: str
    stop_alarms: tuple[str, ...]
    what: str


EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment(REPLICATION_PAUSED, "aws:dynamodb:global-table-pause-replication", "aws:dynamodb:global-table", "Tables",
               ("api-5xx-rate", "lambda-error-rate"), "Pause the global table's replication to and from this region's replica"),
)


def output_name(role: str, experiment: str) -> str:
    """The stack output holding the template id of ``experiment`` in the ``role`` region."""
    return template_id_output(experiment).key(role)


@dataclass(frozen=True)
class ChaosExperimentsProps:
    """What one region's experiments are built from.

    :param region: where the experiments run (FIS is regional, and reads stop conditions in its
        own region). Required.
    :param settings: the ``chaos`` section: the action's duration, log retention. Required.
    :param table_arn: this region's replica of the global table, the experiments' target. Required.
    :param alarm_arns: alarm name stem -> ARN, this region's: each experiment's ``stop_alarms`` are
        looked up here (a missing one is refused: an experiment nothing stops is not built). Required.
    """

    region: Region
    settings: ChaosConfig
    table_arn: str
    alarm_arns: Mapping[str, str]


@dataclass(frozen=True)
class ChaosResult:
    """What outputs, tests and the drill need of one region's experiments."""

    template_ids: Mapping[str, str]     # experiment name -> token of its template id
    role_arn: str
    log_group_name: str


class ChaosExperiments(Construct):
    """``log_group``, the FIS ``role`` and one template per :data:`EXPERIMENTS` in one region, from
    :class:`ChaosExperimentsProps`; ``result`` is what others may use.
    """

    def __init__(self, scope: Construct, id_: str, props: ChaosExperimentsProps) -> None:
        super().__init__(scope, id_)
        self.props = props
        region, settings, table_arn, alarm_arns = props.region, props.settings, props.table_arn, props.alarm_arns
        p, namer, role = region.provider, region.namer, region.role
        missing = sorted({a for e in EXPERIMENTS for a in e.stop_alarms} - set(alarm_arns))
        if missing:
            raise ValueError(f"chaos: the region's alarms {missing} do not exist (the experiments' stop conditions)")
        # Ids start with the region's role: Terraform addresses never depend on this construct's nesting.
        # /aws/vendedlogs/: FIS delivers as a vended log, whose resource policy stays small under that prefix.
        self.log_group = log_group(scope, f"{role}-chaos-log-group", region=region,
                                   name=f"/aws/vendedlogs/fis/{namer.name('chaos', 'log_group')}",
                                   retention_days=settings.log_retention_days)
        # Only FIS experiments of this account and region may use the role.
        self.role, self.role_policy = service_role(
            scope, f"{role}-chaos-role", provider=p, name=namer.name("chaos-fis", "iam_role"), services=[FIS],
            conditions=[Condition("StringEquals", "aws:SourceAccount", [region.account_id]),
                        Condition("ArnLike", "aws:SourceArn", [region.arn("fis", "experiment/*")])],
            statements=self.statements(table_arn))

        duration = f"PT{settings.duration_minutes}M"
        t = aws.fis_experiment_template
        targets = {"aws:dynamodb:global-table": [table_arn]}
        self.templates = {}
        for e in EXPERIMENTS:
            self.templates[e.name] = t.FisExperimentTemplate(
                scope, f"{role}-chaos-{e.name}", provider=p,
                description=f"{e.what} ({region.name}, {settings.duration_minutes} min)",
                role_arn=self.role.arn,
                action=[t.FisExperimentTemplateAction(
                    name=e.name.replace("-", "_"), action_id=e.action_id, description=e.what,
                    parameter=[t.FisExperimentTemplateActionParameter(key="duration", value=duration)],
                    target=t.FisExperimentTemplateActionTarget(key=e.target_key, value="target"))],
                target=[t.FisExperimentTemplateTarget(name="target", resource_type=e.resource_type, selection_mode="ALL",
                                                      resource_arns=targets[e.resource_type])],
                stop_condition=[t.FisExperimentTemplateStopCondition(source="aws:cloudwatch:alarm", value=alarm_arns[a])
                                for a in e.stop_alarms],
                log_configuration=t.FisExperimentTemplateLogConfiguration(
                    log_schema_version=2,
                    cloudwatch_logs_configuration=t.FisExperimentTemplateLogConfigurationCloudwatchLogsConfiguration(
                        log_group_arn=f"{self.log_group.arn}:*")),  # FIS wants the ":*" form
                # No target resolved is a failed experiment, not a silent no-op.
                experiment_options=t.FisExperimentTemplateExperimentOptions(
                    account_targeting="single-account", empty_target_resolution_mode="fail"),
                tags={EXPERIMENT_TAG: e.name},
                depends_on=[self.role_policy],
            )
        self.result = ChaosResult(template_ids={n: tpl.id for n, tpl in self.templates.items()}, role_arn=self.role.arn,
                                  log_group_name=self.log_group.name)

    @staticmethod
    def statements(table_arn: str) -> list[Statement]:
        """What FIS does in this region's experiments, and nothing else."""
        return [
            # Pausing replication puts (then removes) a deny statement in the replica's resource policy.
            Statement(sid="PauseThisReplica", actions=["dynamodb:DescribeTable", "dynamodb:GetResourcePolicy",
                                                       "dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy"],
                      resources=[table_arn]),
            # Vended log delivery to the experiments' log group: these calls take no resource.
            Statement(sid="DeliverExperimentLogs", actions=["logs:CreateLogDelivery", "logs:PutResourcePolicy",
                                                            "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"]),
        ]
