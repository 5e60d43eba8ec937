"""The teardown steps of a synthesized stack, read from its JSON, so the README's teardown
section says what ``terraform destroy`` of that stack does and leaves (a test checks each
statement against the disposable example)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

# Created by API Gateway itself the first time a region's account setting names a CloudWatch
# role; no stack owns it, so it outlives every destroy and keeps its events forever.
API_GATEWAY_WELCOME_LOG_GROUP = "/aws/apigateway/welcome"
EMPTY_BUCKET = ("python -c \"import boto3,sys; boto3.resource('s3').Bucket(sys.argv[1]).object_versions.delete()\" "
                "<bucket>")


@dataclass
class Teardown:
    """What the JSON says destroy meets: each list holds Terraform addresses (or region names)."""

    protected: list[str] = field(default_factory=list)           # lifecycle.prevent_destroy
    deletion_protected_tables: list[str] = field(default_factory=list)
    created_zones: list[str] = field(default_factory=list)       # zone names, force_destroy
    zones_with_records_left: list[str] = field(default_factory=list)  # created zones without force_destroy
    emptied_buckets: int = 0                                      # force_destroy
    buckets_to_empty: list[str] = field(default_factory=list)
    canaries_removing_lambda: int = 0                             # delete_lambda
    canaries_leaving_lambda: list[str] = field(default_factory=list)
    canary_log_groups: int = 0                                    # the stack's groups named from engine_arn
    key_windows: dict[int, int] = field(default_factory=dict)    # waiting days -> keys
    secret_windows: dict[int, int] = field(default_factory=dict)  # recovery days -> secrets
    account_setting_reset: list[str] = field(default_factory=list)  # regions
    account_setting_kept: list[str] = field(default_factory=list)   # regions
    welcome_regions: list[str] = field(default_factory=list)


def resources(doc: dict[str, Any], rtype: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, body in doc.get("resource", {}).get(rtype, {}).items():
        yield f"{rtype}.{name}", body


def provider_regions(doc: dict[str, Any]) -> dict[str, str]:
    """``aws.<alias>`` -> region, from the stack's provider blocks."""
    providers = doc.get("provider", {}).get("aws", [])
    return {f"aws.{p['alias']}": p["region"] for p in (providers if isinstance(providers, list) else [providers])}


