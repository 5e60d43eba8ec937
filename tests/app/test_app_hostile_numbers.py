"""Any JSON number, at any position: the API answers 4xx or success, never 5xx, and ingestion always
dead-letters with its documented reason (issue 21).

The generator writes number *texts* (not values): huge and tiny exponents past what ``decimal``
holds, exponents with leading zeros, integers past Python's digit limit, ``-0``, many digits, and
spellings JSON refuses (leading zeros, ``+1``, ``.5``, ``1.``), and puts them in every position a
body has (an attribute, nested in lists and maps, ``version``, ``name``, ``id``, an unknown field,
the whole body).
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal, DecimalException

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app_testkit import Api

_digits = st.text("0123456789", min_size=1, max_size=60)
_long_int = st.integers(sys.get_int_max_str_digits() - 5, sys.get_int_max_str_digits() + 50).map(lambda n: "7" * n)
_exponent = st.one_of(
    st.integers(0, 400).map(str),
    st.integers(10**17, 10**40).map(str),  # decimal's limits are around 10**18
    st.tuples(st.integers(1, 4), st.integers(0, 200)).map(lambda t: "0" * t[0] + str(t[1])),  # JSON allows 1e0005
)


@st.composite
def json_number_texts(draw) -> str:
    """A JSON number's text, valid by JSON's grammar."""
    sign = draw(st.sampled_from(["", "-"]))
    integer = draw(st.one_of(st.just("0"), st.tuples(st.integers(1, 9), _digits).map(lambda t: f"{t[0]}{t[1]}"),
                             _long_int))
    fraction = draw(st.one_of(st.just(""), _digits.map(lambda d: "." + d)))
    exponent = draw(st.one_of(st.just(""), st.tuples(st.sampled_from("eE"), st.sampled_from(["", "+", "-"]), _exponent)
                              .map("".join)))
    return sign + integer + fraction + exponent


not_json_numbers = st.sampled_from(["01", "-01", "+1", ".5", "1.", "1e", "1e+", "00", "0x10", "1_000", "--1", "1.e5"])
number_texts = st.one_of(json_number_texts(), json_number_texts(), not_json_numbers)

# (body text with N where the number goes, the position of the first N as the API names it)
POSITIONS = [
    ('{"name": "x", "attributes": {"n": N}}', "attributes.n"),
    ('{"name": "x", "attributes": {"l": [1, N, {"m": N}]}}', "attributes.l[1]"),
    ('{"name": "x", "attributes": {"a": {"b": {"c": [[N]]}}}}', "attributes.a.b.c[0][0]"),
    ('{"name": N}', "name"),
    ('{"id": N, "name": "x"}', "id"),
    ('{"name": "x", "version": N}', "version"),
    ('{"name": "x", "attributes": {}, "extra": N}', "extra"),
    ("N", "body"),
    ("[N, N]", "body[0]"),
]


def unreadable(text: str) -> bool:
    """True if no Decimal holds this (valid JSON) number and it is not zero."""
    try:
        Decimal(text)
    except DecimalException:
        return text.split("e")[0].split("E")[0].strip("-0.") != ""
    if "." not in text and "e" not in text.lower():
        return len(text.lstrip("-")) > sys.get_int_max_str_digits()
    return False


def is_json(text: str) -> bool:
    try:
        json.loads(text, parse_float=str, parse_int=str)
    except ValueError:
        return False
    return True


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=number_texts, position=st.sampled_from(POSITIONS), method=st.sampled_from(["POST", "PUT"]))
def test_no_number_text_in_any_position_makes_the_api_answer_5xx(api, number, position, method):
    template, field = position
    body = template.replace("N", number)
    path = "/items" if method == "POST" else "/items/some-item"
    reply = api.call(method, path, body=body)

    assert reply.status < 500, (body[:200], reply.raw_body[:300])
    assert reply.body is None or isinstance(reply.body, dict)
    if is_json(number) and unreadable(number):
        assert reply.status == 400
        assert reply.body["message"] == f"invalid body: {field} is a number too large or too small to read"
    elif not is_json(number):
        assert reply.status == 400 and reply.body["message"].startswith("malformed JSON")


@settings(max_examples=400, deadline=None)
@given(number=number_texts, position=st.sampled_from(POSITIONS))
def test_no_number_text_in_any_position_escapes_the_ingestion_checks(lam, number, position):
    """parse_lines either accepts the line or raises Rejected with a documented reason; nothing else."""
    import ingest  # noqa: PLC0415 - lambda/ is on sys.path once the lam fixture has run

    template, _ = position
    line = template.replace("N", number)
    obj = ingest.ObjectRef(bucket="b", key="tenant-a/x.jsonl", version_id=None, size=None)
    try:
        parsed = ingest.parse_lines((line + "\n").encode("utf-8"), obj, 10, 16384)
    except ingest.Rejected as rejected:
        assert rejected.reason in {"malformed_json", "invalid_item"}, rejected.reason
        assert rejected.detail.startswith("line 1: ")
        if is_json(number) and unreadable(number):
            assert rejected.reason == "invalid_item"
            assert "is too large or too small to read" in rejected.detail
        if not is_json(number):
            assert rejected.reason == "malformed_json"
    else:
        assert len(parsed) == 1 and is_json(number) and not unreadable(number)


@pytest.mark.parametrize(("text", "field"), [
    ('{"name": "x", "attributes": {"n": 1e99999999999999999999}}', "attributes.n"),
    ('{"name": "x", "attributes": {"n": -1E+99999999999999999999}}', "attributes.n"),
    ('{"name": "x", "attributes": {"n": 1e-99999999999999999999}}', "attributes.n"),
    ('{"name": "x", "version": 1e99999999999999999999}', "version"),
    ('{"name": "x", "attributes": {"l": [0, {"deep": 1e99999999999999999999}]}}', "attributes.l[1].deep"),
    ('{"name": "x", "attributes": {"n": 1' + "0" * 5000 + "}}", "attributes.n"),
])
def test_the_issues_numbers_are_a_400_naming_the_field(api, text, field):
    reply = api.post("/items", text)
    assert (reply.status, reply.body["error"]) == (400, "bad_request")
    assert reply.body["message"] == f"invalid body: {field} is a number too large or too small to read"


def test_a_zero_with_any_exponent_is_zero(api):
    reply = api.post("/items", '{"name": "x", "attributes": {"z": 0e99999999999999999999, "m": -0.0E-99999999999999999999}}')
    assert reply.status == 201 and reply.body["attributes"] == {"z": 0, "m": 0}


def test_a_later_duplicate_key_replaces_an_unreadable_number(lam):
    from encoding import loads  # noqa: PLC0415

    assert loads('{"a": 1e99999999999999999999, "a": 2}') == {"a": 2}
