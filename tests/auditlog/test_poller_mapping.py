"""The local poller honours the event source mapping's settings: a poison record's batch ends in
the failure queue (SQS on moto) in the message shape Lambda sends, with nothing lost and nothing
duplicated; records past the maximum age are discarded to the queue unread; a function error
halves the next batch (bisect on error)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from auditlog.connect import connect
from auditlog.verify import verify
from scripts.stream_poller import mapping_settings
from stackspec.config.stack import load_stack_config
from stackspec.definitions.stream_consumer import stream_consumer_definition
from tests.auditlog.support import REGION, drain, make_table, patient_item, poller, rows
from tests.auditlog.support import stream_records as all_stream_records
from tests.moto_env import isolate_from_real_aws

DEFINITION = stream_consumer_definition(load_stack_config("dev"))
FUNCTION = f"arn:aws:lambda:{REGION}:123456789012:function:{DEFINITION.function_name}"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    isolate_from_real_aws(monkeypatch)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        ddb, streams = make_table()
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName=DEFINITION.queue_name)["QueueUrl"]
        yield ddb, streams, sqs, url


def queued(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def mapping_poller(ddb, streams, sqs, url, audit_db, state: Path, **overrides) -> Any:
    """A poller with the dev definition's mapping settings, failures to the moto queue."""
    settings = {
        **mapping_settings(DEFINITION),
        "function_arn": FUNCTION,
        "on_failure": lambda m: sqs.send_message(QueueUrl=url, MessageBody=json.dumps(m)),
    }
    return poller(ddb, streams, audit_db.ingest_url, state, **{**settings, **overrides})


def test_a_poison_batch_ends_in_the_queue_nothing_lost_nothing_duplicated(
    aws, audit_db, tmp_path: Path
) -> None:
    ddb, streams, sqs, url = aws
    for i in range(6):
        ddb.put_item(TableName="medeez-test-app", Item=patient_item(f"c{i % 2}", f"p{i}", b"x"))
    p = mapping_poller(ddb, streams, sqs, url, audit_db, tmp_path)
    real = p.handler

    def poisoning(event, context):  # p2's record is malformed on every delivery
        records = [dict(r) for r in event["Records"]]
        for r in records:
            if r["dynamodb"]["Keys"]["PK"]["S"].endswith("p2"):
                r["eventName"] = "BOGUS"
        return real({"Records": records}, context)

    p.handler = poisoning
    deliveries = DEFINITION.maximum_retry_attempts + 1
    for _ in range(deliveries + 2):
        p.poll_once()

    stream = all_stream_records(ddb, streams)
    poison = next(r for r in stream if r["dynamodb"]["Keys"]["PK"]["S"].endswith("p2"))
    stored = [r["event_id"] for r in rows(audit_db.reader_url)]
    # Nothing lost: every record but the poison one is audited; nothing duplicated.
    assert sorted(stored) == sorted(r["eventID"] for r in stream if r is not poison)
    assert len(stored) == len(set(stored)) == 5
    with connect(audit_db.reader_url) as conn:
        assert verify(conn, None).intact
    [message] = queued(sqs, url)
    batch = message["DDBStreamBatchInfo"]
    rest = stream[stream.index(poison) :]
    assert batch["startSequenceNumber"] == poison["dynamodb"]["SequenceNumber"]
    assert batch["endSequenceNumber"] == rest[-1]["dynamodb"]["SequenceNumber"]
    assert batch["batchSize"] == len(rest) == 4
    assert (
        batch["streamArn"]
        == ddb.describe_table(TableName="medeez-test-app")["Table"]["LatestStreamArn"]
    )
    assert batch["shardId"].startswith("shardId-")
    assert message["requestContext"] == {
        "requestId": message["requestContext"]["requestId"],
        "functionArn": FUNCTION,
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": deliveries,
    }
    assert message["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert message["version"] == "1.0"
    # The stream still holds the batch's records: the message is enough to read them again.
    assert len(stream) == 6
    # The same message is kept in the failed file; nothing more is delivered or queued.
    assert [json.loads(line) for line in (tmp_path / "failed.jsonl").read_text().splitlines()] == [
        message
    ]
    assert drain(p) == 0
    assert queued(sqs, url) == []


def test_records_past_the_maximum_age_go_to_the_queue_unread(aws, audit_db, tmp_path: Path) -> None:
    ddb, streams, sqs, url = aws
    for i in range(3):
        ddb.put_item(TableName="medeez-test-app", Item=patient_item("c1", f"p{i}", b"x"))
    created = [
        float(r["dynamodb"]["ApproximateCreationDateTime"])
        for r in all_stream_records(ddb, streams)
    ]
    later = max(created) + DEFINITION.maximum_record_age_seconds + 1
    p = mapping_poller(ddb, streams, sqs, url, audit_db, tmp_path, clock=lambda: later)
    delivered: list[int] = []
    real = p.handler
    p.handler = lambda event, context: (
        delivered.append(len(event["Records"])) or real(event, context)
    )
    assert drain(p) == 3
    assert delivered == []
    assert rows(audit_db.reader_url) == []
    [message] = queued(sqs, url)
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["DDBStreamBatchInfo"]["batchSize"] == 3


def test_a_function_error_halves_the_next_batch_then_all_land_once(
    aws, audit_db, tmp_path: Path
) -> None:
    ddb, streams, sqs, url = aws
    for i in range(4):
        ddb.put_item(TableName="medeez-test-app", Item=patient_item("c1", f"p{i}", b"x"))
    p = mapping_poller(ddb, streams, sqs, url, audit_db, tmp_path)
    real, sizes = p.handler, []

    def down_once(event, context):
        sizes.append(len(event["Records"]))
        if len(sizes) == 1:
            raise RuntimeError("audit store unavailable")
        return real(event, context)

    p.handler = down_once
    p.poll_once()
    drain(p)
    assert sizes == [4, 2, 2]
    assert len(rows(audit_db.reader_url)) == 4
    assert queued(sqs, url) == []
