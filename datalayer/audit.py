"""PHI read auditing: no PHI leaves the data layer before its read is in the audit trail.

:class:`AuditedPhiReader` is how the data-access layer hands out PHI: decrypting records, and
resolving a patient by a beaconed identifier (email, phone, external id). For each call it records
one audit event per record returned (who, which clinic, which record, which access pattern, and
why: a declared purpose) in one batch, one database round trip whatever the number of records,
and only then decrypts.

Failing closed. When the audit store cannot be written (database down, refused, timed out), the
read raises :class:`AuditUnavailable` and returns nothing: PHI is never disclosed without its
accounting (45 CFR 164.312(b), 164.528). Non-PHI reads (schedules by key, staff lists) are not
audited here; the app stays up for them.

Event ids are random per record read (``read-<uuid4>``); a failed batch is not resent (the read
fails instead), so no duplicate lookup is needed for reads.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from auditlog.chain import Event
from datalayer.entities import ENTITY_TYPE_ATTRIBUTE, ItemCodec
from datalayer.phi import PHI_ATTRIBUTE, PhiContextMismatch
from stackspec.key_schema import (
    CLINIC_PARTITION,
    PARTITION_KEY,
    PATIENT_PARTITION,
    SORT_KEY,
    KeyFormatError,
)

#: Why PHI is read: HIPAA's treatment, payment and health care operations, and the disclosures
#: an accounting (164.528) must list.
PURPOSES = (
    "treatment",
    "payment",
    "operations",
    "patient-request",
    "public-health",
    "legal",
    "research",
)


class AuditUnavailable(Exception):
    """The read could not be audited, so no PHI was returned."""


class AuditSink(Protocol):
    def append(self, events: Sequence[Event]) -> None: ...


@dataclass(frozen=True, kw_only=True)
class ReadContext:
    """Who reads, in which clinic, and why."""

    principal: str
    clinic_id: str
    purpose: str

    def __post_init__(self) -> None:
        if not self.principal or not self.clinic_id:
            raise ValueError("a PHI read needs a principal and a clinic")
        if self.purpose not in PURPOSES:
            raise ValueError(f"purpose {self.purpose!r} is not one of {', '.join(PURPOSES)}")


class PostgresAuditSink:
    """Appends read events to the audit database (``auditlog.ingest``), reconnecting once a
    connection has failed. ``connect`` returns a new autocommit psycopg connection.

    ``durable`` (default) waits for the commit's WAL flush before the PHI is returned.
    ``durable=False`` (``synchronous_commit = off`` for these transactions) still fails closed on
    every error, but a database crash within ~0.6 s of a read can lose that read's events; it
    cuts the commit wait (see ``make bench``) and is a decision for the privacy officer, not a
    default."""

    def __init__(self, connect: Callable[[], Any], *, durable: bool = True) -> None:
        self._connect = connect
        self._conn: Any = None
        self.durable = durable

    def append(self, events: Sequence[Event]) -> None:
        import psycopg

        from auditlog.connect import ConnectError
        from auditlog.ingest import append

        try:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            # Read events get new random ids and are never resent: no duplicate lookup.
            append(self._conn, events, durable=self.durable, fresh_ids=True)
        except (psycopg.Error, ConnectError) as exc:
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            raise AuditUnavailable(f"PHI read not audited, so refused: {exc}") from None


def _text(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return None if value is None else str(value)


def _from_key(pk: str) -> dict[str, str]:
    """Clinic (and patient) from a partition key: KEYS_ONLY index items carry nothing else."""
    for fmt in (PATIENT_PARTITION, CLINIC_PARTITION):
        try:
            return fmt.parse(pk)
        except KeyFormatError:
            continue
    return {}


class AuditedPhiReader:
    """Decrypts PHI (and resolves beacon lookups) only after auditing the read."""

    def __init__(
        self, codec: ItemCodec, sink: AuditSink, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.codec = codec
        self.sink = sink
        self._clock = clock or (lambda: datetime.now(UTC))

    def _events(
        self, items: Sequence[Mapping[str, Any]], ctx: ReadContext, access_pattern: str
    ) -> list[Event]:
        at = self._clock()
        events = []
        for item in items:
            from_key = _from_key(str(item[PARTITION_KEY]))
            clinic = _text(item, "clinicId") or from_key.get("clinicId")
            if clinic != ctx.clinic_id:
                # Identifiers only: a record of another clinic is never read in this one's name.
                raise PhiContextMismatch(
                    f"{item.get(PARTITION_KEY)} / {item.get(SORT_KEY)} belongs to clinic "
                    f"{clinic!r}, not {ctx.clinic_id!r}"
                )
            events.append(
                Event(
                    clinic_id=ctx.clinic_id,
                    event_id=f"read-{uuid.uuid4()}",
                    source="read",
                    action="READ",
                    event_at=at,
                    pk=str(item[PARTITION_KEY]),
                    sk=str(item[SORT_KEY]),
                    entity_type=_text(item, ENTITY_TYPE_ATTRIBUTE),
                    patient_id=_text(item, "patientId") or from_key.get("patientId"),
                    principal=ctx.principal,
                    access_pattern=access_pattern,
                    purpose=ctx.purpose,
                )
            )
        return events

    def record(
        self, items: Sequence[Mapping[str, Any]], ctx: ReadContext, access_pattern: str
    ) -> None:
        """Audit a read of ``items`` (one round trip); :class:`AuditUnavailable` if it fails."""
        events = self._events(items, ctx, access_pattern)
        if events:
            self.sink.append(events)

    def decrypt(
        self, items: Sequence[Mapping[str, Any]], ctx: ReadContext, access_pattern: str
    ) -> list[dict[str, Any]]:
        """The PHI fields of each item (plain values, ``phi`` as bytes), audited first. Items
        without PHI are returned as empty dicts and not audited."""
        with_phi = [item for item in items if PHI_ATTRIBUTE in item]
        self.record(with_phi, ctx, access_pattern)
        return [self.codec.decrypt_phi(item) if PHI_ATTRIBUTE in item else {} for item in items]

    def resolve_lookup(
        self, lookup_items: Sequence[Mapping[str, Any]], ctx: ReadContext, access_pattern: str
    ) -> list[str]:
        """The patient ids a beacon lookup found, audited first (which patient has this email or
        phone is itself PHI)."""
        self.record(lookup_items, ctx, access_pattern)
        return [
            _text(item, "patientId") or _from_key(str(item[PARTITION_KEY]))["patientId"]
            for item in lookup_items
        ]
