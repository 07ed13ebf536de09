"""start-local.sh / stop-local.sh for real: moto_server on a free loopback port, a private state
directory, and a stop that kills only the process it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
START = REPO / "scripts" / "start-local.sh"
STOP = REPO / "scripts" / "stop-local.sh"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
        self.env = {**os.environ, "MOTO_PORT": str(port), "LOCAL_STATE_DIR": str(state)}

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
    first = local.run(START)
    assert first.returncode == 0, first.stderr
    endpoint = f"http://127.0.0.1:{local.port}"
    assert f"AWS_ENDPOINT_URL={endpoint}" in first.stdout
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

    stopped = local.run(STOP)
    assert stopped.returncode == 0
    assert f"stopped moto_server (pid {pid}, port {local.port})" in stopped.stdout
    assert not local.pidfile.exists()
    assert not alive(pid)
    assert not local.answers()

    again = local.run(STOP)
    assert again.returncode == 0
    assert "moto_server is not running" in again.stdout


def test_stop_leaves_a_foreign_process_alone(local: Local):
    # The pid file names a process that is not moto_server (as after a reboot and pid reuse).
    bystander = subprocess.Popen(["sleep", "60"])  # noqa: S607
    try:
        local.state.mkdir(parents=True)
        local.pidfile.write_text(f"{bystander.pid} {local.port}\n")
        result = local.run(STOP)
        assert result.returncode == 0
        assert f"pid {bystander.pid} is not our moto_server" in result.stderr
        assert alive(bystander.pid)
        assert not local.pidfile.exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_start_replaces_a_stale_pid_file(local: Local):
    dead = subprocess.Popen(["true"])  # noqa: S607
    dead.wait()
    local.state.mkdir(parents=True)
    local.pidfile.write_text(f"{dead.pid} {local.port}\n")
    result = local.run(START)
    assert result.returncode == 0, result.stderr
    assert "removing stale pid file" in result.stdout
    assert local.pid() != dead.pid
    assert local.answers()


def test_a_busy_port_is_reported_and_leaves_no_pid_file(local: Local):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", local.port))
        squatter.listen()
        result = local.run(START, MOTO_START_TIMEOUT="10")
    assert result.returncode == 1
    assert "moto_server exited during start-up" in result.stderr
    assert not local.pidfile.exists()


@pytest.mark.parametrize("port", ["http", "0", "08", "70000"])
def test_a_bad_port_is_a_usage_error(local: Local, port: str):
    result = local.run(START, MOTO_PORT=port)
    assert result.returncode == 2
    assert result.stderr == f"local-up: MOTO_PORT must be a port number 1-65535, got '{port}'\n"
    assert not local.pidfile.exists()
