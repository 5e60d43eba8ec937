"""Secure S3 buckets: the only way tapinfra creates a bucket."""

from __future__ import annotations

from typing import Optional, Sequence

from constructs import Construct

from tapinfra.config import StorageConfig
from tapinfra.policy import Condition, Statement, policy_document
from tapinfra.protection import Protection
from tapinfra.provider import aws
from tapinfra.region import Region


def deny_insecure_transport(bucket_arn: str) -> Statement:
    return Statement(
        sid="DenyInsecureTransport",
        effect="Deny",
        actions=["s3:*"],
        resources=[bucket_arn, f"{bucket_arn}/*"],
        principals={"*": ["*"]},
        conditions=[Condition("Bool", "aws:SecureTransport", ["false"])],
    )


class SecureBucket(Construct):
    """A bucket with every guard on.

    Versioned; SSE-KMS with the region's key and a bucket key (``kms=False`` only for the
    access-log bucket: S3 server access logging delivers to SSE-S3 buckets only); all four
    public access blocks; owner-enforced object ownership; a policy denying non-TLS
    requests (plus ``extra_statements``); object events to EventBridge; a lifecycle (abort incomplete uploads, expire
    noncurrent versions, transitions, optional expiry); access logging to ``log_bucket``;
    ``force_destroy`` only when ``protection`` is disposable (a destroy then empties it), and
    ``prevent_destroy`` when ``protect``, unless disposable.

    :param region: where the bucket lives (provider, key, namer).
    :param name: from the namer; the account id is appended for global uniqueness.
    :param storage: lifecycle settings.
    :param log_bucket: the access-log bucket; None only for the log bucket itself.
    :param protect: the bucket holds what a mistaken destroy must not lose (``prevent_destroy``
        unless ``protection`` is disposable). Default: False.
    :param protection: the deployment's :class:`~tapinfra.protection.Protection`. Default: protected.
    """

    def __init__(self, scope: Construct, id_: str, *, region: Region, name: str, storage: StorageConfig,
                 log_bucket: Optional["SecureBucket"], kms: bool = True, protect: bool = False,
                 expiration_days: Optional[int] = None, transitions: bool = True,
                 extra_statements: Sequence[Statement] = (), protection: Protection = Protection()) -> None:
        super().__init__(scope, id_)
        p = region.provider
        self.region = region
        self.kms = kms
        self.bucket = aws.s3_bucket.S3Bucket(
            self, "bucket", provider=p,
            bucket=f"{name}-{region.account_id}",
            force_destroy=protection.force_destroy,
            lifecycle=protection.lifecycle() if protect else None,
        )
        b = self.bucket
        self.arn: str = b.arn
        self.name: str = b.bucket
        self.bucket_id: str = b.id
        bucket_id = self.bucket_id
        self.versioning = aws.s3_bucket_versioning.S3BucketVersioningA(
            self, "versioning", provider=p, bucket=bucket_id,
            versioning_configuration=aws.s3_bucket_versioning.S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        sse = aws.s3_bucket_server_side_encryption_configuration
        default = (
            sse.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                sse_algorithm="aws:kms", kms_master_key_id=region.key.arn)
            if kms else
            sse.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(sse_algorithm="AES256")
        )
        self.encryption = sse.S3BucketServerSideEncryptionConfigurationA(
            self, "encryption", provider=p, bucket=bucket_id,
            rule=[sse.S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=default, bucket_key_enabled=kms or None)],
        )
        self.public_access_block = aws.s3_bucket_public_access_block.S3BucketPublicAccessBlock(
            self, "public-access-block", provider=p, bucket=bucket_id,
            block_public_acls=True, block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
        )
        self.ownership = aws.s3_bucket_ownership_controls.S3BucketOwnershipControls(
            self, "ownership", provider=p, bucket=bucket_id,
            rule=aws.s3_bucket_ownership_controls.S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        policy = policy_document(self, "policy-document", p, [deny_insecure_transport(self.arn), *extra_statements])
        self.policy = aws.s3_bucket_policy.S3BucketPolicy(
            self, "policy", provider=p, bucket=bucket_id, policy=policy.json,
            depends_on=[self.public_access_block],
        )
        lc = aws.s3_bucket_lifecycle_configuration
        self.lifecycle = lc.S3BucketLifecycleConfiguration(
            self, "lifecycle", provider=p, bucket=bucket_id,
            depends_on=[self.versioning],
            rule=[
                lc.S3BucketLifecycleConfigurationRule(
                    id="housekeeping", status="Enabled",
                    filter=[lc.S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    abort_incomplete_multipart_upload=[lc.S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                        days_after_initiation=storage.abort_incomplete_upload_days)],
                    noncurrent_version_expiration=[lc.S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                        noncurrent_days=storage.noncurrent_version_expiration_days)],
                    transition=[
                        lc.S3BucketLifecycleConfigurationRuleTransition(days=storage.transition_to_ia_days, storage_class="STANDARD_IA"),
                        lc.S3BucketLifecycleConfigurationRuleTransition(days=storage.transition_to_glacier_days, storage_class="GLACIER_IR"),
                    ] if transitions else None,
                    expiration=[lc.S3BucketLifecycleConfigurationRuleExpiration(days=expiration_days)] if expiration_days else None,
                ),
            ],
        )
        # Object events go to EventBridge's default bus: auditable and free until a rule reads them.
        self.notifications = aws.s3_bucket_notification.S3BucketNotification(
            self, "notifications", provider=p, bucket=bucket_id, eventbridge=True,
        )
        self.logging = None
        if log_bucket is not None:
            self.logging = aws.s3_bucket_logging.S3BucketLoggingA(
                self, "logging", provider=p, bucket=bucket_id,
                target_bucket=log_bucket.bucket_id, target_prefix=f"{name}/",
                # S3 refuses a logging target whose policy does not yet admit log delivery.
                depends_on=[log_bucket.policy],
            )


    def invoke_on_object_created(self, function_arn: str, permission: object) -> None:
        """Objects created here also invoke ``function_arn``, through this bucket's one notification
        configuration (S3 allows one; it keeps sending every event to EventBridge). ``permission``
        is the function's invoke permission for this bucket: S3 refuses the configuration before it exists."""
        n = aws.s3_bucket_notification
        self.notifications.put_lambda_function([n.S3BucketNotificationLambdaFunction(
            lambda_function_arn=function_arn, events=["s3:ObjectCreated:*"])])
        self.notifications.depends_on = [f"{permission.terraform_resource_type}.{permission.friendly_unique_id}"]


def access_log_bucket(scope: Construct, id_: str, *, region: Region, storage: StorageConfig,
                      protection: Protection = Protection()) -> SecureBucket:
    """The region's server-access-log bucket (SSE-S3: the only encryption log delivery supports)."""
    name = region.namer.name("access-logs", "s3")
    arn = region.arn("s3", f"{name}-{region.account_id}", region="", account="")
    delivery = Statement(
        sid="AllowServerAccessLogDelivery",
        actions=["s3:PutObject"],
        resources=[f"{arn}/*"],
        principals={"Service": ["logging.s3.amazonaws.com"]},
        conditions=[
            Condition("StringEquals", "aws:SourceAccount", [region.account_id]),
            Condition("ArnLike", "aws:SourceArn", [region.arn("s3", f"*-{region.account_id}", region="", account="")]),
        ],
    )
    return SecureBucket(scope, id_, region=region, name=name, storage=storage, log_bucket=None, kms=False,
                        expiration_days=storage.access_log_expiration_days, transitions=False, extra_statements=[delivery],
                        protection=protection)
