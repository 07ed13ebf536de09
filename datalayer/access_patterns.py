"""The access-pattern catalog: every read the app makes, as one DynamoDB Query on a declared index.

Each :class:`AccessPattern` names its index (the base table or a GSI of
:mod:`stackspec.key_schema`), the key formats its key condition selects on (so the condition and
its values are built from the key schema, never spelled out here), the parameters it takes and an
example. :func:`query_request` turns a pattern and parameter values into the boto3 ``Query``
request. The catalog drives the seed generator's checks, the tests (each pattern returns exactly
the expected items with one Query) and ``docs/access-patterns.md``.

Tenant boundary: every tenant pattern's partition key begins with ``CLINIC#<clinicId>`` (the
table's and every index's), so the tenant role's ``dynamodb:LeadingKeys`` condition confines it
to the caller's clinic: IAM, not this code, refuses another clinic's key. A pattern that is
cross-tenant by nature (``cross_tenant=True``: a staff sign-in email, before the clinic is known)
has no clinic to confine it to and runs under the operations role only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from datalayer.beacons import LOOKUP_KEY_FORMATS, BeaconKeyring, IdentifierKind
from datalayer.entities import (
    LOOKUP_ENTITY_TYPE,
    AppointmentStatus,
    EntityType,
    InvoiceStatus,
    Role,
    normalize_staff_email,
)
from stackspec.key_schema import (
    APPOINTMENT_STATUS_PARTITION,
    BASE_TABLE,
    BY_ENTITY_TYPE,
    BY_PATIENT,
    BY_PROVIDER_TIME,
    BY_STATUS,
    CLINIC_PARTITION,
    ENTITY_TYPE_PARTITION,
    EXTERNAL_IDS,
    INVOICE_SORT,
    INVOICE_STATE_PARTITION,
    LOOKUP_ENTITY_TYPE_SORT,
    NOTE_SORT,
    PATIENT_PARTITION,
    PATIENT_TIMELINE_PARTITION,
    PATIENT_TIMELINE_SORT,
    PROVIDER_PARTITION,
    PROVIDER_SCHEDULE_SORT,
    QUEUE_SORT,
    STAFF_EMAIL_LOOKUP,
    USER_ROLE_PARTITION,
    USER_SORT,
    Index,
    KeyFormat,
)

Params = Mapping[str, str]
#: The fields of a key format, taken from a pattern's parameters.
Fields = Callable[[Params], Mapping[str, str]]


class AccessPatternError(ValueError):
    """A pattern was asked for with missing, unknown or invalid parameters."""


def _same(*names: str) -> Fields:
    """Fields named like the parameters they come from."""
    return lambda p: {name: p[name] for name in names}


def _no_fields(_p: Params) -> Mapping[str, str]:
    return {}


@dataclass(frozen=True)
class PartitionIs:
    """``<partition key> = :pk``, the key ``format`` renders from the parameters."""

    format: KeyFormat
    fields: Fields

    def value(self, params: Params, _beacons: BeaconKeyring | None) -> str:
        return self.format.render(**self.fields(params))


@dataclass(frozen=True)
class PartitionIsBeacon:
    """``<partition key> = :pk``, the clinic's beacon of a PHI identifier parameter."""

    kind: IdentifierKind
    value_param: str

    @property
    def format(self) -> KeyFormat:
        return LOOKUP_KEY_FORMATS[self.kind]

    def value(self, params: Params, beacons: BeaconKeyring | None) -> str:
        if beacons is None:
            raise AccessPatternError("this lookup hashes a PHI identifier: pass a BeaconKeyring")
        system = params["system"] if self.kind is IdentifierKind.EXTERNAL else None
        return beacons.lookup_key(
            params["clinicId"], self.kind, params[self.value_param], system=system
        )


@dataclass(frozen=True)
class SortBeginsWith:
    """``begins_with(<sort key>, :prefix)``: keys whose leading fields are the given ones."""

    format: KeyFormat
    fields: Fields

    def condition(self, attribute: str) -> str:
        return f"begins_with({attribute}, :prefix)"

    def values(self, params: Params) -> dict[str, str]:
        return {":prefix": self.format.prefix(**self.fields(params))}


@dataclass(frozen=True)
class SortBetween:
    """``<sort key> BETWEEN :from AND :to``: a field's values in [low, high) (range bounds)."""

    format: KeyFormat
    low: Fields
    high: Fields

    def condition(self, attribute: str) -> str:
        return f"{attribute} BETWEEN :from AND :to"

    def values(self, params: Params) -> dict[str, str]:
        return {
            ":from": self.format.range_bound(**self.low(params)),
            ":to": self.format.range_bound(**self.high(params)),
        }


