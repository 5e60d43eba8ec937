"""Alarms, their notification topic, and the two-region dashboard."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Literal, Optional, Sequence

from constructs import Construct

from tapinfra.config import MonitoringConfig
from tapinfra.limits import canary_alarm_period_seconds
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
    namespace: str
    name: str
    dimensions: dict
    stat: str = "Sum"


MissingData = Literal["breaching", "notBreaching", "ignore", "missing"]


def alarm(scope: Construct, id_: str, *, provider: object, name: str, description: str, topic_arn: str,
          settings: MonitoringConfig, threshold: float, missing_data: MissingData,
          comparison: str = "GreaterThanOrEqualToThreshold",
          metric: Optional[Metric] = None, expression: Optional[str] = None, inputs: Optional[dict[str, Metric]] = None):
    """One alarm on a metric, or on metric math over ``inputs`` (``expression`` names their ids).

    ``missing_data`` has no default: each alarm says whether silence is healthy (no traffic,
    no throttles) or a failure (a canary or health check that stopped reporting)."""
    a = aws.cloudwatch_metric_alarm
    common = dict(
        provider=provider, alarm_name=name, alarm_description=description,
        comparison_operator=comparison, threshold=threshold,
        evaluation_periods=settings.alarm_evaluation_periods,
        treat_missing_data=missing_data,
        alarm_actions=[topic_arn], ok_actions=[topic_arn],
    )
    if metric is not None:
        stat = {"statistic": metric.stat} if not metric.stat.startswith("p") else {"extended_statistic": metric.stat}
        return a.CloudwatchMetricAlarm(scope, id_, namespace=metric.namespace, metric_name=metric.name,
                                       dimensions=metric.dimensions, period=settings.alarm_period_seconds, **stat, **common)
    queries = [a.CloudwatchMetricAlarmMetricQuery(id="result", expression=expression, label=description, return_data=True)]
    for qid, m in inputs.items():
        queries.append(a.CloudwatchMetricAlarmMetricQuery(
            id=qid, return_data=False,
            metric=a.CloudwatchMetricAlarmMetricQueryMetric(
                namespace=m.namespace, metric_name=m.name, dimensions=m.dimensions,
                period=settings.alarm_period_seconds, stat=m.stat)))
    return a.CloudwatchMetricAlarm(scope, id_, metric_query=queries, **common)


@dataclass(frozen=True)
class Watched:
    """What one region's alarms watch (names, not constructs)."""

    api_name: str
    stage_name: str
    function_name: str
    alias_name: str
    table_name: str
    reserved_concurrency: int = 0
    waf_name: Optional[str] = None
    canary_name: Optional[str] = None


@dataclass(frozen=True)
class ReplicationWatch:
    """An S3 replication rule to watch: its source and destination buckets and its rule id."""

    source_bucket: str
    destination_bucket: str
    rule_id: str


@dataclass(frozen=True)
class ForwardingWatch:
    """An event-forwarding rule to watch: its dead-letter queue, the rule and its bus."""

    queue_name: str
    rule_name: str
    bus_name: str


