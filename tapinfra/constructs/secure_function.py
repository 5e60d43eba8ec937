"""Our Lambda functions' secure defaults, composed in one place (AWS Solutions Constructs style).

Every function we deploy must be encrypted with its region's key, traced, logged as JSON into
a log group it owns, backed by a dead-letter queue and run by a role that may do only what
its code does; writing that once means a new function cannot forget any of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Optional, Sequence

from constructs import Construct

from tapinfra.constructs.logs import log_group
from tapinfra.constructs.packaging import CodePackage
from tapinfra.policy import Statement, service_role
from tapinfra.provider import aws
from tapinfra.region import Region

if TYPE_CHECKING:
    from tapinfra.constructs.network import NetworkPlacement

ARCHITECTURE = "x86_64"  # what the Powertools layers our functions use are built for


class SecureFunction:
    """A Lambda function with our secure defaults; the caller passes only what differs.

    Not a construct of its own: it adds ``log-group``, ``dlq``, ``role`` (``role-trust``,
    ``role-permissions``, ``role-policy``) and ``function`` to ``scope``, so the Terraform
    addresses stay those of the construct that owns it.

    Two steps, because the role's statements need the log group's and the queue's ARNs:
    constructing it makes the log group and the queue; the caller then lists the role's
    statements, placing :attr:`statements` and :attr:`network_statements` among its own,
    and calls :meth:`create`.

    :param scope: the owning construct (no default).
    :param region: where it runs; its provider and key are used (no default).
    :param name: the function's name; its log group is ``/aws/lambda/<name>`` (no default).
    :param log_retention_days: retention of that log group (no default).
    :param dead_letter_queue_name: name of the SQS dead-letter queue (no default).
    :param dead_letter_retention_days: how long a message waits in that queue (no default).
    :param network: the private subnets and security group to run in, or None (default):
        outside a VPC.
    """

    def __init__(self, scope: Construct, *, region: Region, name: str, log_retention_days: int,
                 dead_letter_queue_name: str, dead_letter_retention_days: int,
                 network: Optional["NetworkPlacement"] = None) -> None:
        self.scope, self.region, self.name, self.network = scope, region, name, network
        self.key_arn: str = region.key.arn
        self.log_group = log_group(scope, "log-group", region=region, name=f"/aws/lambda/{name}",
                                   retention_days=log_retention_days)
        self.dead_letter_queue = aws.sqs_queue.SqsQueue(
            scope, "dlq", provider=region.provider, name=dead_letter_queue_name,
            kms_master_key_id=self.key_arn, kms_data_key_reuse_period_seconds=300,
            message_retention_seconds=dead_letter_retention_days * 86400,
        )
        self.dead_letter_queue_arn: str = self.dead_letter_queue.arn
        # What the defaults themselves need: the key, the own log group, the queue, X-Ray.
        self.statements: tuple[Statement, ...] = (
            region.key.grant("UseThisRegionsKey"),
            Statement(sid="WriteOwnLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                      resources=[f"{self.log_group.arn}:*"]),
            Statement(sid="DeadLetters", actions=["sqs:SendMessage"], resources=[self.dead_letter_queue_arn]),
            # X-Ray has no resource-level permissions: these two actions only accept "*".
            Statement(sid="WriteTraces", actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]),
        )
        # What Lambda needs to attach the function to the VPC; none outside one.
        self.network_statements: tuple[Statement, ...] = (
            tuple(network.grant_network_interfaces(region)) if network is not None else ())

    def create(self, *, role_name: str, statements: Sequence[Statement], handler: str, runtime: str,
               memory_mb: int, timeout_seconds: int, reserved_concurrency: int, package: CodePackage,
               layers: Sequence[str] = (), environment: Optional[Mapping[str, str]] = None,
               publish: bool = False):
        """The ``role`` (its one inline policy holds ``statements``) and the ``function``.

        :param role_name: the role's name, also its inline policy's (no default).
        :param statements: everything the role may do, :attr:`statements` and
            :attr:`network_statements` included, in the order the policy lists them (no default).
        :param handler: ``module.function`` in the package (no default).
        :param runtime: the Lambda runtime, e.g. ``python3.12`` (no default).
        :param memory_mb: memory in MB (no default).
        :param timeout_seconds: the timeout (no default).
        :param reserved_concurrency: concurrency reserved for, and capping, the function (no default).
        :param package: the zip: its ``path`` and ``hash`` (no default).
        :param layers: layer version ARNs; () (default): none.
        :param environment: the environment variables, encrypted with the region's key; None
            (default): no environment block.
        :param publish: True publishes a version on every change (an alias needs one); False
            (default) leaves the attribute unset, Lambda's own default.

        Sets and returns ``function``; sets ``role`` and ``role_policy``.
        """
        region, network = self.region, self.network
        p = region.provider
        self.role, self.role_policy = service_role(
            self.scope, "role", provider=p, name=role_name, services=["lambda.amazonaws.com"], statements=statements,
        )
        fn = aws.lambda_function
        self.function = fn.LambdaFunction(
            self.scope, "function", provider=p,
            function_name=self.name,
            role=self.role.arn,
            handler=handler,
            runtime=runtime,
            architectures=[ARCHITECTURE],
            memory_size=memory_mb,
            timeout=timeout_seconds,
            reserved_concurrent_executions=reserved_concurrency,
            filename=package.path,
            source_code_hash=package.hash,
            publish=True if publish else None,
            layers=list(layers) if layers else None,
            kms_key_arn=self.key_arn,
            environment=fn.LambdaFunctionEnvironment(variables=dict(environment)) if environment is not None else None,
            tracing_config=fn.LambdaFunctionTracingConfig(mode="Active"),
            # What failed every retry (throttling, a bug) waits in the queue instead of vanishing.
            dead_letter_config=fn.LambdaFunctionDeadLetterConfig(target_arn=self.dead_letter_queue_arn),
            logging_config=fn.LambdaFunctionLoggingConfig(log_format="JSON", log_group=self.log_group.name),
            vpc_config=fn.LambdaFunctionVpcConfig(subnet_ids=list(network.subnet_ids),
                                                  security_group_ids=[network.security_group_id]) if network is not None else None,
            # The log group must exist (with its retention and key) and the role must hold its
            # permissions before the first invocation.
            depends_on=[self.log_group, self.role_policy],
        )
        return self.function
