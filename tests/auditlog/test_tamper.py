"""Tampering as the owner is detected at the right row; writers cannot change rows at all."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from auditlog.connect import connect
from auditlog.digest import write_digest
from auditlog.verify import verify
from functions.stream_consumer.handler import Consumer
from tests.auditlog.support import patient_item, record

BYPASS = "ALTER TABLE audit.event DISABLE TRIGGER event_append_only"


@pytest.fixture
def chained(audit_db, tmp_path: Path):
    """Ten rows in clinic c1, five in c2, and a digest of the heads."""
    consumer = Consumer(lambda: connect(audit_db.ingest_url))
    records = [record(f"a{i}", i, new=patient_item("c1", f"p{i}", b"x")) for i in range(1, 11)]
    records += [record(f"b{i}", 20 + i, new=patient_item("c2", f"q{i}", b"y")) for i in range(5)]
    assert consumer({"Records": records}, None) == {"batchItemFailures": []}
    digests = tmp_path / "digests"
    with connect(audit_db.ingest_url) as conn:
        write_digest(conn, digests, label="test")
    with connect(audit_db.reader_url) as conn:
        result = verify(conn, digests)
    assert result.intact
    assert result.rows == 15
    assert result.digest_checked == 2
    return audit_db, digests


def _owner(audit_db) -> psycopg.Connection:
    conn = psycopg.connect(audit_db.owner_url, autocommit=True)
    conn.execute(BYPASS)  # what the DDL audit (pgaudit on RDS) records
    conn.execute("GRANT UPDATE, DELETE ON audit.event TO audit_owner")
    return conn


def _first_break(audit_db, digests: Path) -> str:
    with connect(audit_db.reader_url) as conn:
        result = verify(conn, digests)
    assert not result.intact
    return str(result.breaks[0])


def test_guard_holds_without_bypass(chained) -> None:
    audit_db, _ = chained
    with psycopg.connect(audit_db.owner_url, autocommit=True) as owner:
        for statement in (
            "UPDATE audit.event SET principal = 'x'",
            "DELETE FROM audit.event",
            "TRUNCATE audit.event",
            "TRUNCATE audit.event_y2026",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                owner.execute(statement)
        owner.execute("GRANT UPDATE, DELETE ON audit.event TO audit_owner")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            owner.execute("UPDATE audit.event SET principal = 'x'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            owner.execute("DELETE FROM audit.event WHERE chain_seq = 3")


def test_writer_and_reader_cannot_change_rows(chained) -> None:
    audit_db, _ = chained
    for url in (audit_db.ingest_url, audit_db.reader_url):
        with psycopg.connect(url, autocommit=True) as conn:
            for statement in (
                "UPDATE audit.event SET principal = 'x'",
                "DELETE FROM audit.event",
                "TRUNCATE audit.event",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
    with (
        psycopg.connect(audit_db.ingest_url) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("SELECT principal FROM audit.event")  # writers see only chaining columns


def test_changed_row(chained) -> None:
    audit_db, digests = chained
    with _owner(audit_db) as owner:
        owner.execute(
            "UPDATE audit.event SET principal = 'someone-else' "
            "WHERE clinic_id = 'c1' AND chain_seq = 4"
        )
    assert _first_break(audit_db, digests) == (
        "clinic c1: row 4 (event a4): its contents do not match its row_hash (the row was changed)"
    )


def test_deleted_row(chained) -> None:
    audit_db, digests = chained
    with _owner(audit_db) as owner:
        owner.execute("DELETE FROM audit.event WHERE clinic_id = 'c1' AND chain_seq = 6")
    assert _first_break(audit_db, digests) == (
        "clinic c1: row 7 (event a7): rows 6 are missing before it (deleted)"
    )


def test_swapped_rows(chained) -> None:
    audit_db, digests = chained
    with _owner(audit_db) as owner:
        for old, new in ((5, 1000), (6, 5), (1000, 6)):
            owner.execute(
                "UPDATE audit.event SET chain_seq = %s WHERE clinic_id = 'c1' AND chain_seq = %s",
                (new, old),
            )
    assert _first_break(audit_db, digests).startswith(
        "clinic c1: row 5 (event a6): its prev_hash does not match row 4's hash"
    )


def test_truncated_tail_caught_by_digest(chained) -> None:
    audit_db, digests = chained
    with _owner(audit_db) as owner:
        owner.execute("DELETE FROM audit.event WHERE clinic_id = 'c1' AND chain_seq >= 9")
    with connect(audit_db.reader_url) as conn:
        assert verify(conn, None).intact  # the chain alone cannot see a cut tail
    message = _first_break(audit_db, digests)
    assert message.startswith("clinic c1: row 10: the digest digest-")
    assert message.endswith(
        "anchors row 10, but the chain ends at row 8 (rows were cut from the tail)"
    )


def test_rewritten_and_rehashed_chain_caught_by_digest(chained) -> None:
    """An owner who recomputes every hash after a change passes the chain check, not the digest."""
    from auditlog.chain import COLUMNS, row_from_values, row_hash

    audit_db, digests = chained
    with _owner(audit_db) as owner:
        owner.execute(
            "UPDATE audit.event SET principal = 'forged' WHERE clinic_id = 'c2' AND chain_seq = 2"
        )
        cols = ", ".join(COLUMNS)
        stored = owner.execute(
            f"SELECT {cols} FROM audit.event WHERE clinic_id = 'c2' ORDER BY chain_seq"  # noqa: S608
        ).fetchall()
        prev = None
        for values in stored:
            row = row_from_values(values)
            prev_hash = row.prev_hash if prev is None else prev
            new_hash = row_hash(prev_hash, row.event, row.chain_seq, row.recorded_at)
            owner.execute(
                "UPDATE audit.event SET prev_hash = %s, row_hash = %s "
                "WHERE clinic_id = 'c2' AND chain_seq = %s",
                (prev_hash, new_hash, row.chain_seq),
            )
            prev = new_hash
    with connect(audit_db.reader_url) as conn:
        assert verify(conn, None).intact
    assert "anchors row 5 with another hash (the chain was rewritten and re-hashed)" in (
        _first_break(audit_db, digests)
    )
