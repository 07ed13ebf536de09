"""The app table's key schema: key attribute names, each index's name and number, and the format
of every key value the table and its indexes hold.

The single definition of the single-table design's keys. The Pulumi table (attribute and index
names), IAM ``dynamodb:LeadingKeys`` conditions, and the data layer (which builds items' keys and
queries them) all read it, so it imports neither Pulumi, boto3 nor the data layer.

Changing an attribute or index name replaces the index (or the table) in AWS. Changing a format
orphans every item already stored under the old one: the tests compare every key against a
recording (``tests/datalayer/stored_keys.json``).

A format is a template of ``#``-separated segments, each either literal text or one ``{field}``:
``CLINIC#{clinicId}#PATIENT#{patientId}``. Field values may not contain ``#`` (so a key parses back
unambiguously and a crafted id cannot reach into another clinic's partition), except in the last
field of a format that declares ``last_field_takes_rest``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Separates the segments of every key value.
SEPARATOR = "#"

PARTITION_KEY = "PK"
SORT_KEY = "SK"

_FIELD = re.compile(r"^\{([A-Za-z][A-Za-z0-9]*)\}$")
_LITERAL = re.compile(r"^[A-Z][A-Z_]*$")


class KeyFormatError(ValueError):
    """A key cannot be built from the given fields, or a string is not a key of a format."""


@dataclass(frozen=True)
class KeyFormat:
    """One key format: renders a key from named fields, parses a key back into them, and builds
    the partial keys that queries and IAM conditions use (``prefix``, ``range_bound``,
    ``string_like``)."""

    template: str
    #: The last field may contain ``#`` and takes the rest of the key (a staff email does).
    last_field_takes_rest: bool = False
    #: Per segment: the field name, or None for a literal segment.
    _segments: tuple[tuple[str, str | None], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        segments: list[tuple[str, str | None]] = []
        for text in self.template.split(SEPARATOR):
            match = _FIELD.match(text)
            if match:
                segments.append((text, match.group(1)))
            elif _LITERAL.match(text):
                segments.append((text, None))
            else:
                raise KeyFormatError(
                    f"key format '{self.template}': segment '{text}' is neither an upper-case "
                    "literal nor one {field}"
                )
        names = [name for _, name in segments if name is not None]
        if len(set(names)) != len(names):
            raise KeyFormatError(f"key format '{self.template}' repeats a field")
        if self.last_field_takes_rest and segments[-1][1] is None:
            raise KeyFormatError(f"key format '{self.template}' does not end with a field")
        object.__setattr__(self, "_segments", tuple(segments))

    def __str__(self) -> str:
        return self.template

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields a key of this format needs, in key order."""
        return tuple(name for _, name in self._segments if name is not None)

    def render(self, **values: str) -> str:
        """The key with these field values; every field is required, no other is accepted."""
        self._check_names(values, "render")
        missing = [name for name in self.fields if name not in values]
        if missing:
            raise KeyFormatError(f"key format '{self.template}' needs field {', '.join(missing)}")
        return self._join(len(self._segments), values)

    def parse(self, key: str) -> dict[str, str]:
        """The field values of ``key``; KeyFormatError if ``key`` is not of this format."""
        parts = key.split(SEPARATOR)
        count = len(self._segments)
        if self.last_field_takes_rest and len(parts) > count:
            parts[count - 1 :] = [SEPARATOR.join(parts[count - 1 :])]
        if len(parts) == count and all(
            part == text if name is None else part
            for part, (text, name) in zip(parts, self._segments, strict=True)
        ):
            return {
                name: part
                for part, (_, name) in zip(parts, self._segments, strict=True)
                if name is not None
            }
        raise KeyFormatError(f"'{key}' is not a key of format '{self.template}'")

    def matches(self, key: str) -> bool:
        """Whether ``key`` is a key of this format."""
        try:
            self.parse(key)
        except KeyFormatError:
            return False
        return True

    def prefix(self, **values: str) -> str:
        """The ``begins_with`` value that selects every key whose leading fields are ``values``:
        the segments up to the first field not given, ending with the separator, so that clinic
        ``c1`` never selects clinic ``c10``."""
        count = self._leading(values, "prefix")
        if count == len(self._segments):
            raise KeyFormatError(
                f"prefix of key format '{self.template}' needs at least one field left open; "
                "a complete key is render()"
            )
        if not count:
            # DynamoDB refuses an empty begins_with value; a query needs a leading field here.
            raise KeyFormatError(
                f"prefix of key format '{self.template}' needs field {self.fields[0]}"
            )
        return self._join(count, values) + SEPARATOR

    def range_bound(self, **values: str) -> str:
        """A ``BETWEEN`` bound: the segments through the last given field, without what follows.
        ``a#b`` sorts before every key ``a#b#...``, so ``BETWEEN bound(t=x) AND bound(t=y)``
        selects keys whose field t is in [x, y). Exact while field values hold no character that
        sorts below ``#`` (space, ``!``, ``"``); ISO timestamps and ids hold none."""
        self._leading(values, "range_bound")
        if not values:
            raise KeyFormatError(
                f"range_bound of key format '{self.template}' needs field "
                + (self.fields[0] if self.fields else "(it has none)")
            )
        last = max(i for i, (_, name) in enumerate(self._segments) if name in values)
        return self._join(last + 1, values)

    def string_like(self, **values: str) -> str:
        """An IAM ``StringLike`` pattern: the leading fields given, then ``*`` for the rest (the
        whole key when every field is given). Values may be policy variables such as
        ``${aws:PrincipalTag/clinicId}``."""
        count = self._leading(values, "string_like")
        if not values:
            # A pattern that fixes no field confines nothing: never hand IAM one by accident.
            raise KeyFormatError(
                f"string_like of key format '{self.template}' needs field "
                + (self.fields[0] if self.fields else "(it has none)")
            )
        if count == len(self._segments):
            return self._join(count, values)
        return self._join(count, values) + SEPARATOR + "*"

    # ---- internals ----

    def _check_names(self, values: dict[str, str], use: str) -> None:
        unknown = sorted(set(values) - set(self.fields))
        if unknown:
            raise KeyFormatError(
                f"{use} of key format '{self.template}': no field {', '.join(unknown)} "
                f"(fields: {', '.join(self.fields) or 'none'})"
            )
        last = self.fields[-1] if self.last_field_takes_rest else None
        for name, value in values.items():
            if not isinstance(value, str) or not value:
                raise KeyFormatError(
                    f"field {name} of key format '{self.template}' must be a non-empty string"
                )
            if SEPARATOR in value and name != last:
                raise KeyFormatError(
                    f"field {name} of key format '{self.template}' may not contain '{SEPARATOR}'"
                )

    def _leading(self, values: dict[str, str], use: str) -> int:
        """How many segments the given leading fields and the literals around them cover."""
        self._check_names(values, use)
        given = [name in values for name in self.fields]
        if False in given and True in given[given.index(False) :]:
            gap = self.fields[given.index(False)]
            raise KeyFormatError(
                f"{use} of key format '{self.template}' needs field {gap}: only leading fields "
                "can be given"
            )
        count = 0
        for _, name in self._segments:
            if name is not None and name not in values:
                break
            count += 1
        return count

    def _join(self, count: int, values: dict[str, str]) -> str:
        return SEPARATOR.join(
            text if name is None else values[name] for text, name in self._segments[:count]
        )


