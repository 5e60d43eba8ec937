"""KMS-aware cross-region replication, configured on the source bucket only."""

from __future__ import annotations

from constructs import Construct

from tapinfra.constructs.bucket import SecureBucket
from tapinfra.constructs.monitoring import ReplicationWatch
from tapinfra.policy import Condition, Statement, service_role
from tapinfra.provider import aws
from tapinfra.region import Region


class BucketReplication(Construct):
    """Replicates ``source`` (primary) into ``destination`` (secondary), re-encrypting with the destination key.

    The role (created here, trusted by s3.amazonaws.com) may read the source's replication
    configuration and object versions, write replicas, deletes and tags into the destination,
    decrypt only with the source key via S3 in the source region, and encrypt only with the
    destination key via S3 in the destination region. Exposes ``role``, ``configuration``
    and ``watch`` (what to alarm on).
    """

    RULE_ID = "replicate-everything"

    def __init__(self, scope: Construct, id_: str, *, source_region: Region, destination_region: Region,
                 source: SecureBucket, destination: SecureBucket, storage_class: str) -> None:
        super().__init__(scope, id_)
        src, dst = source_region, destination_region
        self.role, self.role_policy = service_role(
            self, "role", provider=src.provider,
            name=src.namer.name("replication", "iam_role"),
            services=["s3.amazonaws.com"],
            statements=[
                Statement(sid="ReadReplicationConfiguration",
                          actions=["s3:GetReplicationConfiguration", "s3:ListBucket"],
                          resources=[source.arn]),
                Statement(sid="ReadSourceObjectVersions",
                          actions=["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                          resources=[f"{source.arn}/*"]),
                Statement(sid="WriteReplicas",
                          actions=["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                          resources=[f"{destination.arn}/*"]),
                src.key.grant("DecryptSourceViaS3", ["kms:Decrypt"],
                              [Condition("StringEquals", "kms:ViaService", [f"s3.{src.name}.amazonaws.com"])]),
                dst.key.grant("EncryptReplicasViaS3", ["kms:Encrypt", "kms:GenerateDataKey"],
                              [Condition("StringEquals", "kms:ViaService", [f"s3.{dst.name}.amazonaws.com"])]),
            ],
        )
        self.role_arn = self.role.arn
        r = aws.s3_bucket_replication_configuration
        self.configuration = r.S3BucketReplicationConfigurationA(
            self, "configuration", provider=src.provider,
            role=self.role_arn,
            bucket=source.bucket_id,
            depends_on=[source.versioning, destination.versioning, self.role_policy],
            rule=[r.S3BucketReplicationConfigurationRule(
                id=self.RULE_ID,
                status="Enabled",
                priority=1,
                filter=r.S3BucketReplicationConfigurationRuleFilter(),
                delete_marker_replication=r.S3BucketReplicationConfigurationRuleDeleteMarkerReplication(status="Enabled"),
                source_selection_criteria=r.S3BucketReplicationConfigurationRuleSourceSelectionCriteria(
                    sse_kms_encrypted_objects=r.S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects(status="Enabled"),
                ),
                destination=r.S3BucketReplicationConfigurationRuleDestination(
                    bucket=destination.arn,
                    storage_class=storage_class,
                    encryption_configuration=r.S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                        replica_kms_key_id=dst.key.arn),
                    replication_time=r.S3BucketReplicationConfigurationRuleDestinationReplicationTime(
                        status="Enabled",
                        time=r.S3BucketReplicationConfigurationRuleDestinationReplicationTimeTime(minutes=15)),
                    metrics=r.S3BucketReplicationConfigurationRuleDestinationMetrics(
                        status="Enabled",
                        event_threshold=r.S3BucketReplicationConfigurationRuleDestinationMetricsEventThreshold(minutes=15)),
                ),
            )],
        )
        self.watch = ReplicationWatch(source_bucket=source.name, destination_bucket=destination.name, rule_id=self.RULE_ID)
