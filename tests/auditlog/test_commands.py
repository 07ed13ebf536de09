"""make audit-verify / audit-report (scripts.audit): exit 0 intact, 1 broken naming the row,
2 usage errors in one line; the accounting lists every write and read of a patient."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import psycopg
import pytest

from auditlog.chain import Event
from auditlog.connect import ConnectError, connect, rds_iam_conninfo
from auditlog.ingest import append
from functions.stream_consumer.handler import Consumer
from scripts import audit
from tests.auditlog.support import patient_item, record


@pytest.fixture
def trail(audit_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("AUDIT_DATABASE_URL", raising=False)
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path / "state"))
    item = patient_item("c1", "p1", b"x")
    other = patient_item("c1", "p2", b"y")
    Consumer(lambda: connect(audit_db.ingest_url))(
        {
            "Records": [
                record("w1", 1, new=item),
                record("w2", 2, "MODIFY", new=item, old=other | {"PK": item["PK"]}),
                record("w3", 3, new=other),
            ]
        },
        None,
    )
    with connect(audit_db.ingest_url) as conn:
        append(
            conn,
            [
                Event(
                    clinic_id="c1",
                    event_id="r1",
                    source="read",
                    action="READ",
                    event_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
                    pk=item["PK"]["S"],
                    sk="PROFILE",
                    entity_type="PATIENT",
                    patient_id="p1",
                    principal="user:dr-1",
                    access_pattern="patient_timeline",
                    purpose="treatment",
                )
            ],
        )
    digests = tmp_path / "digests"
    base = ["--stack", "dev", "--database-url", audit_db.reader_url, "--digest-dir", str(digests)]
    assert audit.main(["digest", *base, "--no-upload"]) == 0
    return audit_db, base


def test_verify_intact(trail, capsys) -> None:
    _, base = trail
    assert audit.main(["verify", *base]) == 0
    out = capsys.readouterr().out
    assert out.startswith("audit verify: intact: stack dev (AUDIT_DATABASE_URL): 1 chains, 4 rows")
    assert "latest digest digest-" in out


def test_verify_broken_names_the_row(trail, capsys) -> None:
    audit_db, base = trail
    with psycopg.connect(audit_db.owner_url, autocommit=True) as owner:
        owner.execute("ALTER TABLE audit.event DISABLE TRIGGER event_append_only")
        owner.execute("GRANT UPDATE ON audit.event TO audit_owner")
        owner.execute("UPDATE audit.event SET sk = 'X' WHERE chain_seq = 2")
    capsys.readouterr()
    assert audit.main(["verify", *base]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first == (
        "audit verify: BROKEN: clinic c1: row 2 (event w2): its contents do not match its "
        "row_hash (the row was changed)"
    )


def test_report_json_is_the_patients_accounting(trail, capsys) -> None:
    _, base = trail
    argv = ["report", *base, "--clinic", "c1", "--patient", "p1", "--format", "json"]
    assert audit.main(argv) == 0
    events = json.loads(capsys.readouterr().out)
    assert [(e["action"], e["principal"], e["sk"]) for e in events] == [
        ("INSERT", "user:u1", "PROFILE"),
        ("MODIFY", "user:u1", "PROFILE"),
        ("READ", "user:dr-1", "PROFILE"),
    ]
    assert all({"action", "pk", "sk", "at", "principal"} <= set(e) for e in events)
    assert events[2]["purpose"] == "treatment"
    assert events[1]["changedAttributes"] == ["patientId", "phi"]


def test_report_period_and_csv(trail, capsys) -> None:
    _, base = trail
    argv = ["report", *base, "--clinic", "c1", "--patient", "p1", "--format", "csv"]
    assert audit.main([*argv, "--from", "2026-12-01", "--to", "2026-12-01"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("at,action,principal,pk,sk")
    assert [line.split(",")[1] for line in lines[1:]] == ["READ"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["verify", "--stack", "nope"], "audit: error: unknown stack 'nope'"),
        (["report", "--stack", "dev", "--clinic", "c1"], "audit: error: PATIENT is required"),
        (
            ["report", "--stack", "dev", "--clinic", "c", "--patient", "p", "--from", "soon"],
            "audit: error: 'soon' is not a date (YYYY-MM-DD) or an ISO 8601 time",
        ),
        (
            [
                "report",
                "--stack",
                "dev",
                "--clinic",
                "c",
                "--patient",
                "p",
                "--from",
                "2026-12-02",
                "--to",
                "2026-12-01",
            ],
            "audit: error: FROM must be before TO",
        ),
        (["verify", "--stack", "dev"], "audit: error: no local audit database is running"),
        (["verify", "--stack", "dev", "--target", "aws"], "audit: error: TARGET=aws needs"),
        (["report", "--stack", "dev", "--format", "xml"], "audit: error: argument --format"),
        ([], "audit: error: the following arguments are required: command"),
    ],
)
def test_usage_errors_are_one_line_exit_2(argv, message, capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path))
    for name in ("AUDIT_DATABASE_URL", "AUDIT_DB_HOST", "AUDIT_DB_NAME", "AUDIT_DB_USER"):
        monkeypatch.delenv(name, raising=False)
    assert audit.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_unreachable_database_is_exit_2(capsys) -> None:
    url = "postgresql://audit_reader:x@127.0.0.1:1/medeez_dev_audit"
    assert audit.main(["verify", "--stack", "dev", "--database-url", url]) == 2
    assert capsys.readouterr().err.startswith(
        "audit: error: cannot connect to the audit database: connection failed"
    )


def test_rds_iam_conninfo_is_a_token_over_verify_full_tls(tmp_path: Path) -> None:
    """As AWS documents IAM database authentication (it cannot run here: no RDS)."""
    bundle = tmp_path / "global-bundle.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    env = {
        "AUDIT_DB_HOST": "audit.cluster-x.us-east-1.rds.amazonaws.com",
        "AUDIT_DB_NAME": "medeez_prod_audit",
        "AUDIT_DB_USER": "audit_reader",
        "AUDIT_RDS_CA_BUNDLE": str(bundle),
        "AWS_REGION": "us-east-1",
    }
    rds = boto3.client(
        "rds",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    info = rds_iam_conninfo(env, rds)
    assert info["sslmode"] == "verify-full"
    assert info["sslrootcert"] == str(bundle)
    assert info["port"] == 5432
    assert "Action=connect" in info["password"]
    assert "DBUser=audit_reader" in info["password"]
    with pytest.raises(ConnectError, match="AUDIT_RDS_CA_BUNDLE"):
        rds_iam_conninfo({k: v for k, v in env.items() if k != "AUDIT_RDS_CA_BUNDLE"}, rds)


def test_ingest_login_in_lambda_is_iam_only(tmp_path: Path) -> None:
    """The stream consumer's environment (AUDIT_DB_AUTH=iam) logs in with a token over
    verify-full, and refuses a password URL beside it or an unknown method."""
    from auditlog.connect import ingest_conninfo

    bundle = tmp_path / "global-bundle.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    env = {
        "AUDIT_DB_AUTH": "iam",
        "AUDIT_DB_HOST": "medeez-dev-audit.abc.us-east-1.rds.amazonaws.com",
        "AUDIT_DB_PORT": "5432",
        "AUDIT_DB_NAME": "medeez_audit",
        "AUDIT_DB_USER": "audit_ingest",
        "AUDIT_RDS_CA_BUNDLE": str(bundle),
        "AWS_REGION": "us-east-1",
    }
    rds = boto3.client(
        "rds", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="t"
    )
    info = ingest_conninfo(env, rds)
    assert isinstance(info, dict)
    assert (info["user"], info["sslmode"]) == ("audit_ingest", "verify-full")
    assert "DBUser=audit_ingest" in info["password"]
    with pytest.raises(ConnectError, match="AUDIT_DB_AUTH=iam but AUDIT_INGEST_DATABASE_URL"):
        ingest_conninfo({**env, "AUDIT_INGEST_DATABASE_URL": "postgresql://u:p@h/d"}, rds)
    with pytest.raises(ConnectError, match="AUDIT_DB_AUTH: 'password' is not a login method"):
        ingest_conninfo({**env, "AUDIT_DB_AUTH": "password"}, rds)
    local = {"AUDIT_INGEST_DATABASE_URL": "postgresql://u:p@h/d"}
    assert ingest_conninfo(local, rds) == "postgresql://u:p@h/d"
