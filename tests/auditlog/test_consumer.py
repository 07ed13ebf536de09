"""The stream consumer against a real PostgreSQL: every action, replays, duplicates, poison."""

from __future__ import annotations

from pathlib import Path

import pytest
from moto import mock_aws

from auditlog.connect import connect
from auditlog.verify import verify
from functions.stream_consumer.handler import AuditStoreUnavailable, Consumer
from tests.auditlog.support import (
    drain,
    dumps,
    make_table,
    patient_item,
    poller,
    record,
    rows,
    stream_records,
)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield make_table()


def test_every_action_from_moto_stream_is_one_row(aws, audit_db, tmp_path: Path) -> None:
    ddb, streams = aws
    secret = b"ciphertext-of-Jane-Doe"
    ddb.put_item(TableName="medeez-test-app", Item=patient_item("c1", "p1", secret))
    ddb.update_item(
        TableName="medeez-test-app",
        Key={"PK": {"S": "CLINIC#c1#PATIENT#p1"}, "SK": {"S": "PROFILE"}},
        UpdateExpression="SET phi = :p, writtenBy = :w",
        ExpressionAttributeValues={":p": {"B": b"new-ciphertext"}, ":w": {"S": "user:u2"}},
    )
    ddb.delete_item(
        TableName="medeez-test-app",
        Key={"PK": {"S": "CLINIC#c1#PATIENT#p1"}, "SK": {"S": "PROFILE"}},
    )
    ddb.put_item(TableName="medeez-test-app", Item=patient_item("c2", "p9", b"other"))
    p = poller(ddb, streams, audit_db.ingest_url, tmp_path)
    assert drain(p) == 4
    stored = rows(audit_db.reader_url)
    by_clinic = {(r["clinic_id"], r["chain_seq"]): r for r in stored}
    assert [r["action"] for r in stored] == ["INSERT", "MODIFY", "REMOVE", "INSERT"]
    insert, modify, remove = (by_clinic[("c1", n)] for n in (1, 2, 3))
    assert insert["principal"] == "user:u1"
    assert modify["principal"] == "user:u2"
    assert modify["changed_attributes"] == ["phi", "writtenBy"]
    assert remove["principal"] == "unattributed"
    assert (insert["patient_id"], insert["entity_type"]) == ("p1", "PATIENT")
    assert (insert["pk"], insert["sk"]) == ("CLINIC#c1#PATIENT#p1", "PROFILE")
    assert insert["phi_digests"]["phi"]["new"].startswith("sha256:")
    assert modify["phi_digests"]["phi"]["old"] == insert["phi_digests"]["phi"]["new"]
    # PHI never in plaintext: no stored value contains the ciphertext or anything decodable.
    text = dumps(stored)
    assert "Jane" not in text
    assert "ciphertext" not in text
    assert by_clinic[("c2", 1)]["prev_hash"] != insert["prev_hash"]  # per-clinic genesis
    with connect(audit_db.reader_url) as conn:
        assert verify(conn, None).intact


def test_ttl_expiry_is_told_apart(audit_db) -> None:
    item = patient_item("c1", "p1", b"x")
    consumer = Consumer(lambda: connect(audit_db.ingest_url))
    out = consumer(
        {"Records": [record("e1", 1, new=item), record("e2", 2, "REMOVE", old=item, ttl=True)]},
        None,
    )
    assert out == {"batchItemFailures": []}
    actions = [(r["action"], r["principal"]) for r in rows(audit_db.reader_url)]
    assert actions == [("INSERT", "user:u1"), ("TTL_EXPIRE", "dynamodb.amazonaws.com (TTL)")]


def test_replays_and_duplicates_change_nothing(audit_db) -> None:
    item = patient_item("c1", "p1", b"x")
    batch = {"Records": [record(f"e{i}", i, new=item) for i in range(1, 6)]}
    consumer = Consumer(lambda: connect(audit_db.ingest_url))
    assert consumer(batch, None) == {"batchItemFailures": []}
    before = rows(audit_db.reader_url)
    assert consumer(batch, None) == {"batchItemFailures": []}  # whole batch replayed
    dup = {"Records": [batch["Records"][2], batch["Records"][2], record("e6", 6, new=item)]}
    assert consumer(dup, None) == {"batchItemFailures": []}  # duplicate delivery in one batch
    after = rows(audit_db.reader_url)
    assert after[:5] == before
    assert [r["event_id"] for r in after] == ["e1", "e2", "e3", "e4", "e5", "e6"]


