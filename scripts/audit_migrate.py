"""``make audit-migrate [STACK=dev] [TARGET=aws]``: apply the audit schema's pending migrations.

    python -m scripts.audit_migrate --stack dev [--target local|aws]

Local (the default): the PostgreSQL ``make local-up`` runs, as the schema's owner
(``AUDIT_ADMIN_DATABASE_URL`` in ``.local/env``); local-up already migrates, so this applies
only what was added since.

AWS (``--target aws``, the deploy workflow's step after ``pulumi up``): the RDS instance as its
master user, whose password RDS keeps in Secrets Manager (``manage_master_user_password``), over
``sslmode=verify-full`` TLS with the RDS CA bundle, as AWS documents connecting to RDS for
PostgreSQL. It first prepares what only the master can: the three roles
(``auditlog.schema.ROLES``) with ``GRANT rds_iam`` and no password (they log in with IAM tokens),
the database handed to ``audit_owner`` with PUBLIC's access revoked; then yoyo applies the
migrations in sessions whose role is ``audit_owner`` (libpq ``options=-c role=audit_owner``), so
every object belongs to the owner, never to the master. Configured from the stack outputs:
``AUDIT_DB_HOST`` (auditDatabaseAddress), ``AUDIT_DB_PORT`` (auditDatabasePort, 5432),
``AUDIT_DB_MASTER_SECRET_ARN`` (auditDatabaseMasterSecretArn), ``AUDIT_RDS_CA_BUNDLE``
(``global-bundle.pem``) and ``AWS_REGION``. Not run from this repository (no AWS account here).

Exit status: 0 migrated (or nothing pending), 1 the database refused or was unreachable (one
line), 2 usage errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql

from auditlog import schema
from auditlog.connect import ConnectError, connect
from scripts.aws_target import local_state_dir, read_env_file
from stackspec.config.stack import load_stack_config
from stackspec.definitions.audit_database import audit_database_definition

PROG = "audit-migrate"
AWS_ENV = ("AUDIT_DB_HOST", "AUDIT_DB_MASTER_SECRET_ARN", "AUDIT_RDS_CA_BUNDLE")


class Usage(Exception):
    """Exit 2 with this one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise Usage(message)


def master_conninfo(
    env: Mapping[str, str], database: str, secrets_client: Any = None
) -> dict[str, Any]:
    """The master user's connection: credentials from the RDS-managed secret, verify-full TLS."""
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    missing = [name for name in AWS_ENV if not env.get(name)] + ([] if region else ["AWS_REGION"])
    if missing:
        raise Usage(
            "TARGET=aws needs "
            + ", ".join(missing)
            + " (the stack outputs auditDatabaseAddress and auditDatabaseMasterSecretArn, the "
            "RDS CA bundle global-bundle.pem from https://truststore.pki.rds.amazonaws.com)"
        )
    bundle = Path(env["AUDIT_RDS_CA_BUNDLE"])
    if not bundle.is_file():
        raise Usage(f"AUDIT_RDS_CA_BUNDLE: {bundle} is not a file")
    if secrets_client is None:
        import boto3

        secrets_client = boto3.client("secretsmanager", region_name=region)
    secret = json.loads(
        secrets_client.get_secret_value(SecretId=env["AUDIT_DB_MASTER_SECRET_ARN"])["SecretString"]
    )
    return {
        "host": env["AUDIT_DB_HOST"],
        "port": int(env.get("AUDIT_DB_PORT", "5432")),
        "dbname": database,
        "user": secret["username"],
        "password": secret["password"],
        "sslmode": "verify-full",
        "sslrootcert": str(bundle),
    }


def owner_session_url(conninfo: Mapping[str, Any]) -> str:
    """A libpq URL of the master's connection whose sessions run as ``audit_owner``."""
    query = {
        "sslmode": conninfo["sslmode"],
        "sslrootcert": conninfo["sslrootcert"],
        "options": f"-c role={schema.OWNER}",
    }
    return (
        f"postgresql://{quote(str(conninfo['user']), safe='')}:"
        f"{quote(str(conninfo['password']), safe='')}@{conninfo['host']}:{conninfo['port']}/"
        f"{conninfo['dbname']}?{urlencode(query, quote_via=quote)}"
    )


def prepare_rds(master: psycopg.Connection[Any], database: str) -> list[str]:
    """As the master: the roles with rds_iam (no passwords), the master a member of the owner,
    the database owned by ``audit_owner``, PUBLIC's access revoked; returns the roles created."""
    created = schema.ensure_roles(master, None, iam=True)
    master.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(schema.OWNER)))
    master.execute(
        sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            sql.Identifier(database), sql.Identifier(schema.OWNER)
        )
    )
    master.execute(
        sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database))
    )
    for role in schema.ROLES:
        master.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(database), sql.Identifier(role)
            )
        )
    return created


def migrate_local(state: Path) -> list[str]:
    url = read_env_file(state / "env").get("AUDIT_ADMIN_DATABASE_URL")
    if not url:
        raise Usage(
            f"no local audit database recorded in {state / 'env'}: run make local-up first "
            "(or TARGET=aws)"
        )
    return schema.migrate(url)


def migrate_rds(env: Mapping[str, str], database: str, secrets_client: Any = None) -> list[str]:
    conninfo = master_conninfo(env, database, secrets_client)
    with connect(conninfo=conninfo, application_name="medeez-audit-migrate") as master:
        created = prepare_rds(master, database)
    if created:
        print(f"created roles with rds_iam: {', '.join(created)}")
    return schema.migrate(owner_session_url(conninfo))


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog=PROG, description="Apply the audit schema's pending migrations.")
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--target", choices=("local", "aws"), default="local")
    try:
        args = parser.parse_args(argv)
        try:
            cfg = load_stack_config(args.stack)
        except Exception as exc:
            text = str(exc).strip()
            raise Usage(text.splitlines()[0] if text else type(exc).__name__) from None
        database = audit_database_definition(cfg).database_name
        if args.target == "aws":
            where = f"RDS {cfg.names.audit_database}/{database}"
            applied = migrate_rds(os.environ, database)
        else:
            where = "the local PostgreSQL"
            applied = migrate_local(local_state_dir())
    except Usage as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except (ConnectError, psycopg.Error) as exc:
        text = str(exc).strip()
        print(f"{PROG}: {text.splitlines()[0] if text else type(exc).__name__}", file=sys.stderr)
        return 1
    if applied:
        print(f"applied {len(applied)} migration(s) to {where}: {', '.join(applied)}")
    else:
        print(f"nothing to apply: {where} is at the latest migration")
    return 0


if __name__ == "__main__":
    sys.exit(main())
