"""Every way moto 5.2.5 differs from AWS that the rehearsal meets, and what the harness does about it.

Each gap names the resource type (and attribute), what the emulator does, why we work
around it, and how -- always on the rehearsal's emulated copy or emulator, never in what
users deploy. Four kinds:

- ``patch``: the emulator cannot apply it; the harness edits the synthesized copy first.
- ``drift``: the emulator drops the attribute, so every plan shows it changing; the plan
  judge excuses exactly that change.
- ``mimic``: AWS does something on its own that the emulator does not (write canary
  artifacts, create log groups, scale tables); the harness does it after apply, as AWS would, so destroy
  meets what it would meet in AWS.
- ``server``: moto breaks an API contract AWS documents (an idempotency token) in a way
  only a retry shows; the rehearsal's moto server runs with a fix that answers as AWS does
  (``moto_server.FIXES``, same key). It never makes moto accept what AWS refuses.

Each gap also has a probe: a few API calls, as the provider makes them, that show the gap
still happens. A probe that finds it fixed fails the rehearsal, so the list stays true.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from botocore.exceptions import ClientError

from tapinfra.rehearsal import document

PATCH, DRIFT, MIMIC, SERVER = "patch", "drift", "mimic", "server"

# AWS's account for the public Powertools for AWS Lambda layers.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
PROBE = "gap-probe"


@dataclass(frozen=True)
class Gap:
    key: str
    kind: str
    resource_type: str
    attribute: Optional[str]        # dotted path inside the resource; None: the whole resource
    emulator_does: str
    why: str                        # why the rehearsal works around it instead of failing
    workaround: str                 # what the harness does, on its copy only
    probe: Callable[[Any], bool]    # (MotoServer) -> True while the gap still happens
    patch: Optional[Callable[[dict[str, Any]], list[str]]] = field(default=None, compare=False)
    mimic: Optional[Callable[[Any, dict[str, Any], dict[str, Any]], list[str]]] = field(default=None, compare=False)

    def applies_to(self, doc: dict[str, Any]) -> bool:
        """True when a synthesized configuration has this resource type (with the attribute set)."""
        top = self.attribute.split(".")[0] if self.attribute else None
        return any(top is None or top in body for body in document.resources(doc, self.resource_type).values())

    def explains(self, resource_type: str, path: str) -> bool:
        """True when a planned change of ``path`` in a ``resource_type`` is this drift."""
        if self.kind != DRIFT or resource_type != self.resource_type or self.attribute is None:
            return False
        return path == self.attribute or path.startswith(self.attribute + ".")


# --- patches: edit the synthesized copy ------------------------------------------------------

def _strip_replicas(doc: dict[str, Any]) -> list[str]:
    """Strip every replica; where a replica's attributes are read (its stream, by the peer
    region's function), a table of the same name in the replica's region stands in for it,
    as AWS makes one there: same keys, stream and capacity, the replica's key."""
    touched, reads = [], {}
    tables = document.resources(doc, "aws_dynamodb_table")
    for name, body in list(tables.items()):
        replicas = body.pop("replica", None)
        if not replicas:
            continue
        touched.append(f"aws_dynamodb_table.{name}")
        text = json.dumps(doc)
        read = next((r for r in (f"tolist(aws_dynamodb_table.{name}.replica).0.", f"tolist(aws_dynamodb_table.{name}.replica)[0].")
                     if r in text), None)
        if read is None:
            continue
        stand_in = json.loads(json.dumps(body))
        (alias,) = [p["alias"] for p in doc["provider"]["aws"] if p["region"] == replicas[0]["region_name"]]
        stand_in["provider"] = f"aws.{alias}"
        if replicas[0].get("kms_key_arn") and stand_in.get("server_side_encryption"):
            stand_in["server_side_encryption"]["kms_key_arn"] = replicas[0]["kms_key_arn"]
        (stand_in.get("lifecycle") or {}).pop("prevent_destroy", None)
        tables[f"{name}_replica"] = stand_in
        reads[read] = f"aws_dynamodb_table.{name}_replica."
        touched.append(f"aws_dynamodb_table.{name}_replica")
    if reads:
        text = json.dumps(doc)
        for read, stand_in_read in reads.items():
            text = text.replace(read, stand_in_read)
        doc.clear()
        doc.update(json.loads(text))
    return touched


def _drop_powertools_layer(doc: dict[str, Any]) -> list[str]:
    touched = []
    for name, body in document.resources(doc, "aws_lambda_function").items():
        kept = [arn for arn in body.get("layers", []) if f":{POWERTOOLS_LAYER_ACCOUNT}:layer:" not in arn]
        if kept != body.get("layers", []):
            touched.append(f"aws_lambda_function.{name}")
            if kept:
                body["layers"] = kept
            else:
                del body["layers"]
    return touched


def _remove_all(rtype: str) -> Callable[[dict[str, Any]], list[str]]:
    def remove(doc: dict[str, Any]) -> list[str]:
        names = list(document.resources(doc, rtype))
        return document.remove_resources(doc, rtype, names) if names else []
    return remove


def _name_canary_log_groups(doc: dict[str, Any]) -> list[str]:
    """A canary's log group is named from its ``engine_arn``; with the canary gone (synthetics-canary),
    give it the name Synthetics would, with a fixed id in place of the one AWS assigns."""
    canaries = document.resources(doc, "aws_synthetics_canary")
    touched = []
    for name, body in document.resources(doc, "aws_cloudwatch_log_group").items():
        for canary, canary_body in canaries.items():
            if f"aws_synthetics_canary.{canary}.engine_arn" in body.get("name", ""):
                body["name"] = f"/aws/lambda/cwsyn-{canary_body['name']}-{PROBE}"
                touched.append(f"aws_cloudwatch_log_group.{name}")
    return touched


def _query_log_arn_with_star(doc: dict[str, Any]) -> list[str]:
    touched = []
    for name, body in document.resources(doc, "aws_route53_query_log").items():
        arn = body["cloudwatch_log_group_arn"]
        if not arn.endswith(":*"):
            body["cloudwatch_log_group_arn"] = arn + ":*"
            touched.append(f"aws_route53_query_log.{name}")
    return touched


def _drop_conditioned_denies(doc: dict[str, Any]) -> list[str]:
    """Drop Deny statements with a condition (deny-non-TLS) from bucket policies; a policy
    left with no statement goes too (S3 refuses an empty policy)."""
    users: dict[str, list[str]] = {}
    for policy_name, body in document.resources(doc, "aws_s3_bucket_policy").items():
        for address in document.references(body["policy"]):
            if address.startswith("data.aws_iam_policy_document."):
                users.setdefault(address.split(".", 2)[2], []).append(policy_name)
    touched: list[str] = []
    for name, policies in sorted(users.items()):
        body = document.data_sources(doc, "aws_iam_policy_document")[name]
        kept = [s for s in body.get("statement", []) if not (s.get("effect") == "Deny" and s.get("condition"))]
        if len(kept) == len(body.get("statement", [])):
            continue
        touched.append(f"data.aws_iam_policy_document.{name}")
        if kept:
            body["statement"] = kept
        else:
            touched += document.remove_resources(doc, "aws_s3_bucket_policy", policies)
            document.remove_resources(doc, "aws_iam_policy_document", [name], kind="data")
    return sorted(touched)


