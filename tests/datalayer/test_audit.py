"""PHI reads through the data-access layer are audited first, in one batch, and fail closed."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
import pytest

from auditlog.chain import Event
from auditlog.connect import connect
from auditlog.verify import verify
from datalayer.access_patterns import query_request, run_query
from datalayer.audit import (
    AuditedPhiReader,
    AuditUnavailable,
    PostgresAuditSink,
    ReadContext,
)
from datalayer.phi import PhiContextMismatch
from datalayer.store import from_attribute_values
from tests.datalayer.support import Seeded
from tests.datalayer.test_access_patterns import busy_patient


class _Recording:
    def __init__(self) -> None:
        self.batches: list[list[Event]] = []

    def append(self, events: Sequence[Event]) -> None:
        self.batches.append(list(events))


def _timeline(seeded: Seeded):
    patient = busy_patient(seeded.dataset)
    env = seeded.env
    request = query_request(
        "patient_timeline",
        env.cfg.names.table,
        {"clinicId": patient.clinic_id, "patientId": patient.patient_id},
    )
    items = [from_attribute_values(i) for i in run_query(env.dynamodb, request)]
    return patient, items


def test_read_is_audited_in_one_batch_then_decrypted(seeded: Seeded, audit_db) -> None:
    patient, items = _timeline(seeded)
    codec = seeded.env.codec()
    sink = PostgresAuditSink(lambda: connect(audit_db.ingest_url))
    reader = AuditedPhiReader(codec, sink)
    ctx = ReadContext(principal="user:dr-1", clinic_id=patient.clinic_id, purpose="treatment")
    calls: list[str] = []
    with psycopg.connect(audit_db.admin_url, autocommit=True) as admin:
        admin.execute("SELECT pg_stat_reset()")
    phi = reader.decrypt(items, ctx, "patient_timeline")
    assert len(phi) == len(items) >= 3
    assert all(fields for fields in phi)
    with psycopg.connect(audit_db.reader_url) as conn:
        stored = conn.execute(
            "SELECT action, principal, clinic_id, patient_id, pk, sk, access_pattern, purpose "
            "FROM audit.event ORDER BY chain_seq"
        ).fetchall()
        calls = [r[0] for r in stored]
    assert calls == ["READ"] * len(items)
    assert {(r[1], r[2], r[3], r[6], r[7]) for r in stored} == {
        ("user:dr-1", patient.clinic_id, patient.patient_id, "patient_timeline", "treatment")
    }
    assert [(r[4], r[5]) for r in stored] == [(str(i["PK"]), str(i["SK"])) for i in items]
    with connect(audit_db.reader_url) as conn:
        assert verify(conn, None).intact


def test_one_round_trip_per_read_whatever_its_size(seeded: Seeded) -> None:
    patient, items = _timeline(seeded)
    sink = _Recording()
    reader = AuditedPhiReader(seeded.env.codec(), sink)
    ctx = ReadContext(principal="user:dr-1", clinic_id=patient.clinic_id, purpose="treatment")
    reader.decrypt(items, ctx, "patient_timeline")
    assert [len(batch) for batch in sink.batches] == [len(items)]


def test_beacon_lookup_is_audited(seeded: Seeded) -> None:
    patient = busy_patient(seeded.dataset)
    env = seeded.env
    codec = env.codec()
    request = query_request(
        "patient_by_phone",
        env.cfg.names.table,
        {"clinicId": patient.clinic_id, "phone": patient.phone},
        beacons=codec.beacons,
    )
    lookups = [from_attribute_values(i) for i in run_query(env.dynamodb, request)]
    sink = _Recording()
    ctx = ReadContext(principal="user:front-desk", clinic_id=patient.clinic_id, purpose="payment")
    found = AuditedPhiReader(codec, sink).resolve_lookup(lookups, ctx, "patient_by_phone")
    assert found == [patient.patient_id]
    (batch,) = sink.batches
    assert [(e.sk, e.access_pattern, e.purpose) for e in batch] == [
        ("LOOKUP#PHONE", "patient_by_phone", "payment")
    ]


def test_fails_closed_when_auditing_is_unavailable(seeded: Seeded, audit_db) -> None:
    """The audit database refuses the login: no PHI is decrypted, nothing is returned."""
    patient, items = _timeline(seeded)
    codec = seeded.env.codec()
    decrypted: list[object] = []
    original = codec.cipher.decrypt

    def spy(*args, **kwargs):
        decrypted.append(args)
        return original(*args, **kwargs)

    object.__setattr__(codec.cipher, "decrypt", spy)
    wrong = audit_db.ingest_url.replace("audit_ingest:", "audit_ingest:not")
    reader = AuditedPhiReader(codec, PostgresAuditSink(lambda: connect(wrong)))
    ctx = ReadContext(principal="user:dr-1", clinic_id=patient.clinic_id, purpose="treatment")
    with pytest.raises(AuditUnavailable, match="PHI read not audited, so refused"):
        reader.decrypt(items, ctx, "patient_timeline")
    assert decrypted == []


def test_records_of_another_clinic_are_refused_before_auditing(seeded: Seeded) -> None:
    _patient, items = _timeline(seeded)
    sink = _Recording()
    ctx = ReadContext(principal="user:dr-1", clinic_id="another-clinic", purpose="treatment")
    with pytest.raises(PhiContextMismatch):
        AuditedPhiReader(seeded.env.codec(), sink).decrypt(items, ctx, "patient_timeline")
    assert sink.batches == []


def test_a_purpose_is_required() -> None:
    with pytest.raises(ValueError, match="purpose 'curiosity' is not one of treatment"):
        ReadContext(principal="u", clinic_id="c", purpose="curiosity")
