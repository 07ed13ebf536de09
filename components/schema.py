"""The app table's key schema: the single-table design from the design document.

These names are the contract between the Pulumi table, the policy pack, the local tooling and the
application. Changing an attribute or index name here replaces the index (or the table) in AWS.
"""

from __future__ import annotations

from dataclasses import dataclass

PARTITION_KEY = "PK"
SORT_KEY = "SK"


@dataclass(frozen=True, kw_only=True)
class GlobalIndex:
    """One GSI of the app table, with the key formats the design gives it."""

    number: int
    name: str
    partition_key_formats: tuple[str, ...]
    sort_key_format: str
    serves: str

    @property
    def partition_key(self) -> str:
        return f"GSI{self.number}PK"

    @property
    def sort_key(self) -> str:
        return f"GSI{self.number}SK"


GLOBAL_INDEXES: tuple[GlobalIndex, ...] = (
    GlobalIndex(
        number=1,
        name="ByEntityType",
        partition_key_formats=("ENTITY#{entityType}",),
        sort_key_format="{clinicId}#{entityId}",
        serves="all entities of a type in a clinic (patient list, staff list)",
    ),
    GlobalIndex(
        number=2,
        name="ByPatient",
        partition_key_formats=("PATIENT#{patientId}",),
        sort_key_format="{entityType}#{timestamp}#{entityId}",
        serves="a patient's timeline: appointments, notes, invoices in time order",
    ),
    GlobalIndex(
        number=3,
        name="ByProviderTime",
        partition_key_formats=("PROVIDER#{providerId}",),
        sort_key_format="{startTime}#{appointmentId}",
        serves="a provider's schedule in a time range",
    ),
    GlobalIndex(
        number=4,
        name="ByStatus",
        partition_key_formats=("STATUS#{status}", "STATE#{state}", "ROLE#{role}"),
        sort_key_format="{clinicId}#{timestamp}#{entityId}",
        serves="work queues: appointments or invoices by status, users by role",
    ),
    GlobalIndex(
        number=5,
        name="ExternalIDs",
        partition_key_formats=("EMAIL#{email}", "PHONE#{phone}", "EXTERNAL#{systemName}#{id}"),
        sort_key_format="{entityType}",
        serves="exact lookup by email, phone or an external system's id",
    ),
)

GLOBAL_INDEX_NAMES: tuple[str, ...] = tuple(index.name for index in GLOBAL_INDEXES)

#: Every key attribute of the table and its indexes; all are strings.
KEY_ATTRIBUTES: tuple[str, ...] = (
    PARTITION_KEY,
    SORT_KEY,
    *(attr for index in GLOBAL_INDEXES for attr in (index.partition_key, index.sort_key)),
)
