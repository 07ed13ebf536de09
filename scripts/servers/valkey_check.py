"""``make validate`` rows for the local cache server, against the cache definition.

Called by the cache's local service (``scripts/services/cache.py``, ``check(ctx)``) when the
target is the local emulator. ACL LIST cannot be asked: ``ACL`` is in ``@dangerous``, which the
definition's admin user does not have (nor does any ElastiCache user: ElastiCache manages users
through its API). So the rows check what the server was started with (the ACL file and config
it loaded, which no user can change at run time, since none may run ``ACL SETUSER`` or
``CONFIG SET``) and probe the behaviour: the default user is refused, the application user is
refused outside its key prefix and for FLUSHALL and CONFIG, and ``INFO`` (allowed to the admin)
gives the engine version and the eviction policy. Read-only: the probes are GETs and refused
commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scripts.aws_target import local_state_dir, read_env_file
from scripts.servers import valkey as vk
from stackspec.definitions.cache import CacheDefinition, CacheUserRole

if TYPE_CHECKING:  # scripts.services imports this module: no import back at run time
    from scripts.services.base import CheckContext


def _error(run: Any) -> str:
    """``allowed``, ``NOPERM``, ``NOAUTH`` or the error's text."""
    import valkey

    try:
        run()
    except valkey.exceptions.NoPermissionError:
        return "NOPERM"
    except valkey.exceptions.AuthenticationError as exc:
        return "NOAUTH" if "required" in str(exc).lower() else str(exc)
    except valkey.exceptions.ValkeyError as exc:
        return str(exc)
    return "allowed"


def _acl_rules(line: str) -> tuple[str, str]:
    """``user <name> <password rule> <rules...>`` without the password rule."""
    words = line.split()
    return words[1], " ".join(w for w in words[2:] if not w.startswith("#") and w != "resetpass")


def check_local_server(ctx: CheckContext, state: Path | None = None) -> None:
    """Rows ``cache.local.*`` for the server ``make local-up`` started (none when it started
    none, or against AWS; FAIL when it has died)."""
    definition: CacheDefinition = ctx.stack.cache
    state = state or local_state_dir()
    recorded = (
        (state / "valkey.pid").read_text().split() if (state / "valkey.pid").is_file() else []
    )
    if not ctx.clients.emulator or len(recorded) != 2 or not recorded[1].isdigit():
        # Against AWS, or no local server started (LOCAL_AUDIT=0, setup on moto alone): the
        # cloud-shaped rows of the cache service stand alone.
        return
    server = vk.local_server(state, int(recorded[1]), "")
    app = definition.user(CacheUserRole.APPLICATION).user_name
    admin = definition.user(CacheUserRole.ADMIN).user_name
    try:
        passwords = json.loads((state / "valkey" / "credentials.json").read_text())
    except (OSError, ValueError):
        ctx.fail("cache.local.server", "credentials in .local/valkey", "unreadable")
        return
    if server.pid() is None or not server.ping((admin, passwords.get(admin, ""))):
        ctx.fail(
            "cache.local.server", f"Valkey answering on 127.0.0.1:{recorded[1]}", "not running"
        )
        return
    admin_client = server.client(admin, passwords[admin])
    app_client = server.client(app, passwords[app])
    anonymous = server.client("default", "", timeout=2.0)
    anonymous.connection_pool.connection_kwargs.pop("username", None)
    anonymous.connection_pool.connection_kwargs.pop("password", None)
    try:
        info = admin_client.info()
        version = str(info.get("valkey_version") or info.get("redis_version"))
        ctx.add(
            "cache.local.engine_version",
            definition.engine_version,
            ".".join(version.split(".")[:2]),
        )
        policy = dict(definition.parameters).get("maxmemory-policy")
        ctx.add("cache.local.maxmemory_policy", policy, info.get("maxmemory_policy"))
        config = server.config_file.read_text().splitlines()
        ctx.add(
            "cache.local.listener",
            ["bind 127.0.0.1", "protected-mode yes"],
            [line for line in config if line.startswith(("bind ", "protected-mode "))],
        )
        ctx.add(
            "cache.local.persistence",
            {"save": '""', "appendonly": "no", "aof_enabled": 0},
            {
                "save": next((ln[5:] for ln in config if ln.startswith("save ")), "default"),
                "appendonly": next((ln[11:] for ln in config if ln.startswith("appendonly ")), "?"),
                "aof_enabled": info.get("aof_enabled"),
            },
        )
        expected = dict(_acl_rules(vk.acl_line(u, None)) for u in definition.users)
        loaded = dict(
            _acl_rules(line) for line in server.acl_file.read_text().splitlines() if line.strip()
        )
        ctx.add("cache.local.acl_users", expected, loaded)
        ctx.add(
            "cache.local.default_user",
            "NOAUTH",
            _error(lambda: anonymous.get(f"{definition.key_prefix}probe")),
        )
        refused = {
            "key outside prefix": _error(lambda: app_client.get("outside:probe")),
            # An invalid mode: the ACL is checked first, and an allowed FLUSHALL then fails on
            # the argument instead of flushing (validate changes nothing).
            "FLUSHALL": _error(lambda: app_client.execute_command("FLUSHALL", "NOT-A-MODE")),
            "CONFIG GET": _error(lambda: app_client.config_get("maxmemory")),
        }
        ctx.add(
            "cache.local.application_refusals",
            dict.fromkeys(refused, "NOPERM"),
            refused,
        )
        ctx.add(
            "cache.local.application_prefix",
            "allowed",
            _error(lambda: app_client.get(f"{definition.key_prefix}validate:probe")),
        )
    finally:
        for client in (admin_client, app_client, anonymous):
            client.close()


def local_env(state: Path | None = None) -> dict[str, str]:
    """``CACHE_URL`` and ``CACHE_ADMIN_URL`` as ``make local-up`` recorded them."""
    env = read_env_file((state or local_state_dir()) / "env")
    return {k: v for k, v in env.items() if k in ("CACHE_URL", "CACHE_ADMIN_URL")}
