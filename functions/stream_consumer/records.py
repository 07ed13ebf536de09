"""A DynamoDB stream record (as Lambda delivers it) into an audit event, without its values.

What is kept: the event id, time and sequence number; the action (INSERT, MODIFY, REMOVE, or
TTL_EXPIRE when DynamoDB's TTL service deleted the item: ``userIdentity`` is
``{"type": "Service", "principalId": "dynamodb.amazonaws.com"}``); clinic, entity type, PK/SK and
patient; the names of the attributes that changed; who wrote the item (its ``writtenBy``); and
SHA-256 digests of the PHI attributes' stored values (the ``phi`` ciphertext), never a value.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from auditlog.chain import Event
from stackspec.key_schema import CLINIC_PARTITION, PATIENT_PARTITION, KeyFormatError

#: The attribute every write carries: who wrote the item (datalayer.entities.WRITTEN_BY).
WRITTEN_BY = "writtenBy"
#: Attributes holding PHI (encrypted); the audit trail keeps only digests of their values.
PHI_ATTRIBUTES = ("phi",)
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
#: The principal of a TTL deletion, and of a delete (the stream does not say who deleted; the
#: table's CloudTrail data events do, next issue).
TTL_PRINCIPAL = "dynamodb.amazonaws.com (TTL)"
UNATTRIBUTED = "unattributed"


class PoisonRecord(ValueError):
    """A record that can never be audited as it is (malformed); the message holds no values."""


def _string(image: Mapping[str, Any] | None, name: str) -> str | None:
    if not image:
        return None
    value = image.get(name)
    if isinstance(value, Mapping) and isinstance(value.get("S"), str):
        return str(value["S"])
    return None


def _digest(value: Mapping[str, Any] | None) -> str | None:
    if value is None:
        return None
    if "B" in value:
        raw = value["B"]
        data = base64.b64decode(raw) if isinstance(raw, str) else bytes(raw)
    else:
        data = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _from_key(pk: str) -> dict[str, str]:
    """Clinic (and patient) named by a partition key (stackspec.key_schema's formats)."""
    for fmt in (PATIENT_PARTITION, CLINIC_PARTITION):
        try:
            return fmt.parse(pk)
        except KeyFormatError:
            continue
    return {}


def to_event(record: Mapping[str, Any]) -> Event:
    """The audit event of one stream record; :class:`PoisonRecord` when it is malformed."""
    try:
        ddb = record["dynamodb"]
        event_id = str(record["eventID"])
        name = str(record["eventName"])
        sequence = str(ddb["SequenceNumber"])
        created = float(ddb["ApproximateCreationDateTime"])
        keys = ddb["Keys"]
        pk, sk = str(keys["PK"]["S"]), str(keys["SK"]["S"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PoisonRecord(f"malformed stream record: missing or bad {exc}") from None
    if name not in ("INSERT", "MODIFY", "REMOVE"):
        raise PoisonRecord(f"record {event_id}: unknown eventName")
    new, old = ddb.get("NewImage"), ddb.get("OldImage")
    if (new is not None and not isinstance(new, Mapping)) or (
        old is not None and not isinstance(old, Mapping)
    ):
        raise PoisonRecord(f"record {event_id}: images are not maps")
    image = new if name != "REMOVE" else old
    from_key = _from_key(pk)
    clinic = _string(image, "clinicId") or from_key.get("clinicId")
    if not clinic:
        raise PoisonRecord(f"record {event_id}: no clinic (no clinicId and PK is not a clinic's)")
    action = name
    if name == "REMOVE" and record.get("userIdentity") == TTL_IDENTITY:
        action, principal = "TTL_EXPIRE", TTL_PRINCIPAL
    elif name == "REMOVE":
        principal = UNATTRIBUTED
    else:
        principal = _string(new, WRITTEN_BY) or UNATTRIBUTED
    names = set(new or {}) | set(old or {})
    changed = sorted(n for n in names if (new or {}).get(n) != (old or {}).get(n))
    digests = {
        attr: {"old": _digest((old or {}).get(attr)), "new": _digest((new or {}).get(attr))}
        for attr in PHI_ATTRIBUTES
        if attr in changed
    }
    return Event(
        clinic_id=clinic,
        event_id=event_id,
        source="stream",
        action=action,
        event_at=datetime.fromtimestamp(created, UTC),
        sequence_number=sequence,
        entity_type=_string(image, "entityType"),
        pk=pk,
        sk=sk,
        patient_id=_string(image, "patientId") or from_key.get("patientId"),
        principal=principal,
        changed_attributes=tuple(changed),
        phi_digests=digests,
    )
