"""Appending events to the audit store: one transaction per batch, chained per clinic.

A batch takes the chain lock of each clinic it touches (a transaction-scoped advisory lock, in
clinic order so two writers cannot deadlock), drops events already stored (same event id: a
replayed stream batch, a retried read batch) and reads each clinic's head, all in one call of
``audit.lock_chains``; then it chains the new rows and writes them: a small batch (a PHI read)
with pipelined INSERTs and COMMIT, two round trips in all; a large one (a stream batch) with one
COPY. So a batch costs a fixed number of round trips whatever its size, and a batch either lands
whole or not at all.

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


#: Lock the clinics' chains, read their heads and the batch's already stored event ids
#: (migration 0002: one round trip).
_LOCK_CHAINS = "SELECT * FROM audit.lock_chains(%s::text[], %s::text[])"
_COPY = f"COPY audit.event ({', '.join(COLUMNS)}) FROM STDIN"
_ROW = f"({', '.join(['%s'] * len(COLUMNS))})"


def _insert(rows: int) -> str:
    return (
        f"INSERT INTO audit.event ({', '.join(COLUMNS)}) "  # noqa: S608 - fixed column names
        f"VALUES {', '.join([_ROW] * rows)}"
    )


#: Batches up to this size are written with pipelined INSERTs: BEGIN and the lock in one round
#: trip, the rows and COMMIT in another (a PHI read's batch); larger ones with COPY.
PIPELINE_MAX = 64


def append(
    conn: Connection[Any],
    events: Sequence[Event],
    *,
    clock: Clock = utc_now,
    durable: bool = True,
    fresh_ids: bool = False,
) -> AppendResult:
    """Store ``events`` (in order) that are not stored yet; all or nothing.

    ``durable=False`` commits without waiting for the WAL flush (``synchronous_commit = off`` for
    this transaction only): an error still raises, but a server crash in the next ~0.6 s
    (3 x ``wal_writer_delay``) can lose the batch after it was acknowledged. Never for the
    stream (its checkpoint moves on), an explicit trade-off for reads (datalayer.audit).
    ``fresh_ids=True`` skips the duplicate lookup, for events whose ids were just generated and
    are never resent (a PHI read's).
    """
    unique: dict[str, Event] = {}
    for event in events:
        unique.setdefault(event.event_id, event)
    if not unique:
        return AppendResult(0, 0)
    clinics = sorted({e.clinic_id for e in unique.values()})
    if len(unique) <= PIPELINE_MAX:
        with conn.pipeline(), conn.transaction(), conn.cursor() as cur:
            rows, duplicates = _chain(cur, unique, clinics, len(events), clock, durable, fresh_ids)
            if rows:  # one multi-row INSERT: one statement for the server to plan and route
                cur.execute(_insert(len(rows)), [v for row in rows for v in _values(row)])
        return AppendResult(len(rows), duplicates)
    with conn.transaction(), conn.cursor() as cur:
        rows, duplicates = _chain(cur, unique, clinics, len(events), clock, durable, fresh_ids)
        if rows:
            with cur.copy(_COPY) as copy:
                for row in rows:
                    copy.write_row(_values(row))
    return AppendResult(len(rows), duplicates)


def _values(row: Row) -> list[Any]:
    values = list(row_values(row))
    index = COLUMNS.index("phi_digests")
    values[index] = Jsonb(values[index])
    return values


def _chain(
    cur: Any,
    unique: dict[str, Event],
    clinics: list[str],
    received: int,
    clock: Clock,
    durable: bool,
    fresh_ids: bool,
) -> tuple[list[Row], int]:
    """Lock the chains, drop stored events, chain the rest; (rows, duplicates)."""
    if not durable:
        cur.execute("SET LOCAL synchronous_commit = off")
    cur.execute(_LOCK_CHAINS, (clinics, [] if fresh_ids else list(unique)))
    heads: dict[str, tuple[int, datetime, bytes]] = {}
    for kind, clinic, seq, at, digest, event_id in cur.fetchall():
        if kind == "seen":
            unique.pop(event_id, None)
        else:
            heads[clinic] = (int(seq), at, bytes(digest))
    now = clock()
    rows: list[Row] = []
    for event in unique.values():
        seq, last_at, prev = heads.get(event.clinic_id, (0, now, genesis_hash(event.clinic_id)))
        recorded_at = max(now, last_at)
        row = chain(event, chain_seq=seq + 1, recorded_at=recorded_at, prev_hash=prev)
        heads[event.clinic_id] = (row.chain_seq, recorded_at, row.row_hash)
        rows.append(row)
    return rows, received - len(rows)
