"""Gradual releases of the API function in one region: CodeDeploy shifts the alias, alarms roll it back.

``tapinfra release`` (tapinfra/operator/release.py) starts a deployment in this region's group;
CodeDeploy moves the alias's traffic to the new version step by step (``release.strategy``) and
moves it back on its own when a deployment fails or one of the group's alarms fires: the API's 5xx
rate, p99 latency, the function's error rate (all versions behind the alias) and, added here, the
error rate and p99 duration of the version Terraform published last (the ``ExecutedVersion``
dimension), which is the version a release moves to.
"""

from __future__ import annotations

from typing import Optional

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from tapinfra.config import MonitoringConfig, ReleaseConfig
from tapinfra.constructs.function import ApiFunction
from tapinfra.constructs.monitoring import API_5XX, API_LATENCY, LAMBDA_ERRORS, AlarmSpec, RegionMonitor, alarm_doc
from tapinfra.policy import Condition, Statement, service_role
from tapinfra.provider import aws
from tapinfra.region import Region
from tapinfra.rollout import ROLLBACK_EVENTS, deployment_config_name

NEW_VERSION_ERRORS = alarm_doc("release-error-rate", "errors / invocations × 100 of the newest version exceeds `lambda_error_rate_percent` (1-minute periods, 3 of them)",
                               "the version being released fails: CodeDeploy rolls it back", "`release.enabled`")
NEW_VERSION_DURATION = alarm_doc("release-p99-duration", "p99 duration of the newest version exceeds `api_p99_latency_ms` (1-minute periods, 3 of them)",
                                 "the version being released is slow: CodeDeploy rolls it back", "`release.enabled`")
# The per-version alarms judge a release within minutes, not within the stack's alarm period.
RELEASE_ALARM_PERIOD_SECONDS, RELEASE_ALARM_EVALUATION_PERIODS = 60, 3
# The core alarms that also stop a release (the alias's whole traffic), by name stem.
CORE_ROLLBACK_ALARMS = (API_5XX.key, LAMBDA_ERRORS.key, API_LATENCY.key)


