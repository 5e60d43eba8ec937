"""Data that must not bend: numbers come back exactly as stored, and an item DynamoDB could not hold is a 413.

Generators cover DynamoDB's whole number range (1 to 38 significant digits, exponents
-130..125) in every JSON spelling, and item sizes on both sides of the 400 KB limit.
"""

from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app_testkit import Api

ITEM_LIMIT = 400 * 1024

# ---------------------------------------------------------------------------- numbers


def storable_decimals():
    """Any number DynamoDB stores: 1 to 38 significant digits (each count as likely), magnitude 1e-130 .. <1e126."""
    def build(sign, mantissa, adjusted):
        digits = str(mantissa)
        return Decimal((sign, tuple(int(c) for c in digits), adjusted - (len(digits) - 1)))

    mantissas = st.integers(1, 38).flatmap(lambda n: st.integers(10 ** (n - 1), 10**n - 1))
    return st.builds(build, st.integers(0, 1), mantissas, st.integers(-130, 125))


def spellings(number: Decimal):
    """JSON texts of ``number``: Decimal's own, positional, scientific, with padding zeros."""
    forms = {str(number), f"{number:f}", f"{number:e}", f"{number:E}"}
    sign, digits, exponent = number.as_tuple()
    if digits != (0,):
        mantissa = "".join(map(str, digits)) + "000"
        forms.add(("-" if sign else "") + mantissa[0] + "." + mantissa[1:] + f"e{exponent + len(digits) - 1}")
    return st.sampled_from(sorted(f for f in forms if json.loads(f, parse_float=Decimal, parse_int=Decimal) == number))


def exact(text: str):
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


@settings(max_examples=300, deadline=None)
@given(number=storable_decimals())
def test_the_encoder_writes_every_storable_number_exactly(lam, number):
    from encoding import dumps  # noqa: PLC0415

    body = {"n": number, "l": [number, "text", None, True], "m": {"k": number}}
    assert exact(dumps(body)) == {"n": number, "l": [number, "text", None, True], "m": {"k": number}}


def test_the_encoder_keeps_short_numbers_short_and_plain_json_unchanged(lam):
    from encoding import dumps  # noqa: PLC0415

    assert dumps({"i": Decimal("42"), "f": Decimal("1.5"), "e": Decimal("1E+2")}) == '{"i":42,"f":1.5,"e":100}'
    assert dumps({"big": Decimal("1.5E+100")}) == '{"big":1.5e+100}'  # a float's text, and exactly 1.5E+100
    assert dumps({"big": Decimal("1.23456789012345678901E+100")}) == '{"big":1.23456789012345678901E+100}'
    assert dumps({"fine": Decimal("0.12345678901234567890123456789012345678")}) == '{"fine":0.12345678901234567890123456789012345678}'
    plain = {"a": [1, 2.5, "x\u00e9\U0001F600", None, True], "b": {"c": {}}}
    assert dumps(plain) == json.dumps(plain, separators=(",", ":"))
    assert exact(dumps({"x": Decimal("1E+125"), "y": "\u00e9"})) == {"x": Decimal("1E+125"), "y": "\u00e9"}
    with pytest.raises(ValueError):
        dumps({"x": Decimal("0.1234567890123456789"), "y": float("nan")})


@settings(max_examples=300, deadline=None)
@given(number=storable_decimals())
def test_the_codec_reads_back_exactly_what_it_wrote(lam, number):
    from codec import from_item, to_attr  # noqa: PLC0415

    stored = to_attr(number)
    assert from_item({"n": stored})["n"] == number
    # DynamoDB may hand the number back spelled out in full: still the same number.
    assert from_item({"n": {"N": f"{Decimal(stored['N']):f}"}})["n"] == number


@pytest.mark.parametrize("text", [
    "100000000000000000000000000000000000000000000",  # 1E+44 spelled out: 45 characters
    "1.2345678901234567890123456789012345678E+100",
    "-0.00000000000000000000000000000000000000000000012345",
    "12345678901234567890123456789012345678",
])
def test_numbers_longer_than_38_characters_are_not_cut(lam, text):
    from codec import from_item  # noqa: PLC0415

    assert from_item({"n": {"N": text}})["n"] == Decimal(text)


