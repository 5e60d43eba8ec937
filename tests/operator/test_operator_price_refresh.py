"""``cost --refresh-prices`` against recorded Price List answers (botocore's Stubber, validated against the model).

The answers in tests/fixtures/prices/get_products/ were written by hand in the documented
GetProducts shape (each PriceList entry a JSON string: product, serviceCode, terms.OnDemand
price dimensions), with the request each line must send. Figures below are read off those
files by hand.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from tapinfra.config import API_CACHE_SIZES_GB, AWS_REGIONS
from tapinfra.operator import cost, price_refresh

RECORDED = Path(__file__).resolve().parent.parent / "fixtures" / "prices" / "get_products"
TODAY = datetime.date(2026, 12, 1)


def _client():
    return boto3.client("pricing", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def stubbed_client(queries=price_refresh.QUERIES):
    """A pricing client answering each query's recorded pages, in order; each request is checked against the recording."""
    client = _client()
    stubber = Stubber(client)
    for query in queries:
        recorded = json.loads((RECORDED / f"{query.item}.json").read_text())
        token = None
        for page in recorded["pages"]:
            expected = dict(recorded["request"], **({"NextToken": token} if token else {}))
            stubber.add_response("get_products", page, expected)
            token = page.get("NextToken")
    stubber.activate()
    return client, stubber


@pytest.fixture()
def refreshed():
    client, stubber = stubbed_client()
    data, summary = price_refresh.refresh(cost.load_prices(), client, TODAY)
    stubber.assert_no_pending_responses()
    return data, summary


def test_every_line_with_a_query_has_a_recording():
    assert {q.item for q in price_refresh.QUERIES} == {p.stem for p in RECORDED.glob("*.json")}
    assert {q.item for q in price_refresh.QUERIES} <= set(cost.load_prices().data["fixed"])


def test_refresh_takes_each_regions_price_from_the_matching_products(refreshed):
    data, _ = refreshed
    fixed = data["fixed"]
    # two pages; the ARM product and the GovCloud region are not this line
    assert fixed["lambda_provisioned_concurrency"]["prices"] == {"eu-west-1": 4.646e-06, "us-east-1": 4.1667e-06, "us-west-2": 4.1667e-06}
    assert fixed["synthetics_canary_run"]["prices"] == {"ap-northeast-1": 0.0019, "us-east-1": 0.0012}
    # the high-resolution alarm is another usage type; sa-east-1 has two prices and gets neither
    assert fixed["cloudwatch_alarm_metric"]["prices"] == {"eu-west-1": 0.10, "us-east-1": 0.10}
    assert fixed["cloudwatch_dashboard"]["prices"] == {"us-east-1": 3.00}            # not the free -Basic usage type
    assert fixed["api_cache_hour"]["prices_by_size"] == {"0.5": {"us-east-1": 0.02}, "1.6": {"us-east-1": 0.038}}
    assert fixed["aurora_serverless_v2_acu_hour"]["prices"] == {"us-east-1": 0.12}  # both engines agree; I/O-optimized is not this line
    assert fixed["vpc_interface_endpoint_hour"]["prices"] == {"us-east-1": 0.01}    # the hourly product, not the per-GB one
    # the free first tier is not the price; Standard-IA and replicated writes are other lines
    assert fixed["dynamodb_read_capacity_unit_hour"]["prices"] == {"eu-central-1": 0.000156, "us-east-1": 0.00013}
    assert fixed["dynamodb_write_capacity_unit_hour"]["prices"] == {"us-east-1": 0.00065}


def test_every_accepted_region_is_priced_or_says_why_after_a_refresh(refreshed):
    data, _ = refreshed
    for query in price_refresh.QUERIES:
        entry = data["fixed"][query.item]
        assert entry["source"] == price_refresh.SOURCE and entry["as_of"] == TODAY.isoformat()
        assert query.service_code in entry["read_in"]
        tables = ({size: (entry["prices_by_size"].get(size, {}), entry["unpriced_by_size"].get(size, {})) for size in API_CACHE_SIZES_GB}
                  if query.variant else {"": (entry["prices"], entry["unpriced"])})
        for variant, (prices, unpriced) in tables.items():
            reasons = {region: reason for reason, regions in unpriced.items() for region in regions}
            assert set(prices) | set(reasons) == set(AWS_REGIONS), (query.item, variant)
            assert not set(prices) & set(reasons), (query.item, variant)
            for region, reason in reasons.items():
                assert reason.startswith(cost.NO_PRICE.format(region=region)) or "prices for " + region in reason
    alarm = data["fixed"]["cloudwatch_alarm_metric"]["unpriced"]
    assert [r for reason, regions in alarm.items() if "2 prices" in reason for r in regions] == ["sa-east-1"]
    assert any(r == ["ap-southeast-7"] and "AWS publishes no price for ap-southeast-7" in reason
               for reason, r in data["fixed"]["synthetics_canary_run"]["unpriced"].items())


