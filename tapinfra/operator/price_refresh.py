"""``cost --refresh-prices``: every regional line of the price table, read from the AWS Price List API.

One paginated ``GetProducts`` per line (the us-east-1 endpoint; the user's credentials), with
the service code and filters that select exactly that product; each product names its region
(``regionCode``) and its on-demand price. For every region the config accepts, the new table
then holds the API's figure, or says "AWS publishes no price for <region>" when the Price
List has no such product there (a service or feature not offered in that region). Lines
priced the same in every region by AWS's own statement (``*``: WAF, KMS, Route 53) and lines
AWS bills per use only are kept as they are. The package's table is never overwritten: the
new one goes to ``--out`` and is used with ``cost --prices FILE``.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional

from tapinfra.cli.exits import InputError
from tapinfra.config import API_CACHE_SIZES_GB, AWS_REGIONS
from tapinfra.errors import Problem
from tapinfra.operator.cost import NO_PRICE, PriceTable

SOURCE = "AWS Price List API"
ENDPOINT_REGION = "us-east-1"   # the Price List API answers in us-east-1 (and a few others); its data covers every region
# The usage type's region prefix: letters and a digit (USE1-, EUC1-, APN1-), or EU- (Ireland), or none (us-east-1,
# for some services). A variant's prefix (IA- for Standard-IA tables) is not a region's: that is another product.
_PREFIX = r"(?:[A-Z]{2,4}[0-9]-|EU-)?"


@dataclass(frozen=True)
class Query:
    """How one line of the table is found in the Price List."""

    item: str
    service_code: str
    filters: tuple[tuple[str, str, str], ...]    # (Type, Field, Value), as GetProducts takes them
    usagetype: Optional[str] = None              # the usage type without its region prefix, matched exactly
    variant: Optional[str] = None                # product attribute that keys prices_by_size (the cache size)

    def request(self) -> dict[str, Any]:
        return {"ServiceCode": self.service_code, "FormatVersion": "aws_v1",
                "Filters": [{"Type": t, "Field": f, "Value": v} for t, f, v in self.filters]}

    def describe(self) -> str:
        filters = ", ".join(f"{f} {t} {v}" for t, f, v in self.filters)
        return f"GetProducts ServiceCode={self.service_code}, {filters}; OnDemand USD per unit, highest tier"

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        usage = attributes.get("usagetype")
        return self.usagetype is None or (isinstance(usage, str) and re.fullmatch(_PREFIX + re.escape(self.usagetype), usage) is not None)


QUERIES = (
    Query("lambda_provisioned_concurrency", "AWSLambda", (("TERM_MATCH", "group", "AWS-Lambda-Provisioned-Concurrency"),),
          "Lambda-Provisioned-Concurrency"),
    Query("synthetics_canary_run", "AmazonCloudWatch", (("CONTAINS", "usagetype", "CW:Canary-runs"),), "CW:Canary-runs"),
    Query("cloudwatch_alarm_metric", "AmazonCloudWatch", (("CONTAINS", "usagetype", "CW:AlarmMonitorUsage"),), "CW:AlarmMonitorUsage"),
    Query("cloudwatch_dashboard", "AmazonCloudWatch", (("CONTAINS", "usagetype", "DashboardsUsageHour"),), "DashboardsUsageHour"),
    Query("api_cache_hour", "AmazonApiGateway", (("TERM_MATCH", "productFamily", "Amazon API Gateway Cache"),),
          variant="cacheMemorySizeGb"),
    Query("aurora_serverless_v2_acu_hour", "AmazonRDS", (("CONTAINS", "usagetype", "Aurora:ServerlessV2Usage"),),
          "Aurora:ServerlessV2Usage"),
    Query("vpc_interface_endpoint_hour", "AmazonVPC", (("TERM_MATCH", "productFamily", "VpcEndpoint"),), "VpcEndpoint-Hours"),
    Query("dynamodb_read_capacity_unit_hour", "AmazonDynamoDB", (("TERM_MATCH", "productFamily", "Provisioned IOPS"),),
          "ReadCapacityUnit-Hrs"),
    Query("dynamodb_write_capacity_unit_hour", "AmazonDynamoDB", (("TERM_MATCH", "productFamily", "Provisioned IOPS"),),
          "WriteCapacityUnit-Hrs"),
)


def pricing_client() -> Any:
    """The Price List client: boto3's ``pricing`` at its us-east-1 endpoint, with whatever credentials boto3 finds."""
    import boto3

    return boto3.client("pricing", region_name=ENDPOINT_REGION)


def products(client: Any, query: Query) -> Iterator[dict[str, Any]]:
    """Every product of the query, each ``PriceList`` entry parsed (the API returns each as a JSON string)."""
    for page in client.get_paginator("get_products").paginate(**query.request()):
        for text in page.get("PriceList") or ():
            item = json.loads(text) if isinstance(text, str) else text
            if isinstance(item, dict):
                yield item


