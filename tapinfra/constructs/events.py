"""EventBridge: the region's custom bus with an archive, and forwarding to the peer region's bus."""

from __future__ import annotations

import json

from constructs import Construct

from tapinfra.runtime import ORIGIN_REGION_FIELD
from tapinfra.policy import Statement, service_role
from tapinfra.provider import aws
from tapinfra.region import Region

ARCHIVE_RETENTION_DAYS = 30


class EventBus(Construct):
    """``bus`` (custom, per region) and ``archive`` of everything published to it.

    Exposes ``name``, ``arn``, ``source`` (the ``source`` the application publishes with) and
    :meth:`grant_put_events`.
    """

    def __init__(self, scope: Construct, id_: str, *, region: Region, source: str) -> None:
        super().__init__(scope, id_)
        self.source = source
        self.bus = aws.cloudwatch_event_bus.CloudwatchEventBus(
            self, "bus", provider=region.provider, name=region.namer.name("events", "event_bus"),
        )
        self.name: str = self.bus.name
        self.arn: str = self.bus.arn
        self.archive = aws.cloudwatch_event_archive.CloudwatchEventArchive(
            self, "archive", provider=region.provider,
            name=region.namer.name("events", "event_archive"),
            event_source_arn=self.arn,
            retention_days=ARCHIVE_RETENTION_DAYS,
            description="Every event on the bus, for replay after an incident.",
        )

    def grant_put_events(self, sid: str) -> Statement:
        """Publishing onto this bus, and nothing else."""
        return Statement(sid=sid, actions=["events:PutEvents"], resources=[self.arn])


class EventForwarding(Construct):
    """Forwards the application's events from ``bus`` (in ``region``) to ``peer_bus`` in the peer region.

    The rule matches only events whose ``detail.origin_region`` is this region, so an event
    forwarded into the peer is never forwarded back. The role may only PutEvents on the
    peer bus.
    """

    def __init__(self, scope: Construct, id_: str, *, region: Region, bus: EventBus, peer_bus: EventBus) -> None:
        super().__init__(scope, id_)
        p = region.provider
        self.pattern = {"source": [bus.source], "detail": {ORIGIN_REGION_FIELD: [region.name]}}
        self.role, self.role_policy = service_role(
            self, "role", provider=p, name=region.namer.name("events-forward", "iam_role"),
            services=["events.amazonaws.com"],
            statements=[peer_bus.grant_put_events("PutOnPeerBusOnly")],
        )
        self.rule = aws.cloudwatch_event_rule.CloudwatchEventRule(
            self, "rule", provider=p, name=region.namer.name("forward-to-peer", "event_rule"),
            description=f"Events that originated in {region.name}, forwarded to {region.peer_name}.",
            event_bus_name=bus.name,
            event_pattern=json.dumps(self.pattern, sort_keys=True),
        )
        t = aws.cloudwatch_event_target
        self.target = t.CloudwatchEventTarget(
            self, "target", provider=p, rule=self.rule.name, event_bus_name=bus.name,
            target_id="peer-bus", arn=peer_bus.arn, role_arn=self.role.arn,
            retry_policy=t.CloudwatchEventTargetRetryPolicy(maximum_event_age_in_seconds=86400, maximum_retry_attempts=185),
            depends_on=[self.role_policy],
        )
