"""What an audit event is, and how it is chained.

Chains are per clinic. Each clinic's rows are numbered 1, 2, 3... (``chain_seq``) and each row's
hash is ``SHA-256(prev_hash || canonical(row))``; the first row's ``prev_hash`` is the clinic's
genesis hash (SHA-256 of a fixed label and the clinic id), so a chain cannot pass for another
clinic's. Changing a row breaks its own hash; removing or reordering rows breaks the next row's
``prev_hash`` or the numbering; cutting the tail is caught against the last external digest.

Why per clinic, not per shard: a clinic is the unit of tenancy, of a patient's accounting and of
offboarding, and it is the only key both writers have (reads have no shard); writers to different
clinics never wait for each other, and a clinic's chain verifies on its own.

Canonical encoding: a JSON array of the fields in a fixed order, UTF-8, no whitespace, keys of
nested objects sorted, timestamps as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC, microseconds: the
resolution of ``timestamptz``). A version tag leads the array, so the encoding can evolve.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CHAIN_VERSION = "medeez-audit-v1"
ACTIONS = ("INSERT", "MODIFY", "REMOVE", "TTL_EXPIRE", "READ", "OFFBOARD")
SOURCES = ("stream", "read", "admin")


def genesis_hash(clinic_id: str) -> bytes:
    """The ``prev_hash`` of a clinic's first row."""
    return hashlib.sha256(f"{CHAIN_VERSION}|genesis|{clinic_id}".encode()).digest()


def timestamp_text(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, kw_only=True)
class Event:
    """One audit event before it is chained (what a writer knows)."""

    clinic_id: str
    event_id: str
    source: str
    action: str
    event_at: datetime
    pk: str
    sk: str
    principal: str
    sequence_number: str | None = None
    entity_type: str | None = None
    patient_id: str | None = None
    access_pattern: str | None = None
    purpose: str | None = None
    changed_attributes: tuple[str, ...] = ()
    phi_digests: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown audit action {self.action!r}")
        if self.source not in SOURCES:
            raise ValueError(f"unknown audit source {self.source!r}")
        if not self.clinic_id or not self.event_id or not self.pk or not self.principal:
            raise ValueError("an audit event needs a clinic, an event id, a key and a principal")


@dataclass(frozen=True, kw_only=True)
class Row:
    """A chained event: what is stored in ``audit.event``."""

    event: Event
    chain_seq: int
    recorded_at: datetime
    prev_hash: bytes
    row_hash: bytes


#: The columns of ``audit.event`` in storage order (COPY and SELECT use it).
COLUMNS = (
    "clinic_id",
    "chain_seq",
    "recorded_at",
    "event_id",
    "source",
    "action",
    "event_at",
    "sequence_number",
    "entity_type",
    "pk",
    "sk",
    "patient_id",
    "principal",
    "access_pattern",
    "purpose",
    "changed_attributes",
    "phi_digests",
    "prev_hash",
    "row_hash",
)


def canonical(event: Event, chain_seq: int, recorded_at: datetime) -> bytes:
    """The bytes a row's hash covers (besides ``prev_hash``)."""
    fields: list[Any] = [
        CHAIN_VERSION,
        event.clinic_id,
        chain_seq,
        timestamp_text(recorded_at),
        event.event_id,
        event.source,
        event.action,
        timestamp_text(event.event_at),
        event.sequence_number,
        event.entity_type,
        event.pk,
        event.sk,
        event.patient_id,
        event.principal,
        event.access_pattern,
        event.purpose,
        sorted(event.changed_attributes),
        {k: dict(v) for k, v in event.phi_digests.items()},
    ]
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def row_hash(prev_hash: bytes, event: Event, chain_seq: int, recorded_at: datetime) -> bytes:
    return hashlib.sha256(prev_hash + canonical(event, chain_seq, recorded_at)).digest()


def chain(event: Event, *, chain_seq: int, recorded_at: datetime, prev_hash: bytes) -> Row:
    return Row(
        event=event,
        chain_seq=chain_seq,
        recorded_at=recorded_at,
        prev_hash=prev_hash,
        row_hash=row_hash(prev_hash, event, chain_seq, recorded_at),
    )


def row_values(row: Row) -> tuple[Any, ...]:
    """The row as a tuple in :data:`COLUMNS` order."""
    e = row.event
    return (
        e.clinic_id,
        row.chain_seq,
        row.recorded_at,
        e.event_id,
        e.source,
        e.action,
        e.event_at,
        e.sequence_number,
        e.entity_type,
        e.pk,
        e.sk,
        e.patient_id,
        e.principal,
        e.access_pattern,
        e.purpose,
        list(e.changed_attributes),
        {k: dict(v) for k, v in e.phi_digests.items()},
        row.prev_hash,
        row.row_hash,
    )


def row_from_values(values: Sequence[Any]) -> Row:
    """A stored row (a tuple in :data:`COLUMNS` order) back into a :class:`Row`."""
    v = dict(zip(COLUMNS, values, strict=True))
    event = Event(
        clinic_id=v["clinic_id"],
        event_id=v["event_id"],
        source=v["source"],
        action=v["action"],
        event_at=v["event_at"],
        pk=v["pk"],
        sk=v["sk"],
        principal=v["principal"],
        sequence_number=v["sequence_number"],
        entity_type=v["entity_type"],
        patient_id=v["patient_id"],
        access_pattern=v["access_pattern"],
        purpose=v["purpose"],
        changed_attributes=tuple(v["changed_attributes"] or ()),
        phi_digests=v["phi_digests"] or {},
    )
    return Row(
        event=event,
        chain_seq=int(v["chain_seq"]),
        recorded_at=v["recorded_at"],
        prev_hash=bytes(v["prev_hash"]),
        row_hash=bytes(v["row_hash"]),
    )
