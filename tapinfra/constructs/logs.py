"""Log groups: always KMS-encrypted with the region's key, always with a retention."""

from __future__ import annotations

from constructs import Construct

from tapinfra.provider import aws
from tapinfra.region import Region


def log_group(scope: Construct, id_: str, *, region: Region, name: str, retention_days: int):
    return aws.cloudwatch_log_group.CloudwatchLogGroup(
        scope, id_, provider=region.provider, name=name,
        retention_in_days=retention_days, kms_key_id=region.key.arn,
    )