def test_any_storable_number_in_any_spelling_comes_back_exactly(lam, aws):
    world = Api(lam)

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data(), number=storable_decimals())
    def check(data, number):
        text = data.draw(spellings(number))
        item_id = uuid.uuid4().hex
        body = '{"id": "%s", "name": "n", "attributes": {"n": %s, "l": [%s], "m": {"k": %s}}}' % (item_id, text, text, text)
        created = world.post("/items", body)
        assert created.status == 201, created.raw_body
        for reply in (created, world.get(f"/items/{item_id}")):
            attributes = exact(reply.raw_body)["attributes"]
            assert attributes == {"n": number, "l": [number], "m": {"k": number}}, (text, reply.raw_body)

    check()


def test_numbers_dynamodb_cannot_hold_are_a_400_naming_the_field(lam, aws):
    world = Api(lam)

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(text=st.one_of(
        st.from_regex(r"[1-9][0-9]{38,45}\.[1-9]", fullmatch=True),       # 40+ significant digits
        st.from_regex(r"[1-9](\.[0-9]{1,5})?e(12[6-9]|1[3-9][0-9]|[2-9][0-9]{2,4})", fullmatch=True),  # too big
        st.from_regex(r"[1-9](\.[0-9]{1,5})?e-(13[1-9]|1[4-9][0-9]|[2-9][0-9]{2,4})", fullmatch=True),  # too small
    ))
    def check(text):
        reply = world.post("/items", '{"name": "n", "attributes": {"deep": {"x": %s}}}' % text)
        assert reply.status == 400, (text, reply.raw_body)
        assert "attributes.deep.x" in reply.body["message"]

    check()


# ---------------------------------------------------------------------------- item size


