"""How long ``make plan STACK=<stack>`` takes after install (goal: at most 3 s per stack).

Each run is the same command a person types, in a fresh process, so interpreter start-up and
imports count. The median of several runs is reported next to the goal.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from components.config import PROJECT_DIR, stack_names
from tools.plan import plan_stack

RUNS = 5
GOAL_SECONDS = 3.0


def time_plan(stack: str) -> list[float]:
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tools.plan", "--stack", stack],
            cwd=PROJECT_DIR,
            check=True,
            capture_output=True,
        )
        timings.append(time.perf_counter() - started)
    return timings


def run() -> None:
    print(
        f"== make plan: seconds per run ({RUNS} runs, fresh process each; goal <= {GOAL_SECONDS} s)"
    )
    for stack in stack_names():
        timings = time_plan(stack)
        median = statistics.median(timings)
        resources = plan_stack(stack).resources
        custom = sum(1 for r in resources if r.custom)
        verdict = "ok" if median <= GOAL_SECONDS else "OVER GOAL"
        print(
            f"  {stack:<8} median {median:.2f} s  min {min(timings):.2f} s  max {max(timings):.2f} s"
            f"  {len(resources)} resources ({custom} custom)  {verdict}"
        )
