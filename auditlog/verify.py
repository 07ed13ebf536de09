"""Verifying the audit trail: every clinic's chain, then the latest digest.

For each clinic, rows are read in ``chain_seq`` order (a server-side cursor, so memory stays flat)
starting after the clinic's last archive checkpoint (or at 1, from the genesis hash), and each
row must: carry the next number (a gap means rows were deleted, a repeat a forked chain), carry
the previous row's hash as ``prev_hash`` (rows removed or reordered), and hash to its own
``row_hash`` (the row was changed). Then every head in the latest digest must still be in its
chain with the same hash (rows cut from the tail, or a chain rewritten and re-hashed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg import Connection

from auditlog.chain import COLUMNS, genesis_hash, row_from_values, row_hash
from auditlog.digest import Digest, latest_digest


@dataclass(frozen=True)
class Break:
    clinic_id: str
    chain_seq: int
    event_id: str | None
    reason: str

    def __str__(self) -> str:
        row = f"row {self.chain_seq}" + (f" (event {self.event_id})" if self.event_id else "")
        return f"clinic {self.clinic_id}: {row}: {self.reason}"


@dataclass
class Result:
    clinics: int = 0
    rows: int = 0
    breaks: list[Break] = field(default_factory=list)
    digest: Digest | None = None
    digest_checked: int = 0

    @property
    def intact(self) -> bool:
        return not self.breaks


def _checkpoints(conn: Connection[Any]) -> dict[str, tuple[int, bytes]]:
    rows = conn.execute(
        "SELECT DISTINCT ON (clinic_id) clinic_id, through_seq, through_hash "
        "FROM audit.archive_checkpoint ORDER BY clinic_id, through_seq DESC"
    ).fetchall()
    return {c: (int(seq), bytes(h)) for c, seq, h in rows}


def verify_clinic(
    conn: Connection[Any], clinic_id: str, start: tuple[int, bytes] | None, result: Result
) -> tuple[int, bytes] | None:
    """Check one chain; returns its head (seq, hash), appends the first break to ``result``."""
    seq, prev = start if start is not None else (0, genesis_hash(clinic_id))
    columns = ", ".join(COLUMNS)
    with conn.cursor(name=f"verify_{abs(hash(clinic_id))}") as cur:
        cur.itersize = 5000
        cur.execute(
            f"SELECT {columns} FROM audit.event WHERE clinic_id = %s AND chain_seq > %s "  # noqa: S608 - fixed columns
            "ORDER BY chain_seq",
            (clinic_id, seq),
        )
        for values in cur:
            row = row_from_values(values)
            result.rows += 1
            eid = row.event.event_id
            if row.chain_seq == seq:
                reason = f"a second row numbered {seq} (the chain was forked)"
            elif row.chain_seq != seq + 1:
                missing = (
                    f"{seq + 1}" if row.chain_seq == seq + 2 else f"{seq + 1}-{row.chain_seq - 1}"
                )
                reason = f"rows {missing} are missing before it (deleted)"
            elif row.prev_hash != prev:
                reason = (
                    f"its prev_hash does not match row {seq}'s hash "
                    "(rows were removed, inserted or reordered)"
                )
            elif row_hash(row.prev_hash, row.event, row.chain_seq, row.recorded_at) != row.row_hash:
                reason = "its contents do not match its row_hash (the row was changed)"
            else:
                seq, prev = row.chain_seq, row.row_hash
                continue
            result.breaks.append(Break(clinic_id, row.chain_seq, eid, reason))
            return None
    return (seq, prev) if seq else None


def verify(conn: Connection[Any], digest_dir: Path | None) -> Result:
    result = Result()
    checkpoints = _checkpoints(conn)
    clinics = [
        c
        for (c,) in conn.execute(
            "SELECT DISTINCT clinic_id FROM audit.event ORDER BY clinic_id"
        ).fetchall()
    ]
    heads: dict[str, tuple[int, bytes] | None] = {}
    with conn.transaction():  # one snapshot for every chain; named cursors need a transaction
        for clinic in clinics:
            result.clinics += 1
            heads[clinic] = verify_clinic(conn, clinic, checkpoints.get(clinic), result)
        if digest_dir is not None:
            result.digest = latest_digest(digest_dir)
            if result.digest is not None:
                _check_digest(conn, result.digest, heads, result)
    return result


def _check_digest(
    conn: Connection[Any],
    digest: Digest,
    heads: dict[str, tuple[int, bytes] | None],
    result: Result,
) -> None:
    broken = {b.clinic_id for b in result.breaks}
    for clinic, (seq, expected) in sorted(digest.heads.items()):
        result.digest_checked += 1
        if clinic in broken:
            continue
        found = conn.execute(
            "SELECT row_hash, event_id FROM audit.event WHERE clinic_id = %s AND chain_seq = %s",
            (clinic, seq),
        ).fetchone()
        head = heads.get(clinic)
        where = f"the digest {digest.path.name} ({digest.taken_at}) anchors row {seq}"
        if found is None:
            end = f"the chain ends at row {head[0]}" if head else "the clinic has no rows"
            result.breaks.append(
                Break(clinic, seq, None, f"{where}, but {end} (rows were cut from the tail)")
            )
        elif bytes(found[0]).hex() != expected:
            result.breaks.append(
                Break(
                    clinic,
                    seq,
                    found[1],
                    f"{where} with another hash (the chain was rewritten and re-hashed)",
                )
            )
