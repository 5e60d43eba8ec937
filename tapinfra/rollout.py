"""CodeDeploy facts the release construct and ``tapinfra release`` share (no cdktf: the command stays light)."""

from __future__ import annotations

from typing import Optional

from tapinfra.config import ReleaseConfig

# What rolls a deployment back on its own: a failed deployment, a rollback alarm, a stop on request.
ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST")
ALL_AT_ONCE = "CodeDeployDefault.LambdaAllAtOnce"
# AWS's predefined Lambda deployment configs (CodeDeploy User Guide, "Deployment configurations on
# an AWS Lambda compute platform"): (strategy, percent, minutes) -> name. Anything else is a custom config.
PREDEFINED = {
    **{("canary", 10, m): f"CodeDeployDefault.LambdaCanary10Percent{m}Minutes" for m in (5, 10, 15, 30)},
    **{("linear", 10, m): f"CodeDeployDefault.LambdaLinear10PercentEvery{m}Minute{'s' if m > 1 else ''}" for m in (1, 2, 3, 10)},
}


def deployment_config_name(settings: ReleaseConfig) -> Optional[str]:
    """AWS's predefined config for ``settings``, or None when it takes a custom one."""
    if settings.strategy == "all-at-once":
        return ALL_AT_ONCE
    return PREDEFINED.get((settings.strategy, settings.percent, settings.interval_minutes))
