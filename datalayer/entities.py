"""The entities of the single-table design: keys, GSI attributes, PHI fields and TTL.

Every partition key of a tenant's items, on the table and on every index, begins with the clinic
(``CLINIC#<clinicId>``), so one tenant's items never share a partition with another's and IAM's
``dynamodb:LeadingKeys`` can confine a credential to them. A patient's records (profile,
appointments, notes, invoices, identifier lookups) share the patient's partition
``CLINIC#<clinicId>#PATIENT#<patientId>``, so "a patient's notes" or "a patient's invoices" is one
base-table Query. Every key, on the table and its GSIs, is rendered by a format of
:mod:`stackspec.key_schema`; no key text is put together here.

PHI never sits in plaintext: an entity's PHI fields are encrypted together into its ``phi``
attribute (:mod:`datalayer.phi`), and PHI identifiers used for lookup become keyed HMAC beacons
on separate lookup items (:mod:`datalayer.beacons`). What stays plaintext is what queries need:
ids, keys, statuses, timestamps, amounts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from datalayer.beacons import BeaconKeyring, IdentifierKind
from datalayer.phi import PHI_ATTRIBUTE, ClinicKeyring, ItemContext, PhiCipher
from stackspec.key_schema import (
    APPOINTMENT_SORT,
    APPOINTMENT_STATUS_PARTITION,
    BASE_TABLE,
    BY_ENTITY_TYPE,
    BY_PATIENT,
    BY_PROVIDER_TIME,
    BY_STATUS,
    CLINIC_PARTITION,
    CLINIC_SORT,
    ENTITY_ID_SORT,
    ENTITY_TYPE_PARTITION,
    EXTERNAL_IDS,
    INVOICE_SORT,
    INVOICE_STATE_PARTITION,
    LOOKUP_EMAIL_SORT,
    LOOKUP_ENTITY_TYPE_SORT,
    LOOKUP_EXTERNAL_SORT,
    LOOKUP_PHONE_SORT,
    NOTE_SORT,
    PARTITION_KEY,
    PATIENT_PARTITION,
    PATIENT_PROFILE_SORT,
    PATIENT_TIMELINE_PARTITION,
    PATIENT_TIMELINE_SORT,
    PROVIDER_PARTITION,
    PROVIDER_SCHEDULE_SORT,
    QUEUE_SORT,
    SORT_KEY,
    STAFF_EMAIL_LOOKUP,
    USER_ROLE_PARTITION,
    USER_SORT,
)

#: The item attribute every item carries to say which entity it is.
ENTITY_TYPE_ATTRIBUTE = "entityType"

#: Attribute of a CLINIC item holding the clinic's beacon root key, wrapped by the PHI key.
BEACON_KEY_ATTRIBUTE = "beaconKey"

#: Entity type of the items that make a patient findable by a PHI identifier (GSI5).
LOOKUP_ENTITY_TYPE = "LOOKUP"

#: How long a staff invitation stays valid before DynamoDB TTL removes it.
INVITATION_TTL_SECONDS = 7 * 24 * 3600


class EntityType(StrEnum):
    CLINIC = "CLINIC"
    USER = "USER"
    PATIENT = "PATIENT"
    APPOINTMENT = "APPOINTMENT"
    NOTE = "NOTE"
    INVOICE = "INVOICE"


class Role(StrEnum):
    ADMIN = "ADMIN"
    DOCTOR = "DOCTOR"
    STAFF = "STAFF"


class UserStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INVITED = "INVITED"


class AppointmentStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    CONFIRMED = "CONFIRMED"
    CHECKED_IN = "CHECKED_IN"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    NO_SHOW = "NO_SHOW"


class AppointmentType(StrEnum):
    NEW_PATIENT = "NEW_PATIENT"
    FOLLOW_UP = "FOLLOW_UP"
    TELEHEALTH = "TELEHEALTH"
    PROCEDURE = "PROCEDURE"


class NoteStatus(StrEnum):
    DRAFT = "DRAFT"
    SIGNED = "SIGNED"


class InvoiceStatus(StrEnum):
    DRAFT = "DRAFT"
    OPEN = "OPEN"
    PAID = "PAID"
    OVERDUE = "OVERDUE"
    VOID = "VOID"


# ---- keys, each rendered by its stackspec.key_schema format ----


def clinic_pk(clinic_id: str) -> str:
    """Partition of a clinic and its staff."""
    return CLINIC_PARTITION.render(clinicId=clinic_id)


def patient_pk(clinic_id: str, patient_id: str) -> str:
    """Partition of a patient and all of the patient's records."""
    return PATIENT_PARTITION.render(clinicId=clinic_id, patientId=patient_id)