def test_poison_record_is_isolated_and_neighbours_kept(audit_db) -> None:
    item = patient_item("c1", "p1", b"x")
    poison = record("e3", 3, new=item)
    del poison["dynamodb"]["Keys"]
    batch = {
        "Records": [
            record("e1", 1, new=item),
            record("e2", 2, new=item),
            poison,
            record("e4", 4, new=item),
        ]
    }
    consumer = Consumer(lambda: connect(audit_db.ingest_url))
    out = consumer(batch, None)
    assert out == {"batchItemFailures": [{"itemIdentifier": f"{3:021d}"}]}
    assert [r["event_id"] for r in rows(audit_db.reader_url)] == ["e1", "e2", "e4"]
    # Lambda retries from the failed record: the poison fails again, e4 is not stored twice.
    retry = {"Records": batch["Records"][2:]}
    assert consumer(retry, None) == out
    assert [r["event_id"] for r in rows(audit_db.reader_url)] == ["e1", "e2", "e4"]


def test_database_down_fails_the_whole_batch(audit_db) -> None:
    item = patient_item("c1", "p1", b"x")
    bad = audit_db.ingest_url.replace("audit_ingest:", "audit_ingest:wrong")
    consumer = Consumer(lambda: connect(bad))
    batch = {"Records": [record("e1", 1, new=item), record("e2", 2, new=item)]}
    with pytest.raises(AuditStoreUnavailable, match="audit store unavailable"):
        consumer(batch, None)  # a function error: Lambda retries the whole batch


def test_poller_retries_then_parks_a_poison_record(aws, audit_db, tmp_path: Path) -> None:
    ddb, streams = aws
    for i in range(3):
        ddb.put_item(TableName="medeez-test-app", Item=patient_item("c1", f"p{i}", b"x"))
    p = poller(ddb, streams, audit_db.ingest_url, tmp_path, max_retries=2)
    real = p.handler

    def poisoning(event, context):  # the second record is malformed on every delivery
        records = [dict(r) for r in event["Records"]]
        for r in records:
            if r["dynamodb"]["Keys"]["PK"]["S"].endswith("p1"):
                r["eventName"] = "BOGUS"
        return real({"Records": records}, context)

    p.handler = poisoning
    for _ in range(6):
        p.poll_once()
    assert [r["patient_id"] for r in rows(audit_db.reader_url)] == ["p0", "p2"]
    assert len((tmp_path / "failed.jsonl").read_text().splitlines()) == 1
    assert len(stream_records(ddb, streams)) == 3


def test_retried_batch_after_partial_failure_is_exact(aws, audit_db, tmp_path: Path) -> None:
    """A record fails once (partial batch failure), the poller retries from it as Lambda does:
    afterwards the audit rows are exactly the stream's records and the chains verify."""
    ddb, streams = aws
    for i in range(6):
        ddb.put_item(TableName="medeez-test-app", Item=patient_item(f"c{i % 2}", f"p{i}", b"x"))
    p = poller(ddb, streams, audit_db.ingest_url, tmp_path)
    real, failed_once = p.handler, set()

    def flaky(event, context):
        records = [dict(r) for r in event["Records"]]
        for r in records:
            if r["dynamodb"]["Keys"]["PK"]["S"].endswith("p3") and "p3" not in failed_once:
                failed_once.add("p3")
                r["eventName"] = "BOGUS"  # fails this delivery only
        return real({"Records": records}, context)

    p.handler = flaky
    drain(p)
    drain(p)
    expected = sorted(r["eventID"] for r in stream_records(ddb, streams))
    assert sorted(r["event_id"] for r in rows(audit_db.reader_url)) == expected
    assert not (tmp_path / "failed.jsonl").exists()
    with connect(audit_db.reader_url) as conn:
        assert verify(conn, None).intact
