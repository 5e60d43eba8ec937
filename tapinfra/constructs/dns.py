"""Custom domain, certificates, Route 53 health checks and routing across the two regions."""

from __future__ import annotations

from typing import Optional

from cdktf import Fn, TerraformResourceLifecycle
from constructs import Construct

from tapinfra.config import DnsConfig
from tapinfra.constructs.api import ApiEndpoint
from tapinfra.constructs.health import endpoint_health_check
from tapinfra.policy import Condition, Statement, policy_document
from tapinfra.protection import Protection
from tapinfra.provider import aws
from tapinfra.region import Region

class HostedZone(Construct):
    """The zone the API's name lives in: looked up by id, or created.

    A created zone is signed with DNSSEC (a KMS ECC key in us-east-1, as Route 53 requires;
    publish ``ds_record`` at the parent to complete the chain of trust) and logs its queries
    to an encrypted log group in us-east-1, through the CloudWatch Logs resource policy this
    environment creates or the account already has (``dns.query_log_policy``: such policies
    are an account-and-region quota of 10, so one owner serves every zone). An existing zone
    is its owner's to configure. A created zone, its signing key and a created query-log
    policy are protected from destroy (``prevent_destroy``) unless ``protection`` is disposable;
    a disposable zone is destroyed with every record in it.
    Exposes ``zone_id``, ``name_servers`` and ``ds_record`` (None for an existing zone).
    """

    def __init__(self, scope: Construct, id_: str, *, provider: object, settings: DnsConfig, east: Region,
                 log_retention_days: int, protection: Protection = Protection()) -> None:
        super().__init__(scope, id_)
        self.name_servers: Optional[object] = None
        self.ds_record: Optional[str] = None
        if settings.zone_id:
            zone = aws.data_aws_route53_zone.DataAwsRoute53Zone(self, "zone", provider=provider, zone_id=settings.zone_id)
            self.zone_id = zone.zone_id
            return
        zone = aws.route53_zone.Route53Zone(
            self, "zone", provider=provider, name=settings.create_zone_name,
            comment="tapinfra: delegate this zone from its parent (NS records) for the custom domain to resolve.",
            force_destroy=protection.force_destroy,
            lifecycle=protection.lifecycle(),
        )
        self.zone_id, self.name_servers = zone.zone_id, zone.name_servers
        self._query_logging(zone, settings, east, log_retention_days, protection)
        self._dnssec(zone, east, protection)

    def _query_logging(self, zone, settings: DnsConfig, east: Region, retention: int, protection: Protection) -> None:
        """The zone's query log group, and the account's resource policy letting Route 53 write
        it when this environment owns that policy (``dns.query_log_policy``)."""
        group_arn_prefix = east.arn("logs", "log-group:/aws/route53/")
        self.query_log_group = aws.cloudwatch_log_group.CloudwatchLogGroup(
            self, "query-log-group", provider=east.provider, name=f"/aws/route53/{settings.create_zone_name}",
            retention_in_days=retention, kms_key_id=east.key.arn,
        )
        self.query_log_policy = None
        if settings.query_log_policy == "create":
            delivery = policy_document(self, "query-log-policy-document", east.provider, [Statement(
                sid="Route53QueryLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{group_arn_prefix}*"], principals={"Service": ["route53.amazonaws.com"]},
                conditions=[Condition("StringEquals", "aws:SourceAccount", [east.account_id])],
            )])
            self.query_log_policy = aws.cloudwatch_log_resource_policy.CloudwatchLogResourcePolicy(
                self, "query-log-policy", provider=east.provider,
                policy_name=east.namer.name("route53-query-logs", "log_group"), policy_document=delivery.json,
                lifecycle=protection.lifecycle(),
            )
        # existing: the account's policy admits route53.amazonaws.com to /aws/route53/*; Route 53
        # checks it when the query-log config is created and refuses (InsufficientCloudWatchLogsResourcePolicy).
        self.query_log = aws.route53_query_log.Route53QueryLog(
            self, "query-log", provider=east.provider, zone_id=self.zone_id,
            cloudwatch_log_group_arn=self.query_log_group.arn,
            depends_on=[self.query_log_policy] if self.query_log_policy is not None else None,
        )

    def _dnssec(self, zone, east: Region, protection: Protection) -> None:
        zone_arns = east.arn("route53", "hostedzone/*", region="", account="")
        service = {"Service": ["dnssec-route53.amazonaws.com"]}
        scoped = [Condition("StringEquals", "aws:SourceAccount", [east.account_id]), Condition("ArnLike", "aws:SourceArn", [zone_arns])]
        key_policy = policy_document(self, "dnssec-key-policy", east.provider, [
            Statement(sid="AccountAdministration", actions=["kms:*"], principals={"AWS": [east.account_root]}),
            Statement(sid="Route53DnssecSigning", actions=["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"], principals=service, conditions=scoped),
            Statement(sid="Route53DnssecGrants", actions=["kms:CreateGrant"], principals=service,
                      conditions=[Condition("Bool", "kms:GrantIsForAWSResource", ["true"])]),
        ])
        # Route 53 signs with an asymmetric ECC_NIST_P256 key in us-east-1; such keys cannot auto-rotate:
        # rotate by adding a second key-signing key.
        self.dnssec_key = aws.kms_key.KmsKey(
            self, "dnssec-key", provider=east.provider, description="tapinfra DNSSEC key-signing key",
            customer_master_key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY",
            deletion_window_in_days=protection.key_deletion_window_days,
            policy=key_policy.json,
            lifecycle=protection.lifecycle(),
        )
        self.key_signing_key = aws.route53_key_signing_key.Route53KeySigningKey(
            self, "key-signing-key", provider=east.provider, hosted_zone_id=zone.id,
            key_management_service_arn=self.dnssec_key.arn, name="tapinfra", status="ACTIVE",
        )
        self.dnssec = aws.route53_hosted_zone_dnssec.Route53HostedZoneDnssec(
            self, "dnssec", provider=east.provider, hosted_zone_id=self.key_signing_key.hosted_zone_id,
            signing_status="SIGNING", depends_on=[self.key_signing_key],
        )
        self.ds_record = self.key_signing_key.ds_record


