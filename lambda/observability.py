"""Powertools Logger, Tracer and Metrics, shared by every module.

Service name, log level and metrics namespace come from the standard
POWERTOOLS_* environment variables. The Tracer patches only botocore (the
only library that does I/O here) to keep cold start short.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(utc=True)
tracer = Tracer(patch_modules=["botocore"])
# No region dimension: EMF metrics land in the serving region's CloudWatch already.
# A namespace is mandatory for EMF; without one every write would fail at flush.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "TapItems")


def count(name: str, value: int = 1) -> None:
    """Add a Count metric to the current invocation's EMF blob."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


__all__ = ["MetricUnit", "count", "logger", "metrics", "tracer"]
