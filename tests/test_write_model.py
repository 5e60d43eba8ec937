"""The write model in the synthesized stack (issue 20): table.write_mode.

single-writer (default): each function is told the mode and the writer preference list, and its
role may reach exactly the peer's copy of the table, the peer's key and the peer's drain switch.
any-region: no cross-region grant at all; instead each function reads its own copy's stream
(replicated writes only) and an alarm watches the conflicts it counts.
"""

from __future__ import annotations

import json

import pytest

from tapinfra.config import function_environment, with_changes
from tapinfra.errors import ConfigError
from tapinfra.runtime import ANY_REGION, SINGLE_WRITER, WRITE_CONFLICTS_METRIC, Env
from tests.synth import Tf, example_config, synth

HANDLER = "app.handler"
PEER = {"aws.primary": "aws.secondary", "aws.secondary": "aws.primary"}
CROSS_REGION_SIDS = {"ItemsInThePeerRegionsTable", "UseThePeerRegionsKey", "ReadThePeerRegionsDrainSwitch"}


@pytest.fixture(scope="module")
def single_tf():
    return Tf(synth(example_config("default")).doc)


@pytest.fixture(scope="module")
def any_region_tf():
    return Tf(synth(with_changes(example_config("default"), table={"write_mode": ANY_REGION})).doc)


def _statements(tf: Tf, fn: dict) -> dict[str, dict]:
    role_ref = fn["role"].replace(".arn}", ".id}")
    (policy,) = [p for p in tf.resources("aws_iam_role_policy").values() if p["role"] == role_ref]
    return {s["sid"]: s for s in tf.policy(policy["policy"])}


def _peer_resources(tf: Tf, provider: str) -> dict[str, str]:
    """What of the peer region a role could name: its copy of the table, its key, its drain switch."""
    regions = tf.regions()
    peer = PEER[provider]
    (table_name, table), = tf.resources("aws_dynamodb_table").items()
    account, partition = "${data.aws_caller_identity.identity.account_id}", "${data.aws_partition.partition.partition}"
    peer_region = regions[peer.split(".")[1]]
    table_arn = (tf.ref("aws_dynamodb_table", table_name, "arn") if peer == "aws.primary"
                 else f"arn:{partition}:dynamodb:{peer_region}:{account}:table/{table['name']}")
    (_, switch), = tf.in_region("aws_ssm_parameter", peer).items()
    return {
        "table": table_arn,
        "key": tf.ref("aws_kms_key", tf.region_keys()[peer], "arn"),
        "switch": f"arn:{partition}:ssm:{peer_region}:{account}:parameter{switch['name']}",
    }


def _names_peer(statement: dict, tf: Tf, provider: str) -> bool:
    peer_region = tf.regions()[PEER[provider].split(".")[1]]
    peer = set(_peer_resources(tf, provider).values())
    return any(r in peer or f":{peer_region}:" in r for r in statement.get("resources", []))


def test_every_function_is_told_the_mode_and_the_writer_preference(single_tf, any_region_tf):
    regions = single_tf.regions()
    for tf, mode in ((single_tf, SINGLE_WRITER), (any_region_tf, ANY_REGION)):
        fns = tf.by_provider("aws_lambda_function", handler=HANDLER)
        assert set(fns) == set(PEER)
        for _, fn in fns.values():
            env = fn["environment"]["variables"]
            assert env[Env.WRITE_MODE] == mode
            assert env[Env.WRITE_REGIONS] == f"{regions['primary']},{regions['secondary']}", "primary first"
    estimate = function_environment(example_config("default"))
    assert {Env.WRITE_MODE, Env.WRITE_REGIONS} <= set(estimate)
    assert estimate[Env.WRITE_REGIONS] == f"{regions['primary']},{regions['secondary']}"


