"""make audit-migrate: pending migrations applied locally as the owner; on RDS the master user
from the RDS-managed secret over verify-full TLS prepares the IAM roles (rds_iam) and hands the
database to audit_owner, whose sessions then run the migrations. The RDS path runs here against
the real local PostgreSQL with an ``rds_iam`` role standing in for RDS's (no TLS locally)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from moto import mock_aws

from auditlog import schema
from scripts import audit_migrate
from scripts.servers.postgres import SUPERUSER
from tests.conftest import AuditServer
from tests.moto_env import isolate_from_real_aws


def _fresh_database(server: AuditServer, name: str) -> str:
    """A database owned by the superuser, as RDS creates ``db_name`` owned by its master."""
    admin = server.cluster.url(SUPERUSER, server.superuser_password)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.cluster.url(SUPERUSER, server.superuser_password, name)


def test_local_applies_pending_migrations_once(audit_server: AuditServer, tmp_path: Path) -> None:
    admin = audit_server.cluster.url(SUPERUSER, audit_server.superuser_password)
    name = f"medeez_migrate_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        schema.ensure_roles(conn, audit_server.passwords)
        schema.ensure_database(conn, name)
    owner = audit_server.cluster.url(schema.OWNER, audit_server.passwords[schema.OWNER], name)
    (tmp_path / "env").write_text(f"AUDIT_ADMIN_DATABASE_URL={owner}\n")
    migrations = sorted(p.name for p in schema.MIGRATIONS.glob("*.sql") if "rollback" not in p.name)
    assert audit_migrate.migrate_local(tmp_path) == [m.removesuffix(".sql") for m in migrations]
    assert audit_migrate.migrate_local(tmp_path) == []


def test_rds_preparation_grants_rds_iam_and_owner_sessions_own_every_object(
    audit_server: AuditServer,
) -> None:
    name = f"medeez_rds_{secrets.token_hex(4)}"
    master_url = _fresh_database(audit_server, name)
    with psycopg.connect(master_url, autocommit=True) as master:
        if not master.execute("SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'").fetchone():
            master.execute("CREATE ROLE rds_iam")
        audit_migrate.prepare_rds(master, name)
        members = {
            row[0]
            for row in master.execute(
                "SELECT m.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid "
                "JOIN pg_roles m ON m.oid = a.member WHERE r.rolname = 'rds_iam'"
            ).fetchall()
        }
        owner = master.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
    assert set(schema.ROLES) <= members
    assert owner == (schema.OWNER,)

    conninfo: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": audit_server.cluster.port,
        "dbname": name,
        "user": SUPERUSER,
        "password": audit_server.superuser_password,
        "sslmode": "disable",  # RDS: verify-full (master_conninfo); the local server has no TLS
        "sslrootcert": "",
    }
    applied = schema.migrate(audit_migrate.owner_session_url(conninfo))
    assert applied
    with psycopg.connect(master_url) as conn:
        owners = {
            row[0]
            for row in conn.execute(
                "SELECT tableowner FROM pg_tables WHERE schemaname = 'audit'"
            ).fetchall()
        }
    assert owners == {schema.OWNER}


def test_master_connection_comes_from_the_managed_secret_over_verify_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "global-bundle.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    isolate_from_real_aws(monkeypatch)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = client.create_secret(
            Name="rds!db-test",
            SecretString=json.dumps({"username": "medeez_admin", "password": "p@ss/w:rd"}),
        )["ARN"]
        env = {
            "AUDIT_DB_HOST": "medeez-prod-audit.abc.us-east-1.rds.amazonaws.com",
            "AUDIT_DB_MASTER_SECRET_ARN": arn,
            "AUDIT_RDS_CA_BUNDLE": str(bundle),
            "AWS_REGION": "us-east-1",
        }
        info = audit_migrate.master_conninfo(env, "medeez_prod_audit", client)
    assert info == {
        "host": "medeez-prod-audit.abc.us-east-1.rds.amazonaws.com",
        "port": 5432,
        "dbname": "medeez_prod_audit",
        "user": "medeez_admin",
        "password": "p@ss/w:rd",
        "sslmode": "verify-full",
        "sslrootcert": str(bundle),
    }
    url = audit_migrate.owner_session_url(info)
    assert url.startswith("postgresql://medeez_admin:p%40ss%2Fw%3Ard@medeez-prod-audit.")
    assert "sslmode=verify-full" in url
    assert "options=-c%20role%3Daudit_owner" in url


def test_aws_without_its_settings_is_one_usage_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in (*audit_migrate.AWS_ENV, "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    assert audit_migrate.main(["--stack", "prod", "--target", "aws"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("audit-migrate: TARGET=aws needs AUDIT_DB_HOST, ")


def test_local_without_a_running_server_is_one_usage_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path))
    assert audit_migrate.main(["--stack", "dev"]) == 2
    assert "run make local-up first" in capsys.readouterr().err
