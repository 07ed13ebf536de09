"""Provision the audit database on a local cluster: roles, database, migrations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from auditlog import schema
from scripts.servers.postgres import SUPERUSER, Cluster


@dataclass(frozen=True)
class AuditDatabase:
    name: str
    admin_url: str
    owner_url: str
    ingest_url: str
    reader_url: str
    created: bool
    applied: tuple[str, ...]


def provision(
    cluster: Cluster, superuser_password: str, passwords: dict[str, str], database: str
) -> AuditDatabase:
    """Create (or keep) the roles and ``database``, then apply pending migrations as the owner."""
    admin_url = cluster.url(SUPERUSER, superuser_password)
    conn: psycopg.Connection[Any]
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        schema.ensure_roles(conn, passwords)
        created = schema.ensure_database(conn, database)
    owner_url = cluster.url(schema.OWNER, passwords[schema.OWNER], database)
    applied = schema.migrate(owner_url)
    return AuditDatabase(
        name=database,
        admin_url=cluster.url(SUPERUSER, superuser_password, database),
        owner_url=owner_url,
        ingest_url=cluster.url(schema.INGEST, passwords[schema.INGEST], database),
        reader_url=cluster.url(schema.READER, passwords[schema.READER], database),
        created=created,
        applied=tuple(applied),
    )
