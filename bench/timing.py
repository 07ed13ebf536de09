"""Timing a project command in a fresh process: what the benchmark sections share."""

from __future__ import annotations

import resource
import subprocess
import sys
import time

from stackspec.stack_file import PROJECT_DIR


def timed_module(argv: list[str], allowed: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system, the command and its children) of one run of
    ``python -m <argv>``; any exit status not in ``allowed`` ends the benchmark with its stderr.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own modules
        [sys.executable, "-m", *argv], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in allowed:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr}")
    return elapsed, cpu
