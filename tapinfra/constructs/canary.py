"""A Synthetics canary per region that calls that region's /health through its own endpoint."""

from __future__ import annotations

from cdktf import Fn
from constructs import Construct

from tapinfra.config import MonitoringConfig, StorageConfig
from tapinfra.constructs.bucket import SecureBucket
from tapinfra.constructs.logs import log_group
from tapinfra.constructs.monitoring import CANARY, AlarmSpec, DashboardRow, Metric
from tapinfra.constructs.packaging import CodePackage
from tapinfra.limits import canary_alarm_period_seconds
from tapinfra.policy import Condition, Statement, service_role
from tapinfra.protection import Protection
from tapinfra.provider import aws
from tapinfra.region import Region

HANDLER = "tapCanary.handler"
ARTIFACT_PREFIX = "runs"
LAMBDA_LOG_GROUP_PREFIX = "/aws/lambda/"


class HealthCanary(Construct):
    """``canary`` probing ``health_url``, with its artifact bucket and a least-privilege role.

    The code is the inline ``canary/`` package (``nodejs/node_modules/tapCanary.js``, handler
    ``tapCanary.handler``). The role may write only its bucket's prefix, its own log group,
    metrics only in the CloudWatchSynthetics namespace, traces, and use this region's key.

    Synthetics runs the canary in a Lambda function it names ``cwsyn-<name>-<id>``, the id
    known only once the canary exists (``engine_arn``). ``log_group`` is that function's group,
    created from it with a retention and this region's key; the role may not create log
    groups, so nothing else can make one without a retention (a run before the group exists
    logs nothing), and destroy removes it with the canary. A disposable ``protection`` lets a
    destroy empty the artifact bucket.

    ``name`` is the literal name (the metric's dimension), ``canary_name`` the canary's attribute
    (orders its users after the canary exists: the output). :meth:`metric_success_percent`,
    :meth:`alarm_specs` and :meth:`dashboard_rows` are what the region's collector watches.
    """

    def __init__(self, scope: Construct, id_: str, *, region: Region, settings: MonitoringConfig, storage: StorageConfig,
                 package: CodePackage, health_url: str, log_bucket: SecureBucket, timeout_ms: int = 5000,
                 protection: Protection = Protection()) -> None:
        super().__init__(scope, id_)
        p, namer = region.provider, region.namer
        self._region = region
        self.name = namer.name("health", "canary")
        self.bucket = SecureBucket(
            self, "artifacts", region=region, name=namer.name("canary", "s3"), storage=storage,
            log_bucket=log_bucket, transitions=False, expiration_days=settings.canary_artifact_expiration_days,
            protection=protection,
        )
        bucket_arn = self.bucket.arn
        self.role, self.role_policy = service_role(
            self, "role", provider=p, name=namer.name("canary", "iam_role"),
            services=["lambda.amazonaws.com"],
            statements=[
                Statement(sid="WriteArtifacts", actions=["s3:PutObject", "s3:GetObject"], resources=[f"{bucket_arn}/{ARTIFACT_PREFIX}/*"]),
                Statement(sid="LocateArtifactBucket", actions=["s3:GetBucketLocation"], resources=[bucket_arn]),
                # Synthetics lists buckets when it starts a run; ListAllMyBuckets has no resource-level scope.
                Statement(sid="ListBucketsForSynthetics", actions=["s3:ListAllMyBuckets"], resources=["*"]),
                Statement(sid="OwnLogGroup", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                          resources=[region.arn("logs", f"log-group:{LAMBDA_LOG_GROUP_PREFIX}cwsyn-{self.name}-*")]),
                # PutMetricData has no resource-level permissions; the namespace condition is the scope.
                Statement(sid="MetricsInSyntheticsNamespaceOnly", actions=["cloudwatch:PutMetricData"], resources=["*"],
                          conditions=[Condition("StringEquals", "cloudwatch:namespace", ["CloudWatchSynthetics"])]),
                # X-Ray trace writes have no resource-level permissions.
                Statement(sid="WriteTraces", actions=["xray:PutTraceSegments"], resources=["*"]),
                Statement(sid="EncryptArtifacts", actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[region.key.arn]),
            ],
        )
        c = aws.synthetics_canary
        self.canary = c.SyntheticsCanary(
            self, "canary", provider=p,
            name=self.name,
            artifact_s3_location=f"s3://{self.bucket.name}/{ARTIFACT_PREFIX}/",
            execution_role_arn=self.role.arn,
            handler=HANDLER,
            zip_file=package.path,
            runtime_version=settings.canary_runtime,
            start_canary=True,
            # Synthetics creates a Lambda function (and layer) per canary: remove them with it.
            delete_lambda=True,
            schedule=c.SyntheticsCanarySchedule(expression=settings.canary_schedule),
            run_config=c.SyntheticsCanaryRunConfig(
                timeout_in_seconds=settings.canary_timeout_seconds,
                active_tracing=True,
                environment_variables={"TARGET_URL": health_url, "EXPECTED_REGION": region.name, "TIMEOUT_MS": str(timeout_ms)},
            ),
            success_retention_period=settings.canary_retention_days,
            failure_retention_period=settings.canary_retention_days,
            artifact_config=c.SyntheticsCanaryArtifactConfig(
                s3_encryption=c.SyntheticsCanaryArtifactConfigS3Encryption(encryption_mode="SSE_KMS", kms_key_arn=region.key.arn)),
            depends_on=[self.role_policy, self.bucket.policy],
        )
        self.canary_name: str = self.canary.name
        # engine_arn: arn:<partition>:lambda:<region>:<account>:function:<name>[:<version>]
        function_name = Fn.element(Fn.split(":", self.canary.engine_arn), 6)
        self.log_group = log_group(self, "log-group", region=region, name=f"{LAMBDA_LOG_GROUP_PREFIX}{function_name}",
                                   retention_days=settings.canary_log_retention_days)

    def metric_success_percent(self, stat: str = "Average") -> Metric:
        """The share of runs that passed (``SuccessPercent``, default ``Average``): one data point per run."""
        return Metric("CloudWatchSynthetics", "SuccessPercent", {"CanaryName": self.name}, stat)

    def alarm_specs(self, settings: MonitoringConfig) -> list[AlarmSpec]:
        """Success below ``settings.canary_success_percent``; none when no alarm period spans a run
        (:func:`tapinfra.limits.canary_alarm_period_seconds`: it would breach between runs)."""
        period = canary_alarm_period_seconds(settings)
        if period is None:
            return []
        return [AlarmSpec(CANARY, f"Canary success percent below target ({self._region.name})", settings.canary_success_percent,
                          "breaching",  # a canary that stops running must not look healthy
                          comparison="LessThanThreshold", period_seconds=period, metric=self.metric_success_percent())]

    def dashboard_rows(self) -> list[DashboardRow]:
        """One widget: the success percent (also when it has no alarm)."""
        return [DashboardRow.of("Canary success percent", [self.metric_success_percent()], "Average")]
