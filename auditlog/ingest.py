"""Appending events to the audit store: one transaction per batch, chained per clinic.

A batch takes the chain lock of each clinic it touches (a transaction-scoped advisory lock, in
clinic order so two writers cannot deadlock), drops events already stored (same event id: a
replayed stream batch, a retried read batch), reads each clinic's head, chains the new rows and
writes them with one COPY. So a batch costs a fixed number of round trips whatever its size, and
a batch either lands whole or not at all.

``recorded_at`` is the writer's clock, never earlier than the clinic's previous row, so a clinic's
rows are ordered by time as well as by ``chain_seq`` (partitions hold chain prefixes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg import Connection
from psycopg.types.json import Jsonb

from auditlog.chain import COLUMNS, Event, Row, chain, genesis_hash, row_values

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AppendResult:
    inserted: int
    duplicates: int


_LOCK = (
    "SELECT pg_advisory_xact_lock(hashtextextended(c, 0)) "
    "FROM (SELECT DISTINCT c FROM unnest(%s::text[]) AS c ORDER BY c) AS clinics"
)
_EXISTING = "SELECT event_id FROM audit.event WHERE event_id = ANY(%s::text[])"
_HEADS = (
    "SELECT c, h.chain_seq, h.recorded_at, h.row_hash FROM unnest(%s::text[]) AS c, "
    "LATERAL (SELECT chain_seq, recorded_at, row_hash FROM audit.event "
    "WHERE clinic_id = c ORDER BY chain_seq DESC LIMIT 1) AS h"
)
_COPY = f"COPY audit.event ({', '.join(COLUMNS)}) FROM STDIN"


def append(
    conn: Connection[Any], events: Sequence[Event], *, clock: Clock = utc_now
) -> AppendResult:
    """Store ``events`` (in order) that are not stored yet; all or nothing."""
    unique: dict[str, Event] = {}
    for event in events:
        unique.setdefault(event.event_id, event)
    if not unique:
        return AppendResult(0, 0)
    clinics = sorted({e.clinic_id for e in unique.values()})
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(_LOCK, (clinics,))
        cur.execute(_EXISTING, (list(unique),))
        for (event_id,) in cur.fetchall():
            unique.pop(event_id, None)
        duplicates = len(events) - len(unique)
        if not unique:
            return AppendResult(0, duplicates)
        cur.execute(_HEADS, (clinics,))
        heads: dict[str, tuple[int, datetime, bytes]] = {
            c: (int(seq), at, bytes(h)) for c, seq, at, h in cur.fetchall()
        }
        now = clock()
        rows: list[Row] = []
        for event in unique.values():
            seq, last_at, prev = heads.get(event.clinic_id, (0, now, genesis_hash(event.clinic_id)))
            recorded_at = max(now, last_at)
            row = chain(event, chain_seq=seq + 1, recorded_at=recorded_at, prev_hash=prev)
            heads[event.clinic_id] = (row.chain_seq, recorded_at, row.row_hash)
            rows.append(row)
        with cur.copy(_COPY) as copy:
            for row in rows:
                values = list(row_values(row))
                values[COLUMNS.index("phi_digests")] = Jsonb(values[COLUMNS.index("phi_digests")])
                copy.write_row(values)
    return AppendResult(len(rows), duplicates)
