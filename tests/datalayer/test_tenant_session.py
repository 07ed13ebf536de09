"""Tenant sessions on moto's STS (which accepts session tags and enforces no condition): the
clinic is the session tag, sessions are cached per clinic until shortly before they expire, a
malformed clinic id makes no call, and tenant data access uses only those sessions."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from datalayer.access_patterns import AccessPatternError
from datalayer.clinic_keys import ensure_clinic_key
from datalayer.synthetic import generate_dataset
from datalayer.tenant_access import TenantBoundaryError, TenantDataAccess
from datalayer.tenant_session import TenantSessions
from stackspec.definitions import stack_definition
from stackspec.definitions.access import RolePurpose
from stackspec.tenancy import ClinicIdError
from tests.datalayer.support import AS_OF, SMALL, LocalEnv, watch


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def tenant_role(env: LocalEnv) -> str:
    role = stack_definition(env.cfg).access.roles[RolePurpose.TENANT]
    iam = env.clients("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }
    return str(
        iam.create_role(RoleName=role.name, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]
    )


@pytest.fixture
def sessions_on_moto(dev_env: LocalEnv) -> tuple[TenantSessions, Any, Clock, list[dict[str, Any]]]:
    sts = dev_env.clients("sts")
    log = watch(sts)
    clock = Clock()
    made: list[dict[str, Any]] = []

    def factory(**kwargs: Any) -> boto3.Session:
        made.append(kwargs)
        return boto3.Session(**kwargs)

    sessions = TenantSessions(
        sts, tenant_role(dev_env), region=dev_env.cfg.region, clock=clock, session_factory=factory
    )
    return sessions, log, clock, made


def test_the_clinic_is_the_session_tag(sessions_on_moto) -> None:
    sessions, log, _, made = sessions_on_moto
    sessions.session("4f1c0c1e-clinic")
    ((operation, params),) = log.calls
    assert operation == "AssumeRole"
    assert params["Tags"] == [{"Key": "clinicId", "Value": "4f1c0c1e-clinic"}]
    assert params["RoleSessionName"] == "clinic-4f1c0c1e-clinic"
    assert params["RoleArn"].endswith(":role/medeez-dev-tenant")
    # The session carries the assumed credentials, not the process's own.
    assert made[0]["aws_access_key_id"] != "testing"
    assert made[0]["aws_session_token"]


def test_cached_per_clinic_until_shortly_before_expiry(sessions_on_moto) -> None:
    sessions, _, clock, _ = sessions_on_moto
    clock.now = 0.0
    first = sessions.session("c1")
    assert sessions.session("c1") is first
    assert sessions.assumed == 1
    other = sessions.session("c2")
    assert other is not first
    assert sessions.assumed == 2
    expiry = sessions.expires_at("c1")
    assert expiry is not None
    clock.now = expiry - 301  # still more than the 300 s margin away
    assert sessions.session("c1") is first
    clock.now = expiry - 299
    assert sessions.session("c1") is not first
    assert sessions.assumed == 3


@pytest.mark.parametrize(
    "clinic", ["", "c1#PATIENT#p9", "c1*", "x" * 65, "-c1", "c 1", None, "clinic/../c2"]
)
def test_a_malformed_clinic_id_is_refused_before_any_call(sessions_on_moto, clinic) -> None:
    sessions, log, _, _ = sessions_on_moto
    with pytest.raises(ClinicIdError, match="malformed clinic id"):
        sessions.session(clinic)
    assert log.calls == []


def test_tenant_data_access_writes_and_reads_with_the_clinic_session(dev_env: LocalEnv) -> None:
    made: list[dict[str, Any]] = []

    def factory(**kwargs: Any) -> boto3.Session:
        made.append(kwargs)
        return boto3.Session(**kwargs)

    sessions = TenantSessions(
        dev_env.clients("sts"),
        tenant_role(dev_env),
        region=dev_env.cfg.region,
        session_factory=factory,
    )
    access = TenantDataAccess(
        sessions,
        table_name=dev_env.cfg.names.table,
        phi_key_id=dev_env.cfg.names.key_alias("phi"),
        clinic_key_alias=dev_env.cfg.names.clinic_key_alias,
        ttl_attribute=dev_env.cfg.table.ttl_attribute,
        written_by="app:test",
    )
    dataset = generate_dataset(7, AS_OF, SMALL)
    clinic = dataset.clinics[0].clinic_id
    ensure_clinic_key(dev_env.kms, dev_env.cfg, clinic)  # onboarding
    own = [e for e in dataset.entities() if e.clinic_id == clinic]
    access.put(clinic, own)
    patients = access.query("clinic_patients", {"clinicId": clinic})
    assert {p["writtenBy"]["S"] for p in patients} == {"app:test"}
    assert len(patients) == sum(1 for p in dataset.patients if p.clinic_id == clinic)
    # One tenant session, the only credentials the writes and the query used.
    assert len(made) == 1
    assert made[0]["aws_access_key_id"] != "testing"

    other = next(e for e in dataset.entities() if e.clinic_id != clinic)
    with pytest.raises(TenantBoundaryError, match="in a write for clinic"):
        access.put(clinic, [other])
    with pytest.raises(TenantBoundaryError, match="operations role"):
        access.query("user_by_email", {"email": "dr@clinic.example.test"})
    with pytest.raises(ClinicIdError):
        access.query("clinic_patients", {"clinicId": "c1#PATIENT#x"})
    with pytest.raises(AccessPatternError, match="unknown access pattern"):
        access.query("everything", {"clinicId": clinic})
