"""Every pattern in the catalog returns exactly the expected seeded items with one Query on its
declared index, on both stacks' projections. Expectations come from the dataset's relationships
(which clinic, patient, provider, status), not from the key strings the patterns use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from datalayer.access_patterns import (
    CATALOG,
    PATTERNS,
    AccessPatternError,
    query_request,
    run_query,
)
from datalayer.entities import (
    AnyEntity,
    AppointmentStatus,
    InvoiceStatus,
    Patient,
    Role,
)
from datalayer.store import from_attribute_values
from datalayer.synthetic import Dataset
from tests.datalayer.support import Seeded, watch

Key = tuple[str, str]


@dataclass(frozen=True)
class Case:
    params: dict[str, str]
    expected: list[Key]
    #: The pattern promises this order (sort-key order), so compare lists, not sets.
    ordered: bool = False


def keys(entities: list[Any]) -> list[Key]:
    return [(e.pk, e.sk) for e in entities]


def busy_patient(ds: Dataset) -> Patient:
    """A patient of the first clinic with notes, invoices and at least two appointments."""
    for patient in ds.patients:
        pid = patient.patient_id
        if (
            patient.clinic_id == ds.clinics[0].clinic_id
            and any(n.patient_id == pid for n in ds.notes)
            and any(i.patient_id == pid for i in ds.invoices)
            and sum(a.patient_id == pid for a in ds.appointments) >= 2
        ):
            return patient
    raise AssertionError("fixture dataset has no patient with notes, invoices and 2 visits")


def _clinic_patients(ds: Dataset) -> Case:
    c = ds.clinics[0].clinic_id
    return Case({"clinicId": c}, keys([p for p in ds.patients if p.clinic_id == c]))


def _entities_of_type(ds: Dataset) -> Case:
    c = ds.clinics[1].clinic_id
    return Case(
        {"clinicId": c, "entityType": "INVOICE"},
        keys([i for i in ds.invoices if i.clinic_id == c]),
    )


def _timeline(ds: Dataset) -> Case:
    p = busy_patient(ds)
    mine: list[AnyEntity] = [
        e for e in (*ds.appointments, *ds.notes, *ds.invoices) if e.patient_id == p.patient_id
    ]
    return Case({"clinicId": p.clinic_id, "patientId": p.patient_id}, keys(mine))


def _patient_appointments(ds: Dataset) -> Case:
    p = busy_patient(ds)
    mine = sorted(
        (a for a in ds.appointments if a.patient_id == p.patient_id), key=lambda a: a.start_time
    )
    return Case({"clinicId": p.clinic_id, "patientId": p.patient_id}, keys(mine), ordered=True)


def _provider_schedule(ds: Dataset) -> Case:
    c = ds.clinics[0].clinic_id
    doctors = [u for u in ds.users if u.clinic_id == c and u.role is Role.DOCTOR]
    doctor = max(doctors, key=lambda d: sum(a.provider_id == d.user_id for a in ds.appointments))
    starts = sorted(a.start_time for a in ds.appointments if a.provider_id == doctor.user_id)
    assert len(starts) >= 4, "fixture: the busiest doctor has four visits"
    # [second visit, last visit): the first lies before the range, the last starts exactly at
    # its exclusive end, so both bounds are exercised.
    low, high = starts[1], starts[-1]
    mine = sorted(
        (
            a
            for a in ds.appointments
            if a.provider_id == doctor.user_id and low <= a.start_time < high
        ),
        key=lambda a: a.start_time,
    )
    params = {"clinicId": c, "providerId": doctor.user_id, "from": low, "to": high}
    return Case(params, keys(mine), ordered=True)


def _appointments_by_status(ds: Dataset) -> Case:
    c = ds.clinics[0].clinic_id
    mine = [
        a for a in ds.appointments if a.clinic_id == c and a.status is AppointmentStatus.COMPLETED
    ]
    return Case({"clinicId": c, "status": "COMPLETED"}, keys(mine))


def _appointments_in_range(ds: Dataset) -> Case:
    c = ds.clinics[0].clinic_id
    low, high = "2026-11-24T00:00:00Z", "2026-12-24T00:00:00Z"
    mine = sorted(
        (
            a
            for a in ds.appointments
            if a.clinic_id == c
            and a.status is AppointmentStatus.SCHEDULED
            and low <= a.start_time < high
        ),
        key=lambda a: a.start_time,
    )
    assert mine, "fixture: scheduled visits in the next month"
    params = {"clinicId": c, "status": "SCHEDULED", "from": low, "to": high}
    return Case(params, keys(mine), ordered=True)


def _invoices_by_status(ds: Dataset) -> Case:
    c = ds.clinics[0].clinic_id
    status = next(i.status for i in ds.invoices if i.clinic_id == c)
    mine = sorted(
        (i for i in ds.invoices if i.clinic_id == c and i.status is status),
        key=lambda i: (i.due_date, i.invoice_id),
    )
    return Case({"clinicId": c, "status": str(status)}, keys(mine), ordered=True)


def _users_by_role(ds: Dataset) -> Case:
    c = ds.clinics[1].clinic_id
    mine = [u for u in ds.users if u.clinic_id == c and u.role is Role.DOCTOR]
    return Case({"clinicId": c, "role": "DOCTOR"}, keys(mine))


def _patient_by_email(ds: Dataset) -> Case:
    p = busy_patient(ds)
    # Typed differently from how it was stored: normalization makes it match.
    return Case(
        {"clinicId": p.clinic_id, "email": f"  {p.email.upper()} "}, [(p.pk, "LOOKUP#EMAIL")]
    )


def _patient_by_phone(ds: Dataset) -> Case:
    p = busy_patient(ds)
    national = p.phone.removeprefix("+1")
    typed = f"({national[:3]}) {national[3:6]}-{national[6:]}"
    return Case({"clinicId": p.clinic_id, "phone": typed}, [(p.pk, "LOOKUP#PHONE")])


def _patient_by_external_id(ds: Dataset) -> Case:
    p = busy_patient(ds)
    mrn = p.external_ids["ehr-mrn"]
    return Case(
        {"clinicId": p.clinic_id, "system": "ehr-mrn", "externalId": mrn.lower()},
        [(p.pk, "LOOKUP#EXTERNAL#ehr-mrn")],
    )


def _user_by_email(ds: Dataset) -> Case:
    user = next(u for u in ds.users if u.role is Role.ADMIN)
    return Case({"email": user.email.title()}, [(user.pk, user.sk)])


def _clinic_users(ds: Dataset) -> Case:
    c = ds.clinics[0].clinic_id
    mine = sorted((u for u in ds.users if u.clinic_id == c), key=lambda u: u.sk)
    return Case({"clinicId": c}, keys(mine), ordered=True)


def _patient_notes(ds: Dataset) -> Case:
    p = busy_patient(ds)
    mine = sorted((n for n in ds.notes if n.patient_id == p.patient_id), key=lambda n: n.sk)
    return Case({"clinicId": p.clinic_id, "patientId": p.patient_id}, keys(mine), ordered=True)


def _patient_invoices(ds: Dataset) -> Case:
    p = busy_patient(ds)
    mine = sorted((i for i in ds.invoices if i.patient_id == p.patient_id), key=lambda i: i.sk)
    return Case({"clinicId": p.clinic_id, "patientId": p.patient_id}, keys(mine), ordered=True)


CASES: dict[str, Callable[[Dataset], Case]] = {
    "clinic_patients": _clinic_patients,
    "clinic_entities_of_type": _entities_of_type,
    "patient_timeline": _timeline,
    "patient_appointments": _patient_appointments,
    "provider_schedule": _provider_schedule,
    "appointments_by_status": _appointments_by_status,
    "appointments_by_status_in_range": _appointments_in_range,
    "invoices_by_status": _invoices_by_status,
    "users_by_role": _users_by_role,
    "patient_by_email": _patient_by_email,
    "patient_by_phone": _patient_by_phone,
    "patient_by_external_id": _patient_by_external_id,
    "user_by_email": _user_by_email,
    "clinic_users": _clinic_users,
    "patient_notes": _patient_notes,
    "patient_invoices": _patient_invoices,
}


def test_every_pattern_in_the_catalog_has_a_case() -> None:
    assert set(CASES) == set(PATTERNS)


def test_catalog_covers_the_required_indexes() -> None:
    used = {p.index_name for p in CATALOG}
    assert used == {None, "ByEntityType", "ByPatient", "ByProviderTime", "ByStatus", "ExternalIDs"}


@pytest.mark.parametrize("name", list(CASES))
def test_pattern_returns_exactly_the_expected_items_with_one_query(
    seeded: Seeded, name: str
) -> None:
    pattern = PATTERNS[name]
    case = CASES[name](seeded.dataset)
    assert case.expected, f"{name}: the fixture must give the pattern something to find"
    client = seeded.env.dynamodb
    codec = seeded.env.codec()
    request = query_request(pattern, seeded.env.cfg.names.table, case.params, beacons=codec.beacons)
    log = watch(client)
    try:
        items = run_query(client, request)
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb", log)

    assert log.names() == ["Query"]
    params = log.calls[0][1]
    assert params.get("IndexName") == pattern.index_name
    found = [(item["PK"]["S"], item["SK"]["S"]) for item in items]
    if case.ordered:
        assert found == case.expected
    else:
        assert sorted(found) == sorted(case.expected)
    # What the caller reads must be on the index in this stack (prod projects less).
    for item in items:
        missing = [attr for attr in pattern.reads if attr not in item]
        assert not missing, f"{name} on {seeded.env.cfg.environment}: {missing} not projected"


def test_tenant_guard_returns_nothing_for_another_clinics_patient(seeded: Seeded) -> None:
    ds = seeded.dataset
    patient = busy_patient(ds)
    other = ds.clinics[1].clinic_id
    client = seeded.env.dynamodb
    codec = seeded.env.codec()
    for name, params in (
        ("patient_timeline", {"clinicId": other, "patientId": patient.patient_id}),
        ("patient_notes", {"clinicId": other, "patientId": patient.patient_id}),
        ("patient_by_email", {"clinicId": other, "email": patient.email}),
    ):
        request = query_request(name, seeded.env.cfg.names.table, params, beacons=codec.beacons)
        assert run_query(client, request) == [], name


def test_lookup_item_leads_to_the_patient_and_its_phi(seeded: Seeded) -> None:
    patient = busy_patient(seeded.dataset)
    env = seeded.env
    codec = env.codec()
    request = query_request(
        "patient_by_phone",
        env.cfg.names.table,
        {"clinicId": patient.clinic_id, "phone": patient.phone},
        beacons=codec.beacons,
    )
    (lookup,) = run_query(env.dynamodb, request)
    profile = env.dynamodb.get_item(
        TableName=env.cfg.names.table, Key={"PK": lookup["PK"], "SK": {"S": "PROFILE"}}
    )["Item"]
    assert codec.decrypt_phi(from_attribute_values(profile)) == patient.phi()


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("clinic_patients", {}, "clinic_patients: missing clinicId (takes clinicId)"),
        (
            "users_by_role",
            {"clinicId": "c", "role": "NURSE"},
            "users_by_role: role 'NURSE' is not one of ADMIN, DOCTOR, STAFF",
        ),
        (
            "invoices_by_status",
            {"clinicId": "c", "status": "SCHEDULED"},
            "invoices_by_status: status 'SCHEDULED' is not one of " + ", ".join(InvoiceStatus),
        ),
        (
            "clinic_entities_of_type",
            {"clinicId": "c", "entityType": "PET", "extra": "x"},
            "clinic_entities_of_type: unknown extra (takes clinicId, entityType)",
        ),
        ("no_such_pattern", {}, "unknown access pattern 'no_such_pattern'"),
        ("patient_by_email", {"clinicId": "c", "email": "a@b.test"}, "pass a BeaconKeyring"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_message(
    name: str, params: dict[str, str], message: str
) -> None:
    with pytest.raises(AccessPatternError) as err:
        query_request(name, "t", params)
    assert message in str(err.value)