def gsi1(entity_type: str, clinic_id: str, entity_id: str) -> dict[str, str]:
    """ByEntityType: every entity of a type in one clinic (one partition per clinic and type)."""
    return BY_ENTITY_TYPE.key(
        ENTITY_TYPE_PARTITION.render(clinicId=clinic_id, entityType=entity_type),
        ENTITY_ID_SORT.render(entityId=entity_id),
    )


def gsi2(
    clinic_id: str, patient_id: str, entity_type: str, timestamp: str, entity_id: str
) -> dict[str, str]:
    """ByPatient: a patient's timeline."""
    return BY_PATIENT.key(
        PATIENT_TIMELINE_PARTITION.render(clinicId=clinic_id, patientId=patient_id),
        PATIENT_TIMELINE_SORT.render(
            entityType=entity_type, timestamp=timestamp, entityId=entity_id
        ),
    )


def gsi3(clinic_id: str, provider_id: str, start_time: str, appointment_id: str) -> dict[str, str]:
    """ByProviderTime: a provider's schedule in one clinic."""
    return BY_PROVIDER_TIME.key(
        PROVIDER_PARTITION.render(clinicId=clinic_id, providerId=provider_id),
        PROVIDER_SCHEDULE_SORT.render(startTime=start_time, appointmentId=appointment_id),
    )


def gsi4(partition: str, timestamp: str, entity_id: str) -> dict[str, str]:
    """ByStatus work queues; ``partition`` is a clinic's appointment status, invoice state or
    user role partition (``BY_STATUS.key`` refuses anything else)."""
    return BY_STATUS.key(partition, QUEUE_SORT.render(timestamp=timestamp, entityId=entity_id))


def gsi5(lookup_key: str, entity_type: str) -> dict[str, str]:
    """ExternalIDs: exact lookup (a beacon or a staff email) of an entity type."""
    return EXTERNAL_IDS.key(lookup_key, LOOKUP_ENTITY_TYPE_SORT.render(entityType=entity_type))


def user_email_key(email: str) -> str:
    """GSI5 key of a staff user's sign-in email (plaintext by design, see docs/data-model.md)."""
    return STAFF_EMAIL_LOOKUP.render(email=normalize_staff_email(email))


def normalize_staff_email(email: str) -> str:
    """Trimmed and lower-cased, as stored and as looked up."""
    return email.strip().lower()


# ---- entities ----


@dataclass(frozen=True, kw_only=True)
class Clinic:
    entity_type: ClassVar[EntityType] = EntityType.CLINIC
    clinic_id: str
    name: str
    timezone: str
    created_at: str

    @property
    def entity_id(self) -> str:
        return self.clinic_id

    @property
    def pk(self) -> str:
        return clinic_pk(self.clinic_id)

    @property
    def sk(self) -> str:
        return CLINIC_SORT.render()


@dataclass(frozen=True, kw_only=True)
class User:
    """A staff member. Providers (who see patients) are users with role DOCTOR."""

    entity_type: ClassVar[EntityType] = EntityType.USER
    clinic_id: str
    user_id: str
    role: Role
    email: str
    display_name: str
    status: UserStatus
    created_at: str
    #: Epoch seconds after which an unaccepted invitation is void (the table's TTL attribute).
    expires_at: int | None = None

    @property
    def entity_id(self) -> str:
        return self.user_id

    @property
    def pk(self) -> str:
        return clinic_pk(self.clinic_id)

    @property
    def sk(self) -> str:
        return USER_SORT.render(userId=self.user_id)