def test_refresh_keeps_what_it_does_not_query(refreshed):
    data, summary = refreshed
    before = cost.load_prices().data
    queried = {q.item for q in price_refresh.QUERIES}
    for item, entry in before["fixed"].items():
        if item not in queried:
            assert data["fixed"][item] == entry, item
    assert data["variable"] == before["variable"] and data["hours_per_month"] == before["hours_per_month"]
    assert len(summary) == len(price_refresh.QUERIES)


def test_the_refreshed_table_prices_a_stack(tmp_path, refreshed, capsys):
    data, _ = refreshed
    table = tmp_path / "prices.json"
    table.write_text(json.dumps(data))
    stack = tmp_path / "cdk.tf.json"
    stack.write_text(json.dumps(_stack_with_pc("eu-west-1", count=2, memory_mb=1024)))
    assert cost.main(["--stack-json", str(stack), "--prices", str(table), "--json"]) == 0
    line = json.loads(capsys.readouterr().out)["scopes"]["primary"]["lines"][0]
    # 2 × 1 GB × 730 h × 3600 s × 0.000004646 (eu-west-1, from the recording)
    assert line["item"] == "lambda_provisioned_concurrency" and line["monthly"] == pytest.approx(2 * 730 * 3600 * 0.000004646)
    assert line["source"] == price_refresh.SOURCE and line["as_of"] == TODAY.isoformat()


def _stack_with_pc(region: str, count: int, memory_mb: int) -> dict:
    return {"provider": {"aws": [{"alias": "primary", "region": region}, {"alias": "secondary", "region": "us-west-2"}]},
            "resource": {"aws_lambda_function": {"fn": {"provider": "aws.primary", "memory_size": memory_mb, "function_name": "f"}},
                         "aws_lambda_provisioned_concurrency_config": {
                             "pc": {"provider": "aws.primary", "function_name": "${aws_lambda_function.fn.function_name}",
                                    "provisioned_concurrent_executions": count}}}}


def test_command_writes_the_table_where_told(tmp_path, monkeypatch, capsys):
    client, stubber = stubbed_client()
    monkeypatch.setattr(price_refresh, "pricing_client", lambda: client)
    out = tmp_path / "refreshed.json"
    assert cost.main(["--refresh-prices", "--out", str(out)]) == 0
    stubber.assert_no_pending_responses()
    assert f"written to {out}" in capsys.readouterr().out
    assert cost.load_prices(out).price("lambda_provisioned_concurrency", "us-west-2") == pytest.approx(4.1667e-06)


@pytest.mark.parametrize("out", ["/nonexistent-dir/prices.json", "{tmp}", "/proc/version"])
def test_an_unwritable_out_is_refused_before_any_call(tmp_path, monkeypatch, capsys, out):
    client, stubber = stubbed_client(queries=())   # any call would fail: nothing is stubbed
    monkeypatch.setattr(price_refresh, "pricing_client", lambda: client)
    out = out.format(tmp=tmp_path)
    assert cost.main(["--refresh-prices", "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--out" in err and out in err and "Traceback" not in err


def test_no_credentials_is_bad_input(tmp_path, monkeypatch, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert cost.main(["--refresh-prices", "--out", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err
    assert "AWS credentials" in err and "Traceback" not in err
    assert not (tmp_path / "p.json").exists()


def test_aws_refusing_the_call_is_exit_1(tmp_path, monkeypatch, capsys):
    client = _client()
    stubber = Stubber(client)
    stubber.add_client_error("get_products", "AccessDeniedException", "User is not authorized to perform: pricing:GetProducts")
    stubber.activate()
    monkeypatch.setattr(price_refresh, "pricing_client", lambda: client)
    assert cost.main(["--refresh-prices", "--out", str(tmp_path / "p.json")]) == 1
    assert "AccessDeniedException" in capsys.readouterr().err
    assert not (tmp_path / "p.json").exists()


def test_on_demand_price_takes_the_highest_tier_and_skips_unreadable_dimensions():
    def product(*dims):
        return {"terms": {"OnDemand": {"T": {"priceDimensions": {str(i): d for i, d in enumerate(dims)}}}}}

    free, paid = {"beginRange": "0", "pricePerUnit": {"USD": "0"}, "unit": "u"}, {"beginRange": "10", "pricePerUnit": {"USD": "2.5"}, "unit": "u"}
    assert price_refresh.on_demand_price(product(free, paid)) == (2.5, "u")
    assert price_refresh.on_demand_price(product(paid, free)) == (2.5, "u")
    assert price_refresh.on_demand_price(product({"beginRange": "0", "pricePerUnit": {}}, free)) == (0.0, "u")
    assert price_refresh.on_demand_price(product()) is None
    assert price_refresh.on_demand_price({"terms": {"OnDemand": "x"}}) is None