@dataclass(frozen=True)
class SortIs:
    """``<sort key> = :type``: one exact sort key (GSI5's entity type, hence the name)."""

    format: KeyFormat
    fields: Fields

    def condition(self, attribute: str) -> str:
        return f"{attribute} = :type"

    def values(self, params: Params) -> dict[str, str]:
        return {":type": self.format.render(**self.fields(params))}


@dataclass(frozen=True, kw_only=True)
class AccessPattern:
    name: str
    description: str
    #: The base table or a GSI of :mod:`stackspec.key_schema`; its attributes name the keys.
    index: Index
    partition: PartitionIs | PartitionIsBeacon
    sort: SortBeginsWith | SortBetween | SortIs | None
    #: No clinic leads its key (cross-tenant by nature): the tenant role cannot run it, only the
    #: operations role.
    cross_tenant: bool = False
    parameters: tuple[str, ...]
    example: Mapping[str, str]
    #: Entity types of the items the query returns.
    returns: tuple[str, ...]
    #: Non-key attributes the caller reads from the index's items (prod projections must hold
    #: them; KEYS_ONLY indexes return keys, then the caller reads the items with BatchGetItem).
    reads: tuple[str, ...]

    def __post_init__(self) -> None:
        # A pattern can only query key formats its index holds; refuse the catalog otherwise.
        if self.partition.format not in self.index.partition_key_formats:
            raise ValueError(
                f"{self.name}: {self.partition.format} is not a partition format of {self.target}"
            )
        if self.sort is not None and self.sort.format not in self.index.sort_key_formats:
            raise ValueError(
                f"{self.name}: {self.sort.format} is not a sort format of {self.target}"
            )
        if not self.cross_tenant and not self.iam_confined:
            raise ValueError(
                f"{self.name}: a tenant pattern's partition key must begin with "
                f"{CLINIC_PARTITION.template} (IAM LeadingKeys confines nothing else); "
                f"{self.partition.format} does not"
            )

    @property
    def iam_confined(self) -> bool:
        """Whether the partition key leads with the clinic, so ``dynamodb:LeadingKeys`` of the
        tenant role confines the query to the caller's clinic."""
        return self.partition.format.fields[:1] == ("clinicId",) and (
            self.partition.format.template.startswith(CLINIC_PARTITION.template)
        )

    @property
    def boundary(self) -> str:
        """How the tenant boundary of this pattern is enforced (the catalog's column)."""
        if self.cross_tenant:
            return "cross-tenant: operations role only (the tenant role cannot reach the key)"
        return (
            f"IAM: tenant role's dynamodb:LeadingKeys on {self.target} "
            f"(`{self.index.partition_key}` begins `CLINIC#<clinicId>`)"
        )

    @property
    def index_name(self) -> str | None:
        """The Query's IndexName; None for the base table."""
        return self.index.index_name

    @property
    def target(self) -> str:
        return self.index.index_name or "table"

    @property
    def key_condition(self) -> str:
        condition = f"{self.index.partition_key} = :pk"
        if self.sort is not None:
            condition += " AND " + self.sort.condition(self.index.sort_key)
        return condition

    @property
    def uses_beacon(self) -> bool:
        """True when a parameter is a PHI identifier that is beaconed before the query."""
        return isinstance(self.partition, PartitionIsBeacon)

    def values(self, params: Params, beacons: BeaconKeyring | None = None) -> dict[str, str]:
        """The expression attribute values of the query (plain strings)."""
        values = {":pk": self.partition.value(params, beacons)}
        if self.sort is not None:
            values.update(self.sort.values(params))
        return values


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
_PATIENT_LOOKUP = SortIs(LOOKUP_ENTITY_TYPE_SORT, lambda p: {"entityType": EntityType.PATIENT})