class RegionalDomain(Construct):
    """In one region: a DNS-validated certificate, the API's custom domain (REGIONAL, TLS 1.2)
    mapped to the stage, a health check on the region's own execute-api endpoint, and the
    region's alias record under the configured routing policy.

    Exposes ``certificate``, ``domain``, ``health_check``, ``record``, ``health_check_path``.
    """

    def __init__(self, scope: Construct, id_: str, *, region: Region, zone_id: str, settings: DnsConfig,
                 api: ApiEndpoint) -> None:
        super().__init__(scope, id_)
        p, name = region.provider, settings.domain_name
        self.certificate = aws.acm_certificate.AcmCertificate(
            self, "certificate", provider=p, domain_name=name, validation_method="DNS",
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        option = Fn.element(Fn.tolist(self.certificate.domain_validation_options), 0)
        # ACM asks for the same CNAME for the same name in every region: overwriting is a no-op.
        self.validation_record = aws.route53_record.Route53Record(
            self, "validation-record", provider=p, zone_id=zone_id, allow_overwrite=True, ttl=60,
            name=Fn.lookup(option, "resource_record_name", ""),
            type=Fn.lookup(option, "resource_record_type", ""),
            records=[Fn.lookup(option, "resource_record_value", "")],
        )
        self.validation = aws.acm_certificate_validation.AcmCertificateValidation(
            self, "validation", provider=p, certificate_arn=self.certificate.arn,
            validation_record_fqdns=[self.validation_record.fqdn],
        )
        dn = aws.api_gateway_domain_name
        self.domain = dn.ApiGatewayDomainName(
            self, "domain", provider=p, domain_name=name,
            regional_certificate_arn=self.validation.certificate_arn,
            security_policy="TLS_1_2",
            endpoint_configuration=dn.ApiGatewayDomainNameEndpointConfiguration(types=["REGIONAL"]),
        )
        self.mapping = aws.api_gateway_base_path_mapping.ApiGatewayBasePathMapping(
            self, "mapping", provider=p, api_id=api.id, stage_name=api.deployed_stage_name,
            domain_name=self.domain.domain_name,
        )
        # Probe the region's own endpoint (not the shared name), so a check tests its region, not DNS.
        self.health_check_path = api.health_path
        self.health_check = endpoint_health_check(self, "health-check", region=region, settings=settings, api=api)
        self.health_check_id = self.health_check.id
        r = aws.route53_record
        policy = settings.routing_policy
        self.record = r.Route53Record(
            self, "record", provider=p, zone_id=zone_id, name=name, type="A",
            set_identifier=f"{region.role}-{region.name}",
            health_check_id=self.health_check_id,
            alias=r.Route53RecordAlias(name=self.domain.regional_domain_name, zone_id=self.domain.regional_zone_id,
                                       evaluate_target_health=True),
            latency_routing_policy=r.Route53RecordLatencyRoutingPolicy(region=region.name) if policy == "latency" else None,
            failover_routing_policy=r.Route53RecordFailoverRoutingPolicy(type=region.role.upper()) if policy == "failover" else None,
            weighted_routing_policy=r.Route53RecordWeightedRoutingPolicy(
                weight=settings.primary_weight if region.is_primary else settings.secondary_weight) if policy == "weighted" else None,
        )