# ---- the base table's key values ----

CLINIC_PARTITION = KeyFormat("CLINIC#{clinicId}")
"""A clinic and its staff."""
PATIENT_PARTITION = KeyFormat("CLINIC#{clinicId}#PATIENT#{patientId}")
"""A patient and all of the patient's records (profile, appointments, notes, invoices, lookups)."""

CLINIC_SORT = KeyFormat("CLINIC")
USER_SORT = KeyFormat("USER#{userId}")
PATIENT_PROFILE_SORT = KeyFormat("PROFILE")
APPOINTMENT_SORT = KeyFormat("APPOINTMENT#{startTime}#{appointmentId}")
NOTE_SORT = KeyFormat("NOTE#{createdAt}#{noteId}")
INVOICE_SORT = KeyFormat("INVOICE#{issuedAt}#{invoiceId}")
LOOKUP_EMAIL_SORT = KeyFormat("LOOKUP#EMAIL")
LOOKUP_PHONE_SORT = KeyFormat("LOOKUP#PHONE")
LOOKUP_EXTERNAL_SORT = KeyFormat("LOOKUP#EXTERNAL#{system}")

# ---- the indexes' key values ----
#
# Every tenant index's partition key begins with the clinic (``CLINIC#{clinicId}#...``): IAM's
# ``dynamodb:LeadingKeys`` on an index is that index's partition key, so only a key that leads
# with the clinic can be confined to a tenant's credentials (docs/data-model.md, "Tenancy").

