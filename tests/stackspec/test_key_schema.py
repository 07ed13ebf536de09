"""The key schema: every format renders and parses back, bad input is refused with a message that
names the field and the format, partial keys (prefixes, range bounds, IAM patterns) select exactly
what they say, and the names match the table the Pulumi program plans."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
from pathlib import Path

import pytest

from datalayer.access_patterns import CATALOG, AccessPattern
from datalayer.beacons import BeaconKeyring, IdentifierKind
from stackspec.key_schema import (
    APPOINTMENT_SORT,
    BASE_TABLE,
    BY_STATUS,
    CLINIC_PARTITION,
    ENTITY_TYPE_PARTITION,
    GLOBAL_INDEX_NAMES,
    GLOBAL_INDEXES,
    KEY_ATTRIBUTES,
    PARTITION_KEY,
    PATIENT_PARTITION,
    PROVIDER_PARTITION,
    PROVIDER_SCHEDULE_SORT,
    QUEUE_SORT,
    SEPARATOR,
    SORT_KEY,
    STAFF_EMAIL_LOOKUP,
    USER_SORT,
    Index,
    KeyFormat,
    KeyFormatError,
    tenant_leading_keys,
)
from tools.plan import Plan

ROOT = Path(__file__).resolve().parents[2]

INDEXES: tuple[Index, ...] = (BASE_TABLE, *GLOBAL_INDEXES)
FORMATS: tuple[KeyFormat, ...] = tuple(
    dict.fromkeys(
        f for index in INDEXES for f in (*index.partition_key_formats, *index.sort_key_formats)
    )
)
WITH_FIELDS = [f for f in FORMATS if f.fields]


def sample(fmt: KeyFormat) -> dict[str, str]:
    return {name: f"{name.lower()}-{i}" for i, name in enumerate(fmt.fields)}


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
def test_every_format_renders_and_parses_back(fmt: KeyFormat) -> None:
    values = sample(fmt)
    key = fmt.render(**values)
    assert fmt.parse(key) == values
    assert fmt.matches(key)
    # The key is the template with each field replaced, nothing added or lost.
    expected = fmt.template
    for name, value in values.items():
        expected = expected.replace("{" + name + "}", value)
    assert key == expected


@pytest.mark.parametrize("fmt", WITH_FIELDS, ids=str)
def test_a_missing_field_is_named_with_the_format(fmt: KeyFormat) -> None:
    for missing in fmt.fields:
        values = {k: v for k, v in sample(fmt).items() if k != missing}
        with pytest.raises(KeyFormatError) as err:
            fmt.render(**values)
        assert str(err.value) == f"key format '{fmt.template}' needs field {missing}"


def test_unknown_and_empty_fields_are_refused() -> None:
    with pytest.raises(KeyFormatError, match=r"no field patient \(fields: clinicId\)"):
        CLINIC_PARTITION.render(clinicId="c1", patient="p1")
    with pytest.raises(
        KeyFormatError, match=re.escape("field clinicId of key format 'CLINIC#{clinicId}'")
    ):
        CLINIC_PARTITION.render(clinicId="")


def test_a_value_cannot_reach_into_another_partition() -> None:
    # Without the check, clinic "c1#PATIENT#p1" would render clinic c1's patient partition.
    forged = "c1#PATIENT#p1"
    with pytest.raises(KeyFormatError, match=r"field clinicId .* may not contain '#'"):
        CLINIC_PARTITION.render(clinicId=forged)
    with pytest.raises(KeyFormatError, match=r"may not contain '#'"):
        PATIENT_PARTITION.prefix(clinicId=forged)


def test_a_staff_email_may_contain_the_separator() -> None:
    key = STAFF_EMAIL_LOOKUP.render(email="pat#o@clinic.example.test")
    assert key == "EMAIL#pat#o@clinic.example.test"
    assert STAFF_EMAIL_LOOKUP.parse(key) == {"email": "pat#o@clinic.example.test"}


@pytest.mark.parametrize(
    "key",
    ["CLINIC#c1#PATIENT#p1", "CLINIC#c1#", "CLINIC#", "PATIENT#c1", "clinic#c1", "CLINIC"],
)
def test_parse_refuses_what_is_not_a_clinic_partition(key: str) -> None:
    with pytest.raises(KeyFormatError) as err:
        CLINIC_PARTITION.parse(key)
    assert str(err.value) == f"'{key}' is not a key of format 'CLINIC#{{clinicId}}'"
    assert not CLINIC_PARTITION.matches(key)


@pytest.mark.parametrize("attribute", ["partition_key_formats", "sort_key_formats"])
def test_each_base_table_key_is_of_exactly_one_format(attribute: str) -> None:
    # A clinic's partition and a patient's (or a note and an invoice) can never be confused.
    formats: tuple[KeyFormat, ...] = getattr(BASE_TABLE, attribute)
    for fmt in formats:
        key = fmt.render(**sample(fmt))
        assert [f for f in formats if f.matches(key)] == [fmt], key


def test_prefix_selects_one_clinic_and_not_one_whose_id_extends_it() -> None:
    prefix = ENTITY_TYPE_PARTITION.prefix(clinicId="c1")
    assert prefix == "CLINIC#c1#ENTITY#"
    assert ENTITY_TYPE_PARTITION.render(clinicId="c1", entityType="X").startswith(prefix)
    assert not ENTITY_TYPE_PARTITION.render(clinicId="c10", entityType="X").startswith(prefix)
    assert PATIENT_PARTITION.prefix(clinicId="c1") == "CLINIC#c1#PATIENT#"
    assert USER_SORT.prefix() == "USER#"
    assert APPOINTMENT_SORT.prefix() == "APPOINTMENT#"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: PROVIDER_PARTITION.prefix(providerId="d"), "needs field clinicId: only leading"),
        (lambda: USER_SORT.prefix(userId="u1"), "needs at least one field left open"),
        (lambda: QUEUE_SORT.prefix(), "prefix of key format '{timestamp}#{entityId}'"),
        (lambda: PROVIDER_SCHEDULE_SORT.range_bound(), "needs field startTime"),
        (lambda: PATIENT_PARTITION.string_like(), "string_like .* needs field clinicId"),
    ],
)
def test_partial_keys_give_only_leading_fields(call, message: str) -> None:
    with pytest.raises(KeyFormatError, match=message):
        call()


def test_range_bounds_select_from_inclusive_to_exclusive() -> None:
    low = QUEUE_SORT.range_bound(timestamp="2026-11-25T00:00:00Z")
    high = QUEUE_SORT.range_bound(timestamp="2026-11-26T00:00:00Z")
    assert (low, high) == ("2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z")
    starts = ["2026-11-24T23:30:00Z", "2026-11-25T00:00:00Z", "2026-11-25T16:30:00Z"]
    starts.append("2026-11-26T00:00:00Z")
    keys = {s: QUEUE_SORT.render(timestamp=s, entityId="e9") for s in starts}
    # DynamoDB's BETWEEN compares strings byte-wise, as Python does.
    selected = [s for s, key in keys.items() if low <= key <= high]
    assert selected == ["2026-11-25T00:00:00Z", "2026-11-25T16:30:00Z"]
    assert PROVIDER_SCHEDULE_SORT.range_bound(startTime="2026-11-25T00:00:00Z") == (
        "2026-11-25T00:00:00Z"
    )


def test_string_like_confines_iam_to_one_clinics_partitions() -> None:
    tag = "${aws:PrincipalTag/clinicId}"
    assert CLINIC_PARTITION.string_like(clinicId=tag) == "CLINIC#${aws:PrincipalTag/clinicId}"
    assert PATIENT_PARTITION.string_like(clinicId=tag) == (
        "CLINIC#${aws:PrincipalTag/clinicId}#PATIENT#*"
    )
    patterns = [f.string_like(clinicId="c1") for f in BASE_TABLE.partition_key_formats]
    mine = [CLINIC_PARTITION.render(clinicId="c1")]
    mine.append(PATIENT_PARTITION.render(clinicId="c1", patientId="p1"))
    others = [CLINIC_PARTITION.render(clinicId="c10")]
    others.append(PATIENT_PARTITION.render(clinicId="c10", patientId="p1"))
    for key in mine:
        assert any(fnmatch.fnmatchcase(key, p) for p in patterns), key
    for key in others:
        assert not any(fnmatch.fnmatchcase(key, p) for p in patterns), key


def test_tenant_leading_keys_are_the_clinic_exactly_or_past_its_delimiter() -> None:
    exact, below = tenant_leading_keys("c1")
    assert (exact, below) == ("CLINIC#c1", "CLINIC#c1#*")
    tenant_keys = [
        f.render(**{**sample(f), "clinicId": "c1"})
        for index in INDEXES
        for f in index.partition_key_formats
        if f.fields[:1] == ("clinicId",)
    ]
    for key in tenant_keys:
        assert key == exact or fnmatch.fnmatchcase(key, below), key
    assert not fnmatch.fnmatchcase("CLINIC#c10#PATIENT#p", below)
    assert exact != "CLINIC#c10"


def test_every_index_partition_but_the_staff_email_leads_with_the_clinic() -> None:
    # IAM's LeadingKeys on an index is that index's partition key: only these can be confined.
    unconfinable = [
        f
        for index in INDEXES
        for f in index.partition_key_formats
        if not f.template.startswith("CLINIC#{clinicId}")
    ]
    assert unconfinable == [STAFF_EMAIL_LOOKUP]


def test_index_keys_refuse_values_of_no_declared_format() -> None:
    assert BY_STATUS.key("CLINIC#c1#ROLE#DOCTOR", "2026-01-01T00:00:00Z#u1") == {
        "GSI4PK": "CLINIC#c1#ROLE#DOCTOR",
        "GSI4SK": "2026-01-01T00:00:00Z#u1",
    }
    with pytest.raises(KeyFormatError, match="GSI4PK 'ROLE#DOCTOR' is of none of its formats"):
        BY_STATUS.key("ROLE#DOCTOR", "2026-01-01T00:00:00Z#u1")
    with pytest.raises(KeyFormatError, match="SK 'NOTE#t' is of none of its formats"):
        BASE_TABLE.key("CLINIC#c1", "NOTE#t")


@pytest.mark.parametrize(
    "template", ["clinic#{clinicId}", "CLINIC#{clinicId}{x}", "{a}#{a}", "CLINIC##{a}", "{a-b}"]
)
def test_malformed_templates_are_refused_where_they_are_defined(template: str) -> None:
    with pytest.raises(KeyFormatError, match="key format"):
        KeyFormat(template)


def test_index_numbers_are_distinct_and_name_the_attributes() -> None:
    assert [i.number for i in GLOBAL_INDEXES] == [1, 2, 3, 4, 5]
    assert len(set(GLOBAL_INDEX_NAMES)) == len(GLOBAL_INDEXES)
    attributes = list(KEY_ATTRIBUTES)
    assert attributes == ["PK", "SK", *(f"GSI{n}{k}" for n in range(1, 6) for k in ("PK", "SK"))]


@pytest.mark.parametrize("plan_name", ["dev_plan", "prod_plan"])
def test_the_planned_table_has_these_attribute_and_index_names(
    plan_name: str, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(plan_name)
    [table] = plan.of_type("aws:dynamodb/table:Table")
    inputs = table.inputs
    assert (inputs["hashKey"], inputs["rangeKey"]) == (PARTITION_KEY, SORT_KEY)
    assert [a["name"] for a in inputs["attributes"]] == list(KEY_ATTRIBUTES)
    assert [gsi["name"] for gsi in inputs["globalSecondaryIndexes"]] == list(GLOBAL_INDEX_NAMES)
    for gsi, index in zip(inputs["globalSecondaryIndexes"], GLOBAL_INDEXES, strict=True):
        assert gsi["keySchemas"] == [
            {"attributeName": index.partition_key, "keyType": "HASH"},
            {"attributeName": index.sort_key, "keyType": "RANGE"},
        ]


class _FixedBeacons(BeaconKeyring):
    """Real lookup keys around a fixed beacon: no KMS needed to see the key's shape."""

    def __init__(self) -> None:
        super().__init__(kms_client=None, key_id="")

    def beacon(
        self, clinic_id: str, kind: IdentifierKind, value: str, *, system: str | None = None
    ) -> str:
        return "0" * 32