def test_item_size_follows_dynamodbs_rules(lam):
    from codec import item_size  # noqa: PLC0415

    assert item_size({"ab": {"S": "xyz"}}) == 2 + 3
    assert item_size({"s": {"S": "\u00e9"}}) == 1 + 2
    assert item_size({"n": {"N": "12345"}}) == 1 + (5 // 2 + 2)  # AWS: ceil(5/2) + 1 = 4
    assert item_size({"b": {"BOOL": True}, "z": {"NULL": True}}) == 2 + 2
    assert item_size({"l": {"L": [{"N": "1"}, {"S": ""}]}}) == 1 + 3 + (1 + 2) + (1 + 0)
    assert item_size({"m": {"M": {"key": {"S": "v"}}}}) == 1 + 3 + 1 + 3 + 1


def shortest_json_bytes(value) -> int:
    """Bytes of the shortest JSON text a client could send for ``value`` (raw UTF-8, no spaces)."""
    if isinstance(value, str):
        return len(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if value is None or isinstance(value, bool):
        return len(json.dumps(value))
    if isinstance(value, int):
        return len(str(value))
    if isinstance(value, Decimal):
        number = value.normalize()
        sign, digits, exponent = number.as_tuple()
        mantissa = ("-" if sign else "") + "".join(map(str, digits))
        return min(len(str(number)), len(f"{number:f}"), len(mantissa + (f"e{exponent}" if exponent else "")))
    if isinstance(value, list):
        return 2 + max(len(value) - 1, 0) + sum(map(shortest_json_bytes, value))
    return 2 + max(len(value) - 1, 0) + sum(shortest_json_bytes(k) + 1 + shortest_json_bytes(v) for k, v in value.items())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.text(max_size=10) | storable_decimals(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(min_size=1, max_size=6), children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(attributes=st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=8), name=st.text(min_size=1, max_size=30))
def test_an_item_never_takes_more_than_twice_its_shortest_json_text(lam, attributes, name):
    """What the config's body limit rests on: 2 x max_body_bytes + the item's own fields fits 400 KB."""
    from codec import item_size, to_item  # noqa: PLC0415

    body = {"name": name, "attributes": attributes}
    assert item_size(to_item(body)) <= 2 * shortest_json_bytes(body)


def test_the_worst_case_bodies_take_just_under_twice_their_text(lam):
    from codec import item_size, to_item  # noqa: PLC0415

    for body in ({"attributes": {"a": [0] * 5000}}, {"attributes": {"a": [[0]] * 3000}}, {"attributes": {"a": [[[]]] * 3000}}):
        ratio = item_size(to_item(body)) / shortest_json_bytes(body)
        assert 1.4 < ratio <= 2, ratio


@pytest.fixture
def big_bodies(set_env):
    set_env("MAX_BODY_BYTES", str(2_000_000))


def test_an_item_over_400kb_is_a_413_never_a_500(lam, aws, big_bodies):
    from codec import item_size, to_item  # noqa: PLC0415

    api = Api(lam)

    @settings(max_examples=12, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(length=st.integers(ITEM_LIMIT - 6_000, ITEM_LIMIT + 1_000), wide=st.booleans())
    def check(length, wide):
        char = "\u00e9" if wide else "x"  # 2 bytes as UTF-8 or 1
        text = char * (length // len(char.encode()))
        item_id = uuid.uuid4().hex
        reply = api.post("/items", {"id": item_id, "name": "n", "attributes": {"t": text}})
        size = item_size(to_item({"tenant_id": "tenant-a", "item_id": item_id, "name": "n", "attributes": {"t": text},
                                  "version": 1, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
                                  "expires_at": 1_750_000_000, "updated_region": "us-east-1"}))
        assert reply.status in (201, 413), (size, reply.raw_body[:300])
        if size > ITEM_LIMIT + 32:  # the app's own fields (expiry, region) differ from this model by a few bytes
            assert reply.status == 413
        counted = re.search(r"would be (\d+) bytes", reply.body["message"]) if reply.status == 413 else None
        if counted:
            assert abs(int(counted.group(1)) - size) <= 32 and int(counted.group(1)) > ITEM_LIMIT
        if reply.status == 413:
            # Under the limit as counted here, DynamoDB (moto: 405000 bytes) may still refuse: also a 413.
            assert reply.body["error"] == "payload_too_large" and str(ITEM_LIMIT) in reply.body["message"]
            assert api.get(f"/items/{item_id}").status == 404
        else:
            assert api.get(f"/items/{item_id}").body["attributes"] == {"t": text}

    check()


def test_an_update_that_would_grow_an_item_past_400kb_is_a_413_and_changes_nothing(lam, api, aws, big_bodies):
    assert api.post("/items", {"id": "grow", "name": "n", "attributes": {"t": "small"}}).status == 201
    reply = api.put("/items/grow", {"name": "n", "version": 1, "attributes": {"t": "x" * (ITEM_LIMIT + 10)}})
    assert reply.status == 413 and reply.body["error"] == "payload_too_large"
    stored = api.get("/items/grow").body
    assert (stored["version"], stored["attributes"]) == (1, {"t": "small"})


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_dynamodbs_own_item_size_error_is_a_413(lam, api, aws, big_bodies, monkeypatch, method):
    """Should DynamoDB count an item larger than the check before the write does, the answer is still a 413."""
    import items  # noqa: PLC0415

    assert api.post("/items", {"id": "x", "name": "n"}).status == 201
    monkeypatch.setattr(items, "ITEM_SIZE_LIMIT", 10**9)  # the pre-check lets it through; DynamoDB refuses
    body = {"name": "n", "attributes": {"t": "x" * (ITEM_LIMIT + 10)}}
    if method == "POST":
        reply = api.post("/items", {**body, "id": "y"})
    else:
        reply = api.put("/items/x", {**body, "version": 1})
    assert reply.status == 413, reply.raw_body[:300]
    assert reply.body["error"] == "payload_too_large"


def test_a_page_of_large_items_stays_inside_lambdas_6mb_response(lam, api, aws, big_bodies):
    """20 items of ~190 KB: one page of all of them would break Lambda's 6 MB response limit."""
    ids = [f"big{i:02d}" for i in range(20)]
    for item_id in ids:
        assert api.post("/items", {"id": item_id, "name": "n", "attributes": {"t": "\u00e9" * 95_000}}).status == 201
    seen, token, pages = [], None, 0
    while True:
        query = {"limit": "100", **({"next_token": token} if token else {})}
        reply = api.get("/items", query=query)
        assert reply.status == 200
        envelope = json.dumps({"statusCode": 200, "body": reply.raw_body})  # how Lambda carries it
        assert len(envelope) < 6 * 1024 * 1024
        seen += [item["id"] for item in reply.body["items"]]
        pages += 1
        token = reply.body["next_token"]
        if not token:
            break
    assert seen == ids and pages > 1
