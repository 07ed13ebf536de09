"""The local Valkey of ``make local-up`` (scripts/local_servers.py, scripts/servers/valkey.py),
for real: the ACL file from the cache definition, 0600 secrets, CACHE_URL/CACHE_ADMIN_URL,
restart after SIGKILL, stop; and the validate rows against it (scripts/servers/valkey_check.py),
including a drifted server that fails them."""

from __future__ import annotations

import json
import os
import signal
import stat
import time
from pathlib import Path
from typing import Any

import pytest
import valkey

from scripts import local_servers
from scripts.aws_target import read_env_file
from scripts.servers import valkey as vk
from scripts.servers.postgres import free_port
from scripts.servers.valkey_check import check_local_server
from scripts.services.base import CheckContext, ReadOnlyClients
from stackspec.config.stack import load_stack_config
from stackspec.definitions import stack_definition
from stackspec.definitions.cache import cache_definition
from tests.scripts.conftest import local_clients


@pytest.fixture
def state(tmp_path: Path) -> Any:
    path = tmp_path / "state"
    path.mkdir()
    yield path
    local_servers.cache_down(path)


def _pid(state: Path) -> int:
    return int((state / "valkey.pid").read_text().split()[0])


def test_local_up_runs_valkey_with_the_definitions_users(state: Path) -> None:
    definition = cache_definition(load_stack_config("dev"))
    local_servers.cache_up(state, "dev")
    env = read_env_file(state / "env")
    app = valkey.Valkey.from_url(env["CACHE_URL"])
    admin = valkey.Valkey.from_url(env["CACHE_ADMIN_URL"])
    assert app.set(f"{definition.key_prefix}probe", b"1", px=1000)
    with pytest.raises(valkey.exceptions.NoPermissionError, match="No permissions to access a key"):
        app.get("elsewhere")
    # The stream invalidator's user: UNLINK under the prefix, nothing else.
    invalidator = valkey.Valkey.from_url(env["CACHE_INVALIDATOR_URL"])
    assert invalidator.unlink(f"{definition.key_prefix}probe") == 1
    assert invalidator.ping()
    with pytest.raises(valkey.exceptions.NoPermissionError, match="No permissions to access a key"):
        invalidator.unlink("elsewhere")
    with pytest.raises(valkey.exceptions.NoPermissionError, match="'get' command"):
        invalidator.get(f"{definition.key_prefix}probe")
    with pytest.raises(valkey.exceptions.NoPermissionError, match="'set' command"):
        invalidator.set(f"{definition.key_prefix}probe", b"1")
    assert app.set(f"{definition.key_prefix}probe", b"1", px=1000)
    assert admin.info("server")["valkey_version"].startswith(f"{definition.engine_version}.")
    with pytest.raises(valkey.exceptions.NoPermissionError, match="'config\\|get' command"):
        admin.config_get("maxmemory")
    acl = (state / "valkey" / "users.acl").read_text().splitlines()
    passwords = json.loads((state / "valkey" / "credentials.json").read_text())
    assert [line.split()[1] for line in acl] == ["default", "app", "admin", "invalidator"]
    assert acl[0] == f"user default resetpass {definition.users[0].access_string}"
    for line, user in zip(acl[1:], definition.users[1:], strict=True):
        assert line.endswith(user.access_string)
        assert passwords[user.user_name] not in line  # only its hash is in the file
    for path in (
        state / "env",
        state / "valkey" / "credentials.json",
        state / "valkey" / "users.acl",
    ):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = (state / "valkey" / "valkey.conf").read_text().splitlines()
    assert {"bind 127.0.0.1", "protected-mode yes", 'save ""', "appendonly no"} <= set(config)

    # Killed: the next local-up starts it again (empty), same passwords, URLs still valid.
    first = _pid(state)
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while vk._cmdline(first) and time.monotonic() < deadline:
        time.sleep(0.02)
    local_servers.cache_up(state, "dev")
    assert _pid(state) != first
    again = valkey.Valkey.from_url(read_env_file(state / "env")["CACHE_URL"])
    assert again.get(f"{definition.key_prefix}probe") is None  # nothing persisted
    local_servers.cache_down(state)
    assert not (state / "valkey.pid").exists()


def _validate(state: Path) -> dict[str, str]:
    cfg = load_stack_config("dev")
    ctx = CheckContext(stack=stack_definition(cfg), clients=ReadOnlyClients(local_clients(cfg)))
    check_local_server(ctx, state)
    return {row.check: row.status for row in ctx.rows}


def test_validate_rows_pass_on_the_local_server_and_catch_drift(state: Path) -> None:
    assert _validate(state) == {}  # no local server started: no rows
    local_servers.cache_up(state, "dev")
    rows = _validate(state)
    assert rows == {
        "cache.local.engine_version": "PASS",
        "cache.local.maxmemory_policy": "PASS",
        "cache.local.listener": "PASS",
        "cache.local.persistence": "PASS",
        "cache.local.acl_users": "PASS",
        "cache.local.default_user": "PASS",
        "cache.local.application_refusals": "PASS",
        "cache.local.application_prefix": "PASS",
    }
    # A server started with another eviction policy and an application user allowed FLUSHALL.
    local_servers.cache_down(state)
    definition = cache_definition(load_stack_config("dev"))
    loose = [
        u
        if u.user_name != "app"
        else type(u)(**{**vars(u), "access_string": u.access_string + " +flushall"})
        for u in definition.users
    ]
    port = free_port()
    server = vk.local_server(state, port, "allkeys-random")
    passwords = json.loads((state / "valkey" / "credentials.json").read_text())
    server.configure(loose, passwords)
    pid = server.start(("admin", passwords["admin"]))
    (state / "valkey.pid").write_text(f"{pid} {port}\n")
    rows = _validate(state)
    assert rows["cache.local.maxmemory_policy"] == "FAIL"
    assert rows["cache.local.acl_users"] == "FAIL"
    assert rows["cache.local.application_refusals"] == "FAIL"
    assert rows["cache.local.engine_version"] == "PASS"
