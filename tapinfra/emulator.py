"""Point the AWS providers at a local emulator (moto server, LocalStack) for a deploy rehearsal.

With ``config.emulator`` set, every aliased provider gets that endpoint for each service the
stack uses, fixed test credentials and the skip flags an emulator needs; nothing else in the
stack changes. Without it, the providers are exactly what a real deployment uses.
"""

from __future__ import annotations

from typing import Any, Optional

# Every service a tapinfra stack calls (hashicorp/aws 5.x ``endpoints`` block keys).
# A service missing here would go to AWS itself; tests/lifecycle/test_harness.py checks every
# resource type of every example against this list.
SERVICES = (
    "acm", "apigateway", "applicationautoscaling", "athena", "cloudtrail", "cloudwatch", "cloudwatchlogs", "codedeploy",
    "dynamodb", "ec2", "events", "fis", "glue", "iam", "kms", "lambda_", "rds", "route53", "s3", "secretsmanager",
    "sns", "sqs", "ssm", "sts", "synthetics", "wafv2",
)
TEST_ACCESS_KEY = "testing"
TEST_SECRET_KEY = "testing"


def provider_settings(endpoint: Optional[str]) -> dict[str, Any]:
    """Extra ``AwsProvider`` arguments: none for AWS, the emulator's wiring otherwise."""
    if endpoint is None:
        return {}
    from tapinfra.provider import aws

    url = endpoint.rstrip("/")
    return {
        "access_key": TEST_ACCESS_KEY,
        "secret_key": TEST_SECRET_KEY,
        "skip_credentials_validation": True,
        "skip_metadata_api_check": "true",
        "skip_region_validation": True,
        # The stack reads the account id (data.aws_caller_identity): the emulator's STS answers.
        "skip_requesting_account_id": False,
        "s3_use_path_style": True,
        "endpoints": [aws.provider.AwsProviderEndpoints(**{service: url for service in SERVICES})],
    }
