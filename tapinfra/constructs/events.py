"""EventBridge: the region's custom bus with an archive, and forwarding to the peer region's bus."""

from __future__ import annotations

import json

from constructs import Construct

from tapinfra.constructs.keys import ServiceKeyGrant
from tapinfra.constructs.monitoring import ForwardingWatch
from tapinfra.runtime import ORIGIN_REGION_FIELD
from tapinfra.policy import Condition, Statement, policy_document, service_role
from tapinfra.provider import aws
from tapinfra.region import Region

ARCHIVE_RETENTION_DAYS = 30
# EventBridge retries a failed delivery for up to a day (its maximum), then dead-letters it.
MAXIMUM_EVENT_AGE_SECONDS = 86400
MAXIMUM_RETRY_ATTEMPTS = 185
# What failed every retry waits as long as SQS keeps anything: 14 days.
DEAD_LETTER_RETENTION_SECONDS = 14 * 86400
EVENTS_SERVICE = "events.amazonaws.com"


def dead_letter_key_grant(partition: str, region: str, account_id: str) -> ServiceKeyGrant:
    """EventBridge encrypts what a rule dead-letters into a KMS-encrypted queue with the queue's
    key: the key admits it for this account's rules in ``region`` only."""
    return ServiceKeyGrant(
        sid="EventBridgeDeadLetters", service=EVENTS_SERVICE, actions=("kms:Decrypt", "kms:GenerateDataKey"),
        conditions=[Condition("StringEquals", "aws:SourceAccount", [account_id]),
                    Condition("ArnLike", "aws:SourceArn", [f"arn:{partition}:events:{region}:{account_id}:rule/*"])],
    )


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
    peer bus. An event the peer bus does not take within a day of retries lands in
    ``dead_letters`` (SQS, the region's key; only EventBridge, for this rule, may send to it)
    instead of being dropped; ``watch`` names what the region's alarms watch.
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
        rule_name, rule_arn = self.rule.name, self.rule.arn
        self.dead_letters = aws.sqs_queue.SqsQueue(
            self, "dead-letters", provider=p, name=region.namer.name("forward-dlq", "sqs"),
            kms_master_key_id=region.key.arn, kms_data_key_reuse_period_seconds=300,
            message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
        )
        queue_arn = self.dead_letters.arn
        admit = policy_document(self, "dead-letters-policy-document", p, [Statement(
            sid="ThisForwardingRuleOnly", actions=["sqs:SendMessage"], resources=[queue_arn],
            principals={"Service": [EVENTS_SERVICE]},
            conditions=[Condition("ArnEquals", "aws:SourceArn", [rule_arn])],
        )])
        self.dead_letters_policy = aws.sqs_queue_policy.SqsQueuePolicy(
            self, "dead-letters-policy", provider=p, queue_url=self.dead_letters.url, policy=admit.json,
        )
        t = aws.cloudwatch_event_target
        self.target = t.CloudwatchEventTarget(
            self, "target", provider=p, rule=rule_name, event_bus_name=bus.name,
            target_id="peer-bus", arn=peer_bus.arn, role_arn=self.role.arn,
            retry_policy=t.CloudwatchEventTargetRetryPolicy(maximum_event_age_in_seconds=MAXIMUM_EVENT_AGE_SECONDS,
                                                            maximum_retry_attempts=MAXIMUM_RETRY_ATTEMPTS),
            dead_letter_config=t.CloudwatchEventTargetDeadLetterConfig(arn=queue_arn),
            # EventBridge may dead-letter only once the queue admits it
            depends_on=[self.role_policy, self.dead_letters_policy],
        )
        self.watch = ForwardingWatch(queue_name=self.dead_letters.name, rule_name=rule_name, bus_name=bus.name)