def test_single_writer_roles_reach_exactly_the_peers_table_key_and_switch(single_tf):
    for provider, (_, fn) in single_tf.by_provider("aws_lambda_function", handler=HANDLER).items():
        st = _statements(single_tf, fn)
        peer = _peer_resources(single_tf, provider)
        assert {sid for sid, s in st.items() if _names_peer(s, single_tf, provider)} == CROSS_REGION_SIDS
        assert st["ItemsInThePeerRegionsTable"]["resources"] == [peer["table"]]
        assert st["ItemsInThePeerRegionsTable"]["actions"] == st["ItemsInThisRegionsTable"]["actions"]
        assert st["UseThePeerRegionsKey"]["resources"] == [peer["key"]]
        assert set(st["UseThePeerRegionsKey"]["actions"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
        assert st["ReadThePeerRegionsDrainSwitch"] == {**st["ReadThePeerRegionsDrainSwitch"],
                                                       "actions": ["ssm:GetParameter"], "resources": [peer["switch"]]}
        for sid in CROSS_REGION_SIDS:
            assert not any("*" in r for r in st[sid]["resources"]), sid
        assert "ReadThisRegionsTableStream" not in st
    assert single_tf.resources("aws_lambda_event_source_mapping") == {}
    assert not [a for a in single_tf.resources("aws_cloudwatch_metric_alarm").values()
                if a.get("metric_name") == WRITE_CONFLICTS_METRIC]


def test_the_peer_switch_the_role_reads_is_the_one_the_peer_builds(single_tf):
    """Same name in both regions: the ARN the primary's role names is the secondary's parameter."""
    names = {p: body["name"] for p, (_, body) in single_tf.by_provider("aws_ssm_parameter").items()}
    assert names["aws.primary"] == names["aws.secondary"] == "/tap/dev/drain"


def test_any_region_roles_have_no_cross_region_grant_and_read_their_own_stream(any_region_tf):
    tf = any_region_tf
    (table_name, _), = tf.resources("aws_dynamodb_table").items()
    streams = {"aws.primary": tf.ref("aws_dynamodb_table", table_name, "stream_arn"),
               "aws.secondary": f"${{tolist(aws_dynamodb_table.{table_name}.replica).0.stream_arn}}"}
    mappings = tf.by_provider("aws_lambda_event_source_mapping")
    for provider, (_, fn) in tf.by_provider("aws_lambda_function", handler=HANDLER).items():
        st = _statements(tf, fn)
        assert not [sid for sid, s in st.items() if _names_peer(s, tf, provider)], "any-region reaches nothing of the peer"
        assert not CROSS_REGION_SIDS & set(st)
        stream = st["ReadThisRegionsTableStream"]
        assert stream["resources"] == [streams[provider]]
        assert set(stream["actions"]) == {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                                          "dynamodb:ListStreams"}
        _, mapping = mappings[provider]
        assert mapping["event_source_arn"] == streams[provider]
        fn_name = next(n for n, b in tf.resources("aws_lambda_function").items() if b is fn)
        alias = next(n for n, b in tf.resources("aws_lambda_alias").items()
                     if b["function_name"] == tf.ref("aws_lambda_function", fn_name, "function_name"))
        assert mapping["function_name"] == tf.ref("aws_lambda_alias", alias, "arn")
        assert mapping["destination_config"]["on_failure"]["destination_arn"] == fn["dead_letter_config"]["target_arn"]
        region = tf.regions()[provider.split(".")[1]]
        (pattern,) = [json.loads(f["pattern"]) for f in mapping["filter_criteria"]["filter"]]
        assert pattern == {"eventName": ["MODIFY"],
                           "dynamodb": {"NewImage": {"updated_region": {"S": [{"anything-but": [region]}]}}}}, \
            "only writes replicated from the other region reach the detector"


def test_any_region_alarms_on_the_conflicts_the_functions_count(any_region_tf):
    tf = any_region_tf
    alarms = [a for a in tf.resources("aws_cloudwatch_metric_alarm").values() if a.get("metric_name") == WRITE_CONFLICTS_METRIC]
    assert sorted(a["provider"] for a in alarms) == sorted(PEER)
    topics = tf.by_provider("aws_sns_topic")
    for a in alarms:
        (_, fn) = tf.by_provider("aws_lambda_function", handler=HANDLER)[a["provider"]]
        env = fn["environment"]["variables"]
        assert a["namespace"] == env[Env.POWERTOOLS_METRICS_NAMESPACE]
        assert a["dimensions"] == {"service": env[Env.POWERTOOLS_SERVICE_NAME]}
        assert (a["threshold"], a["comparison_operator"], a["statistic"]) == (1, "GreaterThanOrEqualToThreshold", "Sum")
        assert a["treat_missing_data"] == "notBreaching"
        assert a["alarm_actions"] == [tf.ref("aws_sns_topic", topics[a["provider"]][0], "arn")]


def test_single_writer_in_a_vpc_without_nat_is_refused_naming_the_field():
    full = example_config("full")  # networking on, no NAT gateway: any-region
    assert full.networking.enabled and not full.networking.nat_gateways and full.table.write_mode == ANY_REGION
    with pytest.raises(ConfigError) as err:
        with_changes(full, table={"write_mode": SINGLE_WRITER})
    assert "table.write_mode" in err.value.paths
    with_changes(full, table={"write_mode": SINGLE_WRITER}, networking={"nat_gateways": True})  # a way out exists


@pytest.mark.parametrize("bad", ["single", "ANY-REGION", "", "primary"])
def test_an_unknown_write_mode_is_refused(bad):
    with pytest.raises(ConfigError) as err:
        with_changes(example_config("default"), table={"write_mode": bad})
    assert "table.write_mode" in err.value.paths


# --- the ingestion processor follows the same model --------------------------------------------

INGEST = "ingest.handler"
INGEST_CROSS_REGION_SIDS = {"PutItemsInThePeerRegionsTable", "UseThePeerRegionsKey", "ReadThePeerRegionsDrainSwitch"}


@pytest.fixture(scope="module")
def ingest_single_tf():
    return Tf(synth(with_changes(example_config("default"), ingestion={"enabled": True})).doc)


def test_the_processor_is_told_the_same_mode_preference_and_switch_as_the_api(ingest_single_tf, single_tf):
    tf = ingest_single_tf
    apis = tf.by_provider("aws_lambda_function", handler=HANDLER)
    for provider, (_, fn) in tf.by_provider("aws_lambda_function", handler=INGEST).items():
        env, api_env = fn["environment"]["variables"], apis[provider][1]["environment"]["variables"]
        for name in (Env.WRITE_MODE, Env.WRITE_REGIONS):
            assert env[name] == api_env[name], (provider, name)
        (switch_id, switch), = tf.in_region("aws_ssm_parameter", provider).items()
        assert env[Env.WRITE_MODE] == SINGLE_WRITER
        # the switch the API function reads (by reference or by its name): the same writer is chosen
        assert api_env[Env.DRAIN_PARAMETER_NAME] in (switch["name"], tf.ref("aws_ssm_parameter", switch_id, "name"))
        assert env[Env.DRAIN_PARAMETER_NAME] in (switch["name"], tf.ref("aws_ssm_parameter", switch_id, "name"))


def test_single_writer_processors_may_create_on_the_peers_copy_and_read_both_switches(ingest_single_tf):
    tf = ingest_single_tf
    for provider, (_, fn) in tf.by_provider("aws_lambda_function", handler=INGEST).items():
        st = _statements(tf, fn)
        peer = _peer_resources(tf, provider)
        assert {sid for sid, s in st.items() if _names_peer(s, tf, provider)} == INGEST_CROSS_REGION_SIDS
        assert st["PutItemsInThePeerRegionsTable"]["actions"] == ["dynamodb:PutItem"], "creates only, as at home"
        assert st["PutItemsInThePeerRegionsTable"]["resources"] == [peer["table"]]
        assert st["UseThePeerRegionsKey"]["resources"] == [peer["key"]]
        assert st["ReadThePeerRegionsDrainSwitch"]["resources"] == [peer["switch"]]
        (own_id, own), = tf.in_region("aws_ssm_parameter", provider).items()
        (resource,) = st["ReadDrainSwitch"]["resources"]
        region = tf.regions()[provider.split(".")[1]]
        assert st["ReadDrainSwitch"]["actions"] == ["ssm:GetParameter"]
        assert resource == tf.ref("aws_ssm_parameter", own_id, "arn") or (
            resource.endswith(f":ssm:{region}:${{data.aws_caller_identity.identity.account_id}}:parameter{own['name']}"))


def test_any_region_processors_reach_nothing_of_the_peer():
    config = with_changes(example_config("default"), ingestion={"enabled": True}, table={"write_mode": ANY_REGION})
    tf = Tf(synth(config).doc)
    for provider, (_, fn) in tf.by_provider("aws_lambda_function", handler=INGEST).items():
        st = _statements(tf, fn)
        assert not [sid for sid, s in st.items() if _names_peer(s, tf, provider)]
        assert fn["environment"]["variables"][Env.WRITE_MODE] == ANY_REGION
