"""Items as stored: keys and GSI attributes in the design's formats, no PHI in plaintext, TTL
only where records expire."""

from __future__ import annotations

import json
from typing import Any

from datalayer.entities import EntityType, InvoiceStatus, Role, UserStatus
from datalayer.store import from_attribute_values
from tests.datalayer.support import Seeded


def stored_items(seeded: Seeded) -> list[dict[str, Any]]:
    client = seeded.env.dynamodb
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=seeded.env.cfg.names.table):
        items.extend(from_attribute_values(item) for item in page["Items"])
    return items


def test_every_partition_key_begins_with_its_clinic(seeded: Seeded) -> None:
    # On the table and on every index: what IAM's dynamodb:LeadingKeys can confine. The one
    # exception is the staff sign-in email on GSI5 (cross-tenant by nature).
    items = stored_items(seeded)
    assert len(items) == seeded.summary["items"]
    for item in items:
        clinic = f"CLINIC#{item['clinicId']}"
        assert item["PK"] == clinic or item["PK"].startswith(clinic + "#")
        for n in range(1, 6):
            key = item.get(f"GSI{n}PK")
            if key is None or (n == 5 and item["entityType"] == "USER"):
                continue
            assert key.startswith(clinic + "#"), (n, key)


def test_keys_and_index_attributes_follow_the_design(seeded: Seeded) -> None:
    ds = seeded.dataset
    by_key = {(i["PK"], i["SK"]): i for i in stored_items(seeded)}
    a = ds.appointments[0]
    item = by_key[(f"CLINIC#{a.clinic_id}#PATIENT#{a.patient_id}", a.sk)]
    assert a.sk == f"APPOINTMENT#{a.start_time}#{a.appointment_id}"
    c = f"CLINIC#{a.clinic_id}"
    assert item["GSI1PK"] == f"{c}#ENTITY#APPOINTMENT"
    assert item["GSI1SK"] == a.appointment_id
    assert item["GSI2PK"] == f"{c}#PATIENT#{a.patient_id}"
    assert item["GSI2SK"] == f"APPOINTMENT#{a.start_time}#{a.appointment_id}"
    assert item["GSI3PK"] == f"{c}#PROVIDER#{a.provider_id}"
    assert item["GSI3SK"] == f"{a.start_time}#{a.appointment_id}"
    assert item["GSI4PK"] == f"{c}#STATUS#{a.status}"
    assert item["GSI4SK"] == f"{a.start_time}#{a.appointment_id}"

    inv = ds.invoices[0]
    item = by_key[(inv.pk, inv.sk)]
    assert item["GSI4PK"] == f"CLINIC#{inv.clinic_id}#STATE#{inv.status}"
    assert item["GSI4SK"] == f"{inv.due_date}#{inv.invoice_id}"
    assert item["totalCents"] == sum(li.amount_cents for li in inv.line_items)
    assert InvoiceStatus(item["status"]) is inv.status

    doctor = next(u for u in ds.users if u.role is Role.DOCTOR)
    item = by_key[(f"CLINIC#{doctor.clinic_id}", f"USER#{doctor.user_id}")]
    assert item["GSI4PK"] == f"CLINIC#{doctor.clinic_id}#ROLE#DOCTOR"
    assert item["GSI5PK"] == f"EMAIL#{doctor.email}"
    assert item["GSI5SK"] == "USER"

    p = ds.patients[0]
    lookups = sorted(sk for pk, sk in by_key if pk == p.pk and sk.startswith("LOOKUP#"))
    assert lookups == sorted(
        ["LOOKUP#EMAIL", "LOOKUP#PHONE", *(f"LOOKUP#EXTERNAL#{s}" for s in p.external_ids)]
    )


def test_no_phi_is_stored_in_plaintext(seeded: Seeded) -> None:
    ds = seeded.dataset
    # Every stored attribute but the encrypted blobs (``phi``, the wrapped beacon key).
    text = json.dumps(
        [{k: v for k, v in i.items() if not hasattr(v, "value")} for i in stored_items(seeded)],
        default=str,
    )
    secrets: list[str] = []
    for p in ds.patients:
        secrets += [p.full_name, p.email, p.phone, p.address, p.date_of_birth]
        secrets += list(p.external_ids.values())
    secrets += [a.reason for a in ds.appointments]
    secrets += [n.subjective for n in ds.notes] + [n.assessment for n in ds.notes]
    secrets += [li.description for i in ds.invoices for li in i.line_items]
    leaked = sorted({s for s in secrets if s in text})
    assert leaked == []


def test_phi_items_decrypt_to_their_entities(seeded: Seeded) -> None:
    ds = seeded.dataset
    codec = seeded.env.codec()
    by_key = {(i["PK"], i["SK"]): i for i in stored_items(seeded)}
    for entity in (ds.patients[0], ds.appointments[0], ds.notes[0], ds.invoices[0]):
        assert codec.decrypt_phi(by_key[(entity.pk, entity.sk)]) == entity.phi()


def test_ttl_only_on_pending_invitations(seeded: Seeded) -> None:
    ttl = seeded.env.cfg.table.ttl_attribute
    expiring = [i for i in stored_items(seeded) if ttl in i]
    invited = [u for u in seeded.dataset.users if u.status is UserStatus.INVITED]
    assert sorted((i["PK"], i["SK"]) for i in expiring) == sorted((u.pk, u.sk) for u in invited)
    for item, user in zip(
        sorted(expiring, key=lambda i: i["SK"]), sorted(invited, key=lambda u: u.sk), strict=True
    ):
        assert item[ttl] == user.expires_at
        assert item["entityType"] == EntityType.USER
