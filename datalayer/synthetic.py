"""Deterministic synthetic data: clinics, staff, patients, appointments, SOAP notes, invoices.

Never real PHI: names and text come from fixed word lists in this file; emails use the reserved
``example.test`` domain and phone numbers the NANP's fictional 555-0100..0199 block. The same
``seed``, ``as_of`` date and shape always give the same dataset (ids included), because every
choice comes from one seeded ``random.Random``; ``as_of`` defaults to the fixed :data:`ANCHOR`,
never to today, so rerunning ``make seed`` on another day rewrites the same items. Fixed lists
rather than Faker: Faker's output changes between releases, which would silently change "the
same seed".
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from datalayer.entities import (
    INVITATION_TTL_SECONDS,
    AnyEntity,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    Clinic,
    Invoice,
    InvoiceStatus,
    LineItem,
    Note,
    NoteStatus,
    Patient,
    Role,
    User,
    UserStatus,
)

_CLINIC_NAMES = (
    "Maple Grove Family Practice",
    "Harbor Point Medical",
    "Cedar Ridge Pediatrics",
    "Riverbend Internal Medicine",
    "Summit Valley Clinic",
    "Lakeside Health Partners",
    "Willow Creek Primary Care",
    "Granite Peak Medical Group",
)
_TIMEZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
_FIRST = (
    "Avery", "Jordan", "Riley", "Morgan", "Casey", "Quinn", "Rowan", "Emerson", "Harper", "Skyler",
    "Dakota", "Reese", "Sawyer", "Finley", "Hayden", "Parker", "Logan", "Elliot", "Marlowe", "Sage",
)  # fmt: skip
_LAST = (
    "Ashby", "Brightwater", "Calloway", "Dunmore", "Everly", "Fairbanks", "Greyson", "Hollins",
    "Ingram", "Jessup", "Kingsley", "Lowell", "Merriweather", "Northcott", "Oakes", "Pembrook",
)  # fmt: skip
_STREETS = ("Elm", "Birch", "Juniper", "Aspen", "Sycamore", "Magnolia", "Hawthorn", "Linden")
_SUFFIXES = ("Street", "Avenue", "Lane", "Court", "Drive", "Way")
_CITIES = (("Springfield", "IL", "627"), ("Fairview", "OR", "970"), ("Riverton", "WY", "825"))
#: NANP area codes (2xx-9xx, no N11 service codes); 555-0100..0199 is fictional in every one.
_AREA_CODES = tuple(code for code in range(201, 990) if code % 100 != 11)
_REASONS = (
    "Annual physical", "Follow-up on blood pressure", "Persistent cough", "Knee pain after running",
    "Medication review", "Seasonal allergies", "Lower back pain", "Skin rash on forearm",
    "Fatigue and poor sleep", "Vaccination",
)  # fmt: skip
_SUBJECTIVE = (
    "Reports intermittent headaches for two weeks, worse in the evening.",
    "Reports a dry cough for ten days without fever.",
    "Reports right knee pain after running, no swelling noticed.",
    "Reports improved energy since the last visit; sleeping seven hours.",
    "Reports itchy rash on the left forearm for five days.",
)
_OBJECTIVE = (
    "BP 128/82, HR 72, temp 36.8 C. Lungs clear bilaterally.",
    "BP 136/88, HR 80, temp 37.0 C. Mild pharyngeal erythema.",
    "BP 118/76, HR 64. Full range of motion, mild tenderness at the medial joint line.",
    "BP 122/80, HR 70. Erythematous papules, no discharge.",
)
_ASSESSMENT = (
    "Tension-type headache, likely stress related.",
    "Viral upper respiratory infection, resolving.",
    "Patellofemoral pain syndrome.",
    "Essential hypertension, well controlled.",
    "Contact dermatitis.",
)
_PLAN = (
    "Hydration, sleep hygiene, follow up in four weeks if not improved.",
    "Supportive care; return if fever develops.",
    "Physical therapy referral; ice after activity; recheck in six weeks.",
    "Continue current medication; recheck BP in three months.",
    "Topical steroid twice daily for seven days.",
)
_PROCEDURES = (
    ("99213", "Office visit, established patient, low complexity", 12_500),
    ("99214", "Office visit, established patient, moderate complexity", 18_500),
    ("99203", "Office visit, new patient, low complexity", 16_000),
    ("93000", "Electrocardiogram with interpretation", 6_000),
    ("36415", "Routine venipuncture", 1_500),
    ("90686", "Influenza vaccine, quadrivalent", 3_500),
)


#: The default ``as_of``: appointments before it are past (completed, cancelled, no-show, with
#: notes and invoices), those after it upcoming. Fixed rather than today: appointment, note and
#: invoice sort keys hold timestamps, so a moving day would add new items on every rerun.
ANCHOR = date(2026, 11, 24)

#: Half-hour slots per weekday, 08:00-16:30 UTC.
SLOTS_PER_DAY = 18


@dataclass(frozen=True, kw_only=True)
class DatasetShape:
    """How much data per clinic."""

    clinics: int = 3
    patients_per_clinic: int = 25
    doctors_per_clinic: int = 3
    staff_per_clinic: int = 2
    max_appointments_per_patient: int = 4
    #: Appointments fall in [as_of - past_days, as_of + future_days).
    past_days: int = 60
    future_days: int = 30

    def __post_init__(self) -> None:
        for name in ("clinics", "patients_per_clinic", "doctors_per_clinic"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.staff_per_clinic < 0 or self.max_appointments_per_patient < 1:
            raise ValueError("staff_per_clinic must be >= 0 and max_appointments_per_patient >= 1")
        # Keep schedules at most half full, so free slots are always quick to find.
        weekdays = (self.past_days + self.future_days) * 5 // 7
        capacity = self.doctors_per_clinic * weekdays * SLOTS_PER_DAY
        demand = self.patients_per_clinic * self.max_appointments_per_patient
        if demand > capacity // 2:
            raise ValueError(
                f"{self.patients_per_clinic} patients with up to "
                f"{self.max_appointments_per_patient} visits need more than "
                f"{self.doctors_per_clinic} doctors over {self.past_days + self.future_days} days"
            )

    @classmethod
    def for_patients(cls, clinics: int, patients_per_clinic: int) -> DatasetShape:
        """A shape with enough doctors for the patients (at least 3; about 1 per 40 patients)."""
        return cls(
            clinics=clinics,
            patients_per_clinic=patients_per_clinic,
            doctors_per_clinic=max(3, -(-patients_per_clinic // 40)),
        )


@dataclass(frozen=True, kw_only=True)
class Dataset:
    seed: int
    as_of: date
    clinics: tuple[Clinic, ...]
    users: tuple[User, ...]
    patients: tuple[Patient, ...]
    appointments: tuple[Appointment, ...]
    notes: tuple[Note, ...]
    invoices: tuple[Invoice, ...]

    def entities(self) -> Iterator[AnyEntity]:
        """Every entity, clinics first (their beacon keys are needed by the patients)."""
        yield from self.clinics
        yield from self.users
        yield from self.patients
        yield from self.appointments
        yield from self.notes
        yield from self.invoices

    def by_clinic(self) -> list[tuple[Clinic, tuple[AnyEntity, ...]]]:
        """Each clinic with its own entities in :meth:`entities` order (the clinic first), so a
        writer can finish one tenant before starting the next."""
        groups: dict[str, list[AnyEntity]] = {c.clinic_id: [] for c in self.clinics}
        for entity in self.entities():
            groups[entity.clinic_id].append(entity)
        return [(c, tuple(groups[c.clinic_id])) for c in self.clinics]

    def counts(self) -> dict[str, int]:
        return {
            "clinics": len(self.clinics),
            "users": len(self.users),
            "patients": len(self.patients),
            "appointments": len(self.appointments),
            "notes": len(self.notes),
            "invoices": len(self.invoices),
        }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Generator:
    def __init__(self, seed: int, as_of: date, shape: DatasetShape) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        self.as_of = as_of
        self.midnight = datetime.combine(as_of, time(0), tzinfo=UTC)
        self.shape = shape

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def moment_before(self, days: int) -> datetime:
        """A time on one of the ``days`` days before ``as_of``, on the minute."""
        return self.midnight - timedelta(minutes=self.rng.randrange(1, days * 24 * 60))

    def clinic(self, index: int) -> Clinic:
        name = _CLINIC_NAMES[index % len(_CLINIC_NAMES)]
        if index >= len(_CLINIC_NAMES):
            name += f" {index // len(_CLINIC_NAMES) + 1}"
        return Clinic(
            clinic_id=self.uid(),
            name=name,
            timezone=self.rng.choice(_TIMEZONES),
            created_at=_iso(self.midnight - timedelta(days=400 + index)),
        )

    def users(self, clinic: Clinic, slug: str) -> list[User]:
        roles = (
            [Role.ADMIN]
            + [Role.DOCTOR] * self.shape.doctors_per_clinic
            + [Role.STAFF] * self.shape.staff_per_clinic
        )
        users = []
        for i, role in enumerate(roles):
            first, last = self.rng.choice(_FIRST), self.rng.choice(_LAST)
            users.append(
                User(
                    clinic_id=clinic.clinic_id,
                    user_id=self.uid(),
                    role=role,
                    email=f"{first}.{last}{i}@{slug}.example.test".lower(),
                    display_name=f"Dr. {first} {last}"
                    if role is Role.DOCTOR
                    else f"{first} {last}",
                    status=UserStatus.ACTIVE,
                    created_at=_iso(self.midnight - timedelta(days=300 - i)),
                )
            )
        # One pending invitation per clinic: the record that expires (TTL) if never accepted.
        invited_at = self.moment_before(5)
        first, last = self.rng.choice(_FIRST), self.rng.choice(_LAST)
        users.append(
            User(
                clinic_id=clinic.clinic_id,
                user_id=self.uid(),
                role=Role.STAFF,
                email=f"{first}.{last}.invited@{slug}.example.test".lower(),
                display_name=f"{first} {last}",
                status=UserStatus.INVITED,
                created_at=_iso(invited_at),
                expires_at=int(invited_at.timestamp()) + INVITATION_TTL_SECONDS,
            )
        )
        return users

    def patient(self, clinic: Clinic, clinic_index: int, index: int, phones: set[str]) -> Patient:
        first, last = self.rng.choice(_FIRST), self.rng.choice(_LAST)
        phone = ""
        while not phone or phone in phones:  # 78,000+ numbers per clinic: ends quickly
            phone = f"+1{self.rng.choice(_AREA_CODES)}5550{self.rng.randrange(100, 200)}"
        phones.add(phone)
        city, state, zip_prefix = self.rng.choice(_CITIES)
        born = date(1940, 1, 1) + timedelta(days=self.rng.randrange(0, 80 * 365))
        external = {"ehr-mrn": f"MRN-{clinic_index:02d}{index:05d}"}
        if self.rng.random() < 0.5:
            external["insurance-member"] = f"MBR{self.rng.randrange(10**8, 10**9)}"
        return Patient(
            clinic_id=clinic.clinic_id,
            patient_id=self.uid(),
            created_at=_iso(self.moment_before(365)),
            full_name=f"{first} {last}",
            date_of_birth=born.isoformat(),
            email=f"{first}.{last}.{clinic_index}.{index}@example.test".lower(),
            phone=phone,
            address=(
                f"{self.rng.randrange(10, 9999)} {self.rng.choice(_STREETS)} "
                f"{self.rng.choice(_SUFFIXES)}, {city}, {state} "
                f"{zip_prefix}{self.rng.randrange(0, 100):02d}"
            ),
            external_ids=external,
        )

    def appointment_status(self, start: datetime) -> AppointmentStatus:
        if start < self.midnight:
            return self.rng.choices(
                (
                    AppointmentStatus.COMPLETED,
                    AppointmentStatus.CANCELLED,
                    AppointmentStatus.NO_SHOW,
                ),
                weights=(70, 15, 15),
            )[0]
        if start < self.midnight + timedelta(days=1):
            return AppointmentStatus.CHECKED_IN
        return self.rng.choice((AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED))

    def slot(self, doctor: str, booked: set[tuple[str, datetime]]) -> datetime:
        """A free weekday half-hour slot, 08:00-16:30 UTC, for ``doctor``."""
        span = self.shape.past_days + self.shape.future_days
        for _ in range(10_000):
            day = self.midnight + timedelta(days=self.rng.randrange(span) - self.shape.past_days)
            if day.weekday() >= 5:
                continue
            start = day + timedelta(hours=8, minutes=30 * self.rng.randrange(SLOTS_PER_DAY))
            if (doctor, start) not in booked:
                booked.add((doctor, start))
                return start
        raise ValueError(
            "no free slot left for a doctor: add doctors or days, or book fewer appointments"
        )

    def visit(
        self, patient: Patient, doctors: list[User], booked: set[tuple[str, datetime]]
    ) -> tuple[Appointment, Note | None, Invoice | None]:
        doctor = self.rng.choice(doctors)
        start = self.slot(doctor.user_id, booked)
        status = self.appointment_status(start)
        kind = self.rng.choice(tuple(AppointmentType))
        minutes = 60 if kind in (AppointmentType.NEW_PATIENT, AppointmentType.PROCEDURE) else 30
        end = start + timedelta(minutes=minutes)
        appointment = Appointment(
            clinic_id=patient.clinic_id,
            patient_id=patient.patient_id,
            appointment_id=self.uid(),
            provider_id=doctor.user_id,
            start_time=_iso(start),
            end_time=_iso(end),
            status=status,
            appointment_type=kind,
            reason=self.rng.choice(_REASONS),
            created_at=_iso(start - timedelta(days=self.rng.randrange(1, 30))),
        )
        if status is not AppointmentStatus.COMPLETED:
            return appointment, None, None
        recent = end > self.midnight - timedelta(days=3)
        note = Note(
            clinic_id=patient.clinic_id,
            patient_id=patient.patient_id,
            note_id=self.uid(),
            appointment_id=appointment.appointment_id,
            provider_id=doctor.user_id,
            status=NoteStatus.DRAFT if recent else NoteStatus.SIGNED,
            created_at=_iso(end),
            signed_at=None if recent else _iso(end + timedelta(hours=2)),
            subjective=self.rng.choice(_SUBJECTIVE),
            objective=self.rng.choice(_OBJECTIVE),
            assessment=self.rng.choice(_ASSESSMENT),
            plan=self.rng.choice(_PLAN),
        )
        issued = end + timedelta(hours=1)
        due = (issued + timedelta(days=30)).date()
        if recent:
            invoice_status = InvoiceStatus.DRAFT
        elif due < self.as_of:
            invoice_status = self.rng.choices(
                (InvoiceStatus.PAID, InvoiceStatus.OVERDUE, InvoiceStatus.VOID), weights=(70, 25, 5)
            )[0]
        else:
            invoice_status = self.rng.choices(
                (InvoiceStatus.OPEN, InvoiceStatus.PAID), weights=(75, 25)
            )[0]
        procedures = self.rng.sample(_PROCEDURES, k=self.rng.randrange(1, 3))
        invoice = Invoice(
            clinic_id=patient.clinic_id,
            patient_id=patient.patient_id,
            invoice_id=self.uid(),
            appointment_id=appointment.appointment_id,
            provider_id=doctor.user_id,
            status=invoice_status,
            issued_at=_iso(issued),
            due_date=due.isoformat(),
            currency="USD",
            line_items=tuple(
                LineItem(code=code, description=text, amount_cents=cents)
                for code, text, cents in procedures
            ),
        )
        return appointment, note, invoice


def generate_dataset(seed: int, as_of: date = ANCHOR, shape: DatasetShape | None = None) -> Dataset:
    """The dataset for ``seed`` as of ``as_of`` (appointments before it are past); the same
    arguments always give the same dataset, whatever the date it runs."""
    shape = shape or DatasetShape()
    gen = _Generator(seed, as_of, shape)
    clinics: list[Clinic] = []
    users: list[User] = []
    patients: list[Patient] = []
    appointments: list[Appointment] = []
    notes: list[Note] = []
    invoices: list[Invoice] = []
    for c in range(shape.clinics):
        clinic = gen.clinic(c)
        clinics.append(clinic)
        clinic_users = gen.users(clinic, slug=f"clinic{c}")
        users.extend(clinic_users)
        doctors = [u for u in clinic_users if u.role is Role.DOCTOR]
        booked: set[tuple[str, datetime]] = set()
        phones: set[str] = set()
        for p in range(shape.patients_per_clinic):
            patient = gen.patient(clinic, c, p, phones)
            patients.append(patient)
            for _ in range(gen.rng.randrange(1, shape.max_appointments_per_patient + 1)):
                appointment, note, invoice = gen.visit(patient, doctors, booked)
                appointments.append(appointment)
                if note is not None:
                    notes.append(note)
                if invoice is not None:
                    invoices.append(invoice)
    return Dataset(
        seed=seed,
        as_of=as_of,
        clinics=tuple(clinics),
        users=tuple(users),
        patients=tuple(patients),
        appointments=tuple(appointments),
        notes=tuple(notes),
        invoices=tuple(invoices),
    )
