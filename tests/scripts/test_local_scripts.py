"""start-local.sh / stop-local.sh for real: moto_server on a free loopback port, a private state
directory, and a stop that kills only the process it started."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.servers.postgres import free_port

REPO = Path(__file__).resolve().parents[2]
START = REPO / "scripts" / "start-local.sh"
STOP = REPO / "scripts" / "stop-local.sh"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill -0; it is gone for our purposes.
    state = subprocess.run(
        ["ps", "-p", str(pid), "-o", "stat="],  # noqa: S607 - ps from PATH, as the scripts use it
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return bool(state) and not state.startswith("Z")


class Local:
    def __init__(self, state: Path, port: int) -> None:
        self.state = state
        self.port = port
        # moto_server alone: tests/scripts/test_local_audit_servers.py covers the audit servers.
        self.env = {
            **os.environ,
            "MOTO_PORT": str(port),
            "LOCAL_STATE_DIR": str(state),
            "LOCAL_AUDIT": "0",
        }

    def run(self, script: Path, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script)],
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    @property
    def pidfile(self) -> Path:
        return self.state / "moto.pid"

    @property
    def envfile(self) -> Path:
        return self.state / "env"

    def pid(self) -> int:
        return int(self.pidfile.read_text().split()[0])

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}/moto-api/", timeout=2
            ) as response:
                return bool(response.status == 200)
        except OSError:
            return False


def kill_and_wait(pid: int) -> None:
    """SIGKILL ``pid`` (not our child: start-local.sh detaches it) and return once it has died."""
    if not hasattr(os, "pidfd_open"):  # macOS: no pidfd, so watch until it is gone
        os.kill(pid, signal.SIGKILL)
        while alive(pid):
            time.sleep(0.05)
        return
    descriptor = os.pidfd_open(pid)
    try:
        os.kill(pid, signal.SIGKILL)
        select.select([descriptor], [], [])  # readable once the process has exited
    finally:
        os.close(descriptor)


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Local]:
    env = Local(tmp_path / "state", free_port())
    yield env
    # Never leave a server behind, and kill only the one this test started.
    if env.pidfile.exists():
        pid = env.pid()
        env.run(STOP)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_start_is_idempotent_and_stop_removes_only_its_server(local: Local):
    # Another local service's line in the shared env file survives start and stop.
    local.state.mkdir(parents=True)
    local.envfile.write_text("REDIS_URL=redis://127.0.0.1:6390\n")
    first = local.run(START)
    assert first.returncode == 0, first.stderr
    endpoint = f"http://127.0.0.1:{local.port}"
    assert f"AWS_ENDPOINT_URL={endpoint}" in first.stdout
    assert local.envfile.read_text() == (
        f"REDIS_URL=redis://127.0.0.1:6390\nAWS_ENDPOINT_URL={endpoint}\n"
    )
    pid = local.pid()
    assert local.pidfile.read_text().split() == [str(pid), str(local.port)]
    assert alive(pid)
    assert local.answers()
    assert (
        f"starting moto_server on 127.0.0.1:{local.port}" in (local.state / "moto.log").read_text()
    )

    second = local.run(START)
    assert second.returncode == 0
    assert f"already running (pid {pid}) at {endpoint}" in second.stdout
    assert local.pid() == pid
    assert local.envfile.read_text().count("AWS_ENDPOINT_URL=") == 1

    stopped = local.run(STOP)
    assert stopped.returncode == 0
    assert f"stopped moto_server (pid {pid}, port {local.port})" in stopped.stdout
    assert not local.pidfile.exists()
    assert not alive(pid)
    assert not local.answers()
    assert local.envfile.read_text() == "REDIS_URL=redis://127.0.0.1:6390\n"

    again = local.run(STOP)
    assert again.returncode == 0
    assert "moto_server is not running" in again.stdout


def test_stop_leaves_a_foreign_process_alone(local: Local):
    # Our server died and its pid now names another program (as after a reboot and pid reuse).
    bystander = subprocess.Popen(["sleep", "60"])  # noqa: S607
    try:
        local.state.mkdir(parents=True)
        local.pidfile.write_text(f"{bystander.pid} {local.port}\n")
        local.envfile.write_text(f"AWS_ENDPOINT_URL=http://127.0.0.1:{local.port}\n")
        result = local.run(STOP)
        assert result.returncode == 0
        assert result.stdout == (
            f"local-down: our moto_server (pid {bystander.pid}, port {local.port}) had already "
            "exited and its in-memory data with it; removed its stale pid file "
            f"(pid {bystander.pid} now belongs to another program, left running: sleep 60)\n"
        )
        assert alive(bystander.pid)
        assert not local.pidfile.exists()
        assert not local.envfile.exists()  # its only line was our endpoint
    finally:
        bystander.kill()
        bystander.wait()


def test_stop_after_our_server_died_cleans_up(local: Local):
    assert local.run(START).returncode == 0
    pid = local.pid()
    kill_and_wait(pid)
    result = local.run(STOP)
    assert result.returncode == 0
    # Killed and perhaps not yet reaped (a zombie): either way it has exited, nobody else's.
    assert result.stdout == (
        f"local-down: our moto_server (pid {pid}, port {local.port}) had already exited and "
        "its in-memory data with it; removed its stale pid file\n"
    )
    assert not local.pidfile.exists()
    assert not local.envfile.exists()


def dead_pid() -> int:
    dead = subprocess.Popen(["true"])  # noqa: S607
    dead.wait()
    return dead.pid


def test_an_unreaped_server_counts_as_exited(local: Local):
    # A child that exited and was never waited for stays a zombie: gone, not another program.
    zombie = subprocess.Popen(["true"])  # noqa: S607
    try:
        # Wait until it has exited, without reaping it.
        os.waitid(os.P_PID, zombie.pid, os.WEXITED | os.WNOWAIT)
        local.state.mkdir(parents=True)
        local.pidfile.write_text(f"{zombie.pid} {local.port}\n")
        result = local.run(START)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[0] == (
            f"local-up: our moto_server (pid {zombie.pid}, port {local.port}) had died and its "
            "in-memory data with it; removed its stale pid file"
        )
    finally:
        zombie.wait()


def test_start_after_our_server_died_says_so_and_starts_again(local: Local):
    local.state.mkdir(parents=True)
    old = dead_pid()
    local.pidfile.write_text(f"{old} {local.port}\n")
    local.envfile.write_text(f"AWS_ENDPOINT_URL=http://127.0.0.1:{local.port}\n")
    result = local.run(START)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        f"local-up: our moto_server (pid {old}, port {local.port}) had died and its in-memory "
        "data with it; removed its stale pid file"
    )
    assert "another" not in result.stdout + result.stderr  # nobody else is blamed
    assert local.pid() != old
    assert local.answers()
    assert local.envfile.read_text() == f"AWS_ENDPOINT_URL=http://127.0.0.1:{local.port}\n"


def test_start_leaves_a_program_that_reused_our_pid_alone(local: Local):
    bystander = subprocess.Popen(["sleep", "60"])  # noqa: S607
    try:
        local.state.mkdir(parents=True)
        local.pidfile.write_text(f"{bystander.pid} {local.port}\n")
        result = local.run(START)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[0].endswith(
            f"removed its stale pid file (pid {bystander.pid} now belongs to another program, "
            "left alone)"
        )
        assert alive(bystander.pid)
        assert local.pid() != bystander.pid
    finally:
        bystander.kill()
        bystander.wait()


def test_a_busy_port_is_reported_and_leaves_no_pid_file(local: Local):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", local.port))
        squatter.listen()
        result = local.run(START, MOTO_START_TIMEOUT="10")
    assert result.returncode == 1
    assert result.stderr == (
        f"local-up: another process holds port {local.port}; stop it, or choose another "
        "MOTO_PORT (e.g. make local-up MOTO_PORT=5055)\n"
    )
    assert not local.pidfile.exists()
    assert not local.envfile.exists()


def test_our_dead_server_and_a_busy_port_are_told_apart(local: Local):
    local.state.mkdir(parents=True)
    old = dead_pid()
    local.pidfile.write_text(f"{old} {local.port}\n")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", local.port))
        squatter.listen()
        result = local.run(START)
    assert result.returncode == 1
    assert result.stdout.startswith(f"local-up: our moto_server (pid {old}, port {local.port}) ")
    assert f"another process holds port {local.port}" in result.stderr
    assert not local.pidfile.exists()


def test_a_moto_server_local_up_did_not_start_is_not_adopted(local: Local, tmp_path: Path):
    other = Local(tmp_path / "other-state", local.port)
    assert other.run(START).returncode == 0
    try:
        result = local.run(START)
        assert result.returncode == 1
        assert result.stderr == (
            f"local-up: a moto_server that local-up did not start already answers at "
            f"http://127.0.0.1:{local.port}; stop it, or choose another MOTO_PORT\n"
        )
        assert not local.pidfile.exists()
    finally:
        other.run(STOP)


@pytest.mark.parametrize("port", ["http", "0", "08", "70000"])
def test_a_bad_port_is_a_usage_error(local: Local, port: str):
    result = local.run(START, MOTO_PORT=port)
    assert result.returncode == 2
    assert result.stderr == f"local-up: MOTO_PORT must be a port number 1-65535, got '{port}'\n"
    assert not local.pidfile.exists()
