"""make offboard-clinic on moto: the clinic's PHI decrypts before and not after its key is
retired, another clinic's still does, the act is in the audit trail; moto's refusal to refuse a
key pending deletion is reported as an unproven check, never as a pass; usage errors exit 2."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import date
from typing import Any

import psycopg
import pytest
from moto.kms.models import kms_backends

from auditlog.verify import verify
from datalayer.clinic_keys import ClinicKey, describe_clinic_key
from datalayer.synthetic import DatasetShape, generate_dataset
from scripts import offboard_clinic
from scripts.aws_target import Clients
from scripts.seed_data import seed
from scripts.setup_database import setup_local
from stackspec.config.stack import StackConfig
from tests.scripts.conftest import local_clients

SHAPE = DatasetShape(clinics=2, staff_per_clinic=2, patients_per_clinic=3)


@pytest.fixture
def seeded(cli_on_moto: None, dev: StackConfig) -> tuple[Clients, list[str]]:
    clients = local_clients(dev)
    setup_local(dev, clients)
    dataset = generate_dataset(7, date(2026, 11, 30), SHAPE)
    seed(clients, dev, dataset, progress=False)
    return clients, [c.clinic_id for c in dataset.clinics]


def window_ends(clients: Clients, key: ClinicKey) -> None:
    """What AWS does when the deletion window ends: the key material is gone (moto's backend)."""
    account, region = key.arn.split(":")[4], key.arn.split(":")[3]
    kms_backends[account][region].delete_key(key.key_id)


def test_offboarding_proves_the_clinic_is_shredded_and_records_it(
    seeded: tuple[Clients, list[str]],
    dev: StackConfig,
    audit_db: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clients, (gone, kept) = seeded
    monkeypatch.setenv("AUDIT_INGEST_DATABASE_URL", audit_db.ingest_url)
    code = offboard_clinic.main(
        ["--stack", "dev", "--clinic", gone], clients=clients, after_retire=window_ends
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PASS  clinic.decrypts-before" in out
    assert "PASS  clinic.kms-refuses" in out
    assert "PASS  clinic.phi-unreadable" in out
    assert f"clinic {kept}'s PHI still decrypts" in out
    assert "PASS  audit.recorded" in out
    assert f"deletion scheduled in {dev.keys.deletion_window_days} days" in out
    with psycopg.connect(audit_db.reader_url) as conn:
        rows = conn.execute(
            "SELECT clinic_id, source, action, principal, pk FROM audit.event "
            "WHERE action = 'OFFBOARD'"
        ).fetchall()
    assert len(rows) == 1
    clinic_id, source, action, principal, pk = rows[0]
    assert (clinic_id, source, action, pk) == (gone, "admin", "OFFBOARD", f"CLINIC#{gone}")
    assert principal.startswith("script:offboard_clinic")
    # The admin event is chained like any other: the clinic's chain still verifies.
    with psycopg.connect(audit_db.reader_url, autocommit=True) as conn:
        assert verify(conn, None).intact


def test_moto_still_decrypting_a_key_pending_deletion_is_not_reported_as_proven(
    seeded: tuple[Clients, list[str]], dev: StackConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    clients, (gone, _) = seeded
    code = offboard_clinic.main(["--stack", "dev", "--clinic", gone], clients=clients)
    captured = capsys.readouterr()
    assert code == 1
    assert "FAIL  clinic.kms-refuses" in captured.out
    assert "the emulator does not refuse a disabled key or a key pending deletion" in captured.out
    assert "NOT proven" in captured.err
    key = describe_clinic_key(clients("kms"), dev, gone)
    assert key is not None
    assert key.state == "PendingDeletion"
    assert "PASS  key.retired" in captured.out


def test_a_clinic_without_a_key_exits_1(
    seeded: tuple[Clients, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    clients, _ = seeded
    assert offboard_clinic.main(["--stack", "dev", "--clinic", "nobody"], clients=clients) == 1
    assert "has no key (alias/medeez-dev-phi-clinic-nobody)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stack", "dev", "--clinic", "c 1"], "malformed clinic id"),
        (["--stack", "nope", "--clinic", "c1"], "nope"),
        (["--stack", "dev", "--clinic", "c1", "--target", "aws"], "CONFIRM=c1"),
        (
            ["--stack", "dev", "--clinic", "c1", "--target", "aws", "--confirm", "c2"],
            "CONFIRM=c1",
        ),
        (
            ["--stack", "prod", "--clinic", "c1", "--target", "aws", "--confirm", "c1"],
            "CONFIRM_PRODUCTION=prod",
        ),
        (["--stack", "dev", "--clinic", "c1", "--endpoint-url", "https://kms.example"], "only"),
        (["--stack", "dev"], "--clinic"),
        (["--stack", "dev", "--clinic", "c1", "--sample", "0"], "--sample"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    cli_on_moto: None, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    expect: AbstractContextManager[Any] = (
        pytest.raises(SystemExit) if argv == ["--stack", "dev"] else nullcontext()
    )
    with expect:
        code = offboard_clinic.main(argv)
        assert code == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_an_audit_database_that_refuses_the_event_fails_the_run(
    seeded: tuple[Clients, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clients, (gone, _) = seeded
    monkeypatch.setenv("AUDIT_INGEST_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    code = offboard_clinic.main(
        ["--stack", "dev", "--clinic", gone], clients=clients, after_retire=window_ends
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  audit.recorded" in out
    assert "PASS  clinic.kms-refuses" in out