@dataclass(frozen=True, kw_only=True)
class Patient:
    entity_type: ClassVar[EntityType] = EntityType.PATIENT
    #: Encrypted into ``phi``. email, phone and external ids are also lookup beacons.
    phi_fields: ClassVar[tuple[str, ...]] = (
        "fullName",
        "dateOfBirth",
        "email",
        "phone",
        "address",
        "externalIds",
    )
    clinic_id: str
    patient_id: str
    created_at: str
    full_name: str
    date_of_birth: str
    email: str
    phone: str
    address: str
    #: system name (e.g. "ehr-mrn") -> that system's id for the patient.
    external_ids: Mapping[str, str] = field(default_factory=dict)

    @property
    def entity_id(self) -> str:
        return self.patient_id

    @property
    def pk(self) -> str:
        return patient_pk(self.clinic_id, self.patient_id)

    @property
    def sk(self) -> str:
        return PATIENT_PROFILE_SORT.render()

    def phi(self) -> dict[str, Any]:
        return {
            "fullName": self.full_name,
            "dateOfBirth": self.date_of_birth,
            "email": self.email,
            "phone": self.phone,
            "address": self.address,
            "externalIds": dict(self.external_ids),
        }


@dataclass(frozen=True, kw_only=True)
class Appointment:
    entity_type: ClassVar[EntityType] = EntityType.APPOINTMENT
    phi_fields: ClassVar[tuple[str, ...]] = ("reason",)
    clinic_id: str
    patient_id: str
    appointment_id: str
    provider_id: str
    start_time: str
    end_time: str
    status: AppointmentStatus
    appointment_type: AppointmentType
    reason: str
    created_at: str

    @property
    def entity_id(self) -> str:
        return self.appointment_id

    @property
    def pk(self) -> str:
        return patient_pk(self.clinic_id, self.patient_id)

    @property
    def sk(self) -> str:
        return APPOINTMENT_SORT.render(startTime=self.start_time, appointmentId=self.appointment_id)

    def phi(self) -> dict[str, Any]:
        return {"reason": self.reason}


@dataclass(frozen=True, kw_only=True)
class Note:
    """A SOAP note written by a provider for an appointment."""

    entity_type: ClassVar[EntityType] = EntityType.NOTE
    phi_fields: ClassVar[tuple[str, ...]] = ("subjective", "objective", "assessment", "plan")
    clinic_id: str
    patient_id: str
    note_id: str
    appointment_id: str
    provider_id: str
    status: NoteStatus
    created_at: str
    signed_at: str | None
    subjective: str
    objective: str
    assessment: str
    plan: str

    @property
    def entity_id(self) -> str:
        return self.note_id

    @property
    def pk(self) -> str:
        return patient_pk(self.clinic_id, self.patient_id)

    @property
    def sk(self) -> str:
        return NOTE_SORT.render(createdAt=self.created_at, noteId=self.note_id)

    def phi(self) -> dict[str, Any]:
        return {
            "subjective": self.subjective,
            "objective": self.objective,
            "assessment": self.assessment,
            "plan": self.plan,
        }


@dataclass(frozen=True, kw_only=True)
class LineItem:
    code: str
    description: str
    amount_cents: int


@dataclass(frozen=True, kw_only=True)
class Invoice:
    entity_type: ClassVar[EntityType] = EntityType.INVOICE
    #: Line items name procedures (CPT codes and descriptions): health information, so PHI.
    phi_fields: ClassVar[tuple[str, ...]] = ("lineItems",)
    clinic_id: str
    patient_id: str
    invoice_id: str
    appointment_id: str
    provider_id: str
    status: InvoiceStatus
    issued_at: str
    due_date: str
    currency: str
    line_items: tuple[LineItem, ...]

    @property
    def entity_id(self) -> str:
        return self.invoice_id

    @property
    def pk(self) -> str:
        return patient_pk(self.clinic_id, self.patient_id)

    @property
    def sk(self) -> str:
        return INVOICE_SORT.render(issuedAt=self.issued_at, invoiceId=self.invoice_id)

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.line_items)

    def phi(self) -> dict[str, Any]:
        return {
            "lineItems": [
                {"code": li.code, "description": li.description, "amountCents": li.amount_cents}
                for li in self.line_items
            ]
        }


