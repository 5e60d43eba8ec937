"""The part of a synthesized stack (``cdk.tf.json``) the operator commands read, and its types.

``cost``, ``diagram`` and ``drill`` trust the model (a memory size is a number, a rule list is a
list), so a hand-edited or truncated stack file is checked here once, against exactly the fields
the model and the commands read: a ``null``, list or number where an object is expected, a huge
integer, a string where a count is expected, each becomes a Problem that names its JSON path.
A field that is absent is fine (the readers have defaults); a field nobody reads is not checked.
When a reader starts reading a new field, it is added here (tests/operator fuzz every field).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Optional, Union

from tapinfra.errors import Problem
from tapinfra.strict_json import join

# Counts, sizes and capacities in a stack are small; a bound keeps every product a finite float.
MAX_NUMBER = 10**12


@dataclass(frozen=True)
class Kind:
    allowed: str
    test: Callable[[Any], bool]


@dataclass(frozen=True)
class Obj:
    """A JSON object: ``fields`` by name, and ``values`` for every other key (a map), if given."""

    fields: Mapping[str, "Shape"] = field(default_factory=dict)
    values: Optional["Shape"] = None


@dataclass(frozen=True)
class Items:
    """A JSON list, each item of shape ``item`` if given."""

    item: Optional["Shape"] = None


Shape = Union[Kind, Obj, Items]

STR = Kind("a string", lambda v: isinstance(v, str))
NUMBER = Kind(f"a number from 0 to {MAX_NUMBER:.0e}", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
              and math.isfinite(v) and 0 <= v <= MAX_NUMBER)
OBJECT = Obj()
LIST = Items()


def resource(**fields: Shape) -> Obj:
    """A resource body: its ``provider`` reference and the fields the readers take from it."""
    return Obj({"provider": STR, **fields})


# resource type -> the fields of it that tapinfra/operator reads
RESOURCES: dict[str, Obj] = {
    "aws_lambda_function": resource(memory_size=NUMBER, function_name=STR, environment=Obj({"variables": OBJECT})),
    "aws_lambda_provisioned_concurrency_config": resource(provisioned_concurrent_executions=NUMBER),
    "aws_lambda_alias": resource(name=STR),
    "aws_synthetics_canary": resource(name=STR, schedule=Obj({"expression": STR})),
    "aws_wafv2_web_acl": resource(name=STR, rule=LIST),
    "aws_api_gateway_stage": resource(stage_name=STR),
    "aws_cloudwatch_metric_alarm": resource(metric_query=Items(OBJECT)),
    "aws_route53_health_check": resource(type=STR),
    "aws_appautoscaling_target": resource(scalable_dimension=STR, min_capacity=NUMBER, service_namespace=STR),
    "aws_dynamodb_table": resource(name=STR, read_capacity=NUMBER, write_capacity=NUMBER, point_in_time_recovery=OBJECT,
                                   replica=Items(Obj({"region_name": STR}))),
    "aws_rds_cluster": resource(serverlessv2_scaling_configuration=Obj({"min_capacity": NUMBER})),
    "aws_rds_cluster_instance": resource(instance_class=STR),
    "aws_vpc_endpoint": resource(subnet_ids=LIST, service_name=STR),
    "aws_s3_bucket_replication_configuration": resource(
        rule=Items(Obj({"destination": Obj({"replication_time": OBJECT})}))),
    "aws_route53_record": resource(name=STR, failover_routing_policy=Obj({"type": STR}),
                                   weighted_routing_policy=OBJECT, latency_routing_policy=OBJECT),
    "aws_route53_zone": resource(name=STR),
    "aws_ssm_parameter": resource(name=STR),
    "aws_fis_experiment_template": resource(tags=Obj(values=STR)),
}

DOCUMENT = Obj({
    "provider": Obj({"aws": Items(Obj({"alias": STR, "region": STR}))}),
    "resource": Obj({rtype: Obj(values=body) for rtype, body in RESOURCES.items()}, values=Obj(values=resource())),
    "output": Obj(values=OBJECT),   # name -> {"value": ..., "description": ...}; the model reads each value
})


def problems(value: Any, shape: Shape = DOCUMENT, path: str = "") -> Iterator[tuple[str, Any, str]]:
    """(JSON path, value, what is allowed) for every place ``value`` differs from ``shape``."""
    if isinstance(shape, Kind):
        if not shape.test(value):
            yield path or "<root>", value, shape.allowed
    elif isinstance(shape, Obj):
        if not isinstance(value, dict):
            yield path or "<root>", value, "a JSON object"
            return
        for key, child in value.items():
            inner = shape.fields.get(key, shape.values)
            if inner is not None:
                yield from problems(child, inner, join(path, key))
    elif not isinstance(value, list):
        yield path or "<root>", value, "a JSON list"
    elif shape.item is not None:
        for index, child in enumerate(value):
            yield from problems(child, shape.item, join(path, index))


def document_problems(doc: Any, where: str, limit: int = 10) -> list[Problem]:
    """The first ``limit`` shape problems of a stack document, each named ``<where> at <JSON path>``."""
    found = []
    for path, value, allowed in problems(doc):
        found.append(Problem(f"{where} at {path}", value, allowed))
        if len(found) == limit:
            break
    return found
