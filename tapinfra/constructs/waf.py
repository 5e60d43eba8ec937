"""A regional WAFv2 web ACL per stage: AWS managed rule groups, a per-IP rate limit, logging."""

from __future__ import annotations

from constructs import Construct

from tapinfra.config import MonitoringConfig
from tapinfra.constructs.api import ApiEndpoint
from tapinfra.constructs.logs import log_group
from tapinfra.constructs.monitoring import WAF_BLOCKED, AlarmSpec, DashboardRow, Metric
from tapinfra.provider import aws
from tapinfra.region import Region

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)
REDACTED_HEADERS = ("x-api-key", "authorization")
# The Common rule set's SizeRestrictions_BODY blocks every body over 8 KB, a size AWS fixed;
# our own body rule (at api.max_body_bytes) replaces it, so it only counts.
COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"
FIXED_8KB_BODY_RULE = "SizeRestrictions_BODY"
TOO_LARGE_BODY_KEY = "payload-too-large"
TOO_LARGE_BODY = '{"error":"payload_too_large","message":"request body too large"}'


def _visibility(metric: str):
    return aws.wafv2_web_acl.Wafv2WebAclRuleVisibilityConfig(
        cloudwatch_metrics_enabled=True, sampled_requests_enabled=True, metric_name=metric)


class StageFirewall(Construct):
    """``acl`` (scope REGIONAL, in this region only), its association with ``endpoint``'s stage, and logging.

    Rules: a rate-based block per client IP (``rate_limit`` requests / 5 minutes) first;
    then bodies over ``max_body_bytes`` answered 413 (the same limit and status as the
    function; bodies past the inspection limit match too); then AWS's Common (its fixed 8 KB
    body rule only counts), SQLi, KnownBadInputs and Amazon IP reputation groups; metrics on
    every rule. API Gateway forwards ``inspection_kb`` KB of each body for inspection. Logs go
    to a KMS-encrypted ``aws-waf-logs-…`` group with the API key and Authorization headers
    redacted. :meth:`metric_blocked_requests`, :meth:`alarm_specs` and :meth:`dashboard_rows` are
    what the region's collector watches.
    """

    def __init__(self, scope: Construct, id_: str, *, region: Region, endpoint: ApiEndpoint, rate_limit: int,
                 max_body_bytes: int, inspection_kb: int, log_retention_days: int) -> None:
        super().__init__(scope, id_)
        p, w = region.provider, aws.wafv2_web_acl
        self._region = region
        name = region.namer.name("api", "waf")
        rules = [w.Wafv2WebAclRule(
            name="rate-per-ip", priority=0,
            action=w.Wafv2WebAclRuleAction(block=w.Wafv2WebAclRuleActionBlock()),
            statement={"rate_based_statement": {"limit": rate_limit, "aggregate_key_type": "IP"}},
            visibility_config=_visibility(f"{name}-rate-per-ip"),
        ), w.Wafv2WebAclRule(
            name="body-size", priority=1,
            action=w.Wafv2WebAclRuleAction(block=w.Wafv2WebAclRuleActionBlock(
                custom_response=w.Wafv2WebAclRuleActionBlockCustomResponse(
                    response_code=413, custom_response_body_key=TOO_LARGE_BODY_KEY))),
            statement={"size_constraint_statement": {
                "comparison_operator": "GT", "size": max_body_bytes,
                "field_to_match": {"body": {"oversize_handling": "MATCH"}},
                "text_transformation": [{"priority": 0, "type": "NONE"}],
            }},
            visibility_config=_visibility(f"{name}-body-size"),
        )]
        for priority, group in enumerate(MANAGED_RULE_GROUPS, start=2):
            statement = {"name": group, "vendor_name": "AWS"}
            if group == COMMON_RULE_SET:
                statement["rule_action_override"] = [{"name": FIXED_8KB_BODY_RULE, "action_to_use": {"count": {}}}]
            rules.append(w.Wafv2WebAclRule(
                name=group, priority=priority,
                override_action=w.Wafv2WebAclRuleOverrideAction(none=w.Wafv2WebAclRuleOverrideActionNone()),
                statement={"managed_rule_group_statement": statement},
                visibility_config=_visibility(f"{name}-{group}"),
            ))
        self.acl = w.Wafv2WebAcl(
            self, "acl", provider=p, name=name, scope="REGIONAL",
            description="Managed protections and a per-IP rate limit for the API stage.",
            default_action=w.Wafv2WebAclDefaultAction(allow=w.Wafv2WebAclDefaultActionAllow()),
            rule=rules,
            custom_response_body=[w.Wafv2WebAclCustomResponseBody(
                key=TOO_LARGE_BODY_KEY, content=TOO_LARGE_BODY, content_type="APPLICATION_JSON")],
            association_config=w.Wafv2WebAclAssociationConfig(request_body=[w.Wafv2WebAclAssociationConfigRequestBody(
                api_gateway=w.Wafv2WebAclAssociationConfigRequestBodyApiGateway(
                    default_size_inspection_limit=f"KB_{inspection_kb}"))]),
            visibility_config=w.Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, sampled_requests_enabled=True, metric_name=name),
        )
        acl_arn = self.acl.arn
        self.name: str = self.acl.name
        self.association = aws.wafv2_web_acl_association.Wafv2WebAclAssociation(
            self, "association", provider=p, resource_arn=endpoint.stage_arn, web_acl_arn=acl_arn,
            depends_on=[endpoint.stage_dependable] if endpoint.stage_dependable is not None else None,
        )
        self.log_group = log_group(self, "log-group", region=region,
                                   name="aws-waf-logs-" + region.namer.name("api", "waf_log_group"),
                                   retention_days=log_retention_days)
        lc = aws.wafv2_web_acl_logging_configuration
        self.logging = lc.Wafv2WebAclLoggingConfiguration(
            self, "logging", provider=p,
            resource_arn=acl_arn,
            log_destination_configs=[self.log_group.arn],
            redacted_fields=[lc.Wafv2WebAclLoggingConfigurationRedactedFields(
                single_header=lc.Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header))
                for header in REDACTED_HEADERS],
        )

    def metric_blocked_requests(self, rule: str = "ALL") -> Metric:
        """Requests the ACL blocked (``Sum``): by every rule (default ``ALL``), or by ``rule``'s metric name."""
        return Metric("AWS/WAFV2", "BlockedRequests", {"WebACL": self.name, "Region": self._region.name, "Rule": rule})

    def alarm_specs(self, settings: MonitoringConfig) -> list[AlarmSpec]:
        """Blocks above ``settings.waf_blocked_requests`` a period: an attack or a misbehaving client."""
        return [AlarmSpec(WAF_BLOCKED, f"Requests blocked by WAF (attack or misbehaving client) ({self._region.name})",
                          settings.waf_blocked_requests, "notBreaching", metric=self.metric_blocked_requests())]

    def dashboard_rows(self) -> list[DashboardRow]:
        """One widget: the requests blocked by every rule."""
        return [DashboardRow.of("WAF blocked requests", [self.metric_blocked_requests()])]
