"""What review knows about AWS resource types: which hold data, which names are fixed, where policies live."""

from __future__ import annotations

# Types whose deletion or replacement loses data or identity (-> what is lost).
STATEFUL_TYPES: dict[str, str] = {
    "aws_dynamodb_table": "table",
    "aws_dynamodb_global_table": "table",
    "aws_dynamodb_table_replica": "table replica",
    "aws_s3_bucket": "bucket",
    "aws_kms_key": "key",
    "aws_kms_replica_key": "key",
    "aws_kms_external_key": "key",
    "aws_route53_zone": "zone",
    "aws_secretsmanager_secret": "secret",
    "aws_rds_cluster": "cluster",
    "aws_rds_global_cluster": "cluster",
    "aws_db_instance": "database",
    "aws_docdb_cluster": "cluster",
    "aws_neptune_cluster": "cluster",
    "aws_redshift_cluster": "cluster",
    "aws_elasticache_replication_group": "cluster",
    "aws_memorydb_cluster": "cluster",
    "aws_msk_cluster": "cluster",
    "aws_eks_cluster": "cluster",
    "aws_opensearch_domain": "domain",
    "aws_efs_file_system": "file system",
    "aws_backup_vault": "backup vault",
    "aws_cognito_user_pool": "user pool",
}



def stateful_types() -> dict[str, str]:
    """``STATEFUL_TYPES`` and what each registered module declares of its own types
    (``Module.stateful_types``: a module that creates a type holding data says so there)."""
    from tapinfra.modules.base import registered_modules

    merged = dict(STATEFUL_TYPES)
    for module in registered_modules():
        merged.update(module.stateful_types())
    return merged


# Types whose name must be unique where it lives (account, region or parent) -> the name
# attribute. Replacing one create-before-destroy fails while the old one still holds the name.
NAME_ATTRIBUTES: dict[str, str] = {
    "aws_dynamodb_table": "name",
    "aws_s3_bucket": "bucket",
    "aws_lambda_function": "function_name",
    "aws_lambda_alias": "name",
    "aws_iam_role": "name",
    "aws_iam_policy": "name",
    "aws_iam_role_policy": "name",
    "aws_iam_user": "name",
    "aws_iam_instance_profile": "name",
    "aws_kms_alias": "name",
    "aws_sqs_queue": "name",
    "aws_sns_topic": "name",
    "aws_cloudwatch_log_group": "name",
    "aws_cloudwatch_metric_alarm": "alarm_name",
    "aws_cloudwatch_composite_alarm": "alarm_name",
    "aws_cloudwatch_dashboard": "dashboard_name",
    "aws_cloudwatch_event_bus": "name",
    "aws_cloudwatch_event_archive": "name",
    "aws_cloudwatch_event_rule": "name",
    "aws_ssm_parameter": "name",
    "aws_secretsmanager_secret": "name",
    "aws_synthetics_canary": "name",
    "aws_wafv2_web_acl": "name",
    "aws_wafv2_ip_set": "name",
    "aws_api_gateway_domain_name": "domain_name",
    "aws_api_gateway_stage": "stage_name",
    "aws_rds_cluster": "cluster_identifier",
    "aws_db_instance": "identifier",
    "aws_ecr_repository": "name",
    "aws_elasticache_replication_group": "replication_group_id",
    "aws_eks_cluster": "name",
    "aws_opensearch_domain": "domain_name",
    "aws_cognito_user_pool_domain": "domain",
}

# Where policy documents live: type -> (attribute, kind). kind "identity" grants to the
# principal that holds it; "resource" to whom the document names; "key" is a KMS key
# policy, whose Resource is always "*" meaning the key itself.
POLICY_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "aws_iam_role_policy": ("policy", "identity"),
    "aws_iam_user_policy": ("policy", "identity"),
    "aws_iam_group_policy": ("policy", "identity"),
    "aws_iam_policy": ("policy", "identity"),
    "aws_iam_role": ("assume_role_policy", "resource"),
    "aws_kms_key": ("policy", "key"),
    "aws_kms_key_policy": ("policy", "key"),
    "aws_kms_replica_key": ("policy", "key"),
    "aws_s3_bucket_policy": ("policy", "resource"),
    "aws_sqs_queue_policy": ("policy", "resource"),
    "aws_sqs_queue": ("policy", "resource"),
    "aws_sns_topic_policy": ("policy", "resource"),
    "aws_sns_topic": ("policy", "resource"),
    "aws_cloudwatch_event_bus_policy": ("policy", "resource"),
    "aws_secretsmanager_secret_policy": ("policy", "resource"),
    "aws_api_gateway_rest_api_policy": ("policy", "resource"),
    "aws_api_gateway_rest_api": ("policy", "resource"),
    "aws_ecr_repository_policy": ("policy", "resource"),
    "aws_cloudwatch_log_resource_policy": ("policy_document", "resource"),
}
# aws_iam_role.inline_policy blocks are identity policies too (see policy_values).
INLINE_POLICY_TYPES = frozenset({"aws_iam_role"})

# Data source whose statements a planned read exposes even when its json is unknown.
POLICY_DOCUMENT_DATA = "aws_iam_policy_document"

# The attribute that says where a resource itself lives, for types where it is not ``arn``
# (region_changed and the summary read it); None: the type has no attribute of its own region.
OWN_REGION_ATTRIBUTES: dict[str, str | None] = {
    "aws_s3_bucket": "region",  # a bucket's ARN names no region
    "aws_cloudwatch_event_target": None,  # arn: the target's ARN (e.g. the peer region's bus)
}

KMS_KEY_TYPES = ("aws_kms_key", "aws_kms_replica_key", "aws_kms_external_key")

# Types whose deletion AWS refuses while an attribute is true -> that attribute.
DELETION_PROTECTION: dict[str, str] = {
    "aws_dynamodb_table": "deletion_protection_enabled",
    "aws_rds_cluster": "deletion_protection",
    "aws_rds_global_cluster": "deletion_protection",
    "aws_db_instance": "deletion_protection",
    "aws_docdb_cluster": "deletion_protection",
    "aws_neptune_cluster": "deletion_protection",
    "aws_lb": "enable_deletion_protection",
    "aws_cognito_user_pool": "deletion_protection",
}
