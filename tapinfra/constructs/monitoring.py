"""Monitoring from specs: alarms, their notification topic, and the two-region dashboard.

The owner of a resource says what to watch of it, as aws-cdk-lib's constructs do: its
``metric_*()`` methods return typed :class:`Metric` values, its ``alarm_specs(...)`` the
:class:`AlarmSpec` values of its alarms (what an alarm measures, its threshold, how silence
counts, where it lives) and its ``dashboard_rows(...)`` its :class:`DashboardRow` values. One
collector per region, :class:`RegionMonitor`, turns the specs into alarms on the region's topic
and keeps the rows; :func:`dashboard_body` lays out every region's rows. Every kind of alarm is
declared once with :func:`alarm_doc`, which is also what the README's alarm table is generated
from (:func:`alarm_table`). ``RegionMonitor.add`` is the one way an alarm is created.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from typing import Literal, Optional, Sequence

from constructs import Construct

from tapinfra.config import MonitoringConfig
from tapinfra.provider import aws
from tapinfra.region import Region


class AlarmTopic(Construct):
    """A KMS-encrypted SNS topic per region that every alarm notifies; e-mail subscriptions from the config."""

    def __init__(self, scope: Construct, id_: str, *, region: Region, emails: Sequence[str]) -> None:
        super().__init__(scope, id_)
        provider = region.provider
        self.topic = aws.sns_topic.SnsTopic(self, "topic", provider=provider, name=region.namer.name("alarms", "sns"),
                                            kms_master_key_id=region.key.arn)
        self.arn: str = self.topic.arn
        for i, email in enumerate(emails):
            aws.sns_topic_subscription.SnsTopicSubscription(
                self, f"email-{i}", provider=provider, topic_arn=self.arn, protocol="email", endpoint=email)


# Warn at this share of the function's reserved concurrency, before throttling starts.
CONCURRENCY_WARNING_PERCENT = 80


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric (``stat`` a statistic, or a percentile such as ``p99``)."""

    namespace: str
    name: str
    dimensions: dict
    stat: str = "Sum"

    def widget_line(self, **options: object) -> list:
        """The metric as a dashboard widget's ``metrics`` line."""
        dims = [part for key, value in self.dimensions.items() for part in (key, value)]
        return [self.namespace, self.name, *dims, *([options] if options else [])]


MissingData = Literal["breaching", "notBreaching", "ignore", "missing"]


@dataclass(frozen=True)
class AlarmDoc:
    """One kind of alarm, as the README's alarm table states it (declared once, with :func:`alarm_doc`).

    :param key: the alarm's name stem (``<app>-<key>-<env>`` in each region where it exists).
    :param fires_when: the condition, naming the config field that sets its threshold.
    :param means: what it usually means, for whoever is paged.
    :param where: where or when it exists (empty: in each serving region, always).
    :param declared_in: the Python module that declared it (the README lists tapinfra's own).
    """

    key: str
    fires_when: str
    means: str
    where: str = ""
    declared_in: str = ""


ALARM_DOCS: dict[str, AlarmDoc] = {}


