"""Digests of chain heads: the external anchor of the audit trail.

A digest is a JSON file naming, for every clinic, the head of its chain (sequence number and row
hash) at one moment, plus a SHA-256 over those heads. Stored where the database's owner cannot
rewrite it (locally a directory of files written once, read-only; in AWS the object-locked bucket
of the next issue), it proves which rows existed then: rows cut from the tail of a chain, or a
chain rewritten from some row on and re-hashed, no longer match it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from psycopg import Connection

from auditlog.chain import timestamp_text

_HEADS = (
    "SELECT e.clinic_id, e.chain_seq, e.row_hash FROM audit.event AS e "
    "JOIN (SELECT clinic_id, max(chain_seq) AS seq FROM audit.event GROUP BY clinic_id) AS h "
    "ON e.clinic_id = h.clinic_id AND e.chain_seq = h.seq ORDER BY e.clinic_id"
)


class DigestError(Exception):
    """A digest file is unreadable or was altered."""


@dataclass(frozen=True)
class Digest:
    path: Path
    taken_at: str
    heads: dict[str, tuple[int, str]]


def heads_digest(heads: dict[str, tuple[int, str]]) -> str:
    canonical = json.dumps(
        {c: [seq, h] for c, (seq, h) in sorted(heads.items())}, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def current_heads(conn: Connection[Any]) -> dict[str, tuple[int, str]]:
    rows = conn.execute(_HEADS).fetchall()
    return {clinic: (int(seq), bytes(h).hex()) for clinic, seq, h in rows}


def write_digest(conn: Connection[Any], directory: Path, *, label: str) -> Path:
    """Write the current heads into a new read-only file in ``directory``."""
    heads = current_heads(conn)
    taken_at = timestamp_text(datetime.now(UTC))
    body = {
        "label": label,
        "takenAt": taken_at,
        "heads": {c: {"seq": seq, "hash": h} for c, (seq, h) in sorted(heads.items())},
        "digest": heads_digest(heads),
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"digest-{taken_at.replace(':', '')}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    with os.fdopen(fd, "w") as out:
        json.dump(body, out, indent=2)
        out.write("\n")
    return path


def upload_digest(s3: Any, path: Path, *, bucket: str, key_prefix: str) -> str:
    """Put the digest file into the object-locked audit bucket under ``key_prefix``; the
    bucket's default retention locks it and its default key encrypts it. Returns the key."""
    key = f"{key_prefix}/{path.name}"
    body = path.read_bytes()
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentType="application/json",
        ChecksumAlgorithm="SHA256",
    )
    return key


def latest_digest(directory: Path) -> Digest | None:
    files = sorted(directory.glob("digest-*.json")) if directory.is_dir() else []
    if not files:
        return None
    path = files[-1]
    try:
        body = json.loads(path.read_text())
        heads = {c: (int(v["seq"]), str(v["hash"])) for c, v in body["heads"].items()}
        taken_at = str(body["takenAt"])
        recorded = str(body["digest"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DigestError(f"{path}: not a readable digest ({exc})") from None
    if heads_digest(heads) != recorded:
        raise DigestError(f"{path}: its heads do not match its own digest (the file was altered)")
    return Digest(path, taken_at, heads)