#: The attribute naming who wrote an item (read by functions/stream_consumer for the audit trail).
WRITTEN_BY_ATTRIBUTE = "writtenBy"

AnyEntity = Clinic | User | Patient | Appointment | Note | Invoice

#: Entities whose items carry an encrypted ``phi`` attribute, and the fields inside it.
PHI_FIELDS: dict[EntityType, tuple[str, ...]] = {
    EntityType.PATIENT: Patient.phi_fields,
    EntityType.APPOINTMENT: Appointment.phi_fields,
    EntityType.NOTE: Note.phi_fields,
    EntityType.INVOICE: Invoice.phi_fields,
}


def item_context(entity: AnyEntity) -> ItemContext:
    """The encryption context of ``entity``'s PHI message: clinic, entity type and item key."""
    return ItemContext(
        clinic_id=entity.clinic_id, entity_type=entity.entity_type, pk=entity.pk, sk=entity.sk
    )


@dataclass(frozen=True, kw_only=True)
class ItemCodec:
    """Turns entities into DynamoDB items (plain Python values, as boto3's TypeSerializer takes)
    and back, encrypting PHI and computing beacons on the way."""

    cipher: PhiCipher | ClinicKeyring
    beacons: BeaconKeyring
    #: The table's TTL attribute (``cfg.table.ttl_attribute``).
    ttl_attribute: str
    #: Who writes these items (a user id, a service or a script): every item carries it in
    #: ``writtenBy``, so the audit trail's stream consumer can name the principal of each write.
    written_by: str

    def items(self, entity: AnyEntity) -> list[dict[str, Any]]:
        """The entity's item, followed by its lookup items (patients only)."""
        item: dict[str, Any] = {
            **BASE_TABLE.key(entity.pk, entity.sk),
            ENTITY_TYPE_ATTRIBUTE: str(entity.entity_type),
            "clinicId": entity.clinic_id,
            WRITTEN_BY_ATTRIBUTE: self.written_by,
        }
        extra: list[dict[str, Any]] = []
        if isinstance(entity, Clinic):
            item.update(gsi1(entity.entity_type, entity.clinic_id, entity.clinic_id))
            item.update(name=entity.name, timezone=entity.timezone, createdAt=entity.created_at)
            item[BEACON_KEY_ATTRIBUTE] = self.beacons.wrapped_root_key(entity.clinic_id)
        elif isinstance(entity, User):
            item.update(gsi1(entity.entity_type, entity.clinic_id, entity.user_id))
            item.update(
                gsi4(
                    USER_ROLE_PARTITION.render(clinicId=entity.clinic_id, role=entity.role),
                    entity.created_at,
                    entity.user_id,
                )
            )
            item.update(gsi5(user_email_key(entity.email), entity.entity_type))
            item.update(
                userId=entity.user_id,
                role=str(entity.role),
                email=normalize_staff_email(entity.email),
                displayName=entity.display_name,
                status=str(entity.status),
                createdAt=entity.created_at,
                updatedAt=entity.created_at,
            )
            if entity.expires_at is not None:
                item[self.ttl_attribute] = entity.expires_at
        elif isinstance(entity, Patient):
            item.update(gsi1(entity.entity_type, entity.clinic_id, entity.patient_id))
            item.update(
                patientId=entity.patient_id,
                createdAt=entity.created_at,
                updatedAt=entity.created_at,
            )
            extra = self.patient_lookup_items(entity)
        elif isinstance(entity, Appointment):
            aid = entity.appointment_id
            item.update(gsi1(entity.entity_type, entity.clinic_id, aid))
            cid = entity.clinic_id
            item.update(gsi2(cid, entity.patient_id, entity.entity_type, entity.start_time, aid))
            item.update(gsi3(cid, entity.provider_id, entity.start_time, aid))
            status = APPOINTMENT_STATUS_PARTITION.render(clinicId=cid, status=entity.status)
            item.update(gsi4(status, entity.start_time, aid))
            item.update(
                patientId=entity.patient_id,
                appointmentId=aid,
                providerId=entity.provider_id,
                startTime=entity.start_time,
                endTime=entity.end_time,
                status=str(entity.status),
                appointmentType=str(entity.appointment_type),
                createdAt=entity.created_at,
                updatedAt=entity.created_at,
            )
        elif isinstance(entity, Note):
            nid = entity.note_id
            item.update(gsi1(entity.entity_type, entity.clinic_id, nid))
            cid = entity.clinic_id
            item.update(gsi2(cid, entity.patient_id, entity.entity_type, entity.created_at, nid))
            item.update(
                patientId=entity.patient_id,
                noteId=nid,
                appointmentId=entity.appointment_id,
                providerId=entity.provider_id,
                status=str(entity.status),
                createdAt=entity.created_at,
                updatedAt=entity.signed_at or entity.created_at,
            )
            if entity.signed_at is not None:
                item["signedAt"] = entity.signed_at
        else:
            iid = entity.invoice_id
            item.update(gsi1(entity.entity_type, entity.clinic_id, iid))
            item.update(
                gsi2(entity.clinic_id, entity.patient_id, entity.entity_type, entity.issued_at, iid)
            )
            # Invoices use the design's STATE# partition, so their work queues never mix with
            # appointment statuses; ordered by due date, so "due before" is a range condition.
            state = INVOICE_STATE_PARTITION.render(clinicId=entity.clinic_id, state=entity.status)
            item.update(gsi4(state, entity.due_date, iid))
            item.update(
                patientId=entity.patient_id,
                invoiceId=iid,
                appointmentId=entity.appointment_id,
                providerId=entity.provider_id,
                status=str(entity.status),
                issuedAt=entity.issued_at,
                dueDate=entity.due_date,
                totalCents=entity.total_cents,
                currency=entity.currency,
                updatedAt=entity.issued_at,
            )
        if not isinstance(entity, Clinic | User):
            item[PHI_ATTRIBUTE] = self.cipher.encrypt(entity.phi(), item_context(entity))
        return [item, *extra]

    def patient_lookup_items(self, patient: Patient) -> list[dict[str, Any]]:
        """One key-only item per PHI identifier: its GSI5 key is the identifier's beacon."""
        identifiers: list[tuple[str, IdentifierKind, str, str | None]] = [
            (LOOKUP_EMAIL_SORT.render(), IdentifierKind.EMAIL, patient.email, None),
            (LOOKUP_PHONE_SORT.render(), IdentifierKind.PHONE, patient.phone, None),
            *(
                (LOOKUP_EXTERNAL_SORT.render(system=system), IdentifierKind.EXTERNAL, value, system)
                for system, value in sorted(patient.external_ids.items())
            ),
        ]
        return [
            {
                **BASE_TABLE.key(patient.pk, sort_key),
                ENTITY_TYPE_ATTRIBUTE: LOOKUP_ENTITY_TYPE,
                "clinicId": patient.clinic_id,
                "patientId": patient.patient_id,
                WRITTEN_BY_ATTRIBUTE: self.written_by,
                **gsi5(
                    self.beacons.lookup_key(patient.clinic_id, kind, value, system=system),
                    EntityType.PATIENT,
                ),
            }
            for sort_key, kind, value, system in identifiers
        ]

    def decrypt_phi(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """The PHI fields of a stored item (boto3 resource-style values: ``phi`` as bytes)."""
        blob = item[PHI_ATTRIBUTE]
        ciphertext = bytes(blob.value if hasattr(blob, "value") else blob)
        context = ItemContext(
            clinic_id=str(item["clinicId"]),
            entity_type=str(item[ENTITY_TYPE_ATTRIBUTE]),
            pk=str(item[PARTITION_KEY]),
            sk=str(item[SORT_KEY]),
        )
        return self.cipher.decrypt(ciphertext, context)
