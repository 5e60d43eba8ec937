"""S3 ingestion pipeline (optional module): bucket -> processor -> table, rejects to a KMS dead-letter queue."""

from __future__ import annotations

import re

import pytest

from tests import item_api as contract
from tapinfra.config import LAMBDA_ENVIRONMENT_LIMIT_BYTES, RESOURCE_PART_MAX, config_from_dict, environment_bytes
from tapinfra.errors import ConfigError
from tests.modules import account_id, assert_secure_bucket, key_arn, role_statements
from tests.synth import REGIONS, example_config

CONFIG = example_config("full")
SETTINGS = CONFIG.ingestion


@pytest.fixture(scope="module")
def processors(full_tf):
    found = full_tf.by_provider("aws_lambda_function", handler="ingest.handler")
    assert set(found) == set(REGIONS)
    return found


def ingest_bucket(tf, processor_name: str) -> str:
    """The bucket whose notification invokes the processor."""
    arn = tf.ref("aws_lambda_function", processor_name, "arn")
    (bucket,) = [tf.bucket_of(n["bucket"]) for n in tf.resources("aws_s3_bucket_notification").values()
                 if any(f["lambda_function_arn"] == arn for f in n.get("lambda_function", []))]
    return bucket


def table_arn_in(tf, provider: str, table: str) -> str:
    """The table's ARN in a region: the resource's in the primary, the replica's (built from names) elsewhere."""
    if provider == "aws.primary":
        return tf.ref("aws_dynamodb_table", table, "arn")
    (partition,) = tf.data("aws_partition")
    region = tf.regions()[provider.split(".")[1]]
    name = tf.resources("aws_dynamodb_table")[table]["name"]
    return f"arn:{tf.data_ref('aws_partition', partition, 'partition')}:dynamodb:{region}:{account_id(tf)}:table/{name}"


def test_new_objects_in_the_ingest_bucket_invoke_the_processor(full_tf, processors):
    for provider, (name, _) in processors.items():
        bucket = ingest_bucket(full_tf, name)
        assert_secure_bucket(full_tf, bucket, provider)
        _, notification = full_tf.bucket_part("aws_s3_bucket_notification", bucket)
        assert notification["eventbridge"] is True  # the one configuration still feeds EventBridge
        (target,) = notification["lambda_function"]
        assert target == {"lambda_function_arn": full_tf.ref("aws_lambda_function", name, "arn"),
                          "events": ["s3:ObjectCreated:*"]}
        (lifecycle,) = full_tf.bucket_part("aws_s3_bucket_lifecycle_configuration", bucket)[1]["rule"]
        assert lifecycle["expiration"] == [{"days": SETTINGS.object_expiration_days}]


def test_only_the_ingest_buckets_notify_a_function(full_tf, processors):
    notifying = {full_tf.bucket_of(n["bucket"]) for n in full_tf.resources("aws_s3_bucket_notification").values()
                 if n.get("lambda_function")}
    assert notifying == {ingest_bucket(full_tf, name) for name, _ in processors.values()}
    assert all(n["eventbridge"] is True for n in full_tf.resources("aws_s3_bucket_notification").values())


def test_only_that_bucket_of_this_account_may_invoke_the_processor(full_tf, processors):
    for provider, (name, _) in processors.items():
        bucket = ingest_bucket(full_tf, name)
        (perm_name, perm), = [(n, p) for n, p in full_tf.resources("aws_lambda_permission").items()
                              if p["function_name"] == full_tf.ref("aws_lambda_function", name, "function_name")]
        assert (perm["principal"], perm["action"]) == ("s3.amazonaws.com", "lambda:InvokeFunction")
        assert perm["source_arn"] == full_tf.ref("aws_s3_bucket", bucket, "arn")
        assert perm["source_account"] == account_id(full_tf)
        assert perm["provider"] == provider
        # S3 refuses a notification to a function that does not let it invoke yet.
        _, notification = full_tf.bucket_part("aws_s3_bucket_notification", bucket)
        assert notification["depends_on"] == [f"aws_lambda_permission.{perm_name}"]


