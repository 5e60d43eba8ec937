"""Events reach the region's EventBridge bus (observed through a rule -> SQS queue)."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from app_testkit import BUS, REGION, SOURCE


def emf_metrics(captured: str) -> dict[str, float]:
    """Metric name -> summed value from the EMF blobs Powertools printed."""
    totals: dict[str, float] = {}
    for line in captured.splitlines():
        if '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                values = blob[metric["Name"]]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(
                    values if isinstance(values, list) else [values]
                )
    return totals


def test_create_update_delete_each_publish_one_event(api, aws):
    item = api.post("/items", {"id": "e1", "name": "x"}).body
    api.put("/items/e1", {"name": "y", "version": 1})
    api.delete("/items/e1")

    received = aws.received_events()

    assert [e["detail-type"] for e in received] == ["item.created", "item.updated", "item.deleted"]
    for event, version in zip(received, [1, 2, 2], strict=True):
        assert event["source"] == SOURCE
        assert event["region"] == REGION
        detail = event["detail"]
        assert detail["origin_region"] == REGION
        assert detail["tenant_id"] == "tenant-a"
        assert detail["item_id"] == item["id"]
        assert detail["version"] == version
        assert "name" not in json.dumps(detail)  # ids only: no item content in events


def test_reads_and_failed_writes_publish_nothing(api, aws):
    api.post("/items", {"id": "e1", "name": "x"})
    aws.received_events()

    api.get("/items/e1")
    api.get("/items")
    api.get("/metrics")
    api.post("/items", {"id": "e1", "name": "dup"})  # 409
    api.put("/items/e1", {"name": "stale", "version": 9})  # 409
    api.put("/items/missing", {"name": "x", "version": 1})  # 404
    api.delete("/items/missing")  # 404
    api.post("/items", {"name": ""})  # 400
    api.get("/items", key="key-unknown")  # 403

    assert aws.received_events() == []


def test_publish_failure_does_not_fail_the_request(api, aws, lam, monkeypatch, capsys):
    class BrokenEvents:
        def put_events(self, **_kwargs):
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "PutEvents")

    monkeypatch.setattr(lam.clients, "events", lambda: BrokenEvents())
    capsys.readouterr()

    reply = api.post("/items", {"id": "kept", "name": "x"})

    assert reply.status == 201
    assert api.get("/items/kept").status == 200  # the write stands
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics.get("EventPublishFailed") == 1
    assert metrics.get("ItemCreated") == 1


def test_rejected_entry_is_counted_as_a_failure(api, lam, monkeypatch, capsys):
    class RejectingEvents:
        def put_events(self, **_kwargs):
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"}]}

    monkeypatch.setattr(lam.clients, "events", lambda: RejectingEvents())
    capsys.readouterr()

    assert api.post("/items", {"name": "x"}).status == 201
    assert emf_metrics(capsys.readouterr().out).get("EventPublishFailed") == 1


def test_missing_bus_is_logged_and_counted(api, set_env, capsys):
    set_env("EVENT_BUS_NAME", "bus-that-does-not-exist")
    capsys.readouterr()
    assert api.post("/items", {"name": "x"}).status == 201
    assert emf_metrics(capsys.readouterr().out).get("EventPublishFailed") == 1


def test_successful_writes_emit_emf_metrics(api, capsys):
    capsys.readouterr()
    api.post("/items", {"id": "m", "name": "x"})
    api.put("/items/m", {"name": "y", "version": 1})
    api.delete("/items/m")
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics.get("ItemCreated") == 1
    assert metrics.get("ItemUpdated") == 1
    assert metrics.get("ItemDeleted") == 1
    assert "EventPublishFailed" not in metrics


def test_forwarding_rule_pattern_matches_only_locally_originated_events(api, aws):
    """The infrastructure's forwarding rule matches source + detail.origin_region == its region."""
    sqs = aws.sqs
    url = sqs.create_queue(QueueName="forwarded")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.events.put_rule(
        Name="forward-to-peer",
        EventBusName=BUS,
        EventPattern=json.dumps({"source": [SOURCE], "detail": {"origin_region": [REGION]}}),
    )
    aws.events.put_targets(Rule="forward-to-peer", EventBusName=BUS, Targets=[{"Id": "f", "Arn": arn}])

    api.post("/items", {"name": "local"})
    # An event forwarded in from the peer region keeps its own origin_region.
    aws.events.put_events(
        Entries=[
            {
                "Source": SOURCE,
                "DetailType": "item.created",
                "EventBusName": BUS,
                "Detail": json.dumps({"origin_region": "eu-west-1", "tenant_id": "t", "item_id": "i", "version": 1}),
            }
        ]
    )

    forwarded = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert len(forwarded) == 1
    assert json.loads(forwarded[0]["Body"])["detail"]["origin_region"] == REGION
