"""The regional REST API: routes, CORS preflights, models, a complete stage, keys and a usage plan."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Optional, Sequence

from cdktf import ITerraformDependable, Postcondition, TerraformResourceLifecycle
from constructs import Construct

from tapinfra.application import Application
from tapinfra.config import ApiConfig, MonitoringConfig
from tapinfra.constructs.function import ApiFunction
from tapinfra.constructs.logs import log_group
from tapinfra.constructs.monitoring import API_5XX, API_LATENCY, AlarmSpec, DashboardRow, Metric, MissingData
from tapinfra.policy import Statement, service_role
from tapinfra.protection import Protection
from tapinfra.provider import aws
from tapinfra.region import Region
from tapinfra.runtime import HEALTH_PATH
from tapinfra.runtime.openapi import Route, path_slug

# What a browser may send cross-origin: the API key, the conditional-request headers (ETags)
# and a POST's idempotency key, beside the usual AWS ones.
CORS_ALLOW_HEADERS = ("Content-Type,X-Api-Key,X-Amz-Date,Authorization,X-Amz-Security-Token,"
                      "If-Match,If-None-Match,Idempotency-Key")
# Request headers a cached answer depends on besides the tenant's key: the function's CORS
# headers follow Origin, and If-None-Match turns a 200 into a bodiless 304.
CACHE_KEY_HEADERS = ("Origin", "If-None-Match")
# API Gateway writes execution logs to API-Gateway-Execution-Logs_<api id>/<stage> and our
# access logs go under /aws/apigateway/ (as does its welcome log group).
API_GATEWAY_LOG_GROUP_PREFIXES = ("API-Gateway-Execution-Logs_", "/aws/apigateway/")
API_KEY_HEADER = "method.request.header.x-api-key"

ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "ip": "$context.identity.sourceIp",
    "apiKeyId": "$context.identity.apiKeyId",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
    "responseLatency": "$context.responseLatency",
    "wafStatus": "$context.waf.status",
    "xrayTraceId": "$context.xrayTraceId",
}, sort_keys=True)


_slug = path_slug


def cors_origin_template(origins: Sequence[str]) -> str:
    """VTL for a preflight response: echo the request's Origin when it is allowed."""
    if origins == ("*",) or len(origins) == 1:
        return ""
    allowed = " || ".join(f'$origin == "{o}"' for o in origins)
    return (
        "#set($origin = $input.params().header.get('Origin'))\n"
        f"#if({allowed})\n"
        "#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)\n"
        "#end\n"
    )


def _method_settings(settings: ApiConfig, *, cache: bool):
    return aws.api_gateway_method_settings.ApiGatewayMethodSettingsSettings(
        metrics_enabled=True,
        logging_level="INFO",
        data_trace_enabled=False,  # request bodies may hold personal data
        throttling_burst_limit=settings.throttle_burst_limit,
        throttling_rate_limit=settings.throttle_rate_limit,
        caching_enabled=cache,
        cache_data_encrypted=True,
        cache_ttl_in_seconds=settings.cache_ttl_seconds,
        require_authorization_for_cache_control=True,
        unauthorized_cache_control_header_strategy="FAIL_WITH_403",
    )


