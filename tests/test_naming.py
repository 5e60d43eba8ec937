"""Names: every derived name is valid for its service and unique, for any valid config."""

import re

import pytest
from hypothesis import given, settings, strategies as st

from tapinfra.config import AWS_REGIONS
from tapinfra.naming import RULES, DuplicateName, NameRegistry, Namer, fit

apps = st.from_regex(r"\A[a-z][a-z0-9]{0,11}\Z")
envs = st.from_regex(r"\A[a-z][a-z0-9]{0,9}\Z")
regions = st.sampled_from(AWS_REGIONS)
resources = st.lists(st.from_regex(r"\A[a-z][a-z0-9-]{0,40}[a-z0-9]\Z"), min_size=1, max_size=12, unique=True)


@settings(max_examples=300, deadline=None)
@given(app=apps, env=envs, primary=regions, secondary=regions, names=resources)
def test_every_derived_name_fits_its_rule_and_none_repeats(app, env, primary, secondary, names):
    if primary == secondary:
        return
    registry = NameRegistry()
    issued: dict[tuple[str, str], str] = {}
    for region in (primary, secondary):
        namer = Namer(app, env, region, registry)
        for kind, rule in RULES.items():
            for resource in names:
                name = namer.name(resource, kind)
                assert len(name) <= rule.limit
                assert re.fullmatch(rule.pattern, name)
                assert name.startswith(app[: rule.limit - 7])
                scope = "global" if rule.regional_suffix or kind == "s3" else region
                assert (kind, scope + name) not in issued, f"{kind} {name} repeats"
                issued[(kind, scope + name)] = resource


def test_long_names_end_in_a_stable_hash():
    long = "a" * 100
    assert fit(long, 21) == fit(long, 21)
    assert len(fit(long, 21)) == 21 and re.fullmatch(r"a{14}-[0-9a-f]{6}", fit(long, 21))
    assert fit("a" * 100 + "b", 21) != fit(long, 21)
    assert fit("short", 21) == "short"


def test_the_pattern_is_app_resource_env_and_region_where_global():
    namer = Namer("tap", "dev", "us-east-1")
    assert namer.name("handler", "lambda") == "tap-handler-dev"
    assert namer.name("handler", "iam_role") == "tap-handler-dev-us-east-1"
    assert namer.name("data", "s3") == "tap-data-dev-us-east-1"


def test_the_same_name_cannot_be_issued_twice():
    namer = Namer("tap", "dev", "us-east-1")
    namer.name("handler", "lambda")
    with pytest.raises(DuplicateName, match="issued twice"):
        namer.name("handler", "lambda")


def test_global_names_collide_across_regions_only_with_the_region_left_out():
    registry = NameRegistry()
    Namer("tap", "dev", "us-east-1", registry).name("role", "iam_role")
    Namer("tap", "dev", "us-west-2", registry).name("role", "iam_role")  # region suffix keeps them apart
    Namer("tap", "dev", "us-east-1", registry).name("fn", "lambda")
    Namer("tap", "dev", "us-west-2", registry).name("fn", "lambda")  # regional: may repeat across regions
    # A second namer for the same region shares the registry: the same global name collides.
    with pytest.raises(DuplicateName, match="iam_role name 'tap-role-dev-us-east-1' issued twice"):
        Namer("tap", "dev", "us-east-1", registry).name("role", "iam_role")
    with pytest.raises(DuplicateName, match="lambda name 'tap-fn-dev' issued twice"):
        Namer("tap", "dev", "us-west-2", registry).name("fn", "lambda")


def test_fitted_names_that_meet_after_truncation_still_collide_loudly():
    """Two resources whose fitted names coincide are refused, never silently merged."""
    registry = NameRegistry()
    long = "x" * 80
    Namer("tap", "dev", "us-east-1", registry).name(long, "canary")
    with pytest.raises(DuplicateName):
        Namer("tap", "dev", "us-east-1", registry).name(long, "canary")
