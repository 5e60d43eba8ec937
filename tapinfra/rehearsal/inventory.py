"""What the emulator holds, asked service by service: the proof that destroy left nothing behind.

The emulator starts empty, so after destroy everything listed here is a leftover. KMS
keys and secrets pending deletion count as gone (AWS never deletes them at once); what
moto or AWS own by themselves (default VPC and event bus, AWS-managed keys and policies,
default parameter groups) is not ours.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable


def _kms_keys(server: Any, region: str) -> list[str]:
    kms, out = server.client("kms", region), []
    # Keys behind alias/aws/* are the services' own (moto creates alias/aws/dynamodb as AWS does,
    # but reports it as CUSTOMER): not ours to delete.
    service_keys = {a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"] if a["AliasName"].startswith("alias/aws/")}
    for key in kms.list_keys()["Keys"]:
        meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        if meta["KeyId"] in service_keys:
            continue
        if meta.get("KeyManager") == "CUSTOMER" and meta["KeyState"] not in ("PendingDeletion", "PendingReplicaDeletion"):
            out.append(f"{meta['KeyId']} ({meta['KeyState']})")
    return out


def _event_rules(server: Any, region: str) -> list[str]:
    events = server.client("events", region)
    return [f"{bus['Name']}/{rule['Name']}" for bus in events.list_event_buses()["EventBuses"]
            for rule in events.list_rules(EventBusName=bus["Name"])["Rules"]]


def _is_default_vpc(server: Any, region: str, vpc_id: str) -> bool:
    vpcs = server.client("ec2", region).describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    return bool(vpcs and vpcs[0].get("IsDefault"))


# kind -> (lister per region) ; regional kinds are asked in every region the stack uses.
REGIONAL: dict[str, Callable[[Any, str], list[str]]] = {
    "dynamodb tables": lambda s, r: s.client("dynamodb", r).list_tables()["TableNames"],
    "lambda functions": lambda s, r: [f["FunctionName"] for f in s.client("lambda", r).list_functions()["Functions"]],
    "lambda event source mappings": lambda s, r: [f"{m['UUID']} ({m.get('EventSourceArn', '-')})" for m in
                                                  s.client("lambda", r).list_event_source_mappings()["EventSourceMappings"]],
    "rest apis": lambda s, r: [a["name"] for a in s.client("apigateway", r).get_rest_apis()["items"]],
    "api keys": lambda s, r: [k["name"] for k in s.client("apigateway", r).get_api_keys()["items"]],
    "usage plans": lambda s, r: [p["name"] for p in s.client("apigateway", r).get_usage_plans()["items"]],
    # Not an object but an account setting: after destroy it must not name the deleted role.
    "api gateway account cloudwatch role": lambda s, r: [a for a in [s.client("apigateway", r).get_account().get("cloudwatchRoleArn")] if a],
    "custom domains": lambda s, r: [d["domainName"] for d in s.client("apigateway", r).get_domain_names()["items"]],
    "kms keys (not pending deletion)": _kms_keys,
    "kms aliases": lambda s, r: [a["AliasName"] for a in s.client("kms", r).list_aliases()["Aliases"]
                                 if not a["AliasName"].startswith("alias/aws/")],
    "log groups": lambda s, r: [g["logGroupName"] for g in s.client("logs", r).describe_log_groups()["logGroups"]],
    "log resource policies": lambda s, r: [p["policyName"] for p in s.client("logs", r).describe_resource_policies()["resourcePolicies"]],
    "sns topics": lambda s, r: [t["TopicArn"] for t in s.client("sns", r).list_topics()["Topics"]],
    "sqs queues": lambda s, r: s.client("sqs", r).list_queues().get("QueueUrls", []),
    "ssm parameters": lambda s, r: [p["Name"] for p in s.client("ssm", r).describe_parameters()["Parameters"]],
    "event buses": lambda s, r: [b["Name"] for b in s.client("events", r).list_event_buses()["EventBuses"] if b["Name"] != "default"],
    "event rules": _event_rules,
    "event archives": lambda s, r: [a["ArchiveName"] for a in s.client("events", r).list_archives()["Archives"]],
    "alarms": lambda s, r: [a["AlarmName"] for a in s.client("cloudwatch", r).describe_alarms()["MetricAlarms"]],
    "dashboards": lambda s, r: [d["DashboardName"] for d in s.client("cloudwatch", r).list_dashboards()["DashboardEntries"]],
    "web acls": lambda s, r: [a["Name"] for a in s.client("wafv2", r).list_web_acls(Scope="REGIONAL")["WebACLs"]],
    "certificates": lambda s, r: [c["DomainName"] for c in s.client("acm", r).list_certificates()["CertificateSummaryList"]],
    "canaries": lambda s, r: [c["Name"] for c in s.client("synthetics", r).describe_canaries()["Canaries"]],
    "vpcs (not default)": lambda s, r: [v["VpcId"] for v in s.client("ec2", r).describe_vpcs()["Vpcs"] if not v.get("IsDefault")],
    "internet gateways": lambda s, r: [g["InternetGatewayId"] for g in s.client("ec2", r).describe_internet_gateways()["InternetGateways"]
                                       if not any(_is_default_vpc(s, r, a["VpcId"]) for a in g.get("Attachments", []))],
    "nat gateways (not deleted)": lambda s, r: [g["NatGatewayId"] for g in s.client("ec2", r).describe_nat_gateways()["NatGateways"]
                                                if g["State"] not in ("deleted", "deleting")],
    "elastic ips": lambda s, r: [a.get("AllocationId", a.get("PublicIp")) for a in s.client("ec2", r).describe_addresses()["Addresses"]],
    "codedeploy applications": lambda s, r: s.client("codedeploy", r).list_applications().get("applications", []),
    "codedeploy deployment groups": lambda s, r: [
        f"{app}/{group}" for app in s.client("codedeploy", r).list_applications().get("applications", [])
        for group in s.client("codedeploy", r).list_deployment_groups(applicationName=app).get("deploymentGroups", [])],
    "fis experiment templates": lambda s, r: [t["id"] for t in s.client("fis", r).list_experiment_templates().get("experimentTemplates", [])],
    "rds global clusters": lambda s, r: [c["GlobalClusterIdentifier"] for c in s.client("rds", r).describe_global_clusters()["GlobalClusters"]],
    "rds clusters": lambda s, r: [c["DBClusterIdentifier"] for c in s.client("rds", r).describe_db_clusters()["DBClusters"]],
    "rds instances": lambda s, r: [i["DBInstanceIdentifier"] for i in s.client("rds", r).describe_db_instances()["DBInstances"]],
    "db subnet groups": lambda s, r: [g["DBSubnetGroupName"] for g in s.client("rds", r).describe_db_subnet_groups()["DBSubnetGroups"]],
    "db cluster parameter groups (custom)": lambda s, r: [
        g["DBClusterParameterGroupName"] for g in s.client("rds", r).describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]
        if not g["DBClusterParameterGroupName"].startswith("default.")],
    "secrets (not pending deletion)": lambda s, r: [x["Name"] for x in s.client("secretsmanager", r).list_secrets()["SecretList"]
                                                    if not x.get("DeletedDate")],
    "cloudtrail trails": lambda s, r: [t["Name"] for t in s.client("cloudtrail", r).describe_trails(includeShadowTrails=False)["trailList"]],
    "athena workgroups (not primary)": lambda s, r: [w["Name"] for w in s.client("athena", r).list_work_groups()["WorkGroups"]
                                                     if w["Name"] != "primary"],
    "glue databases": lambda s, r: [d["Name"] for d in s.client("glue", r).get_databases()["DatabaseList"]],
    "scalable targets": lambda s, r: [t["ResourceId"] + " " + t["ScalableDimension"] for t in
                                      s.client("application-autoscaling", r).describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]],
}
GLOBAL: dict[str, Callable[[Any], list[str]]] = {
    "s3 buckets": lambda s: [b["Name"] for b in s.client("s3").list_buckets()["Buckets"]],
    "hosted zones": lambda s: [z["Name"] for z in s.client("route53").list_hosted_zones()["HostedZones"]],
    "health checks": lambda s: [c["Id"] for c in s.client("route53").list_health_checks()["HealthChecks"]],
    "iam roles": lambda s: [r["RoleName"] for r in s.client("iam").list_roles()["Roles"]],
    "iam policies (customer)": lambda s: [p["PolicyName"] for p in s.client("iam").list_policies(Scope="Local")["Policies"]],
}


def inventory(server: Any, regions: Iterable[str]) -> dict[str, list[str]]:
    """``"<region> <kind>"`` (or ``"global <kind>"``) -> names, only where something exists."""
    found: dict[str, list[str]] = {}
    for region in sorted(set(regions)):
        for kind, lister in REGIONAL.items():
            names = sorted(lister(server, region))
            if names:
                found[f"{region} {kind}"] = names
    for kind, lister in GLOBAL.items():
        names = sorted(lister(server))
        if names:
            found[f"global {kind}"] = names
    return found


def kinds(found: dict[str, list[str]]) -> set[str]:
    """The kinds present, without regions: ``{"dynamodb tables", "s3 buckets", ...}``."""
    return {key.split(" ", 1)[1] for key in found}


# Resource type -> the inventory kind that would show it left behind.
KIND_OF_TYPE: dict[str, str] = {
    "aws_dynamodb_table": "dynamodb tables",
    "aws_api_gateway_account": "api gateway account cloudwatch role",
    "aws_lambda_function": "lambda functions",
    "aws_lambda_event_source_mapping": "lambda event source mappings",
    "aws_api_gateway_rest_api": "rest apis",
    "aws_api_gateway_api_key": "api keys",
    "aws_api_gateway_usage_plan": "usage plans",
    "aws_api_gateway_domain_name": "custom domains",
    "aws_kms_key": "kms keys (not pending deletion)",
    "aws_kms_alias": "kms aliases",
    "aws_cloudwatch_log_group": "log groups",
    "aws_cloudwatch_log_resource_policy": "log resource policies",
    "aws_sns_topic": "sns topics",
    "aws_sqs_queue": "sqs queues",
    "aws_ssm_parameter": "ssm parameters",
    "aws_cloudwatch_event_bus": "event buses",
    "aws_cloudwatch_event_rule": "event rules",
    "aws_cloudwatch_event_archive": "event archives",
    "aws_cloudwatch_metric_alarm": "alarms",
    "aws_cloudwatch_dashboard": "dashboards",
    "aws_wafv2_web_acl": "web acls",
    "aws_acm_certificate": "certificates",
    "aws_synthetics_canary": "canaries",
    "aws_appautoscaling_target": "scalable targets",
    "aws_s3_bucket": "s3 buckets",
    "aws_route53_zone": "hosted zones",
    "aws_route53_health_check": "health checks",
    "aws_iam_role": "iam roles",
    "aws_iam_policy": "iam policies (customer)",
    "aws_vpc": "vpcs (not default)",
    "aws_internet_gateway": "internet gateways",
    "aws_nat_gateway": "nat gateways (not deleted)",
    "aws_eip": "elastic ips",
    "aws_rds_global_cluster": "rds global clusters",
    "aws_rds_cluster": "rds clusters",
    "aws_rds_cluster_instance": "rds instances",
    "aws_db_subnet_group": "db subnet groups",
    "aws_rds_cluster_parameter_group": "db cluster parameter groups (custom)",
    "aws_secretsmanager_secret": "secrets (not pending deletion)",
    "aws_cloudtrail": "cloudtrail trails",
    "aws_athena_workgroup": "athena workgroups (not primary)",
    "aws_glue_catalog_database": "glue databases",
    "aws_codedeploy_app": "codedeploy applications",
    "aws_codedeploy_deployment_group": "codedeploy deployment groups",
    "aws_fis_experiment_template": "fis experiment templates",
}

# Resource types that exist only inside a parent listed above (or are settings, not objects):
# they go when the parent goes, so the parent's kind covers them.
PART_OF_PARENT: dict[str, str] = {
    "aws_acm_certificate_validation": "aws_acm_certificate",
    "aws_api_gateway_base_path_mapping": "aws_api_gateway_domain_name",
    "aws_api_gateway_deployment": "aws_api_gateway_rest_api",
    "aws_api_gateway_gateway_response": "aws_api_gateway_rest_api",
    "aws_api_gateway_integration": "aws_api_gateway_rest_api",
    "aws_api_gateway_integration_response": "aws_api_gateway_rest_api",
    "aws_api_gateway_method": "aws_api_gateway_rest_api",
    "aws_api_gateway_method_response": "aws_api_gateway_rest_api",
    "aws_api_gateway_method_settings": "aws_api_gateway_rest_api",
    "aws_api_gateway_model": "aws_api_gateway_rest_api",
    "aws_api_gateway_request_validator": "aws_api_gateway_rest_api",
    "aws_api_gateway_resource": "aws_api_gateway_rest_api",
    "aws_api_gateway_stage": "aws_api_gateway_rest_api",
    "aws_api_gateway_usage_plan_key": "aws_api_gateway_usage_plan",
    "aws_appautoscaling_policy": "aws_appautoscaling_target",
    "aws_cloudwatch_event_target": "aws_cloudwatch_event_rule",
    "aws_iam_role_policy": "aws_iam_role",
    "aws_lambda_alias": "aws_lambda_function",
    "aws_lambda_permission": "aws_lambda_function",
    "aws_lambda_provisioned_concurrency_config": "aws_lambda_function",
    "aws_route53_hosted_zone_dnssec": "aws_route53_zone",
    "aws_route53_key_signing_key": "aws_route53_zone",
    "aws_route53_query_log": "aws_route53_zone",
    "aws_route53_record": "aws_route53_zone",
    "aws_s3_bucket_lifecycle_configuration": "aws_s3_bucket",
    "aws_s3_bucket_logging": "aws_s3_bucket",
    "aws_s3_bucket_notification": "aws_s3_bucket",
    "aws_s3_bucket_ownership_controls": "aws_s3_bucket",
    "aws_s3_bucket_policy": "aws_s3_bucket",
    "aws_s3_bucket_public_access_block": "aws_s3_bucket",
    "aws_s3_bucket_replication_configuration": "aws_s3_bucket",
    "aws_s3_bucket_server_side_encryption_configuration": "aws_s3_bucket",
    "aws_s3_bucket_versioning": "aws_s3_bucket",
    "aws_sns_topic_subscription": "aws_sns_topic",
    "aws_sqs_queue_policy": "aws_sqs_queue",
    "aws_wafv2_web_acl_association": "aws_wafv2_web_acl",
    "aws_wafv2_web_acl_logging_configuration": "aws_wafv2_web_acl",
    "aws_subnet": "aws_vpc",
    "aws_route_table": "aws_vpc",
    "aws_route": "aws_vpc",
    "aws_route_table_association": "aws_vpc",
    "aws_security_group": "aws_vpc",
    "aws_default_security_group": "aws_vpc",
    "aws_vpc_security_group_ingress_rule": "aws_vpc",
    "aws_vpc_security_group_egress_rule": "aws_vpc",
    "aws_vpc_endpoint": "aws_vpc",
    "aws_flow_log": "aws_vpc",
    "aws_secretsmanager_secret_version": "aws_secretsmanager_secret",
    "aws_cloudwatch_log_metric_filter": "aws_cloudwatch_log_group",
    "aws_glue_catalog_table": "aws_glue_catalog_database",
}
