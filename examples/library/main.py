#!/usr/bin/env python3
"""tapinfra as a library: your own API, and your own resources beside the stack.

``python examples/library/main.py [--outdir DIR]`` synthesizes two stacks into one app:

- ``orders-dev``: tapinfra's two-region stack deploying the *orders* application in
  ``orders/`` (its handler and its OpenAPI document, ``orders/openapi.yaml``), plus one
  resource of our own inside it: an SQS queue in each region subscribed to that region's
  alarm topic (wired through the stack's typed results), and an override through the escape
  hatch (the primary stage's description);
- ``orders-ops``: a stack of our own in the same app (an SSM parameter holding the primary
  region's invoke URL would be a cross-stack reference; this one keeps a runbook URL).
"""

from __future__ import annotations

import sys
from pathlib import Path

import tapinfra

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "tapinfra.json"


def build(app, config: tapinfra.TapConfig) -> tapinfra.TapStack:
    from cdktf import TerraformOutput, TerraformStack
    from cdktf_cdktf_provider_aws import provider as aws_provider
    from cdktf_cdktf_provider_aws import sns_topic_subscription, sqs_queue, sqs_queue_policy, ssm_parameter

    stack = tapinfra.TapStack(app, tapinfra.stack_id(config), config)
    for service in stack.services:  # the typed results: one per region, primary first
        region = service.region
        queue = sqs_queue.SqsQueue(stack, f"{region.role}-alarm-inbox", provider=region.provider,
                                   name=region.namer.name("alarm-inbox", "sqs"), kms_master_key_id=region.key.arn,
                                   message_retention_seconds=1_209_600)
        sends = tapinfra.policy_document(stack, f"{region.role}-alarm-inbox-policy-document", region.provider, [
            tapinfra.Statement(sid="AlarmTopicSends", actions=["sqs:SendMessage"], resources=[queue.arn],
                               principals={"Service": ["sns.amazonaws.com"]},
                               conditions=[tapinfra.Condition("ArnEquals", "aws:SourceArn", [service.topic_arn])]),
        ])
        sqs_queue_policy.SqsQueuePolicy(stack, f"{region.role}-alarm-inbox-policy", provider=region.provider,
                                        queue_url=queue.url, policy=sends.json)
        sns_topic_subscription.SnsTopicSubscription(stack, f"{region.role}-alarm-inbox-subscription",
                                                    provider=region.provider, topic_arn=service.topic_arn,
                                                    protocol="sqs", endpoint=queue.arn)
        TerraformOutput(stack, f"{region.role}_alarm_inbox_url", value=queue.url,
                        description=f"Every alarm of {region.name}, as SQS messages.")
    # The escape hatch: any attribute tapinfra sets can be overridden.
    stack.find("primary-api/stage").add_override("description", "orders API, primary region")

    ops = TerraformStack(app, f"{config.app}-ops")
    aws_provider.AwsProvider(ops, "aws", region=config.regions.primary)
    ssm_parameter.SsmParameter(ops, "runbook", name=f"/{config.app}/runbook-url", type="String",
                               value="https://wiki.example.com/orders/runbook")
    return stack


def main(argv: list[str] | None = None) -> int:
    tapinfra.enable_fast_import(start_kernel=True)
    return tapinfra.synth_main(argv, default_config=CONFIG, build=build, description=__doc__.splitlines()[0])


if __name__ == "__main__":
    sys.exit(main())
