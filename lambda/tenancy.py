"""Who is calling: the tenant behind the API key API Gateway authenticated.

The tenant comes only from ``requestContext.identity.apiKeyId`` (set by API
Gateway after it validated the ``x-api-key`` header) through the TENANT_KEYS
map injected per region. Headers, query strings and bodies are never consulted.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from config import get_settings
from errors import ForbiddenError


def tenant_for(event: APIGatewayProxyEvent) -> str:
    api_key_id = event.request_context.identity.api_key_id
    if not api_key_id:
        raise ForbiddenError("no API key on the request")
    tenant_id = get_settings().tenant_keys.get(api_key_id)
    if tenant_id is None:
        raise ForbiddenError("API key is not mapped to a tenant")
    return tenant_id