def _remove_autoscaling(doc: dict[str, Any]) -> list[str]:
    # Policies read their target: they go first.
    return _remove_all("aws_appautoscaling_policy")(doc) + _remove_all("aws_appautoscaling_target")(doc)


# --- mimics: what AWS does by itself after apply ---------------------------------------------
# Each gets the emulator, the Terraform state (``terraform state pull``) and the synthesized
# document before patches, and returns what it touched.

def _state_attributes(state: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [
        instance["attributes"]
        for resource in state.get("resources", [])
        if resource.get("mode") == "managed" and resource["type"] == rtype
        for instance in resource["instances"]
    ]


def _state_attributes_of(state: dict[str, Any], address: str) -> dict[str, Any]:
    rtype, name = address.split(".", 1)
    for resource in state.get("resources", []):
        if resource.get("mode") == "managed" and resource["type"] == rtype and resource["name"] == name:
            return resource["instances"][0]["attributes"]
    raise KeyError(f"{address} is not in the state")


def _bucket_region(state: dict[str, Any], bucket: str) -> str:
    return next(b["region"] for b in _state_attributes(state, "aws_s3_bucket") if b["bucket"] == bucket)


def _write_canary_artifacts(server: Any, state: dict[str, Any], original: dict[str, Any]) -> list[str]:
    touched = []
    for body in document.resources(original, "aws_synthetics_canary").values():
        location = body["artifact_s3_location"]
        bucket = _state_attributes_of(state, document.address_of_reference(location))["bucket"]
        prefix = location.removeprefix("s3://").partition("/")[2]
        s3 = server.client("s3", _bucket_region(state, bucket))
        s3.put_object(Bucket=bucket, Key=f"{prefix}canary/run-{PROBE}/log.txt", Body=b"canary run\n")
        touched.append(f"s3://{bucket}/{prefix}")
    return sorted(touched)


def _write_trail_logs(server: Any, state: dict[str, Any], original: dict[str, Any]) -> list[str]:
    """As CloudTrail would within minutes: a log file and a digest under AWSLogs/<account>/ of each trail's bucket."""
    touched = []
    for trail in _state_attributes(state, "aws_cloudtrail"):
        bucket, home, account = trail["s3_bucket_name"], trail["home_region"], trail["arn"].split(":")[4]
        s3 = server.client("s3", _bucket_region(state, bucket))
        for kind in ("CloudTrail", "CloudTrail-Digest"):
            key = f"AWSLogs/{account}/{kind}/{home}/2026/01/01/{account}_{kind}_{home}_{PROBE}.json.gz"
            s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(b'{"Records": []}'))
        touched.append(f"s3://{bucket}/AWSLogs/{account}/")
    return sorted(touched)


def _create_execution_log_groups(server: Any, state: dict[str, Any], original: dict[str, Any]) -> list[str]:
    stage_regions = {stage["rest_api_id"]: stage["arn"].split(":")[3] for stage in _state_attributes(state, "aws_api_gateway_stage")}
    touched = []
    for settings in _state_attributes(state, "aws_api_gateway_method_settings"):
        if (settings.get("settings") or [{}])[0].get("logging_level") not in ("INFO", "ERROR"):
            continue
        region = stage_regions[settings["rest_api_id"]]
        name = f"API-Gateway-Execution-Logs_{settings['rest_api_id']}/{settings['stage_name']}"
        logs = server.client("logs", region)
        if not any(g["logGroupName"] == name for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]):
            logs.create_log_group(logGroupName=name)  # as API Gateway does: no key, no retention
        touched.append(f"{region}:{name}")
    return sorted(touched)


def _scale_out_tables(server: Any, state: dict[str, Any], original: dict[str, Any]) -> list[str]:
    """From the synthesized targets (the emulator cannot hold them: appautoscaling-tags)."""
    regions = {f"aws.{p['alias']}": p["region"] for p in original["provider"]["aws"]}
    touched = []
    for target in document.resources(original, "aws_appautoscaling_target").values():
        if target["service_namespace"] != "dynamodb" or not str(target["resource_id"]).startswith("table/"):
            continue
        region, table = regions[target["provider"]], target["resource_id"].removeprefix("table/")
        dynamodb = server.client("dynamodb", region)
        try:
            current = dynamodb.describe_table(TableName=table)["Table"]["ProvisionedThroughput"]
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                continue  # a replica's region: replicas are not emulated (dynamodb-replica)
            raise
        unit = "ReadCapacityUnits" if target["scalable_dimension"].endswith("ReadCapacityUnits") else "WriteCapacityUnits"
        wanted = min(int(target["max_capacity"]), int(current[unit]) * 2)
        if wanted == current[unit]:
            continue
        throughput = {"ReadCapacityUnits": current["ReadCapacityUnits"], "WriteCapacityUnits": current["WriteCapacityUnits"], unit: wanted}
        dynamodb.update_table(TableName=table, ProvisionedThroughput=throughput)
        touched.append(f"{region}:{table}:{unit}={wanted}")
    return sorted(touched)


#: Mid-release, as CodeDeploy's canary configurations leave an alias: this share on the new version.
RELEASE_WEIGHT = 0.1


def _shift_released_aliases(server: Any, state: dict[str, Any], original: dict[str, Any]) -> list[str]:
    """As a release (``tapinfra release``: CodeDeploy) would have by now: every released alias
    whose function has a newer published version carries part of its traffic there. Terraform
    published that version; the alias is CodeDeploy's to move, and the next plan must leave it."""
    released = {name for name, body in document.resources(original, "aws_lambda_alias").items()
                if "routing_config" in ((body.get("lifecycle") or {}).get("ignore_changes") or [])}
    touched = []
    for resource in state.get("resources", []):
        if resource.get("mode") != "managed" or resource["type"] != "aws_lambda_alias" or resource["name"] not in released:
            continue
        alias = resource["instances"][0]["attributes"]
        lam = server.client("lambda", alias["arn"].split(":")[3])
        versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=alias["function_name"])["Versions"]]
        newest = max((v for v in versions if v.isdigit()), key=int, default=alias["function_version"])
        if newest == alias["function_version"]:
            continue
        lam.update_alias(FunctionName=alias["function_name"], Name=alias["name"],
                         RoutingConfig={"AdditionalVersionWeights": {newest: RELEASE_WEIGHT}})
        touched.append(f"{alias['arn']}: {alias['function_version']} + {RELEASE_WEIGHT:.0%} on {newest}")
    return sorted(touched)


# --- probes: does the emulator still behave so? ----------------------------------------------

def _status(error: ClientError) -> int:
    return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


def _probe_role(server: Any) -> str:
    iam = server.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    try:
        return iam.create_role(RoleName=PROBE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    except ClientError as error:
        if _code(error) != "EntityAlreadyExists":
            raise
        return iam.get_role(RoleName=PROBE)["Role"]["Arn"]


def _probe_function(server: Any, name: str, **extra: Any) -> dict[str, Any]:
    lam = server.client("lambda")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=_probe_role(server), Handler="app.handler",
                        Code={"ZipFile": _zip()}, **extra)
    return lam.get_function(FunctionName=name)["Configuration"]


