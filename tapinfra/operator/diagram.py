"""``python -m tapinfra diagram [--config F | --stack-json P] --out FILE.svg|.png|.dot``.

The architecture as the stack synthesizes it: both regions side by side (and the us-east-1
helper when there is one), the global layer (zone, routing, global table), and arrows for
client traffic, health checks, replication and event forwarding; each registered module adds
its own nodes (``Module.diagram``). Graphviz's ``dot`` draws
it; ``.dot`` writes the source alone (no graphviz needed).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from tapinfra.cli.exits import NOT_OK, OK, InputError, command
from tapinfra.cli.paths import file_problem
from tapinfra.errors import Problem
from tapinfra.modules.base import registered_modules
from tapinfra.operator.model import ROLES, Architecture, Region, add_source_arguments, architecture_from_args

FORMATS = ("svg", "png", "dot")
EDGE_STYLES = {
    "traffic": 'color="#222222", penwidth=1.6',
    "health": 'color="#2e7d32", style=dashed',
    "replication": 'color="#1565c0", penwidth=2.2',
    "events": 'color="#ef6c00", style=dotted, penwidth=1.6',
    "reads": 'color="#9e9e9e", style=dotted, arrowhead=open',
}
LEGEND = ("black: client traffic   green dashed: health checks   blue: replication   "
          "orange dotted: event forwarding   grey dotted: reads")


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    cluster: Optional[str]
    shape: str = "box"


@dataclass(frozen=True)
class Edge:
    tail: str
    head: str
    kind: str          # one of EDGE_STYLES
    label: str = ""


@dataclass
class Diagram:
    title: str
    clusters: dict[str, str] = field(default_factory=dict)      # id -> label, drawing order
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    layout_hints: list[tuple[str, str]] = field(default_factory=list)   # invisible edges that only place nodes

    def node(self, id_: str, label: str, cluster: Optional[str], shape: str = "box") -> str:
        self.nodes[id_] = Node(id_, label, cluster, shape)
        return id_

    def edge(self, tail: str, head: str, kind: str, label: str = "") -> None:
        assert tail in self.nodes and head in self.nodes, f"edge {tail} -> {head} between unknown nodes"
        self.edges.append(Edge(tail, head, kind, label))

    def edge_keys(self) -> set[tuple[str, str, str]]:
        return {(e.tail, e.head, e.kind) for e in self.edges}


# ---------------------------------------------------------------- building the picture

def build(arch: Architecture, title: str = "tapinfra") -> Diagram:
    d = Diagram(title=title)
    clients = d.node("clients", "Clients", None, shape="ellipse")
    features = arch.features
    routing = _global_layer(d, arch, features)
    for role in ROLES:
        _region(d, arch, arch.region(role), entry=routing or clients, via_dns=routing is not None)
    for helper in arch.helpers:
        _helper(d, arch, helper)
    if routing is not None:
        d.edge(clients, routing, "traffic", f"https://{arch.domain_name}")
    _across_regions(d, arch)
    return d


def _global_layer(d: Diagram, arch: Architecture, features: frozenset[str]) -> Optional[str]:
    d.clusters["global"] = "global"
    table = arch.table
    if table is not None:
        mode = "on demand" if table.get("billing_mode") == "PAY_PER_REQUEST" else "provisioned"
        pitr = " · PITR" if (table.get("point_in_time_recovery") or {}).get("enabled") else ""
        d.node("global_table", f"DynamoDB global table\n{table.get('name')}\n{mode}{pitr}", "global", shape="cylinder")
    if "dns" not in features:
        return None
    zone = arch.zone
    if zone is not None:
        signed = " · DNSSEC" if "dnssec" in features else ""
        d.node("zone", f"Route 53 hosted zone\n{zone.get('name')} (created{signed})", "global")
    else:
        d.node("zone", "Route 53 hosted zone\n(existing, looked up by id)", "global")
    d.node("routing", f"{arch.domain_name}\n{arch.routing_policy} routing", "global", shape="diamond")
    d.edge("zone", "routing", "reads", "record set")
    return "routing"


def _region(d: Diagram, arch: Architecture, region: Region, *, entry: str, via_dns: bool) -> None:
    r = region.alias
    d.clusters[r] = f"{r} · {region.name}"
    stage = next(iter(region.of("aws_api_gateway_stage")), None)
    api_label = f"API Gateway REST API\nstage {stage.get('stage_name')}" if stage else "API Gateway REST API"
    if stage is not None and stage.get("cache_cluster_enabled"):
        api_label += f"\ncache {stage.get('cache_cluster_size')} GB"
    api = d.node(f"{r}_api", api_label, r)
    front = api
    acl = next(iter(region.of("aws_wafv2_web_acl")), None)
    if acl is not None:
        front = d.node(f"{r}_waf", f"WAF web ACL\n{len(acl.get('rule') or [])} rules", r)
        d.edge(front, api, "traffic")
    record = next((rec for rec in arch.routing_records if rec.alias == r), None)
    d.edge(entry, front, "traffic", _record_label(record) if via_dns else "invoke URL")

    fn = arch.function(r)
    if fn is not None:
        pc = sum(c.get("provisioned_concurrent_executions", 0) for c in region.of("aws_lambda_provisioned_concurrency_config"))
        alias = next(iter(region.of("aws_lambda_alias")), None)
        d.node(f"{r}_fn", f"Lambda {fn.get('function_name')}\n{fn.get('memory_size')} MB · alias "
                          f"{alias.get('name') if alias else '?'}\n{pc} provisioned", r)
        d.edge(api, f"{r}_fn", "traffic", "proxy")
    if r in arch.table_replica_aliases():
        d.node(f"{r}_table", "table " + ("(source)" if arch.table.alias == r else "replica"), r, shape="cylinder")
        if fn is not None:
            d.edge(f"{r}_fn", f"{r}_table", "traffic", "items")
    if region.of("aws_cloudwatch_event_bus"):
        d.node(f"{r}_bus", "EventBridge bus\n+ archive", r)
        if fn is not None:
            d.edge(f"{r}_fn", f"{r}_bus", "events", "item.*")
    drain = arch.drain_parameter(r)
    if drain is not None:
        d.node(f"{r}_drain", f"drain switch (SSM)\n{drain.get('name')}", r, shape="note")
        d.edge(f"{r}_fn", f"{r}_drain", "reads", "/health")
    if any(pair[0] == r or pair[1] == r for pair in arch.replication_pairs()):
        d.node(f"{r}_bucket", "S3 data bucket", r, shape="folder")
        d.layout_hints.append((f"{r}_fn" if fn is not None else api, f"{r}_bucket"))
    canary = next(iter(region.of("aws_synthetics_canary")), None)
    if canary is not None:
        d.node(f"{r}_canary", f"Synthetics canary\n{(canary.get('schedule') or {}).get('expression')}", r)
        d.edge(f"{r}_canary", api, "health", "GET /health")
    check = arch.health_check(r)
    if check is not None:
        d.node(f"{r}_health", f"Route 53 health check\n{check.get('type')} {check.get('resource_path')}\n"
                              f"every {check.get('request_interval')} s", r)
        d.edge(f"{r}_health", api, "health", "own endpoint")
        if via_dns:
            d.edge(f"{r}_health", "routing", "health", "healthy?")
    keys = region.count("aws_kms_key")
    alarms = region.count("aws_cloudwatch_metric_alarm")
    d.node(f"{r}_ops", f"{keys} KMS key(s) · {alarms} alarms → SNS", r, shape="note")
    for module in registered_modules():  # each module draws its own part (none when it is off)
        module.diagram(d, arch, region)


def _record_label(record) -> str:
    if record is None:
        return ""
    if record.get("failover_routing_policy"):
        return record.get("failover_routing_policy").get("type", "").lower()
    if record.get("weighted_routing_policy"):
        return f"weight {record.get('weighted_routing_policy').get('weight')}"
    if record.get("latency_routing_policy"):
        return f"latency {record.get('latency_routing_policy').get('region')}"
    return ""


def _helper(d: Diagram, arch: Architecture, region: Region) -> None:
    h = region.alias
    d.clusters[h] = f"{region.name} helper (Route 53 metrics, DNSSEC, query logs)"
    d.node(f"{h}_ops", f"{region.count('aws_kms_key')} KMS key(s) · {region.count('aws_cloudwatch_metric_alarm')} alarms → SNS",
           h, shape="note")
    if region.of("aws_route53_key_signing_key"):
        d.node(f"{h}_dnssec", "DNSSEC key-signing key", h)
        d.edge(f"{h}_dnssec", "zone", "reads", "signs")
    if region.of("aws_route53_query_log"):
        d.node(f"{h}_query_log", "query logs", h, shape="note")
        d.edge("zone", f"{h}_query_log", "reads", "logs")
    for role in ROLES:
        if f"{role}_health" in d.nodes:
            d.edge(f"{role}_health", f"{h}_ops", "health", "HealthCheckStatus")


def _across_regions(d: Diagram, arch: Architecture) -> None:
    """Arrows between regions, where the picture has both ends (a hand-edited stack may move a bus or a table)."""
    edges = []
    if "global_table" in d.nodes:
        edges += [("global_table", f"{alias}_table", "replication", "replica") for alias in arch.table_replica_aliases()]
    rtc = " (RTC 15 min)" if arch.replication_time_control() else ""
    edges += [(f"{s}_bucket", f"{t}_bucket", "replication", f"S3 replication{rtc}") for s, t in arch.replication_pairs()]
    edges += [(f"{s}_bus", f"{t}_bus", "events", "forward own events") for s, t in arch.forwarding()]
    for tail, head, kind, label in edges:
        if tail in d.nodes and head in d.nodes:
            d.edge(tail, head, kind, label)


# ---------------------------------------------------------------- DOT and rendering

def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(d: Diagram) -> str:
    lines = [
        "digraph tapinfra {",
        f"  graph [label={_quote(d.title + chr(10) + LEGEND)}, labelloc=b, fontname=Helvetica, fontsize=11, "
        "rankdir=TB, newrank=true, nodesep=0.35, ranksep=0.55, compound=true];",
        '  node [fontname=Helvetica, fontsize=10, style="rounded,filled", fillcolor="#fafafa"];',
        "  edge [fontname=Helvetica, fontsize=9];",
    ]
    for node in d.nodes.values():
        if node.cluster is None:
            lines.append(_node_line(node, "  "))
    for cluster, label in d.clusters.items():
        members = [n for n in d.nodes.values() if n.cluster == cluster]
        if not members:
            continue
        lines.append(f"  subgraph cluster_{cluster} {{")
        lines.append(f'    label={_quote(label)}; style="rounded"; color="#90a4ae";')
        lines.extend(_node_line(n, "    ") for n in members)
        lines.append("  }")
    for e in d.edges:
        edge_id = _quote(f"edge:{e.tail}:{e.head}:{e.kind}")
        label = f", label={_quote(e.label)}" if e.label else ""
        lines.append(f"  {_quote(e.tail)} -> {_quote(e.head)} [id={edge_id}, class={_quote(e.kind)}, {EDGE_STYLES[e.kind]}{label}];")
    for tail, head in d.layout_hints:
        lines.append(f"  {_quote(tail)} -> {_quote(head)} [style=invis];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node_line(node: Node, indent: str) -> str:
    # The entry points keep their out-edges in declaration order: primary on the left.
    ordering = ", ordering=out" if node.id in ("clients", "routing") else ""
    return f"{indent}{_quote(node.id)} [id={_quote(node.id)}, label={_quote(node.label)}, shape={node.shape}{ordering}];"


def dot_binary() -> Optional[str]:
    return shutil.which("dot")


def render(source: str, out: Path, fmt: str) -> None:
    """Write ``source`` to ``out`` as ``fmt`` (``dot`` writes the source itself)."""
    if fmt == "dot":
        out.write_text(source, encoding="utf-8")
        return
    binary = dot_binary()
    if binary is None:
        raise FileNotFoundError("graphviz's `dot` is not installed")
    subprocess.run([binary, f"-T{fmt}", "-o", str(out)], input=source.encode("utf-8"), check=True,
                   capture_output=True, timeout=120)


@command("tapinfra diagram")
def main(argv: list[str]) -> int:
    """Exit 0 with the file written; 1 when graphviz fails; 2 on bad arguments, config or stack file."""
    parser = argparse.ArgumentParser(prog="python -m tapinfra diagram", description=__doc__.splitlines()[0])
    add_source_arguments(parser)
    parser.add_argument("--out", required=True, help="output file: .svg, .png, or .dot (Graphviz source)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    fmt = out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise InputError([Problem("--out", args.out, f"a file name ending in {', '.join('.' + f for f in FORMATS)}")])
    if fmt != "dot" and dot_binary() is None:
        raise InputError([Problem("--out", args.out, "a .dot file, or graphviz's `dot` installed for .svg/.png "
                                  "(`make install` adds it on Debian: apt-get install graphviz)")])
    problem = file_problem("--out", args.out)  # before a synth that would be wasted
    if problem is not None:
        raise InputError([problem])
    arch = architecture_from_args(args)
    stack = f"{arch.region('primary').name} + {arch.region('secondary').name}"
    try:
        render(to_dot(build(arch, title=f"tapinfra: {stack}")), out, fmt)
    except subprocess.CalledProcessError as exc:
        print(f"tapinfra diagram: dot failed: {exc.stderr.decode('utf-8', 'replace').strip()}", file=sys.stderr)
        return NOT_OK
    except subprocess.TimeoutExpired as exc:
        print(f"tapinfra diagram: dot gave no answer within {exc.timeout:g} s", file=sys.stderr)
        return NOT_OK
    except OSError as exc:
        raise InputError([Problem("--out", args.out, f"a writable file path (writing it failed: {exc.strerror})")]) from None
    print(f"wrote {out}")
    return OK