def alarm_doc(key: str, fires_when: str, means: str, where: str = "") -> AlarmDoc:
    """Declare one kind of alarm, at import (a key is declared once: the README table has one row per key)."""
    doc = AlarmDoc(key, fires_when, means, where, sys._getframe(1).f_globals.get("__name__", ""))
    known = ALARM_DOCS.get(key)
    if known is not None:
        if replace(known, declared_in="") != replace(doc, declared_in=""):
            raise ValueError(f"alarm {key!r} is declared twice, differently")
        return known
    ALARM_DOCS[key] = doc
    return doc


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm to create: on ``metric``, or on metric math ``expression`` over ``inputs``.

    :param doc: its kind (name stem and README row).
    :param description: the alarm's description (name the region: it is read in an e-mail).
    :param missing_data: no default: whether silence is healthy (no traffic, no throttles) or a
        failure (a canary or health check that stopped reporting).
    :param scope: the construct the alarm is created in (default: the region's collector); with
        ``id`` (default: ``doc.key``) it fixes the alarm's Terraform address.
    :param name: the name stem (default: ``doc.key``).
    :param period_seconds: default: ``monitoring.alarm_period_seconds``.
    :param evaluation_periods: default: ``monitoring.alarm_evaluation_periods``.
    """

    doc: AlarmDoc
    description: str
    threshold: float
    missing_data: MissingData
    comparison: str = "GreaterThanOrEqualToThreshold"
    metric: Optional[Metric] = None
    expression: Optional[str] = None
    inputs: Optional[dict[str, Metric]] = None
    scope: Optional[Construct] = None
    id: Optional[str] = None
    name: Optional[str] = None
    period_seconds: Optional[int] = None
    evaluation_periods: Optional[int] = None

    def __post_init__(self) -> None:
        if (self.metric is None) == (self.expression is None) or (self.expression is not None and not self.inputs):
            raise ValueError(f"alarm {self.doc.key!r}: give a metric, or an expression with its inputs")


@dataclass(frozen=True)
class DashboardRow:
    """One widget of a region's row on the dashboard: a title, its metric lines and their statistic."""

    title: str
    metrics: tuple
    stat: str = "Sum"

    @staticmethod
    def of(title: str, metrics: Sequence[Metric], stat: str = "Sum") -> "DashboardRow":
        return DashboardRow(title, tuple(m.widget_line() for m in metrics), stat)


def _create_alarm(spec: AlarmSpec, scope: Construct, *, region: Region, topic_arn: str, settings: MonitoringConfig):
    a = aws.cloudwatch_metric_alarm
    period = spec.period_seconds or settings.alarm_period_seconds
    common = dict(
        provider=region.provider, alarm_name=region.namer.name(spec.name or spec.doc.key, "alarm"),
        alarm_description=spec.description, comparison_operator=spec.comparison, threshold=spec.threshold,
        evaluation_periods=spec.evaluation_periods or settings.alarm_evaluation_periods,
        treat_missing_data=spec.missing_data, alarm_actions=[topic_arn], ok_actions=[topic_arn],
    )
    id_ = spec.id or spec.doc.key
    if spec.metric is not None:
        m = spec.metric
        stat = {"statistic": m.stat} if not m.stat.startswith("p") else {"extended_statistic": m.stat}
        return a.CloudwatchMetricAlarm(scope, id_, namespace=m.namespace, metric_name=m.name, dimensions=m.dimensions,
                                       period=period, **stat, **common)
    queries = [a.CloudwatchMetricAlarmMetricQuery(id="result", expression=spec.expression, label=spec.description,
                                                  return_data=True)]
    for qid, m in spec.inputs.items():
        queries.append(a.CloudwatchMetricAlarmMetricQuery(
            id=qid, return_data=False,
            metric=a.CloudwatchMetricAlarmMetricQueryMetric(
                namespace=m.namespace, metric_name=m.name, dimensions=m.dimensions, period=period, stat=m.stat)))
    return a.CloudwatchMetricAlarm(scope, id_, metric_query=queries, **common)


class RegionMonitor(Construct):
    """The collector of one region: every alarm there (all notify ``topic_arn``) and its dashboard rows.

    ``add(spec)`` creates an alarm, ``add_row(row)`` adds a dashboard widget, ``watch(specs,
    rows)`` both; ``alarms`` maps name stem -> alarm, ``specs`` and ``rows`` keep what was added.
    """

    def __init__(self, scope: Construct, id_: str, *, region: Region, settings: MonitoringConfig, topic_arn: str) -> None:
        super().__init__(scope, id_)
        self.region, self.settings, self.topic_arn = region, settings, topic_arn
        self.alarms: dict[str, object] = {}
        self.specs: list[AlarmSpec] = []
        self.rows: list[DashboardRow] = []

    def add(self, spec: AlarmSpec):
        scope = spec.scope or self
        created = _create_alarm(spec, scope, region=self.region, topic_arn=self.topic_arn, settings=self.settings)
        self.alarms[spec.name or spec.doc.key] = created
        self.specs.append(spec)
        return created

    def add_row(self, row: DashboardRow) -> None:
        self.rows.append(row)

    def watch(self, specs: Sequence[AlarmSpec] = (), rows: Sequence[DashboardRow] = ()) -> None:
        for spec in specs:
            self.add(spec)
        for row in rows:
            self.add_row(row)


# ---------------------------------------------------------------- the core's alarm kinds

# Declared here, not in their owners' modules (api, function, table, canary, waf), which build
# their specs: the README's table lists this module's kinds first, so the alarms every region
# has stay together at its top.

API_5XX = alarm_doc("api-5xx-rate", "5xx responses exceed `api_5xx_rate_percent` of requests", "the function fails or times out")
API_LATENCY = alarm_doc("api-p99-latency", "p99 latency exceeds `api_p99_latency_ms`", "slow table, cold starts past provisioned concurrency")
LAMBDA_ERRORS = alarm_doc("lambda-error-rate", "errors / invocations × 100 exceeds `lambda_error_rate_percent`", "a bug or a dependency failing")
LAMBDA_THROTTLES = alarm_doc("lambda-throttles", "throttled invocations ≥ `lambda_throttles`", "reserved concurrency too low")
LAMBDA_SPILLOVER = alarm_doc("lambda-spillover", "invocations spill over provisioned concurrency", "raise `function.provisioned_concurrency`")
LAMBDA_HEADROOM = alarm_doc("lambda-concurrency-headroom",
                            f"concurrent executions reach {CONCURRENCY_WARNING_PERCENT}% of `function.reserved_concurrency`",
                            "throttling is near: raise `function.reserved_concurrency`")
TABLE_THROTTLES = alarm_doc("table-throttles", "read + write throttle events ≥ `dynamodb_throttled_requests`", "capacity (provisioned mode) or a hot key")
TABLE_ERRORS = alarm_doc("table-system-errors", "DynamoDB returns system errors", "a service problem in that region")
TABLE_REPLICATION = alarm_doc("table-replication-latency", "replication to the peer lags more than `table_replication_latency_ms`",
                              "cross-region replication is degraded")
CANARY = alarm_doc("canary-success", "the canary's success percent drops below `canary_success_percent`",
                   "the region's `/health` fails from outside", "`features.canaries`")
WAF_BLOCKED = alarm_doc("waf-blocked-spike", "WAF blocks more than `waf_blocked_requests` per period",
                        "an attack, or a client that misbehaves", "`features.waf`")
S3_LATENCY = alarm_doc("s3-replication-latency", "S3 replication lags more than `s3_replication_latency_seconds` (RTC promises 900)",
                       "KMS permissions or the destination bucket", "primary")
S3_FAILED = alarm_doc("s3-replication-failed", "objects fail to replicate", "KMS permissions or the destination bucket", "primary")
EVENT_DEAD_LETTERS = alarm_doc(
    "event-dead-letters", "a forwarded event failed a day of retries and waits in the forwarding dead-letter queue (kept 14 days)",
    "the peer's bus refused or was unreachable: replay from the queue", "`features.event_forwarding`")
EVENT_DLQ_FAILURES = alarm_doc(
    "event-dead-letter-failures", "EventBridge could not put a failed event in the dead-letter queue",
    "the queue's key or policy refuses EventBridge: the event is lost", "`features.event_forwarding`")
HEALTH_CHECK = alarm_doc("<role>-health-check", "a Route 53 health check fails", "that region is out of DNS rotation",
                         "us-east-1, one per serving region")


@dataclass(frozen=True)
class ReplicationWatch:
    """An S3 replication rule to watch: its source and destination buckets and its rule id."""

    source_bucket: str
    destination_bucket: str
    rule_id: str

    def alarm_specs(self, region: Region, settings: MonitoringConfig) -> list[AlarmSpec]:
        """Latency and failure alarms on the rule (in its source's region)."""
        dims = {"SourceBucket": self.source_bucket, "DestinationBucket": self.destination_bucket, "RuleId": self.rule_id}
        here = f" ({region.name})"
        return [
            AlarmSpec(S3_LATENCY, "S3 replication latency in seconds" + here, settings.s3_replication_latency_seconds,
                      "notBreaching", metric=Metric("AWS/S3", "ReplicationLatency", dims, "Maximum")),
            AlarmSpec(S3_FAILED, "S3 objects that failed to replicate" + here, 1, "notBreaching",
                      metric=Metric("AWS/S3", "OperationsFailedReplication", dims)),
        ]


@dataclass(frozen=True)
class ForwardingWatch:
    """An event-forwarding rule to watch: its dead-letter queue, the rule and its bus."""

    queue_name: str
    rule_name: str
    bus_name: str

    def alarm_specs(self, region: Region) -> list[AlarmSpec]:
        """Events that failed every delivery to the peer's bus, and any the rule could not even dead-letter."""
        here = f" ({region.name})"
        return [
            AlarmSpec(EVENT_DEAD_LETTERS, "Forwarded events that failed every retry wait in the forwarding dead-letter queue" + here,
                      1, "notBreaching",
                      metric=Metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": self.queue_name}, "Maximum")),
            AlarmSpec(EVENT_DLQ_FAILURES, "Forwarded events lost: EventBridge could not put them in the dead-letter queue "
                      "(its key or queue policy refuses)" + here, 1, "notBreaching",
                      metric=Metric("AWS/Events", "InvocationsFailedToBeSentToDlq",
                                    {"EventBusName": self.bus_name, "RuleName": self.rule_name})),
        ]


def health_check_alarm_spec(scope: Construct, id_: str, *, checked: Region, check_id: str) -> AlarmSpec:
    """An alarm on one Route 53 health check, for the us-east-1 collector: the only region
    Route 53 publishes health-check metrics in."""
    return AlarmSpec(HEALTH_CHECK, f"Route 53 health check of {checked.name} failing", 1,
                     "breaching",  # a check that stops reporting is a check that failed
                     comparison="LessThanThreshold", scope=scope, id=id_, name=f"{checked.role}-health-check",
                     metric=Metric("AWS/Route53", "HealthCheckStatus", {"HealthCheckId": check_id}, "Minimum"))


def dashboard_body(monitors: Sequence[RegionMonitor]) -> str:
    """One dashboard, a band per region (its collector's rows, four widgets a line); every widget names its region."""
    widgets, y = [], 0
    for monitor in monitors:
        region, rows = monitor.region, monitor.rows
        for x, row in enumerate(rows):
            widgets.append({
                "type": "metric", "x": (x % 4) * 6, "y": y + (x // 4) * 6, "width": 6, "height": 6,
                "properties": {"title": f"{row.title} — {region.role} ({region.name})", "region": region.name,
                               "metrics": [list(line) for line in row.metrics], "stat": row.stat, "period": 300,
                               "view": "timeSeries"},
            })
        y += 6 * ((len(rows) + 3) // 4)
    return json.dumps({"widgets": widgets})


def alarm_table(docs: Sequence[AlarmDoc] | None = None) -> str:
    """The README's alarm table (markdown): one row per kind of alarm tapinfra declares (default):
    this module's first, then each declaring module's (by name) in declaration order."""
    if docs is None:
        import importlib

        from tapinfra.modules.base import registered_modules

        importlib.import_module("tapinfra.stack")  # every core construct, so every core kind is declared
        for module in registered_modules():
            if module.constructs:
                importlib.import_module(module.constructs)
        # the core's first, then by declaring module (import order varies), each in declaration order
        docs = sorted((d for d in ALARM_DOCS.values() if d.declared_in.startswith("tapinfra.")),
                      key=lambda d: (d.declared_in != __name__, d.declared_in))
    lines = ["| alarm | where / when | fires when | usually means |", "|---|---|---|---|"]
    for doc in docs:
        lines.append(f"| `{doc.key}` | {doc.where or 'each region'} | {doc.fires_when} | {doc.means} |")
    return "\n".join(lines) + "\n"