class ApiGatewayAccount(Construct):
    """The region's API Gateway account setting: the CloudWatch role that stage logging needs.

    The setting is one per account and region, shared by every API there, so one environment
    owns it (``api.account_logging_role``). ``create``: this environment creates the role and
    sets it; unless ``protection`` is disposable both are protected from destroy, since every other API in the
    region logs through them, and a destroy resets the setting only when
    ``api.reset_account_logging_on_destroy`` says so. The role may write API Gateway's log
    groups (execution and access logs) and nothing else: no reads of any log. ``existing``:
    the owner's role is looked up (the plan fails if it is missing); nothing here changes the
    setting. ``account`` is what a stage's logging must wait for.
    """

    def __init__(self, scope: Construct, id_: str, *, region: Region, settings: ApiConfig,
                 protection: Protection = Protection()) -> None:
        super().__init__(scope, id_)
        if settings.account_logging_role == "existing":
            self.account = self._existing(region, settings.account_logging_role_arn)
            return
        groups = [region.arn("logs", f"log-group:{prefix}*") for prefix in API_GATEWAY_LOG_GROUP_PREFIXES]
        protect = protection.lifecycle()
        self.role, self.role_policy = service_role(
            self, "cloudwatch-role", provider=region.provider,
            name=region.namer.name("apigw-logs", "iam_role"),
            services=["apigateway.amazonaws.com"],
            statements=[
                Statement(sid="WriteApiGatewayLogGroups",
                          actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                                   "logs:DescribeLogStreams"],
                          resources=[*groups, *(f"{g}:*" for g in groups)]),
                # DescribeLogGroups lists a region's groups: it has no resource-level scope.
                Statement(sid="FindLogGroups", actions=["logs:DescribeLogGroups"],
                          resources=[region.arn("logs", "log-group:*")]),
            ],
        )
        if protect is not None:
            self.role.lifecycle = protect
            self.role_policy.lifecycle = protect
        self.account = aws.api_gateway_account.ApiGatewayAccount(
            self, "account", provider=region.provider, cloudwatch_role_arn=self.role.arn,
            reset_on_delete=True if settings.reset_account_logging_on_destroy else None,
            depends_on=[self.role_policy], lifecycle=protect,
        )

    def _existing(self, region: Region, arn: str):
        """The owner's role, read by name; its ARN must be the one the config names (same account, same path)."""
        role = aws.data_aws_iam_role.DataAwsIamRole(
            self, "existing-role", provider=region.provider, name=arn.rsplit("/", 1)[1],
            lifecycle=TerraformResourceLifecycle(postcondition=[Postcondition(
                condition=f'${{self.arn == "{arn}"}}',
                error_message=f"api.account_logging_role_arn is {arn}, but the role of that name in this account "
                              "has another ARN: name the role the account's API Gateway setting uses",
            )]),
        )
        return role


class TenantKeys(Construct):
    """An API key per tenant. Exposes ``keys`` (tenant -> key) and ``ids`` (tenant -> key id).

    The secondary region's keys take the primary's values (:meth:`take_values_from`), so a
    client keeps working after a failover.
    """

    def __init__(self, scope: Construct, id_: str, *, region: Region, tenants: Sequence[str]) -> None:
        super().__init__(scope, id_)
        self.keys = {
            tenant: aws.api_gateway_api_key.ApiGatewayApiKey(
                self, tenant, provider=region.provider,
                name=region.namer.name(f"key-{tenant}", "api_key"),
                description=f"API key of tenant {tenant}",
                enabled=True,
            )
            for tenant in tenants
        }
        self.ids = {tenant: key.id for tenant, key in self.keys.items()}

    def take_values_from(self, other: "TenantKeys") -> None:
        """Give each tenant's key here the value of that tenant's key in ``other``."""
        for tenant, key in self.keys.items():
            key.value = other.keys[tenant].value


@dataclass(frozen=True)
class ApiEndpoint:
    """What other constructs need of a region's API: no construct reads the API's internals.

    ``stage_name`` is the literal name (metric dimensions, paths); ``deployed_stage_name`` is
    the stage's attribute, which orders its users after the stage exists; ``stage_dependable``
    is the stage for ``depends_on`` (None only in an endpoint built by hand). ``metric_*()``
    are the stage's ``AWS/ApiGateway`` metrics.
    """

    id: str
    name: str
    execution_arn: str
    stage_name: str
    deployed_stage_name: str
    stage_arn: str
    invoke_url: str
    health_path: str   # /<stage>/health on the region's own host
    host: str          # <api id>.execute-api.<region>.amazonaws.com
    stage_dependable: Optional[ITerraformDependable] = None

    def metric(self, name: str, stat: str = "Sum") -> Metric:
        """The stage's ``AWS/ApiGateway`` metric ``name`` (by ``ApiName`` and ``Stage``), default ``Sum``."""
        return Metric("AWS/ApiGateway", name, {"ApiName": self.name, "Stage": self.stage_name}, stat)

    def metric_count(self) -> Metric:
        """Requests the stage answered (``Sum``)."""
        return self.metric("Count")

    def metric_4xx(self) -> Metric:
        """Client errors (``Sum``): bad keys, throttled callers, refused bodies."""
        return self.metric("4XXError")

    def metric_5xx(self) -> Metric:
        """Server errors (``Sum``): the function failed or timed out."""
        return self.metric("5XXError")

    def metric_latency(self, stat: str = "p99") -> Metric:
        """Milliseconds from request to response (default ``p99``)."""
        return self.metric("Latency", stat)


