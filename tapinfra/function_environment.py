"""The API function's environment, built in one place.

``ApiFunction`` (tapinfra/constructs/function.py) builds the deployed environment with
:func:`api_function_environment` from its tokens; ``config.function_environment`` builds the
same variables from the config, each value at its longest, to check Lambda's 4 KB limit before
deploying. The variable names are the contract's (:class:`tapinfra.runtime.Env`). No cdktf here.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from tapinfra.runtime import Env

LOG_LEVEL = "INFO"  # POWERTOOLS_LOG_LEVEL the function is deployed with


def drain_parameter_name(app: str, environment: str) -> str:
    """``/<app>/<env>/drain``: the drain switch's SSM parameter, the same name in both regions
    (SSM parameters are regional)."""
    return f"/{app}/{environment}/drain"


def tenant_map_json(key_ids: Mapping[str, str]) -> str:
    """``{"<key id>": "<tenant>", ...}`` from tenant -> key id, as a Terraform template (key ids
    are tokens at synth, so this is written by hand rather than with ``json.dumps``)."""
    return "{" + ",".join(f'"{key_id}":"{tenant}"' for tenant, key_id in sorted(key_ids.items())) + "}"


def api_function_environment(*, app: str, environment: str, table_name: str, bus_name: str, event_source: str,
                             retention_days: int, tenant_key_ids: Mapping[str, str], drain_parameter: str,
                             cors_allowed_origins: Sequence[str], max_body_bytes: int, write_mode: str,
                             write_regions: Sequence[str], log_level: str = LOG_LEVEL) -> dict[str, str]:
    """Every variable tapinfra always sets on the API function (``tapinfra.runtime.ENV_NAMES``).

    :param drain_parameter: the drain switch's parameter name, "" without the switch.
    :param tenant_key_ids: tenant -> its API key id.
    :param write_regions: the writer preference list (primary, then secondary).
    :param log_level: Powertools' log level (default ``INFO``).
    """
    return {
        Env.TABLE_NAME: table_name,
        Env.EVENT_BUS_NAME: bus_name,
        Env.EVENT_SOURCE: event_source,
        Env.RETENTION_DAYS: str(retention_days),
        Env.TENANT_KEYS: tenant_map_json(tenant_key_ids),
        Env.DRAIN_PARAMETER_NAME: drain_parameter,
        Env.CORS_ALLOWED_ORIGINS: ",".join(cors_allowed_origins),
        Env.MAX_BODY_BYTES: str(max_body_bytes),
        Env.POWERTOOLS_SERVICE_NAME: app,
        Env.POWERTOOLS_METRICS_NAMESPACE: f"{app}-{environment}",
        Env.POWERTOOLS_LOG_LEVEL: log_level,
        Env.WRITE_MODE: write_mode,
        Env.WRITE_REGIONS: ",".join(write_regions),
    }
