"""``python -m tapinfra cost [--config F | --stack-json P | --diff BEFORE [AFTER]] [--json | --markdown] [--prices F]``: the fixed monthly baseline.

``--diff`` compares two stacks or plans (cost_diff.py); ``--refresh-prices [--out F]`` writes a
new price table from the AWS Price List API (price_refresh.py).

Quantities come from the synthesized stack (how many web ACLs and rules, provisioned
concurrency × memory, canary runs from the schedule, keys, health checks and their options,
cache size, alarms...); unit prices come from ``prices.json``, which names a source and a
date for every line. A quantity without a price for its region is listed as unpriced and
left out of the total: the total is then a floor, and says so. Variable costs (per request,
per GB) are listed with their unit prices, never guessed.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Optional

from tapinfra.cli.exits import OK, InputError, command
from tapinfra.errors import Problem
from tapinfra.modules.base import registered_modules
from tapinfra.operator.model import Architecture, Resource, add_source_arguments, architecture_from_args, canary_runs_per_month
from tapinfra.strict_json import read_json_file

PRICES = Path(str(resources.files("tapinfra.operator") / "prices.json"))  # package data
GLOBAL = "global"
# The two reasons a region of an accepted line may carry instead of a figure (tests hold every line to them).
NOT_FOUND = "not found in stored sources (run cost --refresh-prices)"
NO_PRICE = "AWS publishes no price for {region}"
REFRESHED = "tapinfra-prices.json"   # where --refresh-prices writes by default (the package's own table stays as shipped)


class PriceTable:
    """``prices.json``: a unit price per item and region (``*`` for every region), with its source."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.hours_per_month = float(data["hours_per_month"]["value"])

    def entry(self, item: str) -> Mapping[str, Any]:
        return self.data["fixed"][item]

    def price(self, item: str, region: str, variant: Optional[str] = None) -> Optional[float]:
        entry = self.entry(item)
        table = entry.get("prices", {})
        if variant is not None:
            table = (entry.get("prices_by_size") or entry.get("prices_by_class") or {}).get(variant, {})
        value = table.get(region, table.get("*"))
        return None if value is None else float(value)

    def unpriced_reason(self, item: str, region: str, variant: Optional[str] = None) -> str:
        """Why the table has no figure for ``region`` (its ``unpriced`` lists say), for a line without a price."""
        entry = self.entry(item)
        reasons = entry.get("unpriced", {})
        if variant is not None:
            by_variant = entry.get("unpriced_by_size") or entry.get("unpriced_by_class") or {}
            reasons = by_variant.get(variant, by_variant.get("*", {}))
        found = next((reason for reason, regions in reasons.items() if region in regions), None)
        return found or f"{region} is not in the price table's line {item} ({NOT_FOUND})"

    def source(self, item: str, region: str) -> tuple[str, str]:
        """(where the figure for ``region`` was read, its date): the region's own source, else the line's."""
        entry = self.entry(item)
        own = (entry.get("sources") or {}).get(region) or {}
        return own.get("read_in") or entry.get("read_in") or entry["source"], own.get("as_of") or entry["as_of"]

    @property
    def variable(self) -> list[Mapping[str, Any]]:
        return self.data["variable"]


def load_prices(path: Path = PRICES) -> PriceTable:
    """The package's table, or a refreshed one (``--prices``); a file that is not a price table is an InputError."""
    if path == PRICES:
        return PriceTable(json.loads(path.read_text(encoding="utf-8")))
    doc, problems = read_json_file(path)
    if problems:
        raise InputError([Problem("--prices", path if p.path == "<file>" else f"{path} at {p.path}", p.allowed) for p in problems])
    shape = [key for key in ("currency", "hours_per_month", "fixed", "variable") if not isinstance(doc, dict) or key not in doc]
    if shape or not isinstance(doc.get("fixed"), dict) or not all(isinstance(e, dict) and "unit" in e and "source" in e and "as_of" in e
                                                                 for e in doc["fixed"].values()):
        raise InputError([Problem("--prices", str(path), "a price table as `cost --refresh-prices` writes it "
                                  "(currency, hours_per_month, fixed lines with unit, source and as_of, variable)")])
    return PriceTable(doc)


