"""The API's Lambda function in one region, behind an alias with provisioned concurrency."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Optional, Sequence

from cdktf import ITerraformDependable, TerraformResourceLifecycle
from constructs import Construct

from tapinfra.config import ApiConfig, FunctionConfig, MonitoringConfig, TableConfig
from tapinfra.constructs.events import EventBus
from tapinfra.constructs.monitoring import (CONCURRENCY_WARNING_PERCENT, LAMBDA_ERRORS, LAMBDA_HEADROOM, LAMBDA_SPILLOVER,
                                           LAMBDA_THROTTLES, AlarmSpec, DashboardRow, Metric, MissingData, alarm_doc)
from tapinfra.constructs.packaging import CodePackage
from tapinfra.constructs.secure_function import SecureFunction
from tapinfra.constructs.table import GlobalTable
from tapinfra.function_environment import api_function_environment
from tapinfra.function_environment import drain_parameter_name as drain_parameter_path
from tapinfra.runtime import ANY_REGION, SINGLE_WRITER, WRITE_CONFLICTS_METRIC, Env
from tapinfra.policy import Statement
from tapinfra.provider import aws
from tapinfra.region import Region

if TYPE_CHECKING:
    from tapinfra.constructs.network import NetworkPlacement

WRITE_CONFLICTS = alarm_doc("write-conflicts", "a replicated write overwrote a version not older than its own",
                            "two regions wrote one item within the replication lag: one write was lost",
                            "`table.write_mode: any-region`")
POWERTOOLS_ACCOUNT = "017000801446"  # AWS's account for the public Powertools layers


def powertools_layer_arn(region: Region, settings: FunctionConfig) -> str:
    runtime = settings.runtime.replace(".", "")
    return region.arn("lambda", f"layer:AWSLambdaPowertoolsPythonV3-{runtime}-x86_64:{settings.powertools_layer_version}",
                      account=POWERTOOLS_ACCOUNT)


class ApiFunction(Construct):
    """``function`` (published), ``alias`` with provisioned concurrency, its log group, DLQ and role.

    :param region: where it runs.
    :param package: the application's code, shared by both regions.
    :param handler: the application's entry point (``module.function`` in the package).
    :param table: the global table (its copy in this region is used).
    :param bus: this region's event bus.
    :param tenant_key_ids: tenant -> API key id in this region (tokens).
    :param drain: this region's drain switch, or None.
    :param network: the private subnets and security group to run in (networking module), or None.
    :param extra_statements: what the modules' code in this function may do besides (e.g. read the
        database's secret), default none; appended to ``statements``.
    :param extra_environment: the modules' variables (e.g. the database secret's ARN), default none.
    :param released: default False: Terraform points the alias at each new version. True: CodeDeploy
        does (``release.enabled``, :class:`tapinfra.constructs.release.Release`), so Terraform ignores
        the alias's version and routing.

    The role may do exactly what the code does: item actions on this region's table,
    PutEvents on this region's bus, use this region's key, write its own log group, send
    to its DLQ, read the drain parameter, and write X-Ray traces; in a VPC, what Lambda needs
    to attach it; and what the modules add. ``statements`` lists all of it.

    The write model (``table_settings.write_mode``): in single-writer mode the function may
    also write the peer region's copy of the table, use the peer's key (that copy and the peer's
    SecureString switch are encrypted with it) and read the peer's drain switch, since the
    writer is whichever of the two the switches name. In any-region mode it needs nothing of
    the peer; instead it reads its own copy's stream (``write_conflicts``, an event source
    mapping filtered to replicated writes) and counts writes replication overwrote.

    Monitoring: ``metric_*()`` are the alias's metrics (``Resource`` ``<function>:<alias>``: the
    traffic API Gateway sends, whichever version serves it), or one version's behind it;
    :meth:`alarm_specs` and :meth:`dashboard_rows` are what the region's collector watches.
    """

    def __init__(self, scope: Construct, id_: str, *, region: Region, settings: FunctionConfig, api: ApiConfig,
                 table_settings: TableConfig, package: CodePackage, handler: str, table: GlobalTable, bus: EventBus,
                 tenant_key_ids: Mapping[str, str], drain: Optional["DrainSwitch"],
                 network: Optional["NetworkPlacement"] = None, extra_statements: Sequence[Statement] = (),
                 extra_environment: Optional[Mapping[str, str]] = None, released: bool = False) -> None:
        super().__init__(scope, id_)
        p, namer = region.provider, region.namer
        self.name = namer.name("api", "lambda")
        secure = SecureFunction(self, region=region, name=self.name, log_retention_days=settings.log_retention_days,
                                dead_letter_queue_name=namer.name("api-dlq", "sqs"),
                                dead_letter_retention_days=settings.dlq_retention_days, network=network)
        self.log_group, self.dead_letter_queue = secure.log_group, secure.dead_letter_queue
        statements = [
            table.grant_items(region),
            bus.grant_put_events("PublishToThisRegionsBus"),
            *secure.statements,
        ]
        if drain is not None:
            statements.append(drain.grant_read("ReadDrainSwitch"))
        self.write_mode = table_settings.write_mode
        if self.write_mode == SINGLE_WRITER:
            peer = table.peer_of(region)
            statements.append(table.grant_items(peer, sid="ItemsInThePeerRegionsTable"))
            statements.append(peer.key.grant("UseThePeerRegionsKey"))
            if drain is not None:
                statements.append(drain.in_region(peer).grant_read("ReadThePeerRegionsDrainSwitch"))
        else:
            statements.append(table.grant_stream_read(region, sid="ReadThisRegionsTableStream"))
        statements.extend(secure.network_statements)
        statements.extend(extra_statements)
        self.statements: tuple[Statement, ...] = tuple(statements)
        environment = api_function_environment(
            app=namer.app, environment=namer.environment, table_name=table.name, bus_name=bus.name,
            event_source=bus.source, retention_days=table_settings.item_retention_days, tenant_key_ids=tenant_key_ids,
            drain_parameter=drain.name if drain is not None else "", cors_allowed_origins=api.cors_allowed_origins,
            max_body_bytes=api.max_body_bytes, write_mode=self.write_mode, write_regions=[r.name for r in table.regions],
        )
        self.metrics_namespace = environment[Env.POWERTOOLS_METRICS_NAMESPACE]
        self.service_name = environment[Env.POWERTOOLS_SERVICE_NAME]
        environment.update(extra_environment or {})
        # Published: the alias below points at a version, never at $LATEST.
        self.function = secure.create(
            role_name=namer.name("api", "iam_role"), statements=statements, handler=handler,
            runtime=settings.runtime, memory_mb=settings.memory_mb, timeout_seconds=settings.timeout_seconds,
            reserved_concurrency=settings.reserved_concurrency, package=package,
            layers=[powertools_layer_arn(region, settings)], environment=environment, publish=True,
        )
        self.role, self.role_policy = secure.role, secure.role_policy
        self.function_name: str = self.function.function_name
        self.version: str = self.function.version  # token: the version Terraform published last
        self.alias = aws.lambda_alias.LambdaAlias(
            self, "alias", provider=p,
            name=settings.alias_name,
            function_name=self.function_name,
            function_version=self.version,
            description="What API Gateway invokes; never $LATEST.",
            # released: CodeDeploy moves the alias (tapinfra release); Terraform must not move it back.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["function_version", "routing_config"]) if released else None,
        )
        self.alias_name: str = self.alias.name
        # What an invoker waits for (depends_on) without reading the alias: a stage goes live only once it answers.
        self.alias_dependable: ITerraformDependable = self.alias
        self.provisioned_concurrency = aws.lambda_provisioned_concurrency_config.LambdaProvisionedConcurrencyConfig(
            self, "provisioned-concurrency", provider=p,
            function_name=self.function_name,
            qualifier=self.alias_name,
            provisioned_concurrent_executions=settings.provisioned_concurrency,
        )
        self.invoke_arn: str = self.alias.invoke_arn
        self._region = region
        self._reserved_concurrency = settings.reserved_concurrency
        self.write_conflicts = None
        if self.write_mode == ANY_REGION:
            self.write_conflicts = self._conflict_stream(region, table, secure.dead_letter_queue_arn)
        # The same URI from names alone: a consumer that must not depend on the function
        # resource (the API's deployment) uses this one.
        self.qualified_name = f"{self.name}:{settings.alias_name}"  # literal: safe to hash at synth
        function_arn = region.arn("lambda", f"function:{self.qualified_name}")
        self.alias_invoke_uri = (f"arn:{region.partition}:apigateway:{region.name}:lambda:path/2015-03-31/"
                                 f"functions/{function_arn}/invocations")

    def _conflict_stream(self, region: Region, table: GlobalTable, dead_letter_queue_arn: str):
        """The stream of this region's copy, delivering only writes replicated from elsewhere
        (``updated_region`` names another region): the function counts those that overwrote a
        write made here without having seen it (lambda/conflicts.py)."""
        m = aws.lambda_event_source_mapping
        replicated = {"eventName": ["MODIFY"],
                      "dynamodb": {"NewImage": {"updated_region": {"S": [{"anything-but": [region.name]}]}}}}
        return m.LambdaEventSourceMapping(
            self, "write-conflicts", provider=region.provider,
            function_name=self.alias.arn,
            event_source_arn=table.stream_arn_in(region),
            starting_position="LATEST",
            batch_size=100,
            maximum_batching_window_in_seconds=5,
            maximum_retry_attempts=3,
            bisect_batch_on_function_error=True,
            filter_criteria=m.LambdaEventSourceMappingFilterCriteria(
                filter=[m.LambdaEventSourceMappingFilterCriteriaFilter(pattern=json.dumps(replicated, sort_keys=True))]),
            # A batch that fails every retry is described in the function's dead-letter queue, not dropped silently.
            destination_config=m.LambdaEventSourceMappingDestinationConfig(
                on_failure=m.LambdaEventSourceMappingDestinationConfigOnFailure(destination_arn=dead_letter_queue_arn)),
            depends_on=[self.role_policy],
        )

    def metric(self, name: str, stat: str = "Sum", *, version: Optional[str] = None) -> Metric:
        """The alias's ``AWS/Lambda`` metric ``name`` (default statistic ``Sum``); with ``version``
        (default None: every version behind the alias) only that version's (``ExecutedVersion``)."""
        dimensions = {"FunctionName": self.name, "Resource": self.qualified_name}
        if version is not None:
            dimensions["ExecutedVersion"] = version
        return Metric("AWS/Lambda", name, dimensions, stat)

    def metric_invocations(self, *, version: Optional[str] = None) -> Metric:
        """Invocations through the alias (``Sum``; ``version`` as in :meth:`metric`)."""
        return self.metric("Invocations", version=version)

    def metric_errors(self, *, version: Optional[str] = None) -> Metric:
        """Invocations that failed (``Sum``; ``version`` as in :meth:`metric`)."""
        return self.metric("Errors", version=version)

    def metric_duration(self, stat: str = "p99", *, version: Optional[str] = None) -> Metric:
        """How long invocations run in ms (default ``p99``; ``version`` as in :meth:`metric`)."""
        return self.metric("Duration", stat, version=version)

    def metric_throttles(self) -> Metric:
        """Invocations refused for lack of concurrency (``Sum``)."""
        return self.metric("Throttles")

    def metric_spillover(self) -> Metric:
        """Invocations provisioned concurrency could not take (``Sum``): they ran cold."""
        return self.metric("ProvisionedConcurrencySpilloverInvocations")

    def metric_concurrent_executions(self, stat: str = "Maximum") -> Metric:
        """The whole function's concurrent executions (default ``Maximum``): by ``FunctionName``
        alone, since reserved concurrency, which they are measured against, is the function's."""
        return Metric("AWS/Lambda", "ConcurrentExecutions", {"FunctionName": self.name}, stat)

    def alarm_specs(self, settings: MonitoringConfig) -> list[AlarmSpec]:
        """Error rate, throttles, spillover and concurrency headroom on the alias (thresholds from
        ``settings``); in any-region mode also the writes replication overwrote (none in
        single-writer mode, where no write is resolved last-writer-wins)."""
        region, reserved = self._region, self._reserved_concurrency
        here = f" ({region.name})"
        quiet: MissingData = "notBreaching"
        specs = [
            AlarmSpec(LAMBDA_ERRORS, "Function errors, percent of invocations (errors / invocations x 100)" + here,
                      settings.lambda_error_rate_percent, quiet, expression="IF(invocations > 0, 100 * errors / invocations, 0)",
                      inputs={"errors": self.metric_errors(), "invocations": self.metric_invocations()}),
            AlarmSpec(LAMBDA_THROTTLES, "Function invocations throttled" + here, settings.lambda_throttles, quiet,
                      metric=self.metric_throttles()),
            AlarmSpec(LAMBDA_SPILLOVER, "Invocations that spilled over provisioned concurrency (raise function.provisioned_concurrency)" + here,
                      1, quiet, metric=self.metric_spillover()),
            AlarmSpec(LAMBDA_HEADROOM,
                      f"Concurrent executions at {CONCURRENCY_WARNING_PERCENT}% of the reserved {reserved} "
                      "(throttling starts at 100%: raise function.reserved_concurrency)" + here,
                      max(1, reserved * CONCURRENCY_WARNING_PERCENT // 100), quiet,
                      metric=self.metric_concurrent_executions()),
        ]
        if self.write_mode == ANY_REGION:
            specs.append(AlarmSpec(
                WRITE_CONFLICTS, f"Writes lost to last-writer-wins between regions (table.write_mode any-region; {region.name})",
                1, quiet, scope=self, id="write-conflicts-alarm",
                metric=Metric(self.metrics_namespace, WRITE_CONFLICTS_METRIC, {"service": self.service_name})))
        return specs

    def dashboard_rows(self) -> list[DashboardRow]:
        """One widget: the alias's invocations, errors, throttles and spillover."""
        return [DashboardRow.of("Function invocations, errors, throttles",
                                [self.metric_invocations(), self.metric_errors(), self.metric_throttles(), self.metric_spillover()])]

    def allow_invoke_from(self, region: Region, execution_arn: str, stage_name: str):
        """Let one API stage (and nothing else) invoke the alias."""
        return aws.lambda_permission.LambdaPermission(
            self, "invoke-from-api", provider=region.provider,
            statement_id="AllowApiGatewayStage",
            action="lambda:InvokeFunction",
            function_name=self.function_name,
            qualifier=self.alias_name,
            principal="apigateway.amazonaws.com",
            source_arn=f"{execution_arn}/{stage_name}/*/*",
        )


@dataclass(frozen=True)
class DrainSwitch:
    """The region's drain switch: set it to ``on`` to make /health answer 503 (fail over on purpose)."""

    name: str
    arn: str

    def grant_read(self, sid: str) -> Statement:
        return Statement(sid=sid, actions=["ssm:GetParameter"], resources=[self.arn])

    def in_region(self, region: Region) -> "DrainSwitch":
        """The switch of the same name in ``region`` (each region has its own, built by its service)."""
        name = drain_parameter_name(region)
        return DrainSwitch(name=name, arn=region.arn("ssm", f"parameter{name}"))


def drain_parameter_name(region: Region) -> str:
    """The drain switch's parameter in ``region`` (:func:`tapinfra.function_environment.drain_parameter_name`)."""
    return drain_parameter_path(region.namer.app, region.namer.environment)


def drain_switch(scope: Construct, id_: str, *, region: Region) -> DrainSwitch:
    """The SSM parameter behind the switch. Terraform creates it ``off`` and then leaves its
    value to the operator (the failover drill turns it on and off)."""
    parameter = aws.ssm_parameter.SsmParameter(
        scope, id_, provider=region.provider,
        name=drain_parameter_name(region),
        type="SecureString",
        key_id=region.key.arn,
        value="off",
        description="on: this region's /health answers 503 so traffic fails over; off: normal.",
        lifecycle=TerraformResourceLifecycle(ignore_changes=["value"]),
    )
    return DrainSwitch(name=parameter.name, arn=parameter.arn)
