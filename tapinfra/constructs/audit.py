"""Audit trail (optional module): one multi-region CloudTrail, encrypted, validated and watched.

One trail in the primary region records management events of every region (and IAM's, STS's,
CloudFront's global events) into one secure bucket, encrypted with the primary's key, with
digest files that prove no log file was changed or deleted. It also delivers to a CloudWatch
log group, where a metric filter counts changes to any trail and an alarm notifies the primary's
topic: stopping or weakening the audit trail is the first thing an intruder does.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from tapinfra.config import AuditConfig, StorageConfig
from tapinfra.constructs.bucket import SecureBucket
from tapinfra.constructs.keys import ServiceKeyGrant
from tapinfra.constructs.logs import log_group
from tapinfra.constructs.monitoring import AlarmSpec, DashboardRow, Metric, alarm_doc
from tapinfra.naming import Namer
from tapinfra.policy import Condition, Statement, service_role
from tapinfra.protection import Protection
from tapinfra.provider import aws
from tapinfra.region import Region

CLOUDTRAIL = "cloudtrail.amazonaws.com"
# The API calls that stop or narrow what a trail records.
TRAIL_CHANGE_EVENTS = ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors")
TRAIL_CHANGES_METRIC = "TrailChanges"
AUDIT_TRAIL_CHANGES = alarm_doc("audit-trail-changes", "one call stops, deletes or changes a trail",
                                "someone is switching the audit record off", "primary; `audit` on")


def trail_name(namer: Namer) -> str:
    """The trail's name (claimed once: the foundation needs it for the key policy first)."""
    return namer.name("audit", "cloudtrail")


def trail_arn(partition: str, region: str, account_id: str, name: str) -> str:
    return f"arn:{partition}:cloudtrail:{region}:{account_id}:trail/{name}"


def cloudtrail_key_grants(partition: str, region: str, account_id: str, name: str) -> list[ServiceKeyGrant]:
    """What the primary key's policy must allow CloudTrail, for this trail of this account only."""
    this_trail = [Condition("StringEquals", "aws:SourceArn", [trail_arn(partition, region, account_id, name)]),
                  Condition("StringEquals", "aws:SourceAccount", [account_id])]
    return [
        ServiceKeyGrant(
            sid="CloudTrailEncryptLogs", service=CLOUDTRAIL, actions=("kms:GenerateDataKey*",),
            conditions=[*this_trail, Condition("StringLike", "kms:EncryptionContext:aws:cloudtrail:arn",
                                               [f"arn:{partition}:cloudtrail:*:{account_id}:trail/*"])],
        ),
        # CloudTrail checks the key when the trail is created or updated (no encryption context then).
        ServiceKeyGrant(sid="CloudTrailDescribeKey", service=CLOUDTRAIL, actions=("kms:DescribeKey",), conditions=this_trail),
    ]


def trail_changes_pattern(events: tuple[str, ...] = TRAIL_CHANGE_EVENTS) -> str:
    names = " || ".join(f'($.eventName = "{event}")' for event in events)
    return f'{{ ($.eventSource = "{CLOUDTRAIL}") && ({names}) }}'


@dataclass(frozen=True)
class AuditTrailProps:
    """What the audit trail is built from.

    :param region: the primary region, the trail's home; its key must carry
        :func:`cloudtrail_key_grants` (the key policy is written before the trail exists). Required.
    :param name: the trail's name, from :func:`trail_name` (claimed first, for the key policy). Required.
    :param settings: the ``audit`` section: log retention, log file expiration. Required.
    :param storage: the ``storage`` section, for the trail bucket. Required.
    :param log_bucket: the region's access-log bucket, for the trail bucket's access logs. Required.
    :param protection: the deployment's :class:`~tapinfra.protection.Protection`: when disposable,
        the trail bucket is not protected and is emptied and deleted with the stack. Default:
        protected (an audit record outlives a mistaken destroy).
    """

    region: Region
    name: str
    settings: AuditConfig
    storage: StorageConfig
    log_bucket: SecureBucket
    protection: Protection = Protection()


@dataclass(frozen=True)
class AuditTrailResult:
    """What the outputs need of the trail (tokens)."""

    trail_arn: str
    bucket_name: str
    log_group_name: str


