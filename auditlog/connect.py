"""Where the audit database is and how to log in.

Local: libpq URLs with SCRAM passwords, recorded by ``make local-up`` in ``.local/env``
(``AUDIT_DATABASE_URL`` auditor, ``AUDIT_INGEST_DATABASE_URL`` writer, ``AUDIT_ADMIN_DATABASE_URL``
owner; local only).

AWS (``TARGET=aws``): RDS for PostgreSQL with IAM database authentication over TLS, as AWS
documents it: a 15-minute token from ``rds.generate_db_auth_token`` is the password,
``sslmode=verify-full`` with the RDS certificate bundle (``global-bundle.pem``) as the root, so
the token never crosses an unverified connection. The role must be granted ``rds_iam``. This
path cannot run here (no AWS account). It is configured from the environment, filled from the
stack's outputs (``components/audit_database.py``): ``AUDIT_DB_HOST`` (auditDatabaseAddress),
``AUDIT_DB_PORT`` (auditDatabasePort, 5432), ``AUDIT_DB_NAME`` (``medeez_<env>_audit``),
``AUDIT_DB_USER``, ``AUDIT_RDS_CA_BUNDLE`` and ``AWS_REGION``; ``make audit-migrate
TARGET=aws`` grants the roles ``rds_iam``. The stream
consumer's function gets exactly these (``stackspec.definitions.stream_consumer``), plus
``AUDIT_DB_AUTH=iam``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg


class ConnectError(Exception):
    """The audit database is not configured or not reachable; the message says which."""


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() and not line.lstrip().startswith("#"):
                values[key.strip()] = value.strip()
    return values


def rds_iam_conninfo(env: Mapping[str, str] = os.environ, rds_client: Any = None) -> dict[str, Any]:
    """Connection parameters for RDS IAM authentication (token as password, verify-full TLS)."""
    missing = [
        name
        for name in ("AUDIT_DB_HOST", "AUDIT_DB_NAME", "AUDIT_DB_USER", "AUDIT_RDS_CA_BUNDLE")
        if not env.get(name)
    ]
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if missing or not region:
        raise ConnectError(
            "TARGET=aws needs "
            + ", ".join(missing + ([] if region else ["AWS_REGION"]))
            + " (the RDS endpoint, database, IAM database user and the RDS CA bundle "
            "global-bundle.pem from https://truststore.pki.rds.amazonaws.com)"
        )
    bundle = Path(env["AUDIT_RDS_CA_BUNDLE"])
    if not bundle.is_file():
        raise ConnectError(f"AUDIT_RDS_CA_BUNDLE: {bundle} is not a file")
    port = int(env.get("AUDIT_DB_PORT", "5432"))
    if rds_client is None:
        import boto3

        rds_client = boto3.client("rds", region_name=region)
    token = rds_client.generate_db_auth_token(
        DBHostname=env["AUDIT_DB_HOST"],
        Port=port,
        DBUsername=env["AUDIT_DB_USER"],
        Region=region,
    )
    return {
        "host": env["AUDIT_DB_HOST"],
        "port": port,
        "dbname": env["AUDIT_DB_NAME"],
        "user": env["AUDIT_DB_USER"],
        "password": token,
        "sslmode": "verify-full",
        "sslrootcert": str(bundle),
    }


def connect(
    url: str | None = None,
    *,
    conninfo: Mapping[str, Any] | None = None,
    application_name: str = "medeez-audit",
) -> psycopg.Connection[Any]:
    """An autocommit connection (writers open their own transactions)."""
    try:
        if conninfo is not None:
            return psycopg.connect(
                **conninfo, autocommit=True, application_name=application_name, connect_timeout=10
            )
        return psycopg.connect(
            url or "", autocommit=True, application_name=application_name, connect_timeout=10
        )
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConnectError(f"cannot connect to the audit database: {first}") from None


def ingest_conninfo(
    env: Mapping[str, str] = os.environ, rds_client: Any = None
) -> str | dict[str, Any]:
    """How the writer logs in: a URL locally (``AUDIT_INGEST_DATABASE_URL``), else RDS IAM
    authentication (``AUDIT_DB_*``). ``AUDIT_DB_AUTH=iam`` (what the stream consumer's function
    sets) demands IAM authentication and refuses a password URL beside it, so a stray variable
    can never turn the function's login into a password one."""
    auth = env.get("AUDIT_DB_AUTH", "")
    url = env.get("AUDIT_INGEST_DATABASE_URL")
    if auth not in ("", "iam"):
        raise ConnectError(
            f"AUDIT_DB_AUTH: {auth!r} is not a login method; use iam or leave it unset"
        )
    if auth == "iam" and url:
        raise ConnectError(
            "AUDIT_DB_AUTH=iam but AUDIT_INGEST_DATABASE_URL is set; the IAM login takes no "
            "password URL: remove one of them"
        )
    if url:
        return url
    return rds_iam_conninfo(env, rds_client)


def ingest_connection() -> psycopg.Connection[Any]:
    """The writer's connection, from the environment (:func:`ingest_conninfo`)."""
    info = ingest_conninfo()
    if isinstance(info, str):
        return connect(info, application_name="medeez-audit-ingest")
    return connect(conninfo=info, application_name="medeez-audit-ingest")