def completes(fmt: KeyFormat, partial: str) -> bool:
    """Whether ``partial`` (a prefix, a range bound or a whole key) followed by the format's
    remaining segments is a key of ``fmt``."""
    given = partial.removesuffix(SEPARATOR).split(SEPARATOR)
    rest = fmt.template.split(SEPARATOR)[len(given) :]
    filled = ["x" if segment.startswith("{") else segment for segment in rest]
    return fmt.matches(SEPARATOR.join([*given, *filled]))


@pytest.mark.parametrize("pattern", CATALOG, ids=lambda p: p.name)
def test_each_access_pattern_queries_formats_of_its_index(pattern: AccessPattern) -> None:
    index = pattern.index
    assert any(index is known for known in INDEXES), f"{pattern.name}: not a key_schema index"
    assert pattern.index_name == (None if index is BASE_TABLE else index.index_name)
    assert pattern.partition.format in index.partition_key_formats
    condition = pattern.key_condition
    assert condition.startswith(f"{index.partition_key} = :pk")
    values = pattern.values(pattern.example, _FixedBeacons())
    assert pattern.partition.format.matches(values[":pk"]), values[":pk"]
    if pattern.sort is None:
        assert condition == f"{index.partition_key} = :pk"
        return
    assert pattern.sort.format in index.sort_key_formats
    assert condition.removeprefix(f"{index.partition_key} = :pk AND ").count(index.sort_key) == 1
    sort_values = [values[name] for name in (":prefix", ":from", ":to", ":type") if name in values]
    assert sort_values, condition
    for value in sort_values:
        assert completes(pattern.sort.format, value), (pattern.sort.format, value)
    if ":prefix" in values:  # whole segments only, so clinic c1 never selects clinic c10
        assert values[":prefix"].endswith(SEPARATOR)


def test_the_key_schema_imports_no_pulumi_boto3_or_layer_above_it() -> None:
    # Components (IAM conditions) and the data layer both import it: it must sit below both.
    code = (
        "import sys, stackspec.key_schema; "
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    assert "stackspec" in out
    for forbidden in ("pulumi", "pulumi_aws", "boto3", "botocore", "components", "datalayer"):
        assert forbidden not in out