@dataclass(frozen=True)
class Line:
    scope: str                    # provider alias, or "global"
    region: str                   # the region the price is looked up for
    item: str                     # key in prices.json
    what: str
    quantity: float
    unit: str
    unit_price: Optional[float]   # None: no price for this region in the table
    unpriced_reason: Optional[str] = None   # why, from the table, when unit_price is None

    @property
    def monthly(self) -> Optional[float]:
        return None if self.unit_price is None else self.quantity * self.unit_price


@dataclass
class Estimate:
    lines: list[Line]
    prices: PriceTable
    regions: dict[str, str]       # scope -> region name, in display order

    def scope_lines(self, scope: str) -> list[Line]:
        return [line for line in self.lines if line.scope == scope]

    def subtotal(self, scope: str) -> float:
        return sum(line.monthly for line in self.scope_lines(scope) if line.monthly is not None)

    @property
    def total(self) -> float:
        return sum(line.monthly for line in self.lines if line.monthly is not None)

    @property
    def unpriced(self) -> list[Line]:
        return [line for line in self.lines if line.unit_price is None]

    def to_json(self) -> dict[str, Any]:
        scopes = {}
        for scope, region in self.regions.items():
            scopes[scope] = {
                "region": region,
                "subtotal": round(self.subtotal(scope), 6),
                "lines": [{**asdict(line), "monthly": None if line.monthly is None else round(line.monthly, 6),
                           "source": self.prices.entry(line.item)["source"], "read_in": self.prices.source(line.item, line.region)[0],
                           "as_of": self.prices.source(line.item, line.region)[1]}
                          for line in self.scope_lines(scope)],
            }
        return {
            "currency": self.prices.data["currency"],
            "hours_per_month": self.prices.hours_per_month,
            "scopes": scopes,
            "total": round(self.total, 6),
            "complete": not self.unpriced,
            "unpriced": [f"{line.scope}: {line.what}" for line in self.unpriced],
            "variable": [dict(v) for v in self.prices.variable],
        }


# ---------------------------------------------------------------- quantities from the stack

def estimate(arch: Architecture, prices: PriceTable) -> Estimate:
    hours = prices.hours_per_month
    lines: list[Line] = []
    scopes = {alias: region.name for alias, region in arch.regions.items()}
    scopes[GLOBAL] = GLOBAL

    def add(scope: str, region: str, item: str, what: str, quantity: float, variant: Optional[str] = None) -> None:
        price_region = "*" if region == GLOBAL else region
        price = prices.price(item, price_region, variant)
        reason = None if price is not None else prices.unpriced_reason(item, price_region, variant)
        lines.append(Line(scope, region, item, what, quantity, prices.entry(item)["unit"], price, reason))

    for alias, region in arch.regions.items():
        name = region.name
        for config in region.of("aws_lambda_provisioned_concurrency_config"):
            fn = arch.resolve(config.get("function_name"))
            memory_mb = fn.get("memory_size", 128) if fn is not None else 128
            count = config.get("provisioned_concurrent_executions", 0)
            add(alias, name, "lambda_provisioned_concurrency",
                f"Lambda provisioned concurrency: {count} × {memory_mb} MB, {hours:g} h",
                count * memory_mb / 1024 * hours * 3600)
        for canary in region.of("aws_synthetics_canary"):
            expression = (canary.get("schedule") or {}).get("expression", "")
            runs = canary_runs_per_month(expression, hours)
            once = " (runs once, when started)" if runs == 1 else ""
            add(alias, name, "synthetics_canary_run", f"Synthetics canary {canary.get('name')}: {expression}{once}", runs)
        for acl in region.of("aws_wafv2_web_acl"):
            add(alias, name, "waf_web_acl", f"WAF web ACL {acl.get('name')}", 1)
            add(alias, name, "waf_rule", f"WAF rules in {acl.get('name')}", len(acl.get("rule") or []))
        keys = region.count("aws_kms_key")
        if keys:
            add(alias, name, "kms_key", "KMS customer managed keys", keys)
        for stage in region.of("aws_api_gateway_stage"):
            if stage.get("cache_cluster_enabled"):
                size = str(stage.get("cache_cluster_size"))
                add(alias, name, "api_cache_hour", f"API cache {size} GB on stage {stage.get('stage_name')}", hours, variant=size)
        metrics = sum(_alarm_metrics(alarm) for alarm in region.of("aws_cloudwatch_metric_alarm"))
        if metrics:
            add(alias, name, "cloudwatch_alarm_metric",
                f"CloudWatch alarms: {region.count('aws_cloudwatch_metric_alarm')} alarms, {metrics} metrics", metrics)
        dashboards = region.count("aws_cloudwatch_dashboard")
        if dashboards:
            add(alias, name, "cloudwatch_dashboard", "CloudWatch dashboards", dashboards)
        for check in region.of("aws_route53_health_check"):
            add(alias, GLOBAL, "route53_health_check", f"Route 53 health check ({check.get('type')})", 1)
            options = _health_check_options(check)
            if options:
                add(alias, GLOBAL, "route53_health_check_feature", "health check options: " + ", ".join(options), len(options))
        for line in _table_capacity(arch, alias, region.of("aws_appautoscaling_target"), hours):
            add(alias, name, *line)
    for config in arch.of("aws_s3_bucket_replication_configuration"):
        rules = [r for r in config.get("rule") or [] if ((r.get("destination") or {}).get("replication_time") or {}).get("status") == "Enabled"]
        if rules:
            add(config.alias, arch.region(config.alias).name, "s3_replication_time_control",
                "S3 Replication Time Control (per GB and metrics; no monthly fee known)", len(rules))
    for _ in arch.of("aws_route53_zone"):
        add(GLOBAL, GLOBAL, "route53_hosted_zone", "Route 53 hosted zone", 1)
    for module in registered_modules():  # each module prices its own part (nothing when it is off)
        module.cost(arch, add, hours)
    return Estimate(lines, prices, scopes)


