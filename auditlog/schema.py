"""The audit database's roles and versioned migrations.

Roles (cluster-wide, created by the administrator before migrating; in RDS the master user, with
``rds_iam`` granted instead of passwords):

- ``audit_owner`` owns the database and the ``audit`` schema and runs the migrations. It holds no
  UPDATE, DELETE or TRUNCATE on audit rows, and a trigger refuses them anyway.
- ``audit_ingest``: the stream consumer and the PHI read auditor. INSERT, and SELECT of the
  columns chaining and duplicate detection need (clinic, sequence, time, event id, row hash).
- ``audit_reader``: auditors (``make audit-verify``, ``make audit-report``). SELECT only.

Migrations are plain SQL in ``auditlog/migrations/`` applied by yoyo-migrations, which records
each applied migration (and its hash) in the database, under a lock, one transaction each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from psycopg import Connection, sql

MIGRATIONS = Path(__file__).parent / "migrations"
OWNER, INGEST, READER = "audit_owner", "audit_ingest", "audit_reader"
ROLES = (OWNER, INGEST, READER)


def database_name(environment: str) -> str:
    """The audit database of a stack's environment."""
    return f"medeez_{environment}_audit"


def ensure_roles(
    admin: Connection[Any], passwords: dict[str, str] | None, *, iam: bool = False
) -> list[str]:
    """Create the missing roles (LOGIN; SCRAM passwords locally, ``rds_iam`` in RDS), or set
    their passwords; returns what was created."""
    created = []
    for role in ROLES:
        exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        if passwords is not None:
            admin.execute(
                sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
                    sql.SQL(verb), sql.Identifier(role), sql.Literal(passwords[role])
                )
            )
        elif not exists:
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        if iam:
            admin.execute(sql.SQL("GRANT rds_iam TO {}").format(sql.Identifier(role)))
        if not exists:
            created.append(role)
    return created


def ensure_database(admin: Connection[Any], name: str) -> bool:
    """Create the audit database owned by ``audit_owner``; True when it was created. PUBLIC may
    not connect: only the three roles may."""
    if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
        return False
    admin.execute(
        sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
            sql.Identifier(name), sql.Identifier(OWNER)
        )
    )
    admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
    for role in ROLES:
        admin.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(name), sql.Identifier(role)
            )
        )
    return True


def yoyo_url(libpq_url: str) -> str:
    """yoyo names the psycopg 3 driver in the URL scheme."""
    scheme, sep, rest = libpq_url.partition("://")
    if not sep or scheme not in ("postgresql", "postgres"):
        raise ValueError("the owner's database URL must be postgresql://...")
    return "postgresql+psycopg://" + rest


def migrate(owner_url: str) -> list[str]:
    """Apply the migrations not applied yet, as the owner; returns their ids."""
    from yoyo import get_backend, read_migrations  # imported here: only migrating needs yoyo

    backend = get_backend(yoyo_url(owner_url))
    migrations = read_migrations(str(MIGRATIONS))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [m.id for m in pending]