def test_the_processor_shares_the_applications_zip_runtime_and_guards(full_tf, processors):
    api = full_tf.by_provider("aws_lambda_function", handler="app.handler")
    for provider, (name, fn) in processors.items():
        _, api_fn = api[provider]
        assert (fn["filename"], fn["source_code_hash"], fn["runtime"], fn["layers"]) == (
            api_fn["filename"], api_fn["source_code_hash"], api_fn["runtime"], api_fn["layers"])
        assert fn["kms_key_arn"] == key_arn(full_tf, provider)
        assert fn["tracing_config"] == {"mode": "Active"}
        assert fn["reserved_concurrent_executions"] == SETTINGS.reserved_concurrency
        assert (fn["memory_size"], fn["timeout"]) == (SETTINGS.memory_mb, SETTINGS.timeout_seconds)
        (group_name, group), = [(n, g) for n, g in full_tf.resources("aws_cloudwatch_log_group").items()
                                if g["name"] == f"/aws/lambda/{fn['function_name']}" and g["provider"] == provider]
        assert group["retention_in_days"] == SETTINGS.log_retention_days and group["kms_key_id"] == key_arn(full_tf, provider)
        assert f"aws_cloudwatch_log_group.{group_name}" in fn["depends_on"]


def test_the_processor_gets_exactly_the_contracts_ingest_variables(full_tf, processors):
    tables = full_tf.resources("aws_dynamodb_table")
    (table,) = tables.values()
    for provider, (_, fn) in processors.items():
        env = fn["environment"]["variables"]
        assert set(env) == set(contract.INGEST_ENV_NAMES)
        assert env[contract.IngestEnv.INGEST_TENANTS] == ",".join(CONFIG.api.tenants)
        assert env[contract.IngestEnv.TABLE_NAME] == table["name"]
        assert env[contract.IngestEnv.MAX_OBJECT_BYTES] == str(SETTINGS.max_object_bytes)
        assert env[contract.IngestEnv.MAX_ITEMS_PER_OBJECT] == str(SETTINGS.max_items_per_object)
        assert env[contract.IngestEnv.MAX_BODY_BYTES] == str(CONFIG.api.max_body_bytes)
        assert env[contract.IngestEnv.RETENTION_DAYS] == str(CONFIG.table.item_retention_days)
        queue = full_tf.referenced(fn["dead_letter_config"]["target_arn"])[1]
        assert env[contract.IngestEnv.DEAD_LETTER_QUEUE_URL] == full_tf.ref("aws_sqs_queue", queue, "url")


def test_the_processor_environment_fits_lambdas_limit_at_the_configs_bounds(full_tf, processors):
    """100 tenants of 32 characters, the longest names and queue URL: still under 4 KB."""
    _, fn = next(iter(processors.values()))
    env = dict(fn["environment"]["variables"])
    name = "n" * (12 + 10 + 2 + RESOURCE_PART_MAX)
    env[contract.IngestEnv.TABLE_NAME] = name
    env[contract.IngestEnv.DEAD_LETTER_QUEUE_URL] = f"https://sqs.ap-southeast-4.amazonaws.com/123456789012/{name}"
    env[contract.IngestEnv.INGEST_TENANTS] = ",".join(f"t{i:02d}" + "x" * 29 for i in range(100))
    env[contract.IngestEnv.POWERTOOLS_SERVICE_NAME] = "a" * 12 + "-ingest"
    env[contract.IngestEnv.POWERTOOLS_METRICS_NAMESPACE] = "a" * 12 + "-" + "e" * 10
    env[contract.IngestEnv.MAX_OBJECT_BYTES] = "10485760"
    assert environment_bytes(env) < LAMBDA_ENVIRONMENT_LIMIT_BYTES