def _alarm_metrics(alarm: Resource) -> int:
    """Metrics an alarm evaluates: one, or each metric (not expression) of a metric-math alarm."""
    queries = alarm.get("metric_query")
    if not queries:
        return 1
    return sum(1 for q in queries if q.get("metric"))


def _health_check_options(check: Resource) -> list[str]:
    options = []
    kind = check.get("type", "")
    if kind.startswith("HTTPS"):
        options.append("HTTPS")
    if kind.endswith("STR_MATCH"):
        options.append("string matching")
    if check.get("request_interval") == 10:
        options.append("fast interval")
    if check.get("measure_latency"):
        options.append("latency measurement")
    return options


def _table_capacity(arch: Architecture, alias: str, targets: list[Resource], hours: float):
    """Provisioned tables: the autoscaling minimum in this region (each replica has its own), as capacity-hours."""
    table = arch.table
    if table is None or table.get("billing_mode") != "PROVISIONED" or alias not in arch.table_replica_aliases():
        return
    for kind in ("read", "write"):
        dimension = f"{kind.capitalize()}CapacityUnits"
        target = next((t for t in targets if t.get("scalable_dimension", "").endswith(dimension)), None)
        units = target.get("min_capacity") if target is not None else table.get(f"{kind}_capacity", 0)
        yield (f"dynamodb_{kind}_capacity_unit_hour",
               f"DynamoDB {kind} capacity: {units} units (autoscaling minimum) × {hours:g} h", units * hours)


# ---------------------------------------------------------------- printing

def _money(value: Optional[float]) -> str:
    return "unpriced" if value is None else f"{value:,.2f}"


def _unit_price(value: float) -> str:
    return f"{value:.10f}".rstrip("0").rstrip(".")


