"""A real PostgreSQL 16 from the pgserver wheel's binaries, on 127.0.0.1 with SCRAM auth.

pgserver ships PostgreSQL's own binaries (initdb, pg_ctl, postgres); they are driven directly, so
the server outlives the process that started it (pgserver's Python API stops it on exit) and
runs exactly as configured here: TCP on loopback only, no Unix socket, SCRAM-SHA-256 for every
connection. PostgreSQL refuses to run as root, so as root the cluster belongs to a dedicated
system user (``pgserver``, created with useradd when missing) and every binary runs through
``runuser``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"
SERVICE_USER = "pgserver"


class PostgresError(Exception):
    """The server could not be set up, started or stopped; the message says why."""


def binaries() -> Path:
    """PostgreSQL's ``bin`` directory: the wheel's own, or, when the server runs as the service
    user and cannot reach the wheel (a checkout under a private directory, as ``mktemp -d``
    makes), a copy in a world-searchable place."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresError("pgserver is not installed; run 'make install' (requirements-dev.txt)")
    install = Path(next(iter(spec.submodule_search_locations))) / "pginstall"
    if not (install / "bin" / "pg_ctl").exists():
        raise PostgresError(f"pgserver has no PostgreSQL binaries in {install / 'bin'}")
    if _service_user() is not None and not _searchable_by_others(install):
        install = _reachable_copy(install)
    return install / "bin"


def _searchable_by_others(path: Path) -> bool:
    """Whether a user without any of our rights can traverse to ``path``."""
    return all(os.stat(p).st_mode & 0o001 for p in (path.resolve(), *path.resolve().parents))