def read_teardown(doc: dict[str, Any]) -> Teardown:
    t = Teardown()
    regions = provider_regions(doc)
    for rtype, items in doc.get("resource", {}).items():
        for name, body in items.items():
            if (body.get("lifecycle") or {}).get("prevent_destroy"):
                t.protected.append(f"{rtype}.{name}")
    t.deletion_protected_tables = [a for a, b in resources(doc, "aws_dynamodb_table") if b.get("deletion_protection_enabled")]
    for _, zone in resources(doc, "aws_route53_zone"):
        (t.created_zones if zone.get("force_destroy") else t.zones_with_records_left).append(zone["name"])
    for address, bucket in resources(doc, "aws_s3_bucket"):
        if bucket.get("force_destroy"):
            t.emptied_buckets += 1
        else:
            t.buckets_to_empty.append(address)
    canaries = dict(resources(doc, "aws_synthetics_canary"))
    for address, canary in canaries.items():
        if canary.get("delete_lambda"):
            t.canaries_removing_lambda += 1
        else:
            t.canaries_leaving_lambda.append(address)
    t.canary_log_groups = sum(1 for _, group in resources(doc, "aws_cloudwatch_log_group")
                              if any(f"{address}.engine_arn" in group.get("name", "") for address in canaries))
    for _, key in resources(doc, "aws_kms_key"):
        days = key.get("deletion_window_in_days", 30)  # KMS's default
        t.key_windows[days] = t.key_windows.get(days, 0) + 1
    for _, secret in resources(doc, "aws_secretsmanager_secret"):
        days = secret.get("recovery_window_in_days", 30)  # Secrets Manager's default
        t.secret_windows[days] = t.secret_windows.get(days, 0) + 1
    for _, account in resources(doc, "aws_api_gateway_account"):
        region = regions[account["provider"]]
        (t.account_setting_reset if account.get("reset_on_delete") else t.account_setting_kept).append(region)
        t.welcome_regions.append(region)
    return t


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def teardown_text(doc: dict[str, Any]) -> str:
    """The steps as Markdown: what blocks destroy, what destroy removes, what it leaves and how to remove that."""
    t = read_teardown(doc)
    lines: list[str] = []
    if t.protected or t.deletion_protected_tables:
        lines.append("`terraform destroy` refuses this stack: " + ", ".join(
            [f"`{a}` has `prevent_destroy`" for a in t.protected]
            + [f"`{a}` has deletion protection" for a in t.deletion_protected_tables]) + ".")
        lines.append("")
        return "\n".join(lines)
    removed = []
    if t.created_zones:
        removed.append("the created zone " + ", ".join(f"`{z}`" for z in t.created_zones)
                       + " with every record in it (`force_destroy`); remove its NS and DS records at the parent")
    if t.emptied_buckets:
        removed.append(_count(t.emptied_buckets, "bucket", "buckets") + " with every object version in "
                       + ("it" if t.emptied_buckets == 1 else "them") + " (`force_destroy`: no need to empty them first)")
    if t.canaries_removing_lambda:
        removed.append("the Lambda function and layers Synthetics made for each of the "
                       + _count(t.canaries_removing_lambda, "canary", "canaries")
                       + " (`delete_lambda`)" + (" and the function's log group, which the stack owns"
                                                  if t.canary_log_groups == t.canaries_removing_lambda else ""))
    if t.account_setting_reset:
        removed.append("the account's API Gateway CloudWatch role setting in " + ", ".join(t.account_setting_reset)
                       + " (`reset_on_delete`)")
    lines.append("1. `cd cdktf.out/stacks/<app>-<env> && terraform destroy`. Nothing has `prevent_destroy` or deletion "
                 "protection, so it removes every resource" + (", including:" if removed else "."))
    lines.extend(f"   - {item};" if i < len(removed) - 1 else f"   - {item}." for i, item in enumerate(removed))
    left = []
    for address in t.buckets_to_empty:
        left.append(f"`{address}` has no `force_destroy`: empty it first, all versions: `{EMPTY_BUCKET}`")
    for zone in t.zones_with_records_left:
        left.append(f"the zone `{zone}` has no `force_destroy`: delete its records other than NS and SOA first")
    for address in t.canaries_leaving_lambda:
        left.append(f"`{address}` has no `delete_lambda`: delete its `cwsyn-<name>-*` Lambda function and layers by hand")
    for days, n in sorted(t.key_windows.items()):
        left.append(_count(n, "KMS key", "KMS keys") + f", scheduled for deletion after {days} days: they stop billing "
                    "once scheduled (`aws kms cancel-key-deletion --key-id <id>` keeps one meanwhile)")
    for days, n in sorted(t.secret_windows.items()):
        if days:
            left.append(_count(n, "secret", "secrets") + f", recoverable for {days} days: its name stays taken until "
                        "then (`aws secretsmanager delete-secret --force-delete-without-recovery --secret-id <arn>` frees it)")
    for region in t.account_setting_kept:
        left.append(f"the account's API Gateway CloudWatch role setting in {region}, naming the role destroy deleted: "
                    f"`aws apigateway update-account --region {region} --patch-operations op=replace,path=/cloudwatchRoleArn,value=<role arn>`")
    for region in t.welcome_regions:
        left.append(f"`{API_GATEWAY_WELCOME_LOG_GROUP}` in {region}, the log group API Gateway made itself when the "
                    "setting was first made (no retention): "
                    f"`aws logs delete-log-group --region {region} --log-group-name {API_GATEWAY_WELCOME_LOG_GROUP}`")
    if left:
        lines.append("2. What destroy leaves:")
        lines.extend(f"   - {item};" if i < len(left) - 1 else f"   - {item}." for i, item in enumerate(left))
    lines.append("")
    return "\n".join(lines)
