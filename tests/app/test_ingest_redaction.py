"""Dead-letter messages hold fixed text and positions only: no name or value the uploader chose (issue 21).

Every key name and string value the generator writes carries a marker character (U+E000, private
use: no fixed text of the processor contains it), and every number it writes has at least nine
significant digits (no line number, column, size or limit in a message has that many), so a
message that repeats any part of the payload is caught whatever the part is.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_ingest import BUCKET, processor, world  # noqa: F401 - the fixtures, reused

MARK = "\ue000"

_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
names = st.one_of(
    _text.map(lambda t: MARK + t),
    st.integers(120, 140).map(lambda n: MARK * n),  # around the 128-character key limit
    st.just(""),  # the empty key: refused, and nothing to leak
    _text.map(lambda t: MARK + t + "\ud800"),  # a lone surrogate: not UTF-8
)
strings = st.one_of(_text.map(lambda t: MARK + t + MARK), _text.map(lambda t: MARK + t + "\udfff"))
numbers = st.one_of(
    st.integers(10**8, 10**45),
    st.integers(-(10**45), -(10**8)),
    st.tuples(st.integers(10**8, 10**40), st.integers(-400, 400)).map(lambda t: f"{t[0]}e{t[1]}"),
    st.integers(10**8, 10**12).map(lambda m: f"{m}e99999999999999999999"),
)
scalars = st.one_of(strings, numbers, st.booleans(), st.none())
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(names, inner, max_size=4)), max_leaves=20)

# Top-level fields: the schema's own names (their values still client content) and unknown ones.
line_bodies = st.one_of(
    st.dictionaries(
        st.one_of(st.sampled_from(["id", "name", "attributes", "version"]), names),
        values,
        max_size=5,
    ),
    st.fixed_dictionaries({"name": st.one_of(strings, values)},
                          optional={"attributes": st.dictionaries(names, values, max_size=6), "id": strings}),
    values,
)
# Lines that pass the schema's top level, so the refusal (if any) is deep in attributes or names an
# unknown field: where a message that repeats names would repeat them.
deep_bodies = st.one_of(
    st.fixed_dictionaries({"name": _text.map(lambda t: MARK + t),
                           "attributes": st.dictionaries(names, values, min_size=1, max_size=6)}),
    st.tuples(_text.map(lambda t: MARK + t), names.filter(bool), values).map(lambda t: {"name": t[0], t[1]: t[2]}),
)


def encode(value) -> str:
    """JSON text; numbers given as text stay exactly that text."""
    if isinstance(value, str) and value[:1] and value[:1] in "-0123456789":  # only number texts start so
        return value
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(encode(v) for v in value) + "]"
    return json.dumps(value)


def payload_parts(value) -> set[str]:
    """Every key name, string value and number text the uploader wrote (the empty key aside)."""
    out: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in {"id", "name", "attributes", "version"} and key:
                out.add(key)
            out |= payload_parts(item)
    elif isinstance(value, list):
        for item in value:
            out |= payload_parts(item)
    elif isinstance(value, str) and value:
        out.add(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        out.add(str(value))
    return out


def assert_nothing_leaks(message: str, bodies: list) -> None:
    assert MARK not in message and "\\ue000" not in message.lower(), message
    for part in set().union(*(payload_parts(b) for b in bodies)):
        assert part not in message, (part, message)


@settings(max_examples=500, deadline=None)
@given(bodies=st.lists(st.one_of(line_bodies, deep_bodies), min_size=1, max_size=3))
def test_no_rejection_detail_repeats_the_payload(lam, bodies):
    import ingest  # noqa: PLC0415

    data = ("\n".join(encode(b) for b in bodies) + "\n").encode("utf-8", "surrogatepass")
    obj = ingest.ObjectRef(bucket=BUCKET, key="tenant-a/x.jsonl", version_id=None, size=None)
    try:
        ingest.parse_lines(data, obj, 10, 16384)
    except ingest.Rejected as rejected:
        assert_nothing_leaks(rejected.detail, bodies)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bodies=st.lists(deep_bodies, min_size=1, max_size=2))
def test_no_dead_letter_message_repeats_the_payload(world, bodies):
    """End to end on moto: the message on the queue, every field of it."""
    text = "\n".join(encode(b) for b in bodies) + "\n"
    result = world.ingest("tenant-a/upload.jsonl", text.encode("utf-8", "surrogatepass"))
    letters = world.dead_letters()
    if result["outcome"] == "rejected":
        (letter,) = letters
        assert set(letter) == {"bucket", "key", "version_id", "tenant_id", "reason", "detail", "request_id"}
        assert_nothing_leaks(json.dumps(letter, ensure_ascii=False), bodies)
        assert_nothing_leaks(json.dumps(letter), bodies)
    else:
        assert letters == []


@pytest.mark.parametrize(("line", "detail"), [
    ('{"name": "x", "attributes": {"jane.doe@example.com": {"": 1}}}', "line 1: invalid body: /attributes/#0 has an empty key"),
    ('{"name": "x", "attributes": {"a": 1, "jane.doe@example.com": [1, 2, "\\ud800"]}}',
     "line 1: invalid body: /attributes/#1/2 is not valid UTF-8 text"),
    ('{"name": "x", "jane.doe@example.com": 1}', "line 1: invalid body: / breaks the CreateItem rule additionalProperties false"),
    ('{"name": "x", "attributes": {"jane.doe@example.com": 1e400}}',
     "line 1: invalid body: /attributes/#0 is out of the storable range"),
    ('{"name": "x", "attributes": {"k": {"' + "j" * 129 + '": 1}}}',
     "line 1: invalid body: /attributes/#0 has a key longer than 128 characters"),
    ('{"name": "x", "attributes": {"jane.doe@example.com": ' + "[" * 17 + "1" + "]" * 17 + "}}",
     "line 1: invalid body: /attributes/#0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0 is nested deeper than 16 levels"),
    ('{"name": "jane.doe@example.com\\udc00"}', "line 1: invalid body: /name is not valid UTF-8 text"),
    ('{"name": 5, "attributes": {"jane.doe@example.com": 1}}', 'line 1: invalid body: /name breaks the CreateItem rule type "string"'),
    ('{"id": "jane.doe@example.com", "name": "x"}', "line 1: /id must be 1-64 characters"),
    ('{"name": "x", "attributes": {"jane.doe@example.com": 1e99999999999999999999}}',
     "line 1: invalid body: the number at /attributes/#0 is too large or too small to read"),
    ('{"name": "jane.doe@example.com"', "line 1: Expecting ',' delimiter at column 32"),
])
def test_each_kind_of_refusal_names_a_position_and_no_content(lam, line, detail):
    import ingest  # noqa: PLC0415

    obj = ingest.ObjectRef(bucket=BUCKET, key="tenant-a/x.jsonl", version_id=None, size=None)
    with pytest.raises(ingest.Rejected) as caught:
        ingest.parse_lines(line.encode("utf-8") + b"\n", obj, 10, 16384)
    assert caught.value.detail.startswith(detail), caught.value.detail
    assert "jane" not in caught.value.detail and "example" not in caught.value.detail