class Release(Construct):
    """One region's CodeDeploy application, deployment group (and custom config), service role and
    the newest version's rollback alarms.

    :param region: where the function runs.
    :param settings: ``release`` (strategy, percent, interval).
    :param monitoring: thresholds of the newest version's alarms (``lambda_error_rate_percent``,
        ``api_p99_latency_ms``).
    :param function: the API function; its alias must be built with ``released=True``.
    :param monitor: the region's collector: the core alarms the group watches are read from it
        (build this after the core alarms), and the per-version alarms are added to it.

    The service role may do what CodeDeploy does in a Lambda deployment and nothing else: read
    and move this function's alias, read its provisioned concurrency, read the group's alarms.
    It is the actions of AWS's managed AWSCodeDeployRoleForLambda narrowed to these resources;
    the managed policy's S3 (AppSpec files in S3), SNS (triggers) and hook-invoke permissions
    are not needed: the release passes its AppSpec inline and the group has no triggers or hooks.
    """

    def __init__(self, scope: Construct, id_: str, *, region: Region, settings: ReleaseConfig,
                 monitoring: MonitoringConfig, function: ApiFunction, monitor: RegionMonitor) -> None:
        super().__init__(scope, id_)
        p, namer = region.provider, region.namer
        qualified = function.qualified_name  # "<function>:<alias>", literal
        alias = qualified.rsplit(":", 1)[1]
        newest = function.version  # the version a release moves to: only its traffic (ExecutedVersion)
        here = f" ({region.name})"
        timing = dict(scope=self, period_seconds=RELEASE_ALARM_PERIOD_SECONDS, evaluation_periods=RELEASE_ALARM_EVALUATION_PERIODS)
        own = [
            monitor.add(AlarmSpec(
                NEW_VERSION_ERRORS, "Errors of the newest function version, percent of its invocations (rolls a release back)" + here,
                monitoring.lambda_error_rate_percent, "notBreaching", id="new-version-error-rate",
                expression="IF(invocations > 0, 100 * errors / invocations, 0)",
                inputs={"errors": function.metric_errors(version=newest), "invocations": function.metric_invocations(version=newest)},
                **timing)),
            monitor.add(AlarmSpec(
                NEW_VERSION_DURATION, "p99 duration in ms of the newest function version (rolls a release back)" + here,
                monitoring.api_p99_latency_ms, "notBreaching", id="new-version-p99-duration",
                metric=function.metric_duration("p99", version=newest), **timing)),
        ]
        self.alarms = [monitor.alarms[key] for key in CORE_ROLLBACK_ALARMS] + own
        self.alarm_names: list[str] = [a.alarm_name for a in self.alarms]

        self.application = aws.codedeploy_app.CodedeployApp(
            self, "application", provider=p, name=namer.name("api", "codedeploy"), compute_platform="Lambda")
        self.config_name = deployment_config_name(settings)
        if self.config_name is None:
            self.config_name = self._custom_config(region, settings).deployment_config_name
        alias_arn = region.arn("lambda", f"function:{qualified}")
        self.role, self.role_policy = service_role(
            self, "service-role", provider=p, name=namer.name("api-release", "iam_role"),
            services=["codedeploy.amazonaws.com"],
            conditions=[Condition("StringEquals", "aws:SourceAccount", [region.account_id])],
            statements=[
                Statement(sid="ShiftTheAlias", actions=["lambda:GetAlias", "lambda:UpdateAlias"], resources=[alias_arn]),
                Statement(sid="ReadTheAliasProvisionedConcurrency", actions=["lambda:GetProvisionedConcurrencyConfig"],
                          resources=[alias_arn]),
                Statement(sid="ReadTheRollbackAlarms", actions=["cloudwatch:DescribeAlarms"],
                          resources=[a.arn for a in self.alarms]),
            ])
        g = aws.codedeploy_deployment_group
        self.group = g.CodedeployDeploymentGroup(
            self, "deployment-group", provider=p,
            app_name=self.application.name,
            deployment_group_name=namer.name(f"api-{alias}", "codedeploy"),
            service_role_arn=self.role.arn,
            deployment_config_name=self.config_name,
            deployment_style=g.CodedeployDeploymentGroupDeploymentStyle(
                deployment_option="WITH_TRAFFIC_CONTROL", deployment_type="BLUE_GREEN"),
            auto_rollback_configuration=g.CodedeployDeploymentGroupAutoRollbackConfiguration(
                enabled=True, events=list(ROLLBACK_EVENTS)),
            # An alarm CodeDeploy cannot read stops the release (ignore_poll_alarm_failure false).
            alarm_configuration=g.CodedeployDeploymentGroupAlarmConfiguration(
                enabled=True, alarms=self.alarm_names, ignore_poll_alarm_failure=False),
            depends_on=[self.role_policy],
        )
        self.application_name: str = self.application.name
        self.group_name: str = self.group.deployment_group_name
        self._where = {"region": region.name, "function_name": function.function_name, "alias_name": function.alias_name}

    def _custom_config(self, region: Region, settings: ReleaseConfig):
        """A canary or linear config AWS does not predefine. Its name says its shape, so a change of
        shape is a new config, created before the old one goes (a group's config cannot be deleted)."""
        c = aws.codedeploy_deployment_config
        kind = "TimeBasedCanary" if settings.strategy == "canary" else "TimeBasedLinear"
        timing = dict(interval=settings.interval_minutes, percentage=settings.percent)
        routing = c.CodedeployDeploymentConfigTrafficRoutingConfig(
            type=kind,
            time_based_canary=c.CodedeployDeploymentConfigTrafficRoutingConfigTimeBasedCanary(**timing) if kind == "TimeBasedCanary" else None,
            time_based_linear=c.CodedeployDeploymentConfigTrafficRoutingConfigTimeBasedLinear(**timing) if kind == "TimeBasedLinear" else None,
        )
        return c.CodedeployDeploymentConfig(
            self, "deployment-config", provider=region.provider,
            deployment_config_name=region.namer.name(
                f"api-{settings.strategy}-{settings.percent}pct-{settings.interval_minutes}min", "codedeploy"),
            compute_platform="Lambda", traffic_routing_config=routing,
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )

    def output(self) -> dict:
        """What ``tapinfra release`` reads of this region (the ``<role>_release`` output)."""
        return {**self._where, "application": self.application_name, "deployment_group": self.group_name,
                "deployment_config": self.config_name, "alarms": self.alarm_names}