def probe_replica_ignored(server: Any) -> bool:
    dynamodb = server.client("dynamodb")
    dynamodb.create_table(
        TableName=f"{PROBE}-replica", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    dynamodb.update_table(TableName=f"{PROBE}-replica", ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    return not dynamodb.describe_table(TableName=f"{PROBE}-replica")["Table"].get("Replicas")


def probe_powertools_layer_missing(server: Any) -> bool:
    arn = f"arn:aws:lambda:us-east-1:{POWERTOOLS_LAYER_ACCOUNT}:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:27"
    try:
        _probe_function(server, f"{PROBE}-layer", Layers=[arn])
    except ClientError as error:
        return _code(error) == "ResourceNotFoundException"
    return False


def _probe_zone(server: Any, name: str) -> str:
    route53 = server.client("route53")
    zone = route53.create_hosted_zone(Name=f"{name}.example.org", CallerReference=name)
    return zone["HostedZone"]["Id"].split("/")[-1]


def probe_key_signing_key_404(server: Any) -> bool:
    zone = _probe_zone(server, f"{PROBE}-ksk")
    key = server.client("kms").create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    try:
        server.client("route53").create_key_signing_key(
            CallerReference=PROBE, HostedZoneId=zone, KeyManagementServiceArn=key, Name="tapinfra", Status="ACTIVE")
    except ClientError as error:
        return _status(error) == 404 and _code(error) in ("404", "NotFound", "Not Found")
    return False


def probe_dnssec_404(server: Any) -> bool:
    zone = _probe_zone(server, f"{PROBE}-dnssec")
    try:
        server.client("route53").enable_hosted_zone_dnssec(HostedZoneId=zone)
    except ClientError as error:
        return _status(error) == 404 and _code(error) in ("404", "NotFound", "Not Found")
    return False


def probe_query_log_wants_star(server: Any) -> bool:
    zone = _probe_zone(server, f"{PROBE}-querylog")
    logs = server.client("logs")
    name = f"/aws/route53/{PROBE}"
    logs.create_log_group(logGroupName=name)
    arn = next(g["arn"] for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]).removesuffix(":*")
    try:
        config = server.client("route53").create_query_logging_config(HostedZoneId=zone, CloudWatchLogsLogGroupArn=arn)
    except ClientError as error:
        return _code(error) == "NoSuchCloudWatchLogsLogGroup"
    server.client("route53").delete_query_logging_config(Id=config["QueryLoggingConfig"]["Id"])
    return False


def probe_provisioned_concurrency_404(server: Any) -> bool:
    name = f"{PROBE}-provisioned"
    _probe_function(server, name, Publish=True)
    lam = server.client("lambda")
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    try:
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1)
    except ClientError as error:
        # An unrouted URL: AWS itself would answer 202, or a typed error with a JSON body.
        return _status(error) == 404 and _code(error) == "404"
    return False


