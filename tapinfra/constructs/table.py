"""The DynamoDB global table: one table on the primary provider with a replica in the secondary."""

from __future__ import annotations

from typing import Sequence

from constructs import Construct

from tapinfra.config import MonitoringConfig, TableConfig
from tapinfra.constructs.monitoring import (TABLE_ERRORS, TABLE_REPLICATION, TABLE_THROTTLES, AlarmSpec, DashboardRow,
                                           Metric, MissingData)
from tapinfra.runtime import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from tapinfra.policy import Statement
from tapinfra.protection import Protection
from tapinfra.provider import aws
from tapinfra.region import Region

# What the API function does with items; nothing else (no Scan, no table administration).
ITEM_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query")
# What Lambda's event source mapping does with a table's stream.
STREAM_ACTIONS = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams")


class GlobalTable(Construct):
    """Multi-tenant item store (``tenant_id`` / ``item_id``), replicated to the secondary region.

    On-demand by default; provisioned mode autoscales reads and writes in both regions.
    Streams NEW_AND_OLD_IMAGES (replication needs them), TTL on ``expires_at``, SSE with each
    region's key, point-in-time recovery on table and replica, tags propagated to the
    replica. Unless ``protection`` is disposable: deletion protection and ``prevent_destroy``.

    Exposes ``name`` (literal), ``table_name`` (the table's attribute: orders its users after the
    table exists), ``arn_in(region)`` and :meth:`grant_items` for the function in a region; the
    copy in a region's ``metric_*(region)``, :meth:`alarm_specs` and :meth:`dashboard_rows` for that
    region's collector (CloudWatch keeps each copy's metrics in its region, under the one name).
    """

    def __init__(self, scope: Construct, id_: str, *, primary: Region, secondary: Region,
                 settings: TableConfig, protection: Protection) -> None:
        super().__init__(scope, id_)
        t = aws.dynamodb_table
        provisioned = settings.billing_mode == "PROVISIONED"
        self.name = primary.namer.name("items", "dynamodb")
        self.table = t.DynamodbTable(
            self, "table", provider=primary.provider,
            name=self.name,
            billing_mode=settings.billing_mode,
            read_capacity=settings.read_capacity if provisioned else None,
            write_capacity=settings.write_capacity if provisioned else None,
            hash_key=PARTITION_KEY,
            range_key=SORT_KEY,
            attribute=[t.DynamodbTableAttribute(name=PARTITION_KEY, type="S"),
                       t.DynamodbTableAttribute(name=SORT_KEY, type="S")],
            stream_enabled=True,
            stream_view_type="NEW_AND_OLD_IMAGES",
            ttl=t.DynamodbTableTtl(attribute_name=TTL_ATTRIBUTE, enabled=True),
            server_side_encryption=t.DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=primary.key.arn),
            point_in_time_recovery=t.DynamodbTablePointInTimeRecovery(enabled=True),
            deletion_protection_enabled=protection.deletion_protection,
            replica=[t.DynamodbTableReplica(
                region_name=secondary.name,
                kms_key_arn=secondary.key.arn,
                point_in_time_recovery=True,
                propagate_tags=True,
            )],
            # In provisioned mode the autoscaler owns the capacities: Terraform ignores them
            # instead of resetting them on every apply.
            lifecycle=protection.lifecycle(ignore_changes=["read_capacity", "write_capacity"] if provisioned else None),
        )
        self.arn: str = self.table.arn
        self.table_name: str = self.table.name
        self.replica_arn = secondary.arn("dynamodb", f"table/{self.name}")
        # Where the table has a copy, primary first: the writer preference order of single-writer mode.
        self.regions: tuple[Region, Region] = (primary, secondary)
        self.write_mode = settings.write_mode  # how writes reach the copies (table.write_mode); every writer follows it
        self._stream_arns: dict[str, str] = {}  # region name -> token, read from the kernel on first use
        if provisioned:
            for region in (primary, secondary):
                self._autoscale(region, settings)

    def arn_in(self, region: Region) -> str:
        """The table's ARN in ``region`` (the replica's, in the secondary)."""
        return self.arn if region.is_primary else self.replica_arn

    def grant_items(self, region: Region, sid: str = "ItemsInThisRegionsTable",
                    actions: Sequence[str] = ITEM_ACTIONS) -> Statement:
        """Item reads and writes (or only ``actions``) on the table's copy in ``region``."""
        return Statement(sid=sid, actions=list(actions), resources=[self.arn_in(region)])

    def peer_of(self, region: Region) -> Region:
        """The other region holding a copy of the table."""
        return next(r for r in self.regions if r.name != region.name)

    def stream_arn_in(self, region: Region) -> str:
        """The stream of the table's copy in ``region`` (every copy has its own); read once."""
        cached = self._stream_arns.get(region.name)
        if cached is None:
            cached = self.table.stream_arn if region.is_primary else self.table.replica.get(0).stream_arn
            self._stream_arns[region.name] = cached
        return cached

    def grant_stream_read(self, region: Region, sid: str) -> Statement:
        """What a Lambda event source mapping needs to read the stream of the copy in ``region``."""
        return Statement(sid=sid, actions=list(STREAM_ACTIONS), resources=[self.stream_arn_in(region)])

    def metric(self, region: Region, name: str, stat: str = "Sum") -> Metric:
        """The ``AWS/DynamoDB`` metric ``name`` of the copy in ``region`` (default ``Sum``)."""
        if region.name not in {r.name for r in self.regions}:
            raise ValueError(f"the table has no copy in {region.name}: no metrics there")
        return Metric("AWS/DynamoDB", name, {"TableName": self.name}, stat)

    def metric_read_throttles(self, region: Region) -> Metric:
        """Reads of the copy in ``region`` refused for capacity (``ReadThrottleEvents``, ``Sum``)."""
        return self.metric(region, "ReadThrottleEvents")

    def metric_write_throttles(self, region: Region) -> Metric:
        """Writes to the copy in ``region`` refused for capacity (``WriteThrottleEvents``, ``Sum``)."""
        return self.metric(region, "WriteThrottleEvents")

    def metric_system_errors(self, region: Region) -> Metric:
        """HTTP 500s of DynamoDB in ``region`` (``Sum``)."""
        return self.metric(region, "SystemErrors")

    def metric_replication_latency(self, region: Region, stat: str = "Average") -> Metric:
        """Milliseconds a write made in ``region`` takes to reach the peer's copy (``ReceivingRegion``
        the peer; default ``Average``). Emitted only while writes replicate."""
        table = self.metric(region, "ReplicationLatency", stat)
        return Metric(table.namespace, table.name, {**table.dimensions, "ReceivingRegion": self.peer_of(region).name}, stat)

    def alarm_specs(self, region: Region, settings: MonitoringConfig) -> list[AlarmSpec]:
        """Throttles, system errors and replication latency of the copy in ``region`` (thresholds from ``settings``)."""
        here = f" ({region.name})"
        quiet: MissingData = "notBreaching"
        return [
            AlarmSpec(TABLE_THROTTLES, "DynamoDB requests throttled" + here, settings.dynamodb_throttled_requests, quiet,
                      expression="reads + writes",
                      inputs={"reads": self.metric_read_throttles(region), "writes": self.metric_write_throttles(region)}),
            AlarmSpec(TABLE_ERRORS, "DynamoDB system errors (HTTP 500s from the service)" + here, 1, quiet,
                      metric=self.metric_system_errors(region)),
            # quiet: emitted only while writes replicate
            AlarmSpec(TABLE_REPLICATION, f"Global-table replication latency to {self.peer_of(region).name} in ms" + here,
                      settings.table_replication_latency_ms, quiet, metric=self.metric_replication_latency(region)),
        ]

    def dashboard_rows(self, region: Region) -> list[DashboardRow]:
        """One widget of the copy in ``region``: read and write throttles, replication latency on the right axis."""
        lag = self.metric_replication_latency(region)
        return [DashboardRow("Table throttles and replication", (
            self.metric_read_throttles(region).widget_line(), self.metric_write_throttles(region).widget_line(),
            lag.widget_line(stat=lag.stat, yAxis="right")), "Sum")]

    def _autoscale(self, region: Region, settings: TableConfig) -> None:
        for dimension, floor, ceiling in (("Read", settings.read_capacity, settings.max_read_capacity),
                                          ("Write", settings.write_capacity, settings.max_write_capacity)):
            target = aws.appautoscaling_target.AppautoscalingTarget(
                self, f"{region.role}-{dimension.lower()}-target", provider=region.provider,
                service_namespace="dynamodb",
                resource_id=f"table/{self.name}",
                scalable_dimension=f"dynamodb:table:{dimension}CapacityUnits",
                min_capacity=floor, max_capacity=ceiling,
                depends_on=[self.table],
            )
            aws.appautoscaling_policy.AppautoscalingPolicy(
                self, f"{region.role}-{dimension.lower()}-policy", provider=region.provider,
                name=f"{self.name}-{dimension.lower()}-utilisation",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                resource_id=target.resource_id,
                scalable_dimension=target.scalable_dimension,
                target_tracking_scaling_policy_configuration=aws.appautoscaling_policy.AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                    target_value=settings.autoscaling_target_percent,
                    predefined_metric_specification=aws.appautoscaling_policy.AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                        predefined_metric_type=f"DynamoDB{dimension}CapacityUtilization"),
                ),
            )
