"""How long ``make local`` takes from a stopped state, and where the time goes.

Each run is the command a person types (``make local``), on a free loopback port with its own
state directory, so a developer's running emulator is never touched; the emulator is stopped
after every run. A second pass times the four steps one by one.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts.servers.postgres import free_port
from stackspec.stack_file import PROJECT_DIR

RUNS = 3
MAKE = shutil.which("make") or "make"
START = str(PROJECT_DIR / "scripts" / "start-local.sh")
STOP = str(PROJECT_DIR / "scripts" / "stop-local.sh")


def _environment(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["LOCAL_STATE_DIR"] = str(state)
    return env


def _timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    # argv is one of the fixed commands of this module
    subprocess.run(argv, cwd=PROJECT_DIR, env=env, check=True, capture_output=True)  # noqa: S603
    return time.perf_counter() - started


def time_make_local() -> list[float]:
    timings = []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as state:
            env = _environment(Path(state))
            port = str(free_port())
            try:
                timings.append(_timed([MAKE, "local", f"MOTO_PORT={port}"], env))
            finally:
                subprocess.run(  # noqa: S603
                    [MAKE, "local-down"], cwd=PROJECT_DIR, env=env, check=False, capture_output=True
                )
    return timings


def time_steps() -> dict[str, float]:
    python = sys.executable
    with tempfile.TemporaryDirectory() as state:
        env = _environment(Path(state))
        port = free_port()
        # As after `make local-up`: the scripts find the emulator in $LOCAL_STATE_DIR/env.
        local = env
        steps = {}
        try:
            steps["local-up"] = _timed([START], {**env, "MOTO_PORT": str(port)})
            steps["setup dev"] = _timed(
                [python, "-m", "scripts.setup_database", "--stack", "dev"], local
            )
            steps["seed dev"] = _timed(
                [python, "-m", "scripts.seed_data", "--stack", "dev", "--no-progress"], local
            )
            steps["validate dev"] = _timed(
                [python, "-m", "scripts.validate_setup", "--stack", "dev"], local
            )
        finally:
            subprocess.run(  # noqa: S603
                [STOP], cwd=PROJECT_DIR, env=env, check=False, capture_output=True
            )
    return steps


def run() -> None:
    print(f"== make local from a stopped state: seconds ({RUNS} runs, emulator stopped after each)")
    timings = time_make_local()
    print(
        f"  median {statistics.median(timings):.2f} s  min {min(timings):.2f} s  "
        f"max {max(timings):.2f} s"
    )
    steps = time_steps()
    print("  by step: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in steps.items()))