class AuditTrail(Construct):
    """``trail``, its ``bucket`` (a :class:`SecureBucket` whose policy admits only this trail),
    its ``log_group`` and delivery role, the ``metric_filter`` on trail changes (watched by
    :meth:`alarm_specs`), from :class:`AuditTrailProps`; ``result`` is what others may use.
    """

    def __init__(self, scope: Construct, id_: str, props: AuditTrailProps) -> None:
        super().__init__(scope, id_)
        self.props = props
        region, name, settings = props.region, props.name, props.settings
        p, namer = region.provider, region.namer
        self.name = name
        self.arn = region.arn("cloudtrail", f"trail/{name}")
        this_trail = Condition("StringEquals", "aws:SourceArn", [self.arn])

        bucket_name = namer.name("audit-trail", "s3")
        bucket_arn = region.arn("s3", f"{bucket_name}-{region.account_id}", region="", account="")
        self.bucket = SecureBucket(
            self, "bucket", region=region, name=bucket_name, storage=props.storage, log_bucket=props.log_bucket,
            protect=True, protection=props.protection, expiration_days=settings.log_file_expiration_days,
            extra_statements=[
                Statement(sid="CloudTrailAclCheck", actions=["s3:GetBucketAcl"], resources=[bucket_arn],
                          principals={"Service": [CLOUDTRAIL]}, conditions=[this_trail]),
                Statement(sid="CloudTrailWrite", actions=["s3:PutObject"],
                          resources=[f"{bucket_arn}/AWSLogs/{region.account_id}/*"],
                          principals={"Service": [CLOUDTRAIL]},
                          conditions=[Condition("StringEquals", "s3:x-amz-acl", ["bucket-owner-full-control"]), this_trail]),
            ],
        )

        self.log_group = log_group(self, "log-group", region=region, name=f"/aws/cloudtrail/{name}",
                                   retention_days=settings.log_retention_days)
        self.log_group_arn, self.log_group_name = self.log_group.arn, self.log_group.name
        # No trust condition: iam:PassRole cannot hand this role to another account's trail.
        self.role, self.role_policy = service_role(
            self, "logs-role", provider=p, name=namer.name("audit-trail-logs", "iam_role"), services=[CLOUDTRAIL],
            statements=[Statement(sid="DeliverToTheTrailsLogGroup", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                  resources=[f"{self.log_group_arn}:log-stream:*"])],
        )
        self.trail = aws.cloudtrail.Cloudtrail(
            self, "trail", provider=p,
            name=name,
            s3_bucket_name=self.bucket.name,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            kms_key_id=region.key.arn,
            cloud_watch_logs_group_arn=f"{self.log_group_arn}:*",  # CloudTrail wants the ":*" form
            cloud_watch_logs_role_arn=self.role.arn,
            # CloudTrail checks, when the trail is created, that it may write to the bucket and the log group.
            depends_on=[self.bucket.policy, self.role_policy],
        )

        namespace = f"{namer.app}-{namer.environment}/Audit"
        self.metric_filter = aws.cloudwatch_log_metric_filter.CloudwatchLogMetricFilter(
            self, "trail-changes", provider=p,
            name=namer.name("audit-trail-changes", "metric_filter"),
            log_group_name=self.log_group_name,
            pattern=trail_changes_pattern(),
            metric_transformation=aws.cloudwatch_log_metric_filter.CloudwatchLogMetricFilterMetricTransformation(
                name=TRAIL_CHANGES_METRIC, namespace=namespace, value="1"),
        )
        self._region = region
        self.trail_changes = Metric(namespace, TRAIL_CHANGES_METRIC, {}, "Sum")
        self.result = AuditTrailResult(trail_arn=self.trail.arn, bucket_name=self.bucket.name,
                                       log_group_name=self.log_group_name)

    def alarm_specs(self) -> list[AlarmSpec]:
        """Any change to any trail. One is enough: a trail stopped for one period is a gap in the record."""
        return [AlarmSpec(AUDIT_TRAIL_CHANGES,
                          f"A trail was stopped, deleted or changed ({', '.join(TRAIL_CHANGE_EVENTS)}) ({self._region.name})",
                          1, "notBreaching", metric=self.trail_changes, scope=self, id="trail-changes-alarm",
                          evaluation_periods=1)]

    def dashboard_rows(self) -> list[DashboardRow]:
        return [DashboardRow.of("Audit: changes to any trail", [self.trail_changes])]
