"""The audit database locally: its AWS shape built in moto from the definition, its data in the
real PostgreSQL, both validated row by row; breaking one thing fails exactly its row."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from scripts.servers.audit_db import provision
from scripts.services.base import Report
from scripts.setup_database import setup_local
from scripts.validate_setup import validate
from stackspec.config.stack import StackConfig
from tests.conftest import AuditServer

POSTGRES_ROWS = {
    "audit-db.postgres.major",
    "audit-db.postgres.log_connections",
    "audit-db.postgres.log_disconnections",
    "audit-db.postgres.roles",
}
#: Local differs from the cloud here, or moto does not report the field: SKIP with a reason.
EXPECTED_SKIPS = {
    "audit-db.subnet-group",
    "audit-db.instance.EnablePerformanceInsights",
    "audit-db.instance.PerformanceInsightsKMSKeyId",
    "audit-db.instance.PerformanceInsightsRetentionPeriod",
    "audit-db.postgres.tls",
    "audit-db.postgres.pgaudit",
    "audit-db.postgres.rds_iam",
}


def _rows(report: Report) -> dict[str, str]:
    return {
        row.check: row.status
        for row in report.rows
        if row.check.startswith(("audit-db.", "alarm.audit-db-"))
    }


@pytest.fixture
def local_postgres(
    audit_server: AuditServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The session's real PostgreSQL, provisioned as make local-up does and recorded in the
    local state's env file (the auditor's URL)."""
    database = f"medeez_dev_audit_{tmp_path.name[-8:].replace('-', '_')}"
    db = provision(
        audit_server.cluster, audit_server.superuser_password, audit_server.passwords, database
    )
    state = tmp_path / "local-state"
    state.mkdir(exist_ok=True)
    (state / "env").write_text(f"AUDIT_DATABASE_URL={db.reader_url}\n")
    monkeypatch.setenv("LOCAL_STATE_DIR", str(state))
    return db.admin_url


def test_setup_builds_every_aws_setting_and_validate_passes_them(
    dev: StackConfig, managed_policies: None, clients_for, local_postgres: str
) -> None:
    clients = clients_for(dev)
    result = setup_local(dev, clients)
    built = {(a.resource, a.name): a.outcome for a in result.actions}
    assert built[("db parameter group", "medeez-dev-audit-postgres16")] == "created"
    assert built[("db instance", "medeez-dev-audit")] == "created"
    assert built[("db subnet group", "medeez-dev-audit")] == "skipped"
    rows = _rows(validate(dev, clients, target="moto"))
    assert {check for check, status in rows.items() if status == "FAIL"} == set()
    assert {check for check, status in rows.items() if status == "SKIP"} == EXPECTED_SKIPS
    assert {check for check, status in rows.items() if status == "PASS"} >= POSTGRES_ROWS
    assert len([c for c in rows if c.startswith("alarm.audit-db-")]) == 8
    # A second setup changes nothing.
    again = setup_local(dev, clients)
    assert {a.outcome for a in again.actions if "audit" in a.name} <= {"unchanged", "skipped"}


def test_managed_master_secret_is_created_by_the_emulator_on_the_database_key(
    dev: StackConfig, clients_for
) -> None:
    clients = clients_for(dev)
    setup_local(dev, clients)
    (instance,) = clients("rds").describe_db_instances(DBInstanceIdentifier="medeez-dev-audit")[
        "DBInstances"
    ]
    secret = clients("secretsmanager").describe_secret(
        SecretId=instance["MasterUserSecret"]["SecretArn"]
    )
    key = clients("kms").describe_key(KeyId="alias/medeez-dev-audit-db")["KeyMetadata"]["Arn"]
    assert secret["KmsKeyId"] == key
    assert secret["Name"].startswith("rds!db-")


@pytest.mark.parametrize(
    ("parameter", "value", "row"),
    [
        ("rds.force_ssl", "0", "audit-db.parameter.rds.force_ssl"),
        ("pgaudit.log", "none", "audit-db.parameter.pgaudit.log"),
    ],
)
def test_a_changed_parameter_fails_exactly_its_row(
    dev: StackConfig, clients_for, parameter: str, value: str, row: str
) -> None:
    clients = clients_for(dev)
    setup_local(dev, clients)
    clients("rds").modify_db_parameter_group(
        DBParameterGroupName="medeez-dev-audit-postgres16",
        Parameters=[
            {"ParameterName": parameter, "ParameterValue": value, "ApplyMethod": "immediate"}
        ],
    )
    rows = _rows(validate(dev, clients, target="moto"))
    assert {check for check, status in rows.items() if status == "FAIL"} == {row}


def test_a_shorter_log_retention_fails_exactly_its_row(dev: StackConfig, clients_for) -> None:
    clients = clients_for(dev)
    setup_local(dev, clients)
    clients("logs").put_retention_policy(
        logGroupName="/aws/rds/instance/medeez-dev-audit/upgrade", retentionInDays=7
    )
    rows = _rows(validate(dev, clients, target="moto"))
    assert {check for check, status in rows.items() if status == "FAIL"} == {
        "audit-db.log-group.upgrade"
    }


def test_the_local_server_without_disconnection_logging_fails_exactly_its_row(
    dev: StackConfig, clients_for, local_postgres: str
) -> None:
    clients = clients_for(dev)
    setup_local(dev, clients)
    with psycopg.connect(local_postgres, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET log_disconnections = off")
        conn.execute("SELECT pg_reload_conf()")
    try:
        rows = _rows(validate(dev, clients, target="moto"))
    finally:
        with psycopg.connect(local_postgres, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM RESET log_disconnections")
            conn.execute("SELECT pg_reload_conf()")
    assert {check for check, status in rows.items() if status == "FAIL"} == {
        "audit-db.postgres.log_disconnections"
    }