def _quantity(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 or float(value).is_integer() else f"{value:,.2f}"


def render_text(est: Estimate) -> str:
    out = [f"Fixed monthly baseline ({est.prices.data['currency']}, {est.prices.hours_per_month:g} h a month, "
           "on-demand list prices, free tiers not subtracted)", ""]
    for scope, region in est.regions.items():
        lines = est.scope_lines(scope)
        if not lines:
            continue
        out.append(f"{scope} · {region}" if scope != GLOBAL else "global")
        for line in lines:
            price = "unpriced" if line.unit_price is None else f"× {_unit_price(line.unit_price)}"
            out.append(f"  {line.what:<70} {_quantity(line.quantity):>12} {line.unit:<20} {price:<26} {_money(line.monthly):>10}")
            if line.unpriced_reason:
                out.append(f"      {line.unpriced_reason}")
        out.append(f"  {'subtotal (priced lines)':<131} {_money(est.subtotal(scope)):>10}")
        out.append("")
    out.append(f"{'TOTAL (priced lines)':<133} {_money(est.total):>10}")
    if est.unpriced:
        out.append(f"Not priced ({len(est.unpriced)} line(s), each with the table's reason): the total is a floor. "
                   "`cost --refresh-prices` fills the table from the AWS Price List API.")
    out += ["", "Variable costs (unit prices; multiply by your traffic):"]
    regions = set(est.regions.values()) | {"*"}
    for v in est.prices.variable:
        shown = {r: p for r, p in v["prices"].items() if r in regions}   # the stack's regions; the table has the others
        prices = ", ".join(f"{'all regions' if r == '*' else r}: {_unit_price(p)}" for r, p in shown.items()) or (
            "no figure for this stack's regions" if v["prices"] else f"not in the table ({v.get('not_found', '')})")
        unit = "" if v["unit"] == "see source" else f"per {v['unit']}: "
        out.append(f"  {v['what']}: {unit}{prices}  [{v['source']}]")
    out += ["", "Sources and dates for every price: tapinfra/operator/prices.json"]
    return "\n".join(out) + "\n"


@command("tapinfra cost")
def main(argv: list[str]) -> int:
    """Exit 0 with the estimate, the diff or the refreshed table; 2 on bad input (one message naming file, path and value)."""
    parser = argparse.ArgumentParser(prog="python -m tapinfra cost", description=__doc__.splitlines()[0])
    add_source_arguments(parser)
    parser.add_argument("--diff", nargs="+", metavar="FILE",
                        help="BEFORE AFTER: two synthesized stacks (cdk.tf.json) or plans (terraform show -json), gzipped "
                             "or not; one plan alone compares its prior state with what it plans")
    style = parser.add_mutually_exclusive_group()
    style.add_argument("--json", action="store_true", help="print JSON instead of a table")
    style.add_argument("--markdown", action="store_true", help="with --diff: one Markdown section (a pull-request comment)")
    parser.add_argument("--prices", help="a price table to use instead of the package's (as --refresh-prices writes it)")
    parser.add_argument("--refresh-prices", action="store_true",
                        help="read every line's regional prices from the AWS Price List API (your credentials) and write a new table")
    parser.add_argument("--out", default=REFRESHED, help=f"with --refresh-prices: where to write the table (default {REFRESHED})")
    args = parser.parse_args(argv)
    if args.refresh_prices:
        if args.diff or args.config or args.stack_json is not None or args.markdown:
            parser.error("--refresh-prices takes only --out, --prices (the table to start from) and --json")
        from tapinfra.operator.price_refresh import refresh_to_file

        summary = refresh_to_file(load_prices(Path(args.prices)) if args.prices else load_prices(), Path(args.out))
        print(json.dumps(summary, indent=2) if args.json else summary["text"], end="\n" if args.json else "")
        return OK
    prices = load_prices(Path(args.prices)) if args.prices else load_prices()
    if args.diff is not None:
        if args.config or args.stack_json is not None:
            parser.error("--diff reads its own two files: leave out --config and --stack-json")
        if len(args.diff) > 2:
            parser.error(f"--diff takes BEFORE AFTER (or one plan); got {len(args.diff)} files")
        from tapinfra.operator import cost_diff

        diff = cost_diff.diff_files(args.diff[0], args.diff[-1], prices)
        if args.json:
            print(json.dumps(cost_diff.as_json(diff), indent=2))
        else:
            print(cost_diff.markdown_section(diff) if args.markdown else cost_diff.render_text(diff), end="")
        return OK
    if args.markdown:
        parser.error("--markdown goes with --diff")
    est = estimate(architecture_from_args(args), prices)
    print(json.dumps(est.to_json(), indent=2) if args.json else render_text(est), end="" if not args.json else "\n")
    return OK