ENTITY_TYPE_PARTITION = KeyFormat("CLINIC#{clinicId}#ENTITY#{entityType}")
ENTITY_ID_SORT = KeyFormat("{entityId}")

PATIENT_TIMELINE_PARTITION = KeyFormat("CLINIC#{clinicId}#PATIENT#{patientId}")
PATIENT_TIMELINE_SORT = KeyFormat("{entityType}#{timestamp}#{entityId}")

PROVIDER_PARTITION = KeyFormat("CLINIC#{clinicId}#PROVIDER#{providerId}")
PROVIDER_SCHEDULE_SORT = KeyFormat("{startTime}#{appointmentId}")

APPOINTMENT_STATUS_PARTITION = KeyFormat("CLINIC#{clinicId}#STATUS#{status}")
INVOICE_STATE_PARTITION = KeyFormat("CLINIC#{clinicId}#STATE#{state}")
USER_ROLE_PARTITION = KeyFormat("CLINIC#{clinicId}#ROLE#{role}")
QUEUE_SORT = KeyFormat("{timestamp}#{entityId}")

#: A staff sign-in email, normalized, in plaintext (workforce data, not PHI; docs/data-model.md).
#: Cross-tenant by nature (sign-in finds the user before the clinic is known): the only key no
#: tenant credential can reach; the operations role serves it.
STAFF_EMAIL_LOOKUP = KeyFormat("EMAIL#{email}", last_field_takes_rest=True)
#: A patient's PHI identifiers appear only as keyed beacons (datalayer/beacons.py).
PATIENT_EMAIL_LOOKUP = KeyFormat("CLINIC#{clinicId}#EMAIL#{beacon}")
PATIENT_PHONE_LOOKUP = KeyFormat("CLINIC#{clinicId}#PHONE#{beacon}")
PATIENT_EXTERNAL_ID_LOOKUP = KeyFormat("CLINIC#{clinicId}#EXTERNAL#{system}#{beacon}")
LOOKUP_ENTITY_TYPE_SORT = KeyFormat("{entityType}")


#: The IAM ``dynamodb:LeadingKeys`` values that confine a credential to one clinic: the clinic's
#: own partition exactly, and every key that continues it past the delimiter (patients on the
#: table; every tenant partition of every index). ``CLINIC#c1`` never matches ``CLINIC#c10#...``.
def tenant_leading_keys(clinic_id: str) -> tuple[str, str]:
    """``(CLINIC#<clinic>, CLINIC#<clinic>#*)``; the clinic may be a policy variable."""
    exact = CLINIC_PARTITION.string_like(clinicId=clinic_id)
    return exact, exact + SEPARATOR + "*"


@dataclass(frozen=True, kw_only=True)
class BaseTable:
    """The table's own key: every partition begins with the clinic."""

    partition_key_formats: tuple[KeyFormat, ...]
    sort_key_formats: tuple[KeyFormat, ...]
    serves: str
    partition_key: str = PARTITION_KEY
    sort_key: str = SORT_KEY

    @property
    def index_name(self) -> None:
        """A Query on the base table names no index."""
        return None

    def key(self, partition: str, sort: str) -> dict[str, str]:
        """The key attributes of an item, refusing values of no declared format."""
        return _key(self, partition, sort)