CATALOG: tuple[AccessPattern, ...] = (
    AccessPattern(
        name="clinic_patients",
        description="A clinic's patients (the patient list), in id order.",
        index=BY_ENTITY_TYPE,
        partition=PartitionIs(
            ENTITY_TYPE_PARTITION,
            lambda p: {"clinicId": p["clinicId"], "entityType": EntityType.PATIENT},
        ),
        sort=None,
        parameters=("clinicId",),
        example={"clinicId": "4f1c0c1e-clinic"},
        returns=(EntityType.PATIENT,),
        reads=(),
    ),
    AccessPattern(
        name="clinic_entities_of_type",
        description="All entities of one type in a clinic (staff list, exports, admin views).",
        index=BY_ENTITY_TYPE,
        partition=PartitionIs(ENTITY_TYPE_PARTITION, _same("clinicId", "entityType")),
        sort=None,
        parameters=("clinicId", "entityType"),
        example={"clinicId": "4f1c0c1e-clinic", "entityType": "INVOICE"},
        returns=tuple(EntityType),
        reads=(),
    ),
    AccessPattern(
        name="patient_timeline",
        description="A patient's timeline: appointments, notes and invoices, grouped by type "
        "and in time order within each type.",
        index=BY_PATIENT,
        partition=PartitionIs(PATIENT_TIMELINE_PARTITION, _same("clinicId", "patientId")),
        sort=None,
        parameters=("clinicId", "patientId"),
        example={"clinicId": "4f1c0c1e-clinic", "patientId": "9a7e-patient"},
        returns=(EntityType.APPOINTMENT, EntityType.NOTE, EntityType.INVOICE),
        reads=("entityType", "status", "phi"),
    ),
    AccessPattern(
        name="patient_appointments",
        description="A patient's appointments in time order (past and upcoming visits).",
        index=BY_PATIENT,
        partition=PartitionIs(PATIENT_TIMELINE_PARTITION, _same("clinicId", "patientId")),
        sort=SortBeginsWith(
            PATIENT_TIMELINE_SORT, lambda p: {"entityType": EntityType.APPOINTMENT}
        ),
        parameters=("clinicId", "patientId"),
        example={"clinicId": "4f1c0c1e-clinic", "patientId": "9a7e-patient"},
        returns=(EntityType.APPOINTMENT,),
        reads=("startTime", "endTime", "status", "providerId", "phi"),
    ),
    AccessPattern(
        name="provider_schedule",
        description="A provider's appointments starting in [from, to) (the schedule grid).",
        index=BY_PROVIDER_TIME,
        partition=PartitionIs(PROVIDER_PARTITION, _same("clinicId", "providerId")),
        # "<to>" sorts before "<to>#<id>", so an appointment starting exactly at `to` is excluded.
        sort=SortBetween(
            PROVIDER_SCHEDULE_SORT,
            low=lambda p: {"startTime": p["from"]},
            high=lambda p: {"startTime": p["to"]},
        ),
        parameters=("clinicId", "providerId", "from", "to"),
        example={
            "clinicId": "4f1c0c1e-clinic",
            "providerId": "77d2-doctor",
            "from": "2026-11-23T00:00:00Z",
            "to": "2026-11-30T00:00:00Z",
        },
        returns=(EntityType.APPOINTMENT,),
        reads=_SCHEDULE_READS,
    ),
    AccessPattern(
        name="appointments_by_status",
        description="A clinic's appointments in one status (e.g. unconfirmed visits), by start.",
        index=BY_STATUS,
        partition=PartitionIs(APPOINTMENT_STATUS_PARTITION, _same("clinicId", "status")),
        sort=None,
        parameters=("clinicId", "status"),
        example={"clinicId": "4f1c0c1e-clinic", "status": AppointmentStatus.SCHEDULED},
        returns=(EntityType.APPOINTMENT,),
        reads=_QUEUE_READS,
    ),
    AccessPattern(
        name="appointments_by_status_in_range",
        description="A clinic's appointments in one status starting in [from, to) "
        "(e.g. tomorrow's visits to confirm).",
        index=BY_STATUS,
        partition=PartitionIs(APPOINTMENT_STATUS_PARTITION, _same("clinicId", "status")),
        sort=SortBetween(
            QUEUE_SORT,
            low=lambda p: {"timestamp": p["from"]},
            high=lambda p: {"timestamp": p["to"]},
        ),
        parameters=("clinicId", "status", "from", "to"),
        example={
            "clinicId": "4f1c0c1e-clinic",
            "status": AppointmentStatus.CONFIRMED,
            "from": "2026-11-25T00:00:00Z",
            "to": "2026-11-26T00:00:00Z",
        },
        returns=(EntityType.APPOINTMENT,),
        reads=_QUEUE_READS,
    ),
    AccessPattern(
        name="invoices_by_status",
        description="A clinic's invoices in one status (e.g. open or overdue), by due date.",
        index=BY_STATUS,
        partition=PartitionIs(
            INVOICE_STATE_PARTITION, lambda p: {"clinicId": p["clinicId"], "state": p["status"]}
        ),
        sort=None,
        parameters=("clinicId", "status"),
        example={"clinicId": "4f1c0c1e-clinic", "status": InvoiceStatus.OPEN},
        returns=(EntityType.INVOICE,),
        reads=(*_QUEUE_READS, "totalCents", "dueDate", "updatedAt"),
    ),
    AccessPattern(
        name="users_by_role",
        description="A clinic's users with one role (e.g. the providers for a schedule picker).",
        index=BY_STATUS,
        partition=PartitionIs(USER_ROLE_PARTITION, _same("clinicId", "role")),
        sort=None,
        parameters=("clinicId", "role"),
        example={"clinicId": "4f1c0c1e-clinic", "role": Role.DOCTOR},
        returns=(EntityType.USER,),
        reads=("entityType", "clinicId", "status", "updatedAt"),
    ),
    AccessPattern(
        name="patient_by_email",
        description="The patient with this email in a clinic (beaconed: the email is never "
        "stored); returns the lookup item, whose PK is the patient's partition.",
        index=EXTERNAL_IDS,
        partition=PartitionIsBeacon(IdentifierKind.EMAIL, "email"),
        sort=_PATIENT_LOOKUP,
        parameters=("clinicId", "email"),
        example={"clinicId": "4f1c0c1e-clinic", "email": "Avery.Example@example.test"},
        returns=(LOOKUP_ENTITY_TYPE,),
        reads=(),
    ),
    AccessPattern(
        name="patient_by_phone",
        description="The patient with this phone number in a clinic (beaconed, E.164).",
        index=EXTERNAL_IDS,
        partition=PartitionIsBeacon(IdentifierKind.PHONE, "phone"),
        sort=_PATIENT_LOOKUP,
        parameters=("clinicId", "phone"),
        example={"clinicId": "4f1c0c1e-clinic", "phone": "(555) 555-0142"},
        returns=(LOOKUP_ENTITY_TYPE,),
        reads=(),
    ),
    AccessPattern(
        name="patient_by_external_id",
        description="The patient with this id in another system (e.g. an EHR's MRN; beaconed).",
        index=EXTERNAL_IDS,
        partition=PartitionIsBeacon(IdentifierKind.EXTERNAL, "externalId"),
        sort=_PATIENT_LOOKUP,
        parameters=("clinicId", "system", "externalId"),
        example={"clinicId": "4f1c0c1e-clinic", "system": "ehr-mrn", "externalId": "MRN-0042"},
        returns=(LOOKUP_ENTITY_TYPE,),
        reads=(),
    ),
    AccessPattern(
        name="user_by_email",
        description="Sign-in: the user records of a staff email, across clinics (staff emails "
        "are not PHI and are stored normalized).",
        index=EXTERNAL_IDS,
        partition=PartitionIs(
            STAFF_EMAIL_LOOKUP, lambda p: {"email": normalize_staff_email(p["email"])}
        ),
        sort=SortIs(LOOKUP_ENTITY_TYPE_SORT, lambda p: {"entityType": EntityType.USER}),
        cross_tenant=True,
        parameters=("email",),
        example={"email": "dr.rivera@clinic.example.test"},
        returns=(EntityType.USER,),
        reads=(),
    ),
    AccessPattern(
        name="clinic_users",
        description="A clinic's users from the clinic's own partition (can be read strongly "
        "consistent, e.g. right after an admin change).",
        index=BASE_TABLE,
        partition=PartitionIs(CLINIC_PARTITION, _same("clinicId")),
        sort=SortBeginsWith(USER_SORT, _no_fields),
        parameters=("clinicId",),
        example={"clinicId": "4f1c0c1e-clinic"},
        returns=(EntityType.USER,),
        reads=("role", "email", "displayName", "status"),
    ),
    AccessPattern(
        name="patient_notes",
        description="A patient's SOAP notes, oldest first (base table, patient's partition).",
        index=BASE_TABLE,
        partition=PartitionIs(PATIENT_PARTITION, _same("clinicId", "patientId")),
        sort=SortBeginsWith(NOTE_SORT, _no_fields),
        parameters=("clinicId", "patientId"),
        example={"clinicId": "4f1c0c1e-clinic", "patientId": "9a7e-patient"},
        returns=(EntityType.NOTE,),
        reads=("status", "providerId", "appointmentId", "phi"),
    ),
    AccessPattern(
        name="patient_invoices",
        description="A patient's invoices, oldest first (base table, patient's partition).",
        index=BASE_TABLE,
        partition=PartitionIs(PATIENT_PARTITION, _same("clinicId", "patientId")),
        sort=SortBeginsWith(INVOICE_SORT, _no_fields),
        parameters=("clinicId", "patientId"),
        example={"clinicId": "4f1c0c1e-clinic", "patientId": "9a7e-patient"},
        returns=(EntityType.INVOICE,),
        reads=("status", "totalCents", "dueDate", "phi"),
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
    if pattern.index_name is not None:
        request["IndexName"] = pattern.index_name
    return request


def run_query(dynamodb_client: Any, request: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every item of a Query (following LastEvaluatedKey), as low-level attribute values."""
    items: list[dict[str, Any]] = []
    for page in dynamodb_client.get_paginator("query").paginate(**request):
        items.extend(page["Items"])
    return items
