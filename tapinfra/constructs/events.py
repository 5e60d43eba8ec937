"""The region's custom EventBridge bus, with an archive for replay."""

from __future__ import annotations

from constructs import Construct

from tapinfra.provider import aws
from tapinfra.region import Region

EVENT_SOURCE = "tap.items"
ARCHIVE_RETENTION_DAYS = 30


class EventBus(Construct):
    """``bus`` (custom, per region) and ``archive`` of everything published to it.

    Exposes ``name``, ``arn`` and ``source`` (the ``source`` the application publishes with).
    """

    def __init__(self, scope: Construct, id_: str, *, region: Region) -> None:
        super().__init__(scope, id_)
        self.source = EVENT_SOURCE
        self.bus = aws.cloudwatch_event_bus.CloudwatchEventBus(
            self, "bus", provider=region.provider, name=region.namer.name("events", "event_bus"),
        )
        self.archive = aws.cloudwatch_event_archive.CloudwatchEventArchive(
            self, "archive", provider=region.provider,
            name=region.namer.name("events", "event_archive"),
            event_source_arn=self.bus.arn,
            retention_days=ARCHIVE_RETENTION_DAYS,
            description="Every event on the bus, for replay after an incident.",
        )

    @property
    def name(self) -> str:
        return self.bus.name

    @property
    def arn(self) -> str:
        return self.bus.arn