def test_failures_and_rejects_go_to_a_kms_dead_letter_queue_with_a_depth_alarm(full_tf, processors):
    topics = full_tf.by_provider("aws_sns_topic")
    for provider, (_, fn) in processors.items():
        _, queue_name, queue = full_tf.referenced(fn["dead_letter_config"]["target_arn"])
        assert queue["kms_master_key_id"] == key_arn(full_tf, provider)
        assert queue["message_retention_seconds"] == SETTINGS.dlq_retention_days * 86400
        (alarm,) = [a for a in full_tf.resources("aws_cloudwatch_metric_alarm").values()
                    if a.get("dimensions") == {"QueueName": full_tf.ref("aws_sqs_queue", queue_name, "name")}]
        assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
        assert alarm["threshold"] == SETTINGS.dlq_alarm_threshold
        assert alarm["comparison_operator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["alarm_actions"] == [full_tf.ref("aws_sns_topic", topics[provider][0], "arn")]
        assert alarm["provider"] == provider


def test_the_processor_role_is_scoped_to_its_bucket_prefixes_table_and_queue(full_tf, processors):
    (table_name, _), = full_tf.resources("aws_dynamodb_table").items()
    for provider, (name, fn) in processors.items():
        statements = role_statements(full_tf, fn)
        in_vpc = {"CreateFunctionNetworkInterfaces", "ManageFunctionNetworkInterfaces", "DescribeFunctionNetworkInterfaces"}
        assert set(statements) == {"ReadTenantObjects", "PutItemsInThisRegionsTable", "UseThisRegionsKey",
                                   "WriteOwnLogs", "DeadLetters", "WriteTraces"} | (in_vpc if CONFIG.networking.enabled else set())
        bucket_arn = full_tf.ref("aws_s3_bucket", ingest_bucket(full_tf, name), "arn")
        read = statements["ReadTenantObjects"]
        assert read["actions"] == ["s3:GetObject", "s3:GetObjectVersion"]
        assert read["resources"] == [f"{bucket_arn}/{tenant}/*" for tenant in CONFIG.api.tenants]
        put = statements["PutItemsInThisRegionsTable"]
        assert put["actions"] == ["dynamodb:PutItem"]
        assert put["resources"] == [table_arn_in(full_tf, provider, table_name)]
        assert statements["UseThisRegionsKey"]["resources"] == [key_arn(full_tf, provider)]
        queue = full_tf.referenced(fn["dead_letter_config"]["target_arn"])[1]
        assert statements["DeadLetters"] == {**statements["DeadLetters"], "actions": ["sqs:SendMessage"],
                                             "resources": [full_tf.ref("aws_sqs_queue", queue, "arn")]}
        wildcards = {sid for sid, s in statements.items() if "*" in s["resources"]}
        assert wildcards <= {"WriteTraces", "DescribeFunctionNetworkInterfaces"}  # X-Ray and EC2 Describe accept no resource
        assert not any(a in ("s3:*", "s3:ListBucket", "dynamodb:*") for s in statements.values() for a in s["actions"])


def test_with_networking_the_processor_runs_where_the_api_does_and_its_calls_pass_the_endpoints(full_tf, processors):
    assert CONFIG.networking.enabled, "the full example turns every module on"
    api = full_tf.by_provider("aws_lambda_function", handler="app.handler")
    for provider, (name, fn) in processors.items():
        assert fn["vpc_config"] == api[provider][1]["vpc_config"] and fn["vpc_config"]["subnet_ids"]
        statements = role_statements(full_tf, fn)
        admitted = {}  # service -> (actions, resources) its endpoint policy lets through
        for endpoint in full_tf.resources("aws_vpc_endpoint").values():
            if endpoint["provider"] == provider and "policy" in endpoint:
                service = endpoint["service_name"].rsplit(".", 1)[1]
                admitted[service] = [(s["actions"], s["resources"]) for s in full_tf.policy(endpoint["policy"])]
        for service, sid in (("s3", "ReadTenantObjects"), ("sqs", "DeadLetters"), ("dynamodb", "PutItemsInThisRegionsTable")):
            assert (statements[sid]["actions"], statements[sid]["resources"]) in admitted[service], (provider, sid)


def test_outputs_name_each_regions_bucket_processor_and_queue(full_tf):
    outputs = full_tf.doc["output"]
    for role in ("primary", "secondary"):
        for key in ("ingest_bucket", "ingest_function_name", "ingest_dead_letter_queue_url"):
            assert outputs[f"{role}_{key}"]["description"], key


def test_ingestion_is_off_by_default(default_tf, minimal_tf):
    for tf in (default_tf, minimal_tf):
        assert tf.by_provider("aws_lambda_function", handler="ingest.handler") == {}
        assert not any(n.get("lambda_function") for n in tf.resources("aws_s3_bucket_notification").values())


def test_both_functions_reserve_from_one_regional_pool():
    raw = example_config("full").to_dict()
    f = raw["function"]
    raw["ingestion"]["reserved_concurrency"] = f["account_concurrency_limit"] - 100 - f["reserved_concurrency"] + 1
    with pytest.raises(ConfigError) as error:
        config_from_dict(raw)
    (problem,) = error.value.problems
    assert problem.path == "ingestion.reserved_concurrency" and "function.reserved_concurrency" in problem.allowed
    raw["ingestion"]["enabled"] = False  # the rule is about the processor: off, nothing to check
    config_from_dict(raw)


def test_the_processor_handler_exists_in_the_zip():
    from tapinfra.assets import reference_application_dir
    from tapinfra.constructs.ingestion import HANDLER

    LAMBDA_DIR = reference_application_dir()

    module, function = HANDLER.split(".")
    source = (LAMBDA_DIR / f"{module}.py").read_text()
    assert re.search(rf"^def {function}\(event: dict, context\)", source, re.M)
