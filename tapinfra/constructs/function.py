"""The API's Lambda function in one region, behind an alias with provisioned concurrency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Optional

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from tapinfra.config import ApiConfig, FunctionConfig, TableConfig
from tapinfra.constructs.events import EventBus
from tapinfra.constructs.logs import log_group
from tapinfra.constructs.packaging import CodePackage
from tapinfra.constructs.table import GlobalTable
from tapinfra.contract import Env
from tapinfra.policy import Statement, service_role
from tapinfra.provider import aws
from tapinfra.region import Region

if TYPE_CHECKING:
    from tapinfra.constructs.aurora import SecretAccess
    from tapinfra.constructs.network import NetworkPlacement

POWERTOOLS_ACCOUNT = "017000801446"  # AWS's account for the public Powertools layers
HANDLER = "app.handler"


def powertools_layer_arn(region: Region, settings: FunctionConfig) -> str:
    runtime = settings.runtime.replace(".", "")
    return region.arn("lambda", f"layer:AWSLambdaPowertoolsPythonV3-{runtime}-x86_64:{settings.powertools_layer_version}",
                      account=POWERTOOLS_ACCOUNT)


def tenant_map_json(key_ids: Mapping[str, str]) -> str:
    """``{"<key id>": "<tenant>", ...}`` as a Terraform template (key ids are tokens)."""
    return "{" + ",".join(f'"{key_id}":"{tenant}"' for tenant, key_id in sorted(key_ids.items())) + "}"


class ApiFunction(Construct):
    """``function`` (published), ``alias`` with provisioned concurrency, its log group, DLQ and role.

    :param region: where it runs.
    :param package: the code (``lambda/``), shared by both regions.
    :param table: the global table (its copy in this region is used).
    :param bus: this region's event bus.
    :param tenant_key_ids: tenant -> API key id in this region (tokens).
    :param drain: this region's drain switch, or None.
    :param network: the private subnets and security group to run in (networking module), or None.
    :param database_secret: the database's master secret in this region (Aurora module), or None.

    The role may do exactly what the code does: item actions on this region's table,
    PutEvents on this region's bus, use this region's key, write its own log group, send
    to its DLQ, read the drain parameter, and write X-Ray traces; in a VPC, what Lambda needs
    to attach it; with a database, read its secret. ``statements`` lists all of it.
    """

    def __init__(self, scope: Construct, id_: str, *, region: Region, settings: FunctionConfig, api: ApiConfig,
                 table_settings: TableConfig, package: CodePackage, table: GlobalTable, bus: EventBus,
                 tenant_key_ids: Mapping[str, str], drain: Optional["DrainSwitch"],
                 network: Optional["NetworkPlacement"] = None, database_secret: Optional["SecretAccess"] = None) -> None:
        super().__init__(scope, id_)
        p, namer = region.provider, region.namer
        self.name = namer.name("api", "lambda")
        self.log_group = log_group(self, "log-group", region=region, name=f"/aws/lambda/{self.name}",
                                   retention_days=settings.log_retention_days)
        self.dead_letter_queue = aws.sqs_queue.SqsQueue(
            self, "dlq", provider=p, name=namer.name("api-dlq", "sqs"),
            kms_master_key_id=region.key.arn, kms_data_key_reuse_period_seconds=300,
            message_retention_seconds=settings.dlq_retention_days * 86400,
        )
        dead_letters_arn = self.dead_letter_queue.arn
        statements = [
            table.grant_items(region),
            bus.grant_put_events("PublishToThisRegionsBus"),
            region.key.grant("UseThisRegionsKey"),
            Statement(sid="WriteOwnLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                      resources=[f"{self.log_group.arn}:*"]),
            Statement(sid="DeadLetters", actions=["sqs:SendMessage"], resources=[dead_letters_arn]),
            # X-Ray has no resource-level permissions: these two actions only accept "*".
            Statement(sid="WriteTraces", actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]),
        ]
        if drain is not None:
            statements.append(drain.grant_read("ReadDrainSwitch"))
        if network is not None:
            statements.extend(network.grant_network_interfaces(region))
        if database_secret is not None:
            statements.append(database_secret.grant_read("ReadDatabaseSecret"))
        self.statements: tuple[Statement, ...] = tuple(statements)
        self.role, self.role_policy = service_role(
            self, "role", provider=p, name=namer.name("api", "iam_role"),
            services=["lambda.amazonaws.com"], statements=statements,
        )
        environment = {
            Env.TABLE_NAME: table.name,
            Env.EVENT_BUS_NAME: bus.name,
            Env.EVENT_SOURCE: bus.source,
            Env.RETENTION_DAYS: str(table_settings.item_retention_days),
            Env.TENANT_KEYS: tenant_map_json(tenant_key_ids),
            Env.DRAIN_PARAMETER_NAME: drain.name if drain is not None else "",
            Env.CORS_ALLOWED_ORIGINS: ",".join(api.cors_allowed_origins),
            Env.MAX_BODY_BYTES: str(api.max_body_bytes),
            Env.POWERTOOLS_SERVICE_NAME: namer.app,
            Env.POWERTOOLS_METRICS_NAMESPACE: f"{namer.app}-{namer.environment}",
            Env.POWERTOOLS_LOG_LEVEL: "INFO",
        }
        if database_secret is not None:
            environment[Env.DATABASE_SECRET_ARN] = database_secret.arn
        fn = aws.lambda_function
        self.function = fn.LambdaFunction(
            self, "function", provider=p,
            function_name=self.name,
            role=self.role.arn,
            handler=HANDLER,
            runtime=settings.runtime,
            architectures=["x86_64"],
            memory_size=settings.memory_mb,
            timeout=settings.timeout_seconds,
            reserved_concurrent_executions=settings.reserved_concurrency,
            filename=package.path,
            source_code_hash=package.hash,
            publish=True,
            layers=[powertools_layer_arn(region, settings)],
            kms_key_arn=region.key.arn,
            environment=fn.LambdaFunctionEnvironment(variables=environment),
            tracing_config=fn.LambdaFunctionTracingConfig(mode="Active"),
            dead_letter_config=fn.LambdaFunctionDeadLetterConfig(target_arn=dead_letters_arn),
            logging_config=fn.LambdaFunctionLoggingConfig(log_format="JSON", log_group=self.log_group.name),
            vpc_config=fn.LambdaFunctionVpcConfig(subnet_ids=list(network.subnet_ids),
                                                  security_group_ids=[network.security_group_id]) if network is not None else None,
            # The log group must exist (with its retention and key) and the role must hold its
            # permissions before the first invocation.
            depends_on=[self.log_group, self.role_policy],
        )
        self.function_name: str = self.function.function_name
        self.alias = aws.lambda_alias.LambdaAlias(
            self, "alias", provider=p,
            name=settings.alias_name,
            function_name=self.function_name,
            function_version=self.function.version,
            description="What API Gateway invokes; never $LATEST.",
        )
        self.alias_name: str = self.alias.name
        self.provisioned_concurrency = aws.lambda_provisioned_concurrency_config.LambdaProvisionedConcurrencyConfig(
            self, "provisioned-concurrency", provider=p,
            function_name=self.function_name,
            qualifier=self.alias_name,
            provisioned_concurrent_executions=settings.provisioned_concurrency,
        )
        self.invoke_arn: str = self.alias.invoke_arn
        # The same URI from names alone: a consumer that must not depend on the function
        # resource (the API's deployment) uses this one.
        self.qualified_name = f"{self.name}:{settings.alias_name}"  # literal: safe to hash at synth
        function_arn = region.arn("lambda", f"function:{self.qualified_name}")
        self.alias_invoke_uri = (f"arn:{region.partition}:apigateway:{region.name}:lambda:path/2015-03-31/"
                                 f"functions/{function_arn}/invocations")

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


def drain_switch(scope: Construct, id_: str, *, region: Region) -> DrainSwitch:
    """The SSM parameter behind the switch. Terraform creates it ``off`` and then leaves its
    value to the operator (the failover drill turns it on and off)."""
    parameter = aws.ssm_parameter.SsmParameter(
        scope, id_, provider=region.provider,
        name=f"/{region.namer.app}/{region.namer.environment}/drain",
        type="SecureString",
        key_id=region.key.arn,
        value="off",
        description="on: this region's /health answers 503 so traffic fails over; off: normal.",
        lifecycle=TerraformResourceLifecycle(ignore_changes=["value"]),
    )
    return DrainSwitch(name=parameter.name, arn=parameter.arn)