def _reachable_copy(install: Path) -> Path:
    """``install`` (with the wheel's bundled libraries, which its binaries find through the
    relative rpath ``$ORIGIN/../../../pgserver.libs``) copied once, about 40 MB in under a
    second, to a world-searchable directory named after the wheel's path; renamed into place,
    so a half-made copy is never used."""
    package = install.parent
    libs = package.parent / f"{package.name}.libs"
    digest = hashlib.sha256(str(install.resolve()).encode()).hexdigest()[:12]
    target = Path(tempfile.gettempdir()) / f"medeez-pgserver-{digest}"
    copied = target / package.name / install.name
    if (copied / "bin" / "pg_ctl").exists():
        return copied
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=target.parent))
    try:
        made = staging / "copy"
        shutil.copytree(install, made / package.name / install.name, symlinks=True)
        if libs.is_dir():
            shutil.copytree(libs, made / libs.name, symlinks=True)
        for directory in (made, made / package.name):
            directory.chmod(0o755)
        try:
            made.rename(target)
        except OSError:
            if not (copied / "bin" / "pg_ctl").exists():  # not a concurrent copy that won
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return copied


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _service_user() -> pwd.struct_passwd | None:
    """The user the server runs as: None when we are not root (it runs as us)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    if useradd is None:
        raise PostgresError(
            "running as root, PostgreSQL needs a non-root user and useradd is not available; "
            f"create a user named {SERVICE_USER} or run as a normal user"
        )
    subprocess.run(  # noqa: S603 - fixed arguments
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(SERVICE_USER)


@dataclass(frozen=True)
class Cluster:
    """A PostgreSQL cluster in ``datadir`` listening on 127.0.0.1:``port``, logging to ``log``."""

    datadir: Path
    port: int
    log: Path
    #: Test clusters trade durability against a machine crash for speed (fsync off); local and
    #: bench keep the defaults.
    durable: bool = True

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        user = _service_user()
        command = [str(binaries() / args[0]), *args[1:]]
        if user is not None:
            runuser = shutil.which("runuser")
            if runuser is None:
                raise PostgresError(
                    "running as root needs runuser (util-linux) to drop to pgserver"
                )
            command = [runuser, "-u", SERVICE_USER, "--", *command]
        result = subprocess.run(  # noqa: S603 - our own binaries, fixed arguments
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise PostgresError(f"{args[0]} failed: {' / '.join(detail)} (log: {self.log})")
        return result

    def _own(self, *paths: Path) -> None:
        user = _service_user()
        if user is None:
            return
        for path in paths:
            os.chown(path, user.pw_uid, user.pw_gid)
        # The service user must reach the data directory through its parents.
        for parent in self.datadir.resolve().parents:
            if not os.stat(parent).st_mode & 0o001:
                raise PostgresError(
                    f"{parent} is not searchable by other users, so the {SERVICE_USER} user "
                    "cannot reach the data directory; choose a LOCAL_STATE_DIR under a "
                    "world-searchable path"
                )

    @property
    def initialized(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def init(self, superuser_password: str) -> None:
        """initdb with SCRAM-SHA-256 for every connection; loopback TCP only, no Unix socket."""
        self.datadir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.datadir, 0o700)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log.touch(exist_ok=True)
        pwfile = self.datadir.parent / f".{self.datadir.name}.pw"
        pwfile.write_text(superuser_password + "\n")
        os.chmod(pwfile, 0o600)
        self._own(self.datadir, pwfile, self.log)
        try:
            self._run(
                "initdb",
                "-D",
                str(self.datadir),
                "--auth=scram-sha-256",
                f"--username={SUPERUSER}",
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
                "--locale=C",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        settings = [
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = ''",
            "password_encryption = 'scram-sha-256'",
            "log_connections = on",
            "log_disconnections = on",
            # Schema and privilege changes (disabling the audit guard trigger, granting UPDATE)
            # land in postgres.log; RDS adds pgaudit for this (next issue).
            "log_statement = 'ddl'",
            "log_line_prefix = '%m [%p] %u@%d '",
        ]
        if not self.durable:
            # fsync off survives a crash of the server process (the OS keeps the written pages),
            # which is the fault the tests inject; synchronous_commit stays on, or a crash could
            # drop a commit already acknowledged to the consumer and the test would see a loss
            # that production (durable) cannot have.
            settings += ["fsync = off", "full_page_writes = off"]
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write("\n# medeez local settings\n" + "\n".join(settings) + "\n")

    def start(self, timeout: int = 30) -> int:
        """Start the server and wait until it accepts connections; returns the postmaster pid.

        After a postmaster was killed, its children hold the shared memory until they notice
        (about a second); the server refuses to start until then, so start is retried briefly.
        """
        if port_in_use(self.port):
            raise PostgresError(f"another process holds port {self.port}")
        self._own(self.log)
        deadline = time.monotonic() + 15
        while True:
            try:
                return self._start(timeout)
            except PostgresError as exc:
                log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
                if (
                    "shared memory block is still in use" not in log + str(exc)
                    and ("another server might be running" not in str(exc))
                ) or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def _start(self, timeout: int) -> int:
        self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-l",
            str(self.log),
            "-w",
            "-t",
            str(timeout),
            "-o",
            f"-p {self.port}",
            "start",
            timeout=timeout + 10,
        )
        pid = self.pid()
        if pid is None:
            raise PostgresError(f"PostgreSQL did not start; see {self.log}")
        return pid

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: roll back sessions; ``immediate``: crash-stop)."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "-t", "30", "stop")

    def pid(self) -> int | None:
        """The running postmaster's pid, from postmaster.pid, or None."""
        try:
            first = (self.datadir / "postmaster.pid").read_text().split("\n", 1)[0]
            pid = int(first)
        except (OSError, ValueError):
            return None
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        if stat.rsplit(")", 1)[-1].split()[0] == "Z" or b"postgres" not in cmdline:
            return None
        return pid

    def url(self, user: str, password: str, database: str = "postgres") -> str:
        from urllib.parse import quote

        return (
            f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}"
            f"@127.0.0.1:{self.port}/{quote(database, safe='')}"
        )
