"""The access-pattern catalog: every read the app makes, as one DynamoDB Query on a declared index.

Each :class:`AccessPattern` names its index (``None`` = the base table), its key condition, the
parameters it takes and an example. :func:`query_request` turns a pattern and parameter values into
the boto3 ``Query`` request. The catalog drives the seed generator's checks, the tests (each
pattern returns exactly the expected items with one Query) and ``docs/access-patterns.md``.

Tenant scoping: base-table keys, GSI1 and GSI4 sort keys begin with the clinic, and GSI5 beacons
are keyed per clinic. GSI2 and GSI3 are keyed by globally unique patient and provider ids, so those
patterns also filter on ``clinicId`` (projected on both indexes), so that an id from another clinic
returns nothing even if the caller passes one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from datalayer.beacons import BeaconKeyring, IdentifierKind
from datalayer.entities import (
    LOOKUP_ENTITY_TYPE,
    AppointmentStatus,
    EntityType,
    InvoiceStatus,
    Role,
    clinic_pk,
    patient_pk,
    user_email_key,
)

Params = Mapping[str, str]
#: Builds the expression values from the parameters (and the beacon keyring for PHI lookups).
ValueBuilder = Callable[[Params, BeaconKeyring | None], dict[str, str]]


class AccessPatternError(ValueError):
    """A pattern was asked for with missing, unknown or invalid parameters."""


@dataclass(frozen=True, kw_only=True)
class AccessPattern:
    name: str
    description: str
    #: GSI name, or None for the base table.
    index: str | None
    key_condition: str
    #: Applied after the key condition (tenant guard on GSI2/GSI3); only projected attributes.
    filter: str | None
    parameters: tuple[str, ...]
    example: Mapping[str, str]
    #: Entity types of the items the query returns.
    returns: tuple[str, ...]
    #: Non-key attributes the caller reads from the index's items (prod projections must hold
    #: them; KEYS_ONLY indexes return keys, then the caller reads the items with BatchGetItem).
    reads: tuple[str, ...]
    values: ValueBuilder
    #: True when a parameter is a PHI identifier that is beaconed before the query.
    uses_beacon: bool = False

    @property
    def target(self) -> str:
        return self.index or "table"


def _begins(prefix: Callable[[Params], str], pk: Callable[[Params], str]) -> ValueBuilder:
    return lambda p, _b: {":pk": pk(p), ":prefix": prefix(p)}


def _between(
    pk: Callable[[Params], str], low: Callable[[Params], str], high: Callable[[Params], str]
) -> ValueBuilder:
    return lambda p, _b: {":pk": pk(p), ":from": low(p), ":to": high(p)}


def _with_clinic(builder: ValueBuilder) -> ValueBuilder:
    return lambda p, b: {**builder(p, b), ":clinicId": p["clinicId"]}


def _beacon_lookup(kind: IdentifierKind, value_param: str, system: bool = False) -> ValueBuilder:
    def build(p: Params, beacons: BeaconKeyring | None) -> dict[str, str]:
        if beacons is None:
            raise AccessPatternError("this lookup hashes a PHI identifier: pass a BeaconKeyring")
        key = beacons.lookup_key(
            p["clinicId"], kind, p[value_param], system=p["system"] if system else None
        )
        return {":pk": key, ":type": EntityType.PATIENT}

    return build


_SCHEDULE_READS = (
    "entityType",
    "clinicId",
    "patientId",
    "providerId",
    "status",
    "endTime",
    "appointmentType",
)
_QUEUE_READS = ("entityType", "clinicId", "patientId", "providerId", "status")

CATALOG: tuple[AccessPattern, ...] = (
    AccessPattern(
        name="clinic_patients",
        description="A clinic's patients (the patient list), in id order.",
        index="ByEntityType",
        key_condition="GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
        filter=None,
        parameters=("clinicId",),
        example={"clinicId": "4f1c0c1e-clinic"},
        returns=(EntityType.PATIENT,),
        reads=(),
        values=_begins(lambda p: f"{p['clinicId']}#", lambda p: f"ENTITY#{EntityType.PATIENT}"),
    ),
    AccessPattern(
        name="clinic_entities_of_type",
        description="All entities of one type in a clinic (staff list, exports, admin views).",
        index="ByEntityType",
        key_condition="GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
        filter=None,
        parameters=("clinicId", "entityType"),
        example={"clinicId": "4f1c0c1e-clinic", "entityType": "INVOICE"},
        returns=tuple(EntityType),
        reads=(),
        values=_begins(lambda p: f"{p['clinicId']}#", lambda p: f"ENTITY#{p['entityType']}"),
    ),
    AccessPattern(
        name="patient_timeline",
        description="A patient's timeline: appointments, notes and invoices, grouped by type "
        "and in time order within each type.",
        index="ByPatient",
        key_condition="GSI2PK = :pk",
        filter="clinicId = :clinicId",
        parameters=("clinicId", "patientId"),
        example={"clinicId": "4f1c0c1e-clinic", "patientId": "9a7e-patient"},
        returns=(EntityType.APPOINTMENT, EntityType.NOTE, EntityType.INVOICE),
        reads=("entityType", "status", "phi"),
        values=_with_clinic(lambda p, _b: {":pk": f"PATIENT#{p['patientId']}"}),
    ),
    AccessPattern(
        name="patient_appointments",
        description="A patient's appointments in time order (past and upcoming visits).",
        index="ByPatient",
        key_condition="GSI2PK = :pk AND begins_with(GSI2SK, :prefix)",
        filter="clinicId = :clinicId",
        parameters=("clinicId", "patientId"),
        example={"clinicId": "4f1c0c1e-clinic", "patientId": "9a7e-patient"},
        returns=(EntityType.APPOINTMENT,),
        reads=("startTime", "endTime", "status", "providerId", "phi"),
        values=_with_clinic(
            _begins(lambda p: f"{EntityType.APPOINTMENT}#", lambda p: f"PATIENT#{p['patientId']}")
        ),
    ),
    AccessPattern(
        name="provider_schedule",
        description="A provider's appointments starting in [from, to) (the schedule grid).",
        index="ByProviderTime",
        key_condition="GSI3PK = :pk AND GSI3SK BETWEEN :from AND :to",
        filter="clinicId = :clinicId",
        parameters=("clinicId", "providerId", "from", "to"),
        example={
            "clinicId": "4f1c0c1e-clinic",
            "providerId": "77d2-doctor",
            "from": "2026-11-23T00:00:00Z",
            "to": "2026-11-30T00:00:00Z",
        },
        returns=(EntityType.APPOINTMENT,),
        reads=_SCHEDULE_READS,
        # "<to>" sorts before "<to>#<id>", so an appointment starting exactly at `to` is excluded.
        values=_with_clinic(
            _between(
                lambda p: f"PROVIDER#{p['providerId']}", lambda p: p["from"], lambda p: p["to"]
            )
        ),
    ),
    AccessPattern(
        name="appointments_by_status",
        description="A clinic's appointments in one status (e.g. unconfirmed visits), by start.",
        index="ByStatus",
        key_condition="GSI4PK = :pk AND begins_with(GSI4SK, :prefix)",
        filter=None,
        parameters=("clinicId", "status"),
        example={"clinicId": "4f1c0c1e-clinic", "status": AppointmentStatus.SCHEDULED},
        returns=(EntityType.APPOINTMENT,),
        reads=_QUEUE_READS,
        values=_begins(lambda p: f"{p['clinicId']}#", lambda p: f"STATUS#{p['status']}"),
    ),
    AccessPattern(
        name="appointments_by_status_in_range",
        description="A clinic's appointments in one status starting in [from, to) "
        "(e.g. tomorrow's visits to confirm).",
        index="ByStatus",
        key_condition="GSI4PK = :pk AND GSI4SK BETWEEN :from AND :to",
        filter=None,
        parameters=("clinicId", "status", "from", "to"),
        example={
            "clinicId": "4f1c0c1e-clinic",
            "status": AppointmentStatus.CONFIRMED,
            "from": "2026-11-25T00:00:00Z",
            "to": "2026-11-26T00:00:00Z",
        },
        returns=(EntityType.APPOINTMENT,),
        reads=_QUEUE_READS,
        values=_between(
            lambda p: f"STATUS#{p['status']}",
            lambda p: f"{p['clinicId']}#{p['from']}",
            lambda p: f"{p['clinicId']}#{p['to']}",
        ),
    ),
    AccessPattern(
        name="invoices_by_status",
        description="A clinic's invoices in one status (e.g. open or overdue), by due date.",
        index="ByStatus",
        key_condition="GSI4PK = :pk AND begins_with(GSI4SK, :prefix)",
        filter=None,
        parameters=("clinicId", "status"),
        example={"clinicId": "4f1c0c1e-clinic", "status": InvoiceStatus.OPEN},
        returns=(EntityType.INVOICE,),
        reads=(*_QUEUE_READS, "totalCents", "dueDate", "updatedAt"),
        values=_begins(lambda p: f"{p['clinicId']}#", lambda p: f"STATE#{p['status']}"),
    ),
    AccessPattern(
        name="users_by_role",
        description="A clinic's users with one role (e.g. the providers for a schedule picker).",
        index="ByStatus",
        key_condition="GSI4PK = :pk AND begins_with(GSI4SK, :prefix)",
        filter=None,
        parameters=("clinicId", "role"),
        example={"clinicId": "4f1c0c1e-clinic", "role": Role.DOCTOR},
        returns=(EntityType.USER,),
        reads=("entityType", "clinicId", "status", "updatedAt"),
        values=_begins(lambda p: f"{p['clinicId']}#", lambda p: f"ROLE#{p['role']}"),
    ),
    AccessPattern(
        name="patient_by_email",
        description="The patient with this email in a clinic (beaconed: the email is never "
        "stored); returns the lookup item, whose PK is the patient's partition.",
        index="ExternalIDs",
        key_condition="GSI5PK = :pk AND GSI5SK = :type",
        filter=None,
        parameters=("clinicId", "email"),
        example={"clinicId": "4f1c0c1e-clinic", "email": "Avery.Example@example.test"},
        returns=(LOOKUP_ENTITY_TYPE,),
        reads=(),
        values=_beacon_lookup(IdentifierKind.EMAIL, "email"),
        uses_beacon=True,
    ),
    AccessPattern(
        name="patient_by_phone",
        description="The patient with this phone number in a clinic (beaconed, E.164).",
        index="ExternalIDs",
        key_condition="GSI5PK = :pk AND GSI5SK = :type",
        filter=None,
        parameters=("clinicId", "phone"),
        example={"clinicId": "4f1c0c1e-clinic", "phone": "(555) 555-0142"},
        returns=(LOOKUP_ENTITY_TYPE,),
        reads=(),
        values=_beacon_lookup(IdentifierKind.PHONE, "phone"),
        uses_beacon=True,
    ),
    AccessPattern(
        name="patient_by_external_id",
        description="The patient with this id in another system (e.g. an EHR's MRN; beaconed).",
        index="ExternalIDs",
        key_condition="GSI5PK = :pk AND GSI5SK = :type",
        filter=None,
        parameters=("clinicId", "system", "externalId"),
        example={"clinicId": "4f1c0c1e-clinic", "system": "ehr-mrn", "externalId": "MRN-0042"},
        returns=(LOOKUP_ENTITY_TYPE,),
        reads=(),
        values=_beacon_lookup(IdentifierKind.EXTERNAL, "externalId", system=True),
        uses_beacon=True,
    ),
    AccessPattern(
        name="user_by_email",
        description="Sign-in: the user records of a staff email, across clinics (staff emails "
        "are not PHI and are stored normalized).",
        index="ExternalIDs",
        key_condition="GSI5PK = :pk AND GSI5SK = :type",
        filter=None,
        parameters=("email",),
        example={"email": "dr.rivera@clinic.example.test"},
        returns=(EntityType.USER,),
        reads=(),
        values=lambda p, _b: {":pk": user_email_key(p["email"]), ":type": EntityType.USER},
    ),
    AccessPattern(
        name="clinic_users",
        description="A clinic's users from the clinic's own partition (can be read strongly "
        "consistent, e.g. right after an admin change).",
        index=None,
        key_condition="PK = :pk AND begins_with(SK, :prefix)",
        filter=None,
        parameters=("clinicId",),
        example={"clinicId": "4f1c0c1e-clinic"},
        returns=(EntityType.USER,),
        reads=("role", "email", "displayName", "status"),
        values=_begins(lambda p: "USER#", lambda p: clinic_pk(p["clinicId"])),
    ),
    AccessPattern(
        name="patient_notes",
        description="A patient's SOAP notes, oldest first (base table, patient's partition).",
        index=None,
        key_condition="PK = :pk AND begins_with(SK, :prefix)",
        filter=None,
        parameters=("clinicId", "patientId"),
        example={"clinicId": "4f1c0c1e-clinic", "patientId": "9a7e-patient"},
        returns=(EntityType.NOTE,),
        reads=("status", "providerId", "appointmentId", "phi"),
        values=_begins(
            lambda p: f"{EntityType.NOTE}#", lambda p: patient_pk(p["clinicId"], p["patientId"])
        ),
    ),
    AccessPattern(
        name="patient_invoices",
        description="A patient's invoices, oldest first (base table, patient's partition).",
        index=None,
        key_condition="PK = :pk AND begins_with(SK, :prefix)",
        filter=None,
        parameters=("clinicId", "patientId"),
        example={"clinicId": "4f1c0c1e-clinic", "patientId": "9a7e-patient"},
        returns=(EntityType.INVOICE,),
        reads=("status", "totalCents", "dueDate", "phi"),
        values=_begins(
            lambda p: f"{EntityType.INVOICE}#",
            lambda p: patient_pk(p["clinicId"], p["patientId"]),
        ),
    ),
)

PATTERNS: dict[str, AccessPattern] = {pattern.name: pattern for pattern in CATALOG}

_ENUM_PARAMETERS: dict[str, tuple[str, ...]] = {
    "entityType": tuple(EntityType),
    "role": tuple(Role),
}


def query_request(
    pattern: AccessPattern | str,
    table_name: str,
    params: Params,
    *,
    beacons: BeaconKeyring | None = None,
) -> dict[str, Any]:
    """The boto3 ``Query`` keyword arguments for ``pattern`` with ``params``."""
    if isinstance(pattern, str):
        if pattern not in PATTERNS:
            raise AccessPatternError(
                f"unknown access pattern '{pattern}'; patterns: {', '.join(PATTERNS)}"
            )
        pattern = PATTERNS[pattern]
    missing = [p for p in pattern.parameters if not str(params.get(p, "")).strip()]
    unknown = sorted(set(params) - set(pattern.parameters))
    if missing or unknown:
        raise AccessPatternError(
            f"{pattern.name}: "
            + "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unknown {', '.join(unknown)}" if unknown else "",
                )
                if part
            )
            + f" (takes {', '.join(pattern.parameters)})"
        )
    for name, allowed in _ENUM_PARAMETERS.items():
        if name in params and params[name] not in allowed:
            raise AccessPatternError(
                f"{pattern.name}: {name} '{params[name]}' is not one of {', '.join(allowed)}"
            )
    if "status" in params:
        statuses = (
            tuple(InvoiceStatus)
            if EntityType.INVOICE in pattern.returns
            else tuple(AppointmentStatus)
        )
        if params["status"] not in statuses:
            raise AccessPatternError(
                f"{pattern.name}: status '{params['status']}' is not one of {', '.join(statuses)}"
            )
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeyConditionExpression": pattern.key_condition,
        "ExpressionAttributeValues": {
            name: {"S": str(value)} for name, value in pattern.values(params, beacons).items()
        },
    }
    if pattern.index is not None:
        request["IndexName"] = pattern.index
    if pattern.filter is not None:
        request["FilterExpression"] = pattern.filter
    return request


def run_query(dynamodb_client: Any, request: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every item of a Query (following LastEvaluatedKey), as low-level attribute values."""
    items: list[dict[str, Any]] = []
    for page in dynamodb_client.get_paginator("query").paginate(**request):
        items.extend(page["Items"])
    return items