@dataclass(frozen=True, kw_only=True)
class GlobalIndex:
    """One GSI: ``GSI<number>PK`` / ``GSI<number>SK`` and the formats their values take."""

    number: int
    name: str
    partition_key_formats: tuple[KeyFormat, ...]
    sort_key_formats: tuple[KeyFormat, ...]
    serves: str

    @property
    def partition_key(self) -> str:
        return f"GSI{self.number}PK"

    @property
    def sort_key(self) -> str:
        return f"GSI{self.number}SK"

    @property
    def index_name(self) -> str:
        """The Query's ``IndexName``."""
        return self.name

    def key(self, partition: str, sort: str) -> dict[str, str]:
        """The item attributes that put an item on this index, refusing values of no declared
        format."""
        return _key(self, partition, sort)


#: The base table or one of its GSIs: what a Query targets.
Index = BaseTable | GlobalIndex


def _key(index: Index, partition: str, sort: str) -> dict[str, str]:
    for attribute, value, formats in (
        (index.partition_key, partition, index.partition_key_formats),
        (index.sort_key, sort, index.sort_key_formats),
    ):
        if not any(f.matches(value) for f in formats):
            raise KeyFormatError(
                f"{attribute} '{value}' is of none of its formats: "
                + " / ".join(f.template for f in formats)
            )
    return {index.partition_key: partition, index.sort_key: sort}


BASE_TABLE = BaseTable(
    partition_key_formats=(CLINIC_PARTITION, PATIENT_PARTITION),
    sort_key_formats=(
        CLINIC_SORT,
        USER_SORT,
        PATIENT_PROFILE_SORT,
        APPOINTMENT_SORT,
        NOTE_SORT,
        INVOICE_SORT,
        LOOKUP_EMAIL_SORT,
        LOOKUP_PHONE_SORT,
        LOOKUP_EXTERNAL_SORT,
    ),
    serves="an entity by key; a clinic's or a patient's partition",
)

BY_ENTITY_TYPE = GlobalIndex(
    number=1,
    name="ByEntityType",
    partition_key_formats=(ENTITY_TYPE_PARTITION,),
    sort_key_formats=(ENTITY_ID_SORT,),
    serves="all entities of a type in a clinic (patient list, staff list)",
)
BY_PATIENT = GlobalIndex(
    number=2,
    name="ByPatient",
    partition_key_formats=(PATIENT_TIMELINE_PARTITION,),
    sort_key_formats=(PATIENT_TIMELINE_SORT,),
    serves="a patient's timeline: appointments, notes, invoices in time order",
)
BY_PROVIDER_TIME = GlobalIndex(
    number=3,
    name="ByProviderTime",
    partition_key_formats=(PROVIDER_PARTITION,),
    sort_key_formats=(PROVIDER_SCHEDULE_SORT,),
    serves="a provider's schedule in a time range",
)
BY_STATUS = GlobalIndex(
    number=4,
    name="ByStatus",
    partition_key_formats=(
        APPOINTMENT_STATUS_PARTITION,
        INVOICE_STATE_PARTITION,
        USER_ROLE_PARTITION,
    ),
    sort_key_formats=(QUEUE_SORT,),
    serves="work queues: appointments or invoices by status, users by role",
)
EXTERNAL_IDS = GlobalIndex(
    number=5,
    name="ExternalIDs",
    partition_key_formats=(
        STAFF_EMAIL_LOOKUP,
        PATIENT_EMAIL_LOOKUP,
        PATIENT_PHONE_LOOKUP,
        PATIENT_EXTERNAL_ID_LOOKUP,
    ),
    sort_key_formats=(LOOKUP_ENTITY_TYPE_SORT,),
    serves="exact lookup by a staff email, or by the beacon of a patient's email, phone or "
    "external id",
)

GLOBAL_INDEXES: tuple[GlobalIndex, ...] = (
    BY_ENTITY_TYPE,
    BY_PATIENT,
    BY_PROVIDER_TIME,
    BY_STATUS,
    EXTERNAL_IDS,
)

GLOBAL_INDEX_NAMES: tuple[str, ...] = tuple(index.name for index in GLOBAL_INDEXES)

#: Every key attribute of the table and its indexes, in table order; all are strings.
KEY_ATTRIBUTES: tuple[str, ...] = (
    PARTITION_KEY,
    SORT_KEY,
    *(attr for index in GLOBAL_INDEXES for attr in (index.partition_key, index.sort_key)),
)