def _probe_canary(server: Any, name: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("nodejs/node_modules/probe.js", "exports.handler = async () => {};\n")
    server.client("s3").create_bucket(Bucket=name)
    server.client("synthetics").create_canary(
        Name=name, Code={"ZipFile": buffer.getvalue(), "Handler": "probe.handler"},
        ArtifactS3Location=f"s3://{name}/runs/", ExecutionRoleArn=_probe_role(server),
        Schedule={"Expression": "rate(5 minutes)"}, RuntimeVersion="syn-nodejs-puppeteer-9.1",
    )


def probe_canary_timestamp_string(server: Any) -> bool:
    name, raw = f"{PROBE}-canary-time", {}
    _probe_canary(server, name)
    synthetics = server.client("synthetics")
    capture = lambda http_response, **_: raw.setdefault("body", http_response.content)  # noqa: E731
    synthetics.meta.events.register("after-call.synthetics.GetCanary", capture)
    try:
        synthetics.get_canary(Name=name)
    finally:
        synthetics.meta.events.unregister("after-call.synthetics.GetCanary", capture)
    timeline = json.loads(raw["body"])["Canary"]["Timeline"]
    # The Go SDK reads these as epoch seconds (JSON numbers), as AWS sends them.
    return isinstance(timeline.get("Created"), str)


def probe_conditions_ignored_and_star_principal_500(server: Any) -> bool:
    """Both halves must still happen: a Deny whose condition is false still denies, and a
    ``"Principal": "*"`` in a log target's policy makes PutBucketLogging fail with 500."""
    s3 = server.client("s3")
    target, source = f"{PROBE}-logs-target", f"{PROBE}-logs-source"
    s3.create_bucket(Bucket=target)
    s3.create_bucket(Bucket=source)
    deny_over_tls = {"Sid": "DenyOverTlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                     "Resource": [f"arn:aws:s3:::{target}", f"arn:aws:s3:::{target}/*"],
                     "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
    delivery = {"Sid": "AllowServerAccessLogDelivery", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{target}/*"}
    s3.put_bucket_policy(Bucket=target, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny_over_tls, delivery]}))
    try:
        s3.put_object(Bucket=target, Key="plain-http", Body=b"x")  # this request is not TLS: AWS allows it
        return False
    except ClientError as error:
        if _status(error) != 403:
            raise
    try:
        s3.put_bucket_logging(Bucket=source, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": "p/"}})
    except ClientError as error:
        return _status(error) == 500
    return False


def probe_dead_letter_config_dropped(server: Any) -> bool:
    queue = server.client("sqs").create_queue(QueueName=f"{PROBE}-dlq")["QueueUrl"]
    arn = server.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    configuration = _probe_function(server, f"{PROBE}-dlq", DeadLetterConfig={"TargetArn": arn})
    return configuration.get("DeadLetterConfig", {}).get("TargetArn") != arn


def probe_event_source_mapping_alias_resolved(server: Any) -> bool:
    """A mapping created on an alias ARN reads back the alias's version ARN (AWS keeps the alias)."""
    lam = server.client("lambda")
    _probe_function(server, f"{PROBE}-esm")
    version = lam.publish_version(FunctionName=f"{PROBE}-esm")["Version"]
    alias = lam.create_alias(FunctionName=f"{PROBE}-esm", Name="live", FunctionVersion=version)["AliasArn"]
    queue = server.client("sqs").create_queue(QueueName=f"{PROBE}-esm")["QueueUrl"]
    source = server.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    mapping = lam.create_event_source_mapping(EventSourceArn=source, FunctionName=alias)["UUID"]
    return lam.get_event_source_mapping(UUID=mapping)["FunctionArn"] != alias


def probe_logging_config_dropped(server: Any) -> bool:
    wanted = {"LogFormat": "JSON", "LogGroup": f"/aws/lambda/{PROBE}"}
    configuration = _probe_function(server, f"{PROBE}-logging", LoggingConfig=wanted)
    got = configuration.get("LoggingConfig", {})
    return any(got.get(key) != value for key, value in wanted.items())


def probe_eventbridge_notification_dropped(server: Any) -> bool:
    s3 = server.client("s3")
    s3.create_bucket(Bucket=f"{PROBE}-events")
    s3.put_bucket_notification_configuration(Bucket=f"{PROBE}-events", NotificationConfiguration={"EventBridgeConfiguration": {}})
    return "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(Bucket=f"{PROBE}-events")


def _probe_replication(server: Any) -> dict[str, Any]:
    s3 = server.client("s3")
    source, destination = f"{PROBE}-replication-source", f"{PROBE}-replication-destination"
    for bucket in (source, destination):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket=source, ReplicationConfiguration={"Role": _probe_role(server), "Rules": [{
        "ID": "all", "Status": "Enabled", "Priority": 1, "Filter": {},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        "Destination": {"Bucket": f"arn:aws:s3:::{destination}"},
    }]})
    return s3.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]["Rules"][0]


def probe_delete_marker_replication_dropped(server: Any) -> bool:
    rule = _probe_replication(server)
    return rule.get("DeleteMarkerReplication", {}).get("Status") != "Enabled"


def probe_source_selection_criteria_dropped(server: Any) -> bool:
    rule = server.client("s3").get_bucket_replication(Bucket=f"{PROBE}-replication-source")["ReplicationConfiguration"]["Rules"][0]
    return rule.get("SourceSelectionCriteria", {}).get("SseKmsEncryptedObjects", {}).get("Status") != "Enabled"


def probe_canary_never_runs(server: Any) -> bool:
    name = f"{PROBE}-canary-runs"
    _probe_canary(server, name)
    try:
        server.client("synthetics").start_canary(Name=name)
    except ClientError as error:
        return _status(error) == 404  # StartCanary is not implemented at all
    return server.client("s3").list_objects_v2(Bucket=name).get("KeyCount", 0) == 0


def probe_cloudtrail_never_delivers(server: Any) -> bool:
    s3, cloudtrail, name = server.client("s3"), server.client("cloudtrail"), f"{PROBE}-trail"
    s3.create_bucket(Bucket=name)
    cloudtrail.create_trail(Name=name, S3BucketName=name)
    cloudtrail.start_logging(Name=name)
    s3.list_buckets()  # a management event a logging trail records
    return s3.list_objects_v2(Bucket=name).get("KeyCount", 0) == 0


def probe_no_execution_log_group(server: Any) -> bool:
    apigateway = server.client("apigateway")
    api = apigateway.create_rest_api(name=PROBE)["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    apigateway.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = apigateway.create_deployment(restApiId=api)["id"]
    apigateway.create_stage(restApiId=api, stageName="probe", deploymentId=deployment)
    apigateway.update_stage(restApiId=api, stageName="probe", patchOperations=[
        {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"}])
    groups = server.client("logs").describe_log_groups(logGroupNamePrefix=f"API-Gateway-Execution-Logs_{api}")["logGroups"]
    return not groups


def probe_autoscaling_tags_500(server: Any) -> bool:
    arn = "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/0123456789abcdef0123456789abcdef"
    try:
        server.client("application-autoscaling").list_tags_for_resource(ResourceARN=arn)
    except ClientError as error:
        return _status(error) == 500
    return False


def _keep_account_setting(doc: dict[str, Any]) -> list[str]:
    touched = []
    for name, body in document.resources(doc, "aws_api_gateway_account").items():
        if body.pop("reset_on_delete", None) is not None:
            touched.append(f"aws_api_gateway_account.{name}")
    return touched


def probe_account_reset_500(server: Any) -> bool:
    """The provider clears the setting with a replace operation that has no value."""
    try:
        server.client("apigateway").update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn"}])
    except ClientError as error:
        return _status(error) == 500
    return False


def probe_autoscaling_never_scales(server: Any) -> bool:
    dynamodb, name = server.client("dynamodb"), f"{PROBE}-autoscaled"
    dynamodb.create_table(
        TableName=name, BillingMode="PROVISIONED", ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
    )
    server.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="dynamodb", ResourceId=f"table/{name}", ScalableDimension="dynamodb:table:ReadCapacityUnits",
        MinCapacity=10, MaxCapacity=20)
    # AWS raises the capacity to the new minimum at once; an emulator that never scales leaves it.
    return dynamodb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 5


# --- the private network and the Aurora global database (optional modules) -----------------

_PERFORMANCE_INSIGHTS = ("performance_insights_enabled", "performance_insights_kms_key_id", "performance_insights_retention_period")


def _drop_global_database_name(doc: dict[str, Any]) -> list[str]:
    touched = []
    for name, body in document.resources(doc, "aws_rds_global_cluster").items():
        if body.pop("database_name", None) is not None:
            touched.append(f"aws_rds_global_cluster.{name}")
    return touched


def _detach_global_members(doc: dict[str, Any]) -> list[str]:
    """Secondary clusters (members without credentials) go, after what reads them; the rest leave the global cluster."""
    clusters = document.resources(doc, "aws_rds_cluster")
    secondaries = {f"aws_rds_cluster.{n}" for n, b in clusters.items() if b.get("global_cluster_identifier") and "master_username" not in b}
    touched = []
    for rtype in ("aws_rds_cluster_instance", "aws_cloudwatch_metric_alarm"):
        readers = [n for n, body in document.resources(doc, rtype).items() if document.references(body) & secondaries]
        touched += document.remove_resources(doc, rtype, readers) if readers else []
    # A dashboard only names the cluster in its metrics: the literal identifier draws the same widget.
    for name, body in document.resources(doc, "aws_cloudwatch_dashboard").items():
        for address in sorted(document.references(body) & secondaries):
            literal = clusters[address.split(".", 1)[1]].get("cluster_identifier")
            text, reference = body.get("dashboard_body"), "${" + address + ".cluster_identifier}"
            if isinstance(literal, str) and "${" not in literal and isinstance(text, str) and reference in text:
                body["dashboard_body"] = text.replace(reference, literal)
                touched.append(f"aws_cloudwatch_dashboard.{name}")
    if secondaries:
        touched += document.remove_resources(doc, "aws_rds_cluster", [a.split(".", 1)[1] for a in sorted(secondaries)])
    for name, body in document.resources(doc, "aws_rds_cluster").items():
        if body.pop("global_cluster_identifier", None) is not None:
            touched.append(f"aws_rds_cluster.{name}")
    return touched


def _ignore(rtype: str, attributes: tuple[str, ...]) -> Callable[[dict[str, Any]], list[str]]:
    def ignore(doc: dict[str, Any]) -> list[str]:
        touched = []
        for name, body in document.resources(doc, rtype).items():
            lifecycle = body.setdefault("lifecycle", {})
            lifecycle["ignore_changes"] = sorted({*lifecycle.get("ignore_changes", []), *attributes})
            touched.append(f"{rtype}.{name}")
        return touched
    return ignore


_ignore_scaling_configuration = _ignore("aws_rds_cluster", ("scaling_configuration",))
_ignore_codedeploy_group_reads = _ignore("aws_codedeploy_deployment_group", ("alarm_configuration", "load_balancer_info"))
_ignore_global_cluster_tags = _ignore("aws_rds_global_cluster", ("tags", "tags_all"))


def _drop_performance_insights(doc: dict[str, Any]) -> list[str]:
    touched = []
    for name, body in document.resources(doc, "aws_rds_cluster_instance").items():
        if [body.pop(key) for key in _PERFORMANCE_INSIGHTS if key in body]:
            touched.append(f"aws_rds_cluster_instance.{name}")
    return touched


def _drop_secret_replica_keys(doc: dict[str, Any]) -> list[str]:
    touched = []
    for name, body in document.resources(doc, "aws_secretsmanager_secret").items():
        if [replica.pop("kms_key_id") for replica in body.get("replica", []) if "kms_key_id" in replica]:
            touched.append(f"aws_secretsmanager_secret.{name}")
    return touched


def _probe_cluster(rds: Any, name: str, **extra: Any) -> dict[str, Any]:
    return rds.create_db_cluster(DBClusterIdentifier=name, Engine="aurora-postgresql", EngineVersion="16.6",
                                 StorageEncrypted=True, **extra)["DBCluster"]


def probe_global_database_name_dropped(server: Any) -> bool:
    rds, name = server.client("rds"), f"{PROBE}-global-name"
    rds.create_global_cluster(GlobalClusterIdentifier=name, Engine="aurora-postgresql", EngineVersion="16.6",
                              DatabaseName="probe", StorageEncrypted=True)
    (found,) = [g for g in rds.describe_global_clusters()["GlobalClusters"] if g["GlobalClusterIdentifier"] == name]
    return found.get("DatabaseName") != "probe"


def probe_global_cluster_tags_refused(server: Any) -> bool:
    rds, name = server.client("rds"), f"{PROBE}-global-tags"
    arn = rds.create_global_cluster(GlobalClusterIdentifier=name, Engine="aurora-postgresql", EngineVersion="16.6",
                                    StorageEncrypted=True, Tags=[{"Key": "probe", "Value": "yes"}])["GlobalCluster"]["GlobalClusterArn"]
    try:
        return {"Key": "probe", "Value": "yes"} not in rds.list_tags_for_resource(ResourceName=arn)["TagList"]
    except ClientError as error:
        return _code(error) == "InvalidParameterValue"


def probe_membership_kept_outside_us_east_1(server: Any) -> bool:
    """As the provider destroys a member of a global database: it leaves from its own region."""
    name = f"{PROBE}-global-members"
    rds = server.client("rds", "us-west-2")
    rds.create_global_cluster(GlobalClusterIdentifier=name, Engine="aurora-postgresql", EngineVersion="16.6", StorageEncrypted=True)
    member = _probe_cluster(rds, f"{name}-member", GlobalClusterIdentifier=name, MasterUsername="probe", MasterUserPassword="probe-password-1")
    rds.remove_from_global_cluster(GlobalClusterIdentifier=name, DbClusterIdentifier=member["DBClusterArn"])
    # DescribeGlobalClusters ignores its filter there: pick ours from the list
    (found,) = [g for g in rds.describe_global_clusters()["GlobalClusters"] if g["GlobalClusterIdentifier"] == name]
    return member["DBClusterArn"] in [m["DBClusterArn"] for m in found["GlobalClusterMembers"]]


def probe_cluster_scaling_configuration_empty(server: Any) -> bool:
    cluster = _probe_cluster(server.client("rds"), f"{PROBE}-scaling", MasterUsername="probe", MasterUserPassword="probe-password-1")
    return cluster.get("ScalingConfigurationInfo") == {}


def probe_performance_insights_dropped(server: Any) -> bool:
    rds, name = server.client("rds"), f"{PROBE}-insights"
    _probe_cluster(rds, name, MasterUsername="probe", MasterUserPassword="probe-password-1")
    instance = rds.create_db_instance(DBInstanceIdentifier=f"{name}-1", DBClusterIdentifier=name, Engine="aurora-postgresql",
                                      DBInstanceClass="db.r6g.large", EnablePerformanceInsights=True,
                                      PerformanceInsightsRetentionPeriod=7)["DBInstance"]
    return instance.get("PerformanceInsightsEnabled") is not True


def probe_secret_replica_key_dropped(server: Any) -> bool:
    key = server.client("kms", "us-west-2").create_key()["KeyMetadata"]["Arn"]
    secrets = server.client("secretsmanager")
    secrets.create_secret(Name=f"{PROBE}-replica-key", AddReplicaRegions=[{"Region": "us-west-2", "KmsKeyId": key}])
    (replica,) = secrets.describe_secret(SecretId=f"{PROBE}-replica-key")["ReplicationStatus"]
    return replica.get("KmsKeyId") != key


def probe_health_check_caller_reference_ignored(server: Any) -> bool:
    """moto's own code (unfixed, in this process): two creates with one CallerReference make two."""
    from moto.route53.models import Route53Backend

    backend = Route53Backend("us-east-1", "123456789012")
    settings = {"type": "HTTPS", "fqdn": "probe.example.com", "port": 443, "resource_path": "/health"}
    first = backend.create_health_check(f"{PROBE}-reference", settings)
    second = backend.create_health_check(f"{PROBE}-reference", settings)
    return first.id != second.id


def probe_method_settings_path_split(server: Any) -> bool:
    """moto's own code (unfixed, in this process): a setting for ``items/{id}/GET`` is dropped."""
    from moto.apigateway.models import Stage

    stage = Stage("probe", "probe")
    stage.apply_operations([{"op": "replace", "path": "/items/{id}/GET/caching/enabled", "value": "true"}])
    return "items/{id}/GET" not in stage.method_settings


def probe_integration_cache_keys_dropped(server: Any) -> bool:
    """moto's own code (unfixed, in this process, through its HTTP app): PutIntegration with
    ``cacheKeyParameters`` reads none back."""
    from moto.moto_server.werkzeug_app import create_backend_app

    client = create_backend_app("apigateway").test_client()
    headers = {"Content-Type": "application/json", "Authorization": (
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/apigateway/aws4_request, SignedHeaders=host, Signature=0")}

    def call(method: str, path: str, body: Optional[dict[str, Any]] = None) -> dict[str, Any]:
        return json.loads(client.open(path, method=method, headers=headers, data=json.dumps(body or {})).data)

    api = call("POST", "/restapis", {"name": f"{PROBE}-cache-keys"})["id"]
    root = call("GET", f"/restapis/{api}/resources")["item"][0]["id"]
    call("PUT", f"/restapis/{api}/resources/{root}/methods/GET", {"authorizationType": "NONE"})
    call("PUT", f"/restapis/{api}/resources/{root}/methods/GET/integration",
         {"type": "MOCK", "cacheNamespace": PROBE, "cacheKeyParameters": ["method.request.header.x-api-key"]})
    return not call("GET", f"/restapis/{api}/resources/{root}/methods/GET/integration").get("cacheKeyParameters")


def probe_codedeploy_deletes_missing(server: Any) -> bool:
    """moto's own code (unfixed, in this process): no DeleteApplication or DeleteDeploymentGroup."""
    from moto.codedeploy.models import CodeDeployBackend
    from moto.codedeploy.responses import CodeDeployResponse

    return not all(hasattr(cls, name) for cls in (CodeDeployBackend, CodeDeployResponse)
                   for name in ("delete_application", "delete_deployment_group"))


def probe_sdk_retry_makes_a_second(server: Any) -> bool:
    """moto's own app (unfixed, in this process): the second attempt of one SDK call (same
    invocation id, ``attempt=2``) creates a second API key."""
    from werkzeug.test import Client

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    client = Client(DomainDispatcherApplication(create_backend_app))
    headers = {"Host": "apigateway.us-east-1.amazonaws.com", "amz-sdk-invocation-id": f"{PROBE}-invocation",
               "Authorization": "AWS4-HMAC-SHA256 Credential=probe/20260101/us-east-1/apigateway/aws4_request, "
                                "SignedHeaders=host, Signature=probe",
               "Content-Type": "application/json"}
    ids = [json.loads(client.post("/apikeys", headers={**headers, "amz-sdk-request": f"attempt={n}; max=3"},
                                  data=json.dumps({"name": f"{PROBE}-retried", "enabled": True})).get_data())["id"]
           for n in (1, 2)]
    return ids[0] != ids[1]


def _probe_deployment_group(server: Any, name: str, **extra: Any) -> Any:
    """A Lambda CodeDeploy application and deployment group, both named ``name``, with a service
    role, as the release module makes them; returns the CodeDeploy client."""
    codedeploy, iam = server.client("codedeploy"), server.client("iam")
    role = iam.create_role(RoleName=f"{name}-codedeploy", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "codedeploy.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    codedeploy.create_application(applicationName=name, computePlatform="Lambda")
    codedeploy.create_deployment_group(applicationName=name, deploymentGroupName=name, serviceRoleArn=role,
                                       deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
                                       **extra)
    return codedeploy


def probe_codedeploy_group_alarms_dropped(server: Any) -> bool:
    """A deployment group created with alarms reads back with an empty alarm configuration."""
    name = f"{PROBE}-alarms"
    codedeploy = _probe_deployment_group(server, name, alarmConfiguration={"enabled": True, "alarms": [{"name": f"{PROBE}-alarm"}]})
    read = codedeploy.get_deployment_group(applicationName=name, deploymentGroupName=name)["deploymentGroupInfo"]
    return not (read.get("alarmConfiguration") or {}).get("alarms")


def probe_codedeploy_never_shifts(server: Any) -> bool:
    """A Lambda deployment from version 1 to 2 stays ``Created`` and leaves the alias on 1."""
    lam, name = server.client("lambda"), f"{PROBE}-release"
    _probe_function(server, name)
    first = lam.publish_version(FunctionName=name)["Version"]
    lam.update_function_code(FunctionName=name, ZipFile=_zip() + b"\0")
    second = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=first)
    codedeploy = _probe_deployment_group(server, name, deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent5Minutes")
    appspec = json.dumps({"version": 0.0, "Resources": [{name: {"Type": "AWS::Lambda::Function", "Properties": {
        "Name": name, "Alias": "live", "CurrentVersion": first, "TargetVersion": second}}}]})
    deployment = codedeploy.create_deployment(applicationName=name, deploymentGroupName=name, revision={
        "revisionType": "AppSpecContent", "appSpecContent": {"content": appspec}})["deploymentId"]
    status = codedeploy.get_deployment(deploymentId=deployment)["deploymentInfo"]["status"]
    alias = lam.get_alias(FunctionName=name, Name="live")
    return status == "Created" and alias["FunctionVersion"] == first and not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")


def probe_metric_query_period_dropped(server: Any) -> bool:
    """An alarm on metric math with a per-query Period and AccountId reads back without them."""
    cloudwatch = server.client("cloudwatch")
    cloudwatch.put_metric_alarm(AlarmName=f"{PROBE}-math", EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
                                Metrics=[{"Id": "e", "Expression": "m * 2", "Period": 60, "ReturnData": True},
                                         {"Id": "m", "AccountId": "123456789012", "ReturnData": False, "MetricStat": {
                                             "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors"}, "Period": 60, "Stat": "Sum"}}])
    queries = cloudwatch.describe_alarms(AlarmNames=[f"{PROBE}-math"])["MetricAlarms"][0].get("Metrics", [])
    by_id = {q["Id"]: q for q in queries}
    return "Period" not in by_id.get("e", {}) or "AccountId" not in by_id.get("m", {})


def probe_trail_delete_by_arn_ignored(server: Any) -> bool:
    """moto's own code (unfixed, in this process): DeleteTrail by ARN leaves the trail."""
    from moto.cloudtrail.models import CloudTrailBackend
    from moto.s3.models import s3_backends

    account, region, bucket = "123456789012", "us-east-1", f"{PROBE}-trail-arn"
    if bucket not in s3_backends[account]["aws"].buckets:  # the trail checks its bucket; probes may run twice
        s3_backends[account]["aws"].create_bucket(bucket, region)
    backend = CloudTrailBackend(region, account)
    trail = backend.create_trail(f"{PROBE}-trail", bucket, None, None, False, False, False, None, None, None, None, [])
    backend.delete_trail(trail.arn)
    return f"{PROBE}-trail" in backend.trails


def probe_security_group_rule_description_dropped(server: Any) -> bool:
    ec2 = server.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName=f"{PROBE}-rules", Description="probe", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": group, "Description": "HTTPS"}]}])
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"]
    return not any(rule.get("Description") == "HTTPS" for rule in rules)


# --- the list --------------------------------------------------------------------------------

GAPS: tuple[Gap, ...] = (
    Gap("dynamodb-replica", PATCH, "aws_dynamodb_table", "replica",
        "accepts UpdateTable ReplicaUpdates but never lists a replica, so apply waits for it forever",
        "a global table cannot be emulated; the table itself, its keys and the readers of its ARN can",
        "strip `replica` blocks from every table; where a replica's attributes are read, a table of the same name "
        "in its region stands in", probe_replica_ignored, patch=_strip_replicas),
    Gap("powertools-layer", PATCH, "aws_lambda_function", "layers",
        f"has no AWS-managed layers (account {POWERTOOLS_LAYER_ACCOUNT}): CreateFunction answers 404",
        "the layer is AWS's to publish; its version is checked against powertools_version elsewhere",
        "drop the Powertools layer ARN from `layers`", probe_powertools_layer_missing, patch=_drop_powertools_layer),
    Gap("route53-dnssec", PATCH, "aws_route53_hosted_zone_dnssec", None,
        "answers EnableHostedZoneDNSSEC with 404 (not implemented)",
        "signing needs a key-signing key, which the emulator lacks",
        "remove hosted-zone DNSSEC resources (before the key-signing keys they read)", probe_dnssec_404, patch=_remove_all("aws_route53_hosted_zone_dnssec")),
    Gap("route53-key-signing-key", PATCH, "aws_route53_key_signing_key", None,
        "answers CreateKeySigningKey with 404 (not implemented)",
        "DNSSEC signing cannot be emulated; the zone, its KMS signing key and query logs can",
        "remove key-signing keys (and the zone_ds_record output)", probe_key_signing_key_404, patch=_remove_all("aws_route53_key_signing_key")),
    Gap("route53-query-log-arn", PATCH, "aws_route53_query_log", "cloudwatch_log_group_arn",
        "finds the log group only by its ARN with a `:*` suffix (AWS takes the provider's ARN without it)",
        "the query log's wiring is otherwise exercised in full",
        "append `:*` to `cloudwatch_log_group_arn`", probe_query_log_wants_star, patch=_query_log_arn_with_star),
    Gap("lambda-provisioned-concurrency", PATCH, "aws_lambda_provisioned_concurrency_config", None,
        "has no provisioned-concurrency API: every call answers 404",
        "the alias it configures is still created and updated",
        "remove provisioned-concurrency configs", probe_provisioned_concurrency_404,
        patch=_remove_all("aws_lambda_provisioned_concurrency_config")),
    Gap("synthetics-canary-log-group", PATCH, "aws_cloudwatch_log_group", "name",
        "has no canary (see synthetics-canary), so no engine_arn to name the canary's Lambda log group from",
        "the group itself (retention, key) is still created and destroyed; its name's derivation is checked by the stack tests",
        "name each canary's log group /aws/lambda/cwsyn-<canary>-gap-probe before the canaries are removed",
        probe_canary_timestamp_string, patch=_name_canary_log_groups),
    Gap("synthetics-canary", PATCH, "aws_synthetics_canary", None,
        "returns canary timestamps as strings; the provider's SDK expects epoch numbers and fails CreateCanary",
        "the canary's bucket, role and alarms are still created; the canary code is tested with node",
        "remove canaries (and the canary_name outputs)", probe_canary_timestamp_string,
        patch=_remove_all("aws_synthetics_canary")),
    Gap("s3-deny-non-tls", PATCH, "aws_s3_bucket_policy", "policy",
        "ignores policy conditions, so the deny-non-TLS statement denies every object request (even over TLS; "
        'emptying a bucket fails), and answers PutBucketLogging with 500 when a target\'s policy has `"Principal": "*"`',
        "the statement's meaning (TLS only) cannot be emulated; checkov and the stack tests check it is there",
        "drop conditioned Deny statements from bucket policies (and a policy left empty)",
        probe_conditions_ignored_and_star_principal_500, patch=_drop_conditioned_denies),
    Gap("lambda-dead-letter-config", DRIFT, "aws_lambda_function", "dead_letter_config",
        "drops DeadLetterConfig: GetFunction returns none, so every plan re-adds it",
        "the queue and the role's permission to use it are still checked", "the plan judge excuses it",
        probe_dead_letter_config_dropped),
    Gap("lambda-logging-config", DRIFT, "aws_lambda_function", "logging_config",
        "drops LoggingConfig: GetFunction returns none, so every plan re-adds it",
        "the log group is still created first and owned by the stack", "the plan judge excuses it",
        probe_logging_config_dropped),
    Gap("s3-notification-eventbridge", DRIFT, "aws_s3_bucket_notification", "eventbridge",
        "drops EventBridgeConfiguration, so every plan turns it on again",
        "nothing else depends on it", "the plan judge excuses it", probe_eventbridge_notification_dropped),
    Gap("s3-replication-delete-markers", DRIFT, "aws_s3_bucket_replication_configuration", "rule.delete_marker_replication",
        "reads DeleteMarkerReplication back as Disabled", "the rest of the rule round-trips", "the plan judge excuses it",
        probe_delete_marker_replication_dropped),
    Gap("s3-replication-source-selection", DRIFT, "aws_s3_bucket_replication_configuration", "rule.source_selection_criteria",
        "drops SourceSelectionCriteria (SSE-KMS objects)", "the rest of the rule round-trips", "the plan judge excuses it",
        probe_source_selection_criteria_dropped),
    Gap("synthetics-artifacts-not-written", MIMIC, "aws_synthetics_canary", "artifact_s3_location",
        "never runs a canary, so its artifact bucket stays empty",
        "in AWS every run writes there, so destroy must cope with a full bucket",
        "after apply, write one run's artifact under each canary's location, as Synthetics would", probe_canary_never_runs,
        mimic=_write_canary_artifacts),
    Gap("cloudtrail-never-delivers", MIMIC, "aws_cloudtrail", "s3_bucket_name",
        "records nothing: a logging trail never writes a log or digest file to its bucket",
        "in AWS the audit trail fills its bucket within minutes, so destroy must cope with a versioned bucket full of logs",
        "after apply, write one log file and one digest under AWSLogs/<account>/ of each trail's bucket, as CloudTrail would",
        probe_cloudtrail_never_delivers, mimic=_write_trail_logs),
    Gap("apigateway-execution-log-group", MIMIC, "aws_api_gateway_method_settings", "settings.logging_level",
        "never creates API-Gateway-Execution-Logs_<api-id>/<stage> for a stage that logs executions",
        "in AWS the first request creates it (unencrypted, kept forever) unless the stack owns it",
        "after apply, create that group where it does not exist yet, as API Gateway would",
        probe_no_execution_log_group, mimic=_create_execution_log_groups),
    Gap("apigateway-account-reset", PATCH, "aws_api_gateway_account", "reset_on_delete",
        "answers 500 (KeyError 'value') to the value-less replace of /cloudwatchRoleArn that resets the setting; "
        "the provider retries until destroy times out",
        "AWS accepts the reset; only the emulator's copy keeps the setting (destroy then warns that it is left as is)",
        "drop reset_on_delete from every aws_api_gateway_account", probe_account_reset_500, patch=_keep_account_setting),
    Gap("appautoscaling-tags", PATCH, "aws_appautoscaling_target", None,
        "has no Application Auto Scaling ListTagsForResource: it answers 500 and the provider retries for minutes, then fails",
        "the table's capacities are still set; what autoscaling does to them is mimicked (autoscaling-never-scales)",
        "remove scalable targets and their policies", probe_autoscaling_tags_500, patch=_remove_autoscaling),
    Gap("autoscaling-never-scales", MIMIC, "aws_appautoscaling_target", None,
        "never changes a table's capacity", "in AWS autoscaling moves it, and the next plan must not fight it",
        "after apply, double each autoscaled table capacity (up to its maximum), as a scale-out would",
        probe_autoscaling_never_scales, mimic=_scale_out_tables),
    Gap("rds-global-database-name", PATCH, "aws_rds_global_cluster", "database_name",
        "returns no DatabaseName for a global cluster, so every plan replaces it, and the replacement's delete retries "
        "DeleteGlobalCluster (the members are still attached) until Terraform gives up",
        "the primary cluster names the database too; the global cluster's other arguments round-trip",
        "drop `database_name` from global clusters", probe_global_database_name_dropped, patch=_drop_global_database_name),
    Gap("rds-global-membership", PATCH, "aws_rds_cluster", "global_cluster_identifier",
        "keeps global clusters in its us-east-1 backend and ignores RemoveFromGlobalCluster from any other region, so a "
        "member there never leaves and destroy waits for it until Terraform gives up",
        "the global cluster, the primary cluster (its write-only password read from the secret) and its instances "
        "still go through apply, update and destroy; membership is checked by the stack tests",
        "remove secondary clusters (members without credentials), their instances and alarms, and name them in dashboards by "
        "their literal identifier; drop "
        "`global_cluster_identifier` from the rest", probe_membership_kept_outside_us_east_1, patch=_detach_global_members),
    Gap("rds-global-cluster-tags", PATCH, "aws_rds_global_cluster", None,
        "keeps no tags on a global cluster and refuses its ARN in ListTagsForResource and AddTagsToResource, so every "
        "plan re-tags it (default tags) and the apply fails",
        "tags are the provider's default tags, checked on every other resource",
        "ignore changes to the global cluster's tags", probe_global_cluster_tags_refused, patch=_ignore_global_cluster_tags),
    Gap("rds-scaling-configuration", PATCH, "aws_rds_cluster", None,
        "returns an empty ScalingConfigurationInfo for a provisioned cluster, which the provider reads as a block to "
        "fill, so every plan sets Serverless v1 scaling on it",
        "Serverless v1 scaling applies to no cluster tapinfra builds (the stack never sets it)",
        "ignore changes to clusters' `scaling_configuration`", probe_cluster_scaling_configuration_empty,
        patch=_ignore_scaling_configuration),
    Gap("rds-performance-insights", PATCH, "aws_rds_cluster_instance", "performance_insights_enabled",
        "ignores EnablePerformanceInsights (and its key and retention), so every plan turns them on again",
        "the instances, their class, monitoring and placement are still checked",
        "drop the performance_insights_* arguments from cluster instances", probe_performance_insights_dropped,
        patch=_drop_performance_insights),
    Gap("secretsmanager-replica-key", PATCH, "aws_secretsmanager_secret", "replica",
        "reports a replica's key as alias/aws/secretsmanager whatever key it was given, so every plan re-keys the replica "
        "and everything that reads the secret's ARN waits for it",
        "the secret, its replica and its primary key still round-trip",
        "drop `kms_key_id` from secret replicas", probe_secret_replica_key_dropped, patch=_drop_secret_replica_keys),
    Gap("route53-health-check-caller-reference", SERVER, "aws_route53_health_check", None,
        "makes a new health check for every CreateHealthCheck, also for a CallerReference it has seen; an SDK retry "
        "of a create whose answer was lost (seen in CI: two POSTs 0.5 s apart) leaves one that no state knows, and "
        "destroy leaves it behind",
        "AWS returns the existing health check for a repeated CallerReference and settings; a leftover that only "
        "the emulator makes hides a real one",
        "the rehearsal's moto server answers a repeated CallerReference as AWS does (tapinfra/rehearsal/moto_server.py)",
        probe_health_check_caller_reference_ignored),
    Gap("apigateway-method-settings-path", SERVER, "aws_api_gateway_method_settings", None,
        "splits a stage patch path after its second segment: a setting for a method path of more than one resource "
        "segment (`items/{id}/GET/caching/enabled`) is dropped, and the provider's read after create fails with "
        "`empty result`",
        "AWS keys the setting by the whole method path; the full example's cached reads need per-route overrides",
        "the rehearsal's moto server splits the path from the right, as AWS does (tapinfra/rehearsal/moto_server.py)",
        probe_method_settings_path_split),
    Gap("apigateway-integration-cache-keys", SERVER, "aws_api_gateway_integration", None,
        "ignores `cacheKeyParameters` in PutIntegration: the provider reads back none, plans to add them, and the "
        "update (UpdateIntegration, not implemented) fails with 500 after the SDK's retries",
        "AWS keeps the cache keys it was given; the full example's cached reads are keyed per tenant by them",
        "the rehearsal's moto server keeps `cacheKeyParameters` on PutIntegration (tapinfra/rehearsal/moto_server.py)",
        probe_integration_cache_keys_dropped),
    Gap("cloudtrail-delete-by-arn", SERVER, "aws_cloudtrail", None,
        "DeleteTrail by ARN (the provider's id for a trail) answers 200 and deletes nothing: destroy succeeds and "
        "the trail stays",
        "AWS deletes a trail named by its ARN; a leftover that only the emulator makes hides a real one",
        "the rehearsal's moto server resolves the ARN to the trail's name first (tapinfra/rehearsal/moto_server.py)",
        probe_trail_delete_by_arn_ignored),
    Gap("codedeploy-deletes", SERVER, "aws_codedeploy_app", None,
        "implements neither DeleteApplication nor DeleteDeploymentGroup: it answers 500, and destroy of a release "
        "waits on the SDK's retries until Terraform gives up",
        "AWS deletes both (an application with its deployment groups); the release module's resources must go "
        "through apply and destroy",
        "the rehearsal's moto server implements both as AWS documents them (tapinfra/rehearsal/moto_server.py)",
        probe_codedeploy_deletes_missing),
    Gap("sdk-retry-replay", SERVER, "aws_api_gateway_api_key", None,
        "answers every attempt of one SDK call anew: when its local server loses an answer under load (seen in CI: "
        "two `POST /apikeys` in one second, both 201), the SDK's retry makes a second object that no state knows, "
        "and destroy leaves it behind (any create: API keys and health checks have been hit)",
        "AWS does not lose answers on a loopback: the second object is the emulator's own leftover, and it would "
        "hide a real one",
        "the rehearsal's moto server answers a retried attempt (same `amz-sdk-invocation-id`) of a call it already "
        "answered below 500 with that answer, and logs it (tapinfra/rehearsal/moto_server.py)",
        probe_sdk_retry_makes_a_second),
    Gap("codedeploy-group-alarms", PATCH, "aws_codedeploy_deployment_group", "alarm_configuration",
        "reads a deployment group back with an empty alarm configuration (and an empty load balancer info), so "
        "every plan updates it, and UpdateDeploymentGroup is not implemented (500)",
        "the alarms a release rolls back on are checked by the stack tests and `tapinfra release`'s own tests",
        "ignore changes to the deployment group's `alarm_configuration` and `load_balancer_info`",
        probe_codedeploy_group_alarms_dropped, patch=_ignore_codedeploy_group_reads),
    Gap("codedeploy-never-shifts", MIMIC, "aws_codedeploy_deployment_group", None,
        "records a Lambda deployment and leaves it `Created`: the alias never moves, so no release ever happens",
        "in AWS a release (`tapinfra release`) moves the alias while the configuration names the newest version; "
        "Terraform must not move it back (the alias ignores `function_version` and `routing_config`)",
        "after each apply, every released alias whose function has a newer version takes 10 % of its traffic there "
        "(routing weights), as CodeDeploy's canary leaves it mid-release; the next plan must be empty",
        probe_codedeploy_never_shifts, mimic=_shift_released_aliases),
    Gap("cloudwatch-metric-query-period", DRIFT, "aws_cloudwatch_metric_alarm", "metric_query.period",
        "drops `Period` (and `AccountId`) of an alarm's metric queries, so every plan sets them again",
        "the alarm itself round-trips; PutMetricAlarm (the update) is implemented, so the plan judge excuses it",
        "the plan judge excuses `metric_query.period`", probe_metric_query_period_dropped),
    Gap("cloudwatch-metric-query-account", DRIFT, "aws_cloudwatch_metric_alarm", "metric_query.account_id",
        "drops `AccountId` of an alarm's metric queries, so every plan sets it again",
        "queries read the stack's own account; the judge excuses exactly this attribute",
        "the plan judge excuses `metric_query.account_id`", probe_metric_query_period_dropped),
    Gap("lambda-event-source-mapping-alias", DRIFT, "aws_lambda_event_source_mapping", "function_name",
        "reads a mapping created on an alias ARN back with the alias's version ARN (`:2` for `:live`)",
        "AWS keeps the alias ARN, so the mapping follows the alias; the emulator cannot show it",
        "the plan judge excuses exactly this attribute", probe_event_source_mapping_alias_resolved),
    Gap("ec2-ingress-rule-description", DRIFT, "aws_vpc_security_group_ingress_rule", "description",
        "drops a rule's description, so every plan sets it again", "the rule itself (port, protocol, source) round-trips",
        "the plan judge excuses it", probe_security_group_rule_description_dropped),
    Gap("ec2-egress-rule-description", DRIFT, "aws_vpc_security_group_egress_rule", "description",
        "drops a rule's description, so every plan sets it again", "the rule itself (port, protocol, destination) round-trips",
        "the plan judge excuses it", probe_security_group_rule_description_dropped),
)

BY_KEY = {gap.key: gap for gap in GAPS}


def apply_patches(doc: dict[str, Any]) -> dict[str, list[str]]:
    """Apply every patch gap to ``doc`` (the rehearsal's copy); gap key -> addresses touched."""
    touched = {}
    for gap in GAPS:
        if gap.kind == PATCH:
            touched[gap.key] = gap.patch(doc)
    return touched
