"""SIGINT and SIGTERM to ``python -m tools.gate``: the pack child is stopped, one line is printed,
and the exit status is 128 + the signal (130, 143), never 1 (violations) and never a traceback.

The gate runs as a real subprocess and gets the signal while it plans the stack (the pack booting
meanwhile) and while the pack is busy in ``Analyze`` (the fixture pack hangs on a marked table).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stackspec.stack_file import PROJECT_DIR
from tests.gate.plans import TABLE, compliant_plan, find

FIXTURE_PACK = Path(__file__).parent / "fixture_pack"
FIXTURE_ARGS = ["--pack", str(FIXTURE_PACK), "--pack-config", str(FIXTURE_PACK / "config.json")]
# Waiting for the gate to reach a state, not a measure of speed: generous so a loaded machine
# does not fail the test.
PATIENCE_S = 60.0


def _pack_child(gate: subprocess.Popen[str]) -> int:
    """The pid of the gate's policy pack process, once it has started."""
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        assert gate.poll() is None, "the gate ended before its pack started"
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == gate.pid and b"pulumi.policy" in cmdline:
                return int(entry.name)
        time.sleep(0.01)
    raise AssertionError("the gate never started its policy pack")


def _gone(pid: int) -> bool:
    """True once ``pid`` is no process (a zombie awaiting its reaper counts as gone)."""
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.02)
    return False


def _gate(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tools.gate", *args],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _assert_interrupted(gate: subprocess.Popen[str], pack: int, signum: int) -> str:
    out, err = gate.communicate(timeout=PATIENCE_S)
    if gate.returncode != 128 + signum and not _gone(pack):
        os.kill(pack, signal.SIGKILL)
    assert gate.returncode == 128 + signum
    name = signal.Signals(signum).name
    assert err == (
        f"policy gate: interrupted by {name}; stopped the policy pack, nothing was judged "
        f"(exit {128 + signum})\n"
    )
    if not _gone(pack):
        os.kill(pack, signal.SIGKILL)  # leave no orphan behind a failing test
        raise AssertionError(f"the policy pack (pid {pack}) outlived the gate")
    return out


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_planning_stops_the_pack(tmp_path, signum):
    saved = tmp_path / "plan-dev.json"
    gate = _gate("--stack", "dev", "--save-plan", str(saved), *FIXTURE_ARGS)
    pack = _pack_child(gate)  # launched first; the stack is planned while it boots
    os.kill(gate.pid, signum)
    out = _assert_interrupted(gate, pack, signum)
    # The resource tree is printed as soon as the plan is made: nothing was, so the signal came
    # while planning.
    assert out == ""
    assert not saved.exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_pack_analyzes_stops_the_pack(tmp_path, signum):
    marker = tmp_path / "analyzing"
    document = compliant_plan()
    find(document, TABLE)["inputs"]["hangMarker"] = str(marker)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(document))
    gate = _gate("--plan", str(plan), "--stack", "dev", *FIXTURE_ARGS)
    pack = _pack_child(gate)
    deadline = time.monotonic() + PATIENCE_S
    while not marker.exists():
        assert gate.poll() is None, gate.communicate()
        assert time.monotonic() < deadline, "the pack never reached the marked table"
        time.sleep(0.01)
    # The pack is stuck in a policy, so SIGINT alone cannot end it: the gate must kill it.
    os.kill(gate.pid, signum)
    assert _assert_interrupted(gate, pack, signum) == ""
