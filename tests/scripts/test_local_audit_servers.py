"""make local-up / local-down / local-status with the audit servers, for real: moto_server,
PostgreSQL 16 from pgserver's binaries and the stream poller, in a private state directory."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from scripts.aws_target import read_env_file
from scripts.servers.postgres import free_port

REPO = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_dead(pid: int) -> None:
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def state() -> Iterator[Path]:
    # Not pytest's tmp_path: its parents are private to root, and the pgserver user must reach
    # the data directory.
    base = Path(tempfile.mkdtemp(prefix="medeez-local-"))
    os.chmod(base, 0o755)  # noqa: S103
    try:
        yield base
    finally:
        subprocess.run(
            [str(REPO / "scripts/stop-local.sh")],
            env={**os.environ, "LOCAL_STATE_DIR": str(base)},
            capture_output=True,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


def _run(script: str, state: Path, port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / "scripts" / script)],
        env={**os.environ, "LOCAL_STATE_DIR": str(state), "MOTO_PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _status(state: Path) -> str:
    return subprocess.run(
        [str(REPO / ".venv/bin/python"), "-m", "scripts.local_servers", "status"],
        cwd=REPO,
        env={**os.environ, "LOCAL_STATE_DIR": str(state)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _pid(state: Path, name: str) -> int:
    return int((state / f"{name}.pid").read_text().split()[0])


def test_local_up_runs_the_audit_servers_idempotently_and_down_stops_them(state: Path) -> None:
    port = free_port()
    first = _run("start-local.sh", state, port)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "PostgreSQL running" in first.stdout
    assert "applied 0001.audit-event" in first.stdout
    assert "stream poller running" in first.stdout
    env = read_env_file(state / "env")
    assert set(env) == {
        "AWS_ENDPOINT_URL",
        "AUDIT_DATABASE_URL",
        "AUDIT_INGEST_DATABASE_URL",
        "AUDIT_ADMIN_DATABASE_URL",
        "CACHE_URL",
        "CACHE_ADMIN_URL",
        "CACHE_INVALIDATOR_URL",
    }
    assert stat.S_IMODE((state / "env").stat().st_mode) == 0o600  # it holds passwords
    for service in ("postgres", "valkey", "stream-poller", "moto"):
        assert (state / f"{service}.pid").is_file()
        assert (state / f"{service}.log").is_file()
    # The auditor reads, over SCRAM on loopback; a wrong password is refused.
    with psycopg.connect(env["AUDIT_DATABASE_URL"]) as conn:
        assert conn.execute("SELECT count(*) FROM audit.event").fetchone() == (0,)
        assert conn.execute("SHOW password_encryption").fetchone() == ("scram-sha-256",)
        assert conn.info.host == "127.0.0.1"
    wrong = env["AUDIT_DATABASE_URL"].replace("audit_reader:", "audit_reader:x")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong)
    status = _status(state)
    assert status.count(" running ") == 4

    # What `make local` ends with: every write seeded is in the audit trail, and it verifies.
    local = {
        **os.environ,
        "LOCAL_STATE_DIR": str(state),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    local.pop("AWS_ENDPOINT_URL", None)
    py = str(REPO / ".venv/bin/python")
    for argv in (
        ["-m", "scripts.setup_database", "--stack", "dev", "--target", "local"],
        [
            "-m",
            "scripts.seed_data",
            "--stack",
            "dev",
            "--target",
            "local",
            "--clinics",
            "1",
            "--patients",
            "2",
            "--no-progress",
        ],
        ["-m", "scripts.local_servers", "audit-catch-up", "--stack", "dev", "--timeout", "60"],
    ):
        step = subprocess.run(
            [py, *argv], cwd=REPO, env=local, capture_output=True, text=True, check=False
        )
        assert step.returncode == 0, step.stdout + step.stderr
    assert "stream records of medeez-dev-app recorded; 1 chains," in step.stdout
    with psycopg.connect(env["AUDIT_DATABASE_URL"]) as conn:
        principals = conn.execute("SELECT DISTINCT principal FROM audit.event").fetchall()
    assert principals == [("script:seed_data",)]

    again = _run("start-local.sh", state, port)
    assert again.returncode == 0
    assert "PostgreSQL is already running" in again.stdout
    assert "stream poller is already running" in again.stdout
    assert "Valkey is already running" in again.stdout

    pg, poller = _pid(state, "postgres"), _pid(state, "stream-poller")
    cache = _pid(state, "valkey")
    for pid in (pg, poller, cache):
        os.kill(pid, signal.SIGKILL)
    for pid in (pg, poller, cache):
        _wait_dead(pid)
    assert "dead (stale pid file)" in _status(state)
    revived = _run("start-local.sh", state, port)
    assert revived.returncode == 0, revived.stdout + revived.stderr
    assert f"our PostgreSQL (pid {pg}) had died; its data is kept; restarting it" in revived.stdout
    assert f"our stream poller (pid {poller}) had died; restarting it" in revived.stdout
    assert f"our Valkey (pid {cache}) had died (it keeps nothing); restarting it" in revived.stdout
    assert _status(state).count(" running ") == 4

    pg, poller = _pid(state, "postgres"), _pid(state, "stream-poller")
    down = _run("stop-local.sh", state, port)
    assert down.returncode == 0
    assert f"stopped the stream poller (pid {poller})" in down.stdout
    assert f"stopped PostgreSQL (pid {pg})" in down.stdout
    assert "stopped Valkey" in down.stdout
    _wait_dead(pg)
    assert not _alive(pg)
    assert not _alive(poller)
    assert not (state / "env").exists()
    assert _status(state).count(" stopped ") == 4