class RegionAlarms(Construct):
    """Every alarm of one region; all notify ``topic_arn``. Exposes ``alarms`` (name -> alarm).

    Links built after the region (S3 replication) add theirs with :meth:`watch_s3_replication`.
    """

    def __init__(self, scope: Construct, id_: str, *, region: Region, settings: MonitoringConfig,
                 topic_arn: str, watched: Watched) -> None:
        super().__init__(scope, id_)
        self._region, self._settings, self._topic_arn = region, settings, topic_arn
        w = watched
        api = {"ApiName": w.api_name, "Stage": w.stage_name}
        fn = {"FunctionName": w.function_name, "Resource": f"{w.function_name}:{w.alias_name}"}
        table = {"TableName": w.table_name}
        self.alarms = {}
        add = self._add

        add("api-5xx-rate", "API 5xx responses, percent of requests",
            expression="IF(requests > 0, 100 * errors / requests, 0)", threshold=settings.api_5xx_rate_percent, missing_data="notBreaching",
            inputs={"errors": Metric("AWS/ApiGateway", "5XXError", api), "requests": Metric("AWS/ApiGateway", "Count", api)})
        add("api-p99-latency", "API p99 latency in ms",
            metric=Metric("AWS/ApiGateway", "Latency", api, "p99"), threshold=settings.api_p99_latency_ms,
            missing_data="notBreaching")
        add("lambda-error-rate", "Function errors, percent of invocations (errors / invocations x 100)",
            expression="IF(invocations > 0, 100 * errors / invocations, 0)", threshold=settings.lambda_error_rate_percent, missing_data="notBreaching",
            inputs={"errors": Metric("AWS/Lambda", "Errors", fn), "invocations": Metric("AWS/Lambda", "Invocations", fn)})
        add("lambda-throttles", "Function invocations throttled",
            metric=Metric("AWS/Lambda", "Throttles", fn), threshold=settings.lambda_throttles, missing_data="notBreaching")
        add("lambda-spillover", "Invocations that spilled over provisioned concurrency (raise function.provisioned_concurrency)",
            metric=Metric("AWS/Lambda", "ProvisionedConcurrencySpilloverInvocations", fn), threshold=1,
            missing_data="notBreaching")
        add("lambda-concurrency-headroom",
            f"Concurrent executions at {CONCURRENCY_WARNING_PERCENT}% of the reserved {w.reserved_concurrency} "
            "(throttling starts at 100%: raise function.reserved_concurrency)",
            metric=Metric("AWS/Lambda", "ConcurrentExecutions", {"FunctionName": w.function_name}, "Maximum"),
            threshold=max(1, w.reserved_concurrency * CONCURRENCY_WARNING_PERCENT // 100), missing_data="notBreaching")
        add("table-throttles", "DynamoDB requests throttled",
            expression="reads + writes", threshold=settings.dynamodb_throttled_requests, missing_data="notBreaching",
            inputs={"reads": Metric("AWS/DynamoDB", "ReadThrottleEvents", table), "writes": Metric("AWS/DynamoDB", "WriteThrottleEvents", table)})
        add("table-system-errors", "DynamoDB system errors (HTTP 500s from the service)",
            metric=Metric("AWS/DynamoDB", "SystemErrors", table), threshold=1, missing_data="notBreaching")
        add("table-replication-latency", f"Global-table replication latency to {region.peer_name} in ms",
            metric=Metric("AWS/DynamoDB", "ReplicationLatency", {**table, "ReceivingRegion": region.peer_name}, "Average"),
            threshold=settings.table_replication_latency_ms, missing_data="notBreaching")  # emitted only while writes replicate
        canary_period = canary_alarm_period_seconds(settings)
        if w.canary_name is not None and canary_period is not None:
            # one data point per run: the period spans a run, or the alarm breaches between runs
            add("canary-success", "Canary success percent below target",
                metric=Metric("CloudWatchSynthetics", "SuccessPercent", {"CanaryName": w.canary_name}, "Average"),
                threshold=settings.canary_success_percent, comparison="LessThanThreshold",
                missing_data="breaching",  # a canary that stops running must not look healthy
                settings=replace(settings, alarm_period_seconds=canary_period))
        if w.waf_name is not None:
            add("waf-blocked-spike", "Requests blocked by WAF (attack or misbehaving client)",
                metric=Metric("AWS/WAFV2", "BlockedRequests", {"WebACL": w.waf_name, "Region": region.name, "Rule": "ALL"}),
                threshold=settings.waf_blocked_requests, missing_data="notBreaching")

    def _add(self, key: str, description: str, settings: MonitoringConfig | None = None, **kwargs) -> None:
        self.alarms[key] = alarm(self, key, provider=self._region.provider, name=self._region.namer.name(key, "alarm"),
                                 description=f"{description} ({self._region.name})", topic_arn=self._topic_arn,
                                 settings=settings or self._settings, **kwargs)

    def watch_event_forwarding(self, forwarding: ForwardingWatch) -> None:
        """Events that failed every delivery to the peer's bus, and any the rule could not even dead-letter."""
        self._add("event-dead-letters", "Forwarded events that failed every retry wait in the forwarding dead-letter queue",
                  metric=Metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": forwarding.queue_name}, "Maximum"),
                  threshold=1, missing_data="notBreaching")
        self._add("event-dead-letter-failures", "Forwarded events lost: EventBridge could not put them in the dead-letter queue "
                  "(its key or queue policy refuses)",
                  metric=Metric("AWS/Events", "InvocationsFailedToBeSentToDlq",
                                {"EventBusName": forwarding.bus_name, "RuleName": forwarding.rule_name}),
                  threshold=1, missing_data="notBreaching")

    def watch_s3_replication(self, rule: ReplicationWatch) -> None:
        """Latency and failure alarms on one replication rule whose source is in this region."""
        dims = {"SourceBucket": rule.source_bucket, "DestinationBucket": rule.destination_bucket, "RuleId": rule.rule_id}
        self._add("s3-replication-latency", "S3 replication latency in seconds",
                  metric=Metric("AWS/S3", "ReplicationLatency", dims, "Maximum"),
                  threshold=self._settings.s3_replication_latency_seconds, missing_data="notBreaching")
        self._add("s3-replication-failed", "S3 objects that failed to replicate",
                  metric=Metric("AWS/S3", "OperationsFailedReplication", dims), threshold=1, missing_data="notBreaching")


def health_check_alarm(scope: Construct, id_: str, *, home: Region, checked: Region, check_id: str, topic_arn: str,
                       settings: MonitoringConfig):
    """An alarm on one Route 53 health check; ``home`` is us-east-1, the only region Route 53
    publishes health-check metrics in."""
    return alarm(scope, id_, provider=home.provider, name=home.namer.name(f"{checked.role}-health-check", "alarm"),
                 description=f"Route 53 health check of {checked.name} failing", topic_arn=topic_arn,
                 settings=settings, threshold=1, comparison="LessThanThreshold",
                 missing_data="breaching",  # a check that stops reporting is a check that failed
                 metric=Metric("AWS/Route53", "HealthCheckStatus", {"HealthCheckId": check_id}, "Minimum"))


def dashboard_body(regions: Sequence[tuple[Region, Watched]]) -> str:
    """One dashboard, a row per region; every widget names its region."""
    widgets, y = [], 0
    for region, w in regions:
        api = ["ApiName", w.api_name, "Stage", w.stage_name]
        fn = ["FunctionName", w.function_name, "Resource", f"{w.function_name}:{w.alias_name}"]
        rows = [
            ("API requests and errors", [["AWS/ApiGateway", "Count", *api], ["AWS/ApiGateway", "4XXError", *api], ["AWS/ApiGateway", "5XXError", *api]], "Sum"),
            ("API latency p99", [["AWS/ApiGateway", "Latency", *api, {"stat": "p99"}]], "p99"),
            ("Function invocations, errors, throttles", [["AWS/Lambda", "Invocations", *fn], ["AWS/Lambda", "Errors", *fn], ["AWS/Lambda", "Throttles", *fn], ["AWS/Lambda", "ProvisionedConcurrencySpilloverInvocations", *fn]], "Sum"),
            ("Table throttles and replication", [["AWS/DynamoDB", "ReadThrottleEvents", "TableName", w.table_name], ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", w.table_name], ["AWS/DynamoDB", "ReplicationLatency", "TableName", w.table_name, "ReceivingRegion", region.peer_name, {"stat": "Average", "yAxis": "right"}]], "Sum"),
        ]
        if w.canary_name:
            rows.append(("Canary success percent", [["CloudWatchSynthetics", "SuccessPercent", "CanaryName", w.canary_name]], "Average"))
        if w.waf_name:
            rows.append(("WAF blocked requests", [["AWS/WAFV2", "BlockedRequests", "WebACL", w.waf_name, "Region", region.name, "Rule", "ALL"]], "Sum"))
        for x, (title, metrics, stat) in enumerate(rows):
            widgets.append({
                "type": "metric", "x": (x % 4) * 6, "y": y + (x // 4) * 6, "width": 6, "height": 6,
                "properties": {"title": f"{title} — {region.role} ({region.name})", "region": region.name,
                               "metrics": metrics, "stat": stat, "period": 300, "view": "timeSeries"},
            })
        y += 6 * ((len(rows) + 3) // 4)
    return json.dumps({"widgets": widgets})