class RegionalApi(Construct):
    """The REST API of one region, integrated with the function's alias.

    REGIONAL endpoint; /health (GET, no key) and the application's routes (from its OpenAPI
    document: API key where its security says so), JSON-schema models with a body validator
    where an operation has a request body; an OPTIONS preflight (MOCK) on
    every resource; CORS headers on gateway errors too; a deployment redeployed whenever
    any route, integration, model or CORS setting changes (create_before_destroy); a stage
    with JSON access logs (KMS, retention), X-Ray, and */* method settings (metrics, INFO
    logs, no data tracing, throttling, caching encrypted when on); a usage plan with the
    tenants' keys.

    Exposes ``endpoint`` (:class:`ApiEndpoint`: what others use, the firewall too) and, for the
    region's collector, :meth:`alarm_specs` and :meth:`dashboard_rows`.
    """

    def __init__(self, scope: Construct, id_: str, *, region: Region, settings: ApiConfig, target: ApiFunction,
                 keys: TenantKeys, account: ApiGatewayAccount, application: Application) -> None:
        super().__init__(scope, id_)
        self._region = region
        self.routes = application.routes
        api_id = self._rest_api(region, application)
        declared = self._declarations(region.provider, api_id, settings, target, application.models)
        self._deployment(region.provider, api_id, settings, target, application.models, declared)
        deployed_stage = self._stage(region, api_id, settings, target, account)
        self._stage_settings(region.provider, api_id, settings, deployed_stage)
        self._usage_plan(region, api_id, settings, keys, deployed_stage)
        self.endpoint = ApiEndpoint(
            id=api_id,
            name=self.rest_api.name,
            execution_arn=self.rest_api.execution_arn,
            stage_name=settings.stage_name,
            deployed_stage_name=deployed_stage,
            stage_arn=self.stage.arn,
            invoke_url=self.stage.invoke_url,
            health_path=f"/{settings.stage_name}{HEALTH_PATH}",
            host=f"{api_id}.execute-api.{region.name}.amazonaws.com",
            stage_dependable=self.stage,
        )

    def _rest_api(self, region: Region, application: Application) -> str:
        """The REGIONAL REST API, keys read from the header; returns its id."""
        self.rest_api = aws.api_gateway_rest_api.ApiGatewayRestApi(
            self, "api", provider=region.provider, name=region.namer.name("api", "api"),
            description=application.api.title,
            api_key_source="HEADER",
            endpoint_configuration=aws.api_gateway_rest_api.ApiGatewayRestApiEndpointConfiguration(types=["REGIONAL"]),
        )
        return self.rest_api.id

    def _declarations(self, p, api_id: str, settings: ApiConfig, target: ApiFunction, models: dict) -> list:
        """What the OpenAPI document declares: resources, the body validator, models, each
        route's method and integration, preflights, CORS on gateway errors. Returns what the
        deployment snapshots (everything but the resources and the validator, which those lead to)."""
        # The integrations name the alias by ARN instead of referencing it: nothing the
        # deployment depends on may lead to the function (or, through its role, the table).
        invoke_arn = target.alias_invoke_uri
        self.resources, self.resource_ids = self._resources(p, api_id)
        self.validator = aws.api_gateway_request_validator.ApiGatewayRequestValidator(
            self, "body-validator", provider=p, rest_api_id=api_id, name="body",
            validate_request_body=True, validate_request_parameters=True,
        )
        self.validator_id = self.validator.id
        self.models = {
            name: aws.api_gateway_model.ApiGatewayModel(
                self, f"model-{name}", provider=p, rest_api_id=api_id, name=name,
                content_type="application/json", schema=json.dumps(schema, sort_keys=True),
            )
            for name, schema in models.items()
        }
        dependables = []
        for route in self.routes:
            method, integration = self._route(p, api_id, route, invoke_arn, settings.cache_enabled)
            dependables += [method, integration]
        for path in self.served_paths:
            dependables += self._preflight(p, api_id, path, settings.cors_allowed_origins)
        gateway_responses = [self._cors_on_errors(p, api_id, kind, settings.cors_allowed_origins) for kind in ("DEFAULT_4XX", "DEFAULT_5XX")]
        return [*dependables, *gateway_responses, *self.models.values()]

    def _deployment(self, p, api_id: str, settings: ApiConfig, target: ApiFunction, models: dict,
                    declared: list) -> None:
        """The deployment of the current declaration, under an address that names its hash."""
        # A deployment is a snapshot of the API. A changed declaration gets a new deployment
        # under a new address: Terraform creates it, moves the stage onto it, then deletes the
        # old one -- no create_before_destroy, which Terraform would spread to everything the
        # deployment depends on (and so onto fixed-name resources that cannot exist twice).
        declaration = json.dumps({"routes": [r.__dict__ for r in self.routes], "models": models,
                                  "cors": list(settings.cors_allowed_origins), "headers": CORS_ALLOW_HEADERS,
                                  "cache": settings.cache_enabled, "target": target.qualified_name}, sort_keys=True)
        self.declaration_hash = hashlib.sha256(declaration.encode()).hexdigest()[:12]
        self.deployment = aws.api_gateway_deployment.ApiGatewayDeployment(
            self, f"deployment-{self.declaration_hash}", provider=p, rest_api_id=api_id,
            description=f"tapinfra declaration {self.declaration_hash}",
            depends_on=declared,
        )

    def _stage(self, region: Region, api_id: str, settings: ApiConfig, target: ApiFunction,
               account: ApiGatewayAccount) -> str:
        """The stage on the deployment, with its access and execution log groups; returns the
        stage's name attribute (which orders its users after the stage)."""
        self.access_logs = log_group(self, "access-logs", region=region,
                                     name=f"/aws/apigateway/{region.namer.name('api-access', 'log_group')}",
                                     retention_days=settings.log_retention_days)
        # Created before the stage turns on execution logging, so API Gateway finds it (KMS,
        # retention) instead of creating its own, unencrypted and kept forever.
        self.execution_logs = log_group(self, "execution-logs", region=region,
                                        name=f"API-Gateway-Execution-Logs_{api_id}/{settings.stage_name}",
                                        retention_days=settings.log_retention_days)
        self.stage = aws.api_gateway_stage.ApiGatewayStage(
            self, "stage", provider=region.provider, rest_api_id=api_id,
            stage_name=settings.stage_name,
            deployment_id=self.deployment.id,
            xray_tracing_enabled=True,
            cache_cluster_enabled=settings.cache_enabled,
            cache_cluster_size=settings.cache_size_gb if settings.cache_enabled else None,
            access_log_settings=aws.api_gateway_stage.ApiGatewayStageAccessLogSettings(
                destination_arn=self.access_logs.arn, format=ACCESS_LOG_FORMAT),
            # live only once the function's alias answers and the account can log
            depends_on=[account.account, self.execution_logs, target.alias_dependable],
        )
        return self.stage.stage_name

    def _stage_settings(self, p, api_id: str, settings: ApiConfig, deployed_stage: str) -> None:
        """The stage's method settings: ``*/*``, then each cacheable read's with the cache on."""
        ms = aws.api_gateway_method_settings
        # Every method: metrics, INFO logs, throttling, no cache (writes and /health are never
        # cached). Cacheable reads: the same plus the cache, keyed per tenant (see _route).
        self.method_settings = ms.ApiGatewayMethodSettings(
            self, "method-settings", provider=p, rest_api_id=api_id,
            stage_name=deployed_stage,
            method_path="*/*",
            settings=_method_settings(settings, cache=False),
            depends_on=[self.execution_logs],
        )
        self.cached_method_settings = [
            ms.ApiGatewayMethodSettings(
                self, f"method-settings-{route.method.lower()}-{_slug(route.path)}", provider=p, rest_api_id=api_id,
                stage_name=deployed_stage,
                method_path=f"{route.path.lstrip('/')}/{route.method}",
                settings=_method_settings(settings, cache=True),
                depends_on=[self.method_settings],
            )
            for route in self.routes if route.cacheable and settings.cache_enabled
        ]

    def _usage_plan(self, region: Region, api_id: str, settings: ApiConfig, keys: TenantKeys,
                    deployed_stage: str) -> None:
        """The tenants' usage plan on the stage (throttling, quota) and each tenant's key in it."""
        p, up = region.provider, aws.api_gateway_usage_plan
        self.usage_plan = up.ApiGatewayUsagePlan(
            self, "usage-plan", provider=p, name=region.namer.name("tenants", "usage_plan"),
            description="Every tenant's key: per-key throttling and quota.",
            api_stages=[up.ApiGatewayUsagePlanApiStages(api_id=api_id, stage=deployed_stage)],
            throttle_settings=up.ApiGatewayUsagePlanThrottleSettings(
                rate_limit=settings.usage_plan_rate_limit, burst_limit=settings.usage_plan_burst_limit),
            quota_settings=up.ApiGatewayUsagePlanQuotaSettings(limit=settings.quota_limit, period=settings.quota_period)
            if settings.quota_limit is not None else None,
        )
        usage_plan_id = self.usage_plan.id
        for tenant in keys.keys:
            aws.api_gateway_usage_plan_key.ApiGatewayUsagePlanKey(
                self, f"usage-plan-key-{tenant}", provider=p,
                key_id=keys.ids[tenant], key_type="API_KEY", usage_plan_id=usage_plan_id,
            )

    def alarm_specs(self, settings: MonitoringConfig) -> list[AlarmSpec]:
        """The stage's 5xx rate and p99 latency (thresholds from ``settings``): what clients see."""
        endpoint, here = self.endpoint, f" ({self._region.name})"
        quiet: MissingData = "notBreaching"
        return [
            AlarmSpec(API_5XX, "API 5xx responses, percent of requests" + here, settings.api_5xx_rate_percent, quiet,
                      expression="IF(requests > 0, 100 * errors / requests, 0)",
                      inputs={"errors": endpoint.metric_5xx(), "requests": endpoint.metric_count()}),
            AlarmSpec(API_LATENCY, "API p99 latency in ms" + here, settings.api_p99_latency_ms, quiet,
                      metric=endpoint.metric_latency("p99")),
        ]

    def dashboard_rows(self) -> list[DashboardRow]:
        """Two widgets: requests with 4xx and 5xx, and p99 latency."""
        endpoint, latency = self.endpoint, self.endpoint.metric_latency("p99")
        return [
            DashboardRow.of("API requests and errors", [endpoint.metric_count(), endpoint.metric_4xx(), endpoint.metric_5xx()]),
            DashboardRow("API latency p99", (latency.widget_line(stat=latency.stat),), latency.stat),
        ]

    def _resources(self, p, api_id):
        """Path -> resource, and path -> its id token (each read from the kernel once).

        Every prefix of a served path gets a resource (``/a/{b}/c`` needs ``/a`` and
        ``/a/{b}``); ``/`` is the API's root resource."""
        self.served_paths = sorted({r.path for r in self.routes})
        needed = {"/".join(path.split("/")[:i]) for path in self.served_paths for i in range(2, path.count("/") + 2)}
        resources: dict[str, object] = {}
        ids = {"": self.rest_api.root_resource_id}
        for path in sorted(needed - {"", "/"}):
            parent_path, _, part = path.rpartition("/")
            resources[path] = aws.api_gateway_resource.ApiGatewayResource(
                self, f"resource-{_slug(path)}", provider=p, rest_api_id=api_id, parent_id=ids[parent_path], path_part=part)
            ids[path] = resources[path].id
        ids["/"] = ids.pop("")
        return resources, ids

    def _route(self, p, api_id, route: Route, invoke_arn: str, cache: bool):
        slug = f"{route.method.lower()}-{_slug(route.path)}"
        resource_id = self.resource_ids[route.path]
        params = {f"method.request.path.{name}": True for name in route.path_parameters}
        cache_keys = None
        if cache and route.cacheable:
            # The cache key must hold the tenant (its API key) and every input of the answer.
            params = {**params, API_KEY_HEADER: False, **{f"method.request.header.{h}": False for h in CACHE_KEY_HEADERS},
                      **{f"method.request.querystring.{q}": False for q in route.query}}
            cache_keys = sorted(params)
        method = aws.api_gateway_method.ApiGatewayMethod(
            self, f"method-{slug}", provider=p, rest_api_id=api_id, resource_id=resource_id,
            http_method=route.method,
            authorization="NONE",  # tenants authenticate with API keys (usage plan), checked below
            api_key_required=route.api_key,
            request_parameters=params or None,
            request_models={"application/json": self.models[route.model].name} if route.model else None,
            request_validator_id=self.validator_id,
        )
        integration = aws.api_gateway_integration.ApiGatewayIntegration(
            self, f"integration-{slug}", provider=p, rest_api_id=api_id, resource_id=resource_id,
            http_method=method.http_method,
            type="AWS_PROXY",
            integration_http_method="POST",
            uri=invoke_arn,
            cache_key_parameters=cache_keys,
            cache_namespace=slug if cache_keys else None,
        )
        return method, integration

    def _preflight(self, p, api_id, path: str, origins: Sequence[str]):
        slug = _slug(path)
        resource_id = self.resource_ids[path]
        methods = ",".join(sorted({r.method for r in self.routes if r.path == path} | {"OPTIONS"}))
        method = aws.api_gateway_method.ApiGatewayMethod(
            self, f"method-options-{slug}", provider=p, rest_api_id=api_id, resource_id=resource_id,
            http_method="OPTIONS", authorization="NONE", api_key_required=False,
            request_validator_id=self.validator_id,
        )
        http_method = method.http_method  # a reference: each part waits for the method
        integration = aws.api_gateway_integration.ApiGatewayIntegration(
            self, f"integration-options-{slug}", provider=p, rest_api_id=api_id, resource_id=resource_id,
            http_method=http_method, type="MOCK",
            request_templates={"application/json": '{"statusCode": 200}'},
        )
        headers = ("Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Vary")
        response = aws.api_gateway_method_response.ApiGatewayMethodResponse(
            self, f"method-response-options-{slug}", provider=p, rest_api_id=api_id, resource_id=resource_id,
            http_method=http_method, status_code="200",
            response_parameters={f"method.response.header.{h}": True for h in headers},
            response_models={"application/json": "Empty"},
        )
        template = cors_origin_template(tuple(origins))
        integration_response = aws.api_gateway_integration_response.ApiGatewayIntegrationResponse(
            self, f"integration-response-options-{slug}", provider=p, rest_api_id=api_id, resource_id=resource_id,
            http_method=http_method, status_code=response.status_code,
            response_parameters={
                "method.response.header.Access-Control-Allow-Origin": f"'{origins[0]}'",
                "method.response.header.Access-Control-Allow-Methods": f"'{methods}'",
                "method.response.header.Access-Control-Allow-Headers": f"'{CORS_ALLOW_HEADERS}'",
                "method.response.header.Vary": "'Origin'",
            },
            response_templates={"application/json": template} if template else None,
            depends_on=[integration],
        )
        return [method, integration, response, integration_response]

    def _cors_on_errors(self, p, api_id, kind: str, origins: Sequence[str]):
        """CORS headers on API Gateway's own 4xx/5xx (bad key, throttled, WAF), so a browser on
        any allowed origin can read why. Gateway responses cannot test a value against a list:
        with several origins they echo the caller's Origin (``Vary: Origin``); their bodies are
        API Gateway's fixed messages, never data, and data responses still check the list."""
        single = len(origins) == 1
        headers = {
            "gatewayresponse.header.Access-Control-Allow-Origin": f"'{origins[0]}'" if single else "method.request.header.Origin",
            "gatewayresponse.header.Access-Control-Allow-Headers": f"'{CORS_ALLOW_HEADERS}'",
        }
        if not single:
            headers["gatewayresponse.header.Vary"] = "'Origin'"
        return aws.api_gateway_gateway_response.ApiGatewayGatewayResponse(
            self, f"gateway-response-{kind.lower()}", provider=p, rest_api_id=api_id, response_type=kind,
            response_parameters=headers,
        )