def on_demand_price(product: Mapping[str, Any]) -> Optional[tuple[float, str]]:
    """(USD per unit, unit) of a product's on-demand term: the highest tier (a free first tier starts at 0)."""
    terms = _object(_object(product.get("terms")).get("OnDemand"))
    dims = [d for term in terms.values() for d in _object(_object(term).get("priceDimensions")).values() if isinstance(d, dict)]
    priced = []
    for d in dims:
        try:
            priced.append((float(d.get("beginRange") or 0), float((d.get("pricePerUnit") or {})["USD"]), str(d.get("unit", ""))))
        except (KeyError, TypeError, ValueError):
            continue
    if not priced:
        return None
    _, price, unit = max(priced)
    return price, unit


def _object(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one: an odd Price List entry is skipped, not a crash."""
    return value if isinstance(value, dict) else {}


def regional_prices(query: Query, found: Iterable[dict[str, Any]]) -> tuple[dict[str, dict[str, set[float]]], set[str]]:
    """({variant or "": {region: prices}}, units seen) of the products that match; regions outside AWS_REGIONS ignored.

    A region normally has one price; two (a duplicate product the filters did not tell apart)
    are kept as a set, so that the table says so instead of guessing between them.
    """
    seen: dict[str, dict[str, set[float]]] = {}
    units = set()
    for product in found:
        attributes = _object(_object(product.get("product")).get("attributes"))
        region = attributes.get("regionCode")
        if region not in AWS_REGIONS or not query.matches(attributes):
            continue
        price = on_demand_price(product)
        if price is None:
            continue
        variant = str(attributes.get(query.variant, "")) if query.variant else ""
        seen.setdefault(variant, {}).setdefault(region, set()).add(price[0])
        units.add(price[1])
    return seen, units


def refresh(table: PriceTable, client: Any, today: Optional[datetime.date] = None) -> tuple[dict[str, Any], list[str]]:
    """(the new table, one summary line per refreshed line)."""
    date = (today or datetime.date.today()).isoformat()
    data = copy.deepcopy(dict(table.data))
    summary = []
    for query in QUERIES:
        entry = data["fixed"].get(query.item)
        if entry is None:
            continue
        found, units = regional_prices(query, products(client, query))
        entry["source"] = SOURCE
        entry["read_in"] = query.describe() + (f" (unit: {', '.join(sorted(units))})" if units else "")
        entry["as_of"] = date
        entry.pop("sources", None)
        entry.pop("not_found", None)
        if query.variant:
            sizes = {size: found.get(size, {}) for size in API_CACHE_SIZES_GB}
            entry["prices_by_size"] = {size: _single(p) for size, p in sizes.items() if _single(p)}
            entry["unpriced_by_size"] = {size: _unpriced(query, p, date) for size, p in sizes.items() if len(_single(p)) < len(AWS_REGIONS)}
            priced = sum(len(_single(p)) for p in sizes.values())
            summary.append(f"{query.item}: {priced} size-region prices of {len(sizes) * len(AWS_REGIONS)}")
        else:
            prices = found.get("", {})
            entry["prices"] = _single(prices)
            entry["unpriced"] = _unpriced(query, prices, date)
            summary.append(f"{query.item}: {len(entry['prices'])} of {len(AWS_REGIONS)} regions priced")
    return data, summary


def _single(prices: Mapping[str, set[float]]) -> dict[str, float]:
    """The regions with exactly one price, sorted."""
    return {region: next(iter(p)) for region, p in sorted(prices.items()) if len(p) == 1}


def _unpriced(query: Query, prices: Mapping[str, set[float]], date: str) -> dict[str, list[str]]:
    """Each region without one price, with the reason the table states: none in the Price List, or several."""
    what = query.usagetype or query.filters[0][2]
    reasons: dict[str, list[str]] = {}
    for region in AWS_REGIONS:
        found = prices.get(region, set())
        if not found:
            reason = NO_PRICE.format(region=region) + f" (no {query.service_code} {what} product in the {SOURCE} on {date})"
        elif len(found) > 1:
            reason = (f"the {SOURCE} gives {len(found)} prices for {region} on {date} "
                      f"({', '.join(f'{p:g}' for p in sorted(found))}): not chosen between")
        else:
            continue
        reasons.setdefault(reason, []).append(region)
    return reasons


def _check_writable(out: Path) -> None:
    """Refuse an ``--out`` that cannot be written before asking the API anything (opened for append, nothing written)."""
    existed = out.exists()
    try:
        with open(out, "a", encoding="utf-8"):
            pass
    except (OSError, ValueError) as exc:
        raise InputError([Problem("--out", str(out), f"a file this user can write ({getattr(exc, 'strerror', None) or exc})")]) from None
    if not existed:
        out.unlink()


def refresh_to_file(table: PriceTable, out: Path, client_factory: Callable[[], Any] = lambda: pricing_client(),
                    today: Optional[datetime.date] = None) -> dict[str, Any]:
    """Refresh and write ``out``; the summary the command prints. An unwritable ``out`` is an InputError."""
    _check_writable(out)
    data, lines = refresh(table, client_factory(), today)
    try:
        out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise InputError([Problem("--out", str(out), f"a file this user can write ({getattr(exc, 'strerror', None) or exc})")]) from None
    text = "\n".join([f"Prices read from the {SOURCE} and written to {out}:"] + [f"  {line}" for line in lines]
                     + [f"Use them with: python -m tapinfra cost --prices {out} ..."]) + "\n"
    return {"out": str(out), "lines": lines, "text": text}
