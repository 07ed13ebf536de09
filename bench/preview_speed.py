"""How long ``make preview STACK=<stack>`` takes after install, against ``make plan`` alone.

Goals (issues 3 and 7): preview at most 3 s per stack and at most 1.6 times what the plan alone
takes. Each run is the command the make target runs, in a fresh process,
so interpreter start-up, imports and the pack's own process count. Runs of the three commands are
interleaved so a busy machine slows them alike; medians are reported.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from pathlib import Path

from bench.timing import timed_module
from stackspec.stack_file import list_stacks

RUNS = 5
GOAL_SECONDS = 3.0
#: preview / plan: the gate may add at most 60 % to the plan it judges.
GOAL_RATIO = 1.6


def measure(stack: str, workdir: Path) -> dict[str, list[tuple[float, float]]]:
    """Interleaved (wall, CPU) timings of preview (plan + gate, one process), plan, gate alone."""
    plan = workdir / f"plan-{stack}.json"
    report = workdir / f"gate-{stack}.json"
    timings: dict[str, list[tuple[float, float]]] = {"preview": [], "plan": [], "gate": []}
    gate_exit = (0, 1)  # 1 = mandatory violations: still a complete run
    for _ in range(RUNS):
        timings["preview"].append(
            timed_module(
                [
                    "tools.gate",
                    "--stack",
                    stack,
                    "--save-plan",
                    str(plan),
                    "--format",
                    "json",
                    "--output",
                    str(report),
                ],
                gate_exit,
            )
        )
        timings["plan"].append(timed_module(["tools.plan", "--stack", stack, "--out", str(plan)]))
        timings["gate"].append(
            timed_module(
                [
                    "tools.gate",
                    "--plan",
                    str(plan),
                    "--stack",
                    stack,
                    "--format",
                    "json",
                    "--output",
                    str(report),
                ],
                gate_exit,
            )
        )
    return timings


def _median(samples: list[tuple[float, float]], index: int) -> float:
    return statistics.median(sample[index] for sample in samples)


def run() -> None:
    print(
        f"== make preview (plan + policy gate): seconds per run ({RUNS} runs each, fresh process, "
        f"interleaved; goals: preview <= {GOAL_SECONDS} s, preview <= {GOAL_RATIO} x plan)"
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    # Wall-clock time is only comparable on an idle machine; CPU time much less depends on it.
    print(f"   load average now: {load} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        for stack in list_stacks():
            timings = measure(stack, Path(tmp))
            preview, plan, gate = (_median(timings[k], 0) for k in ("preview", "plan", "gate"))
            preview_cpu, plan_cpu = (_median(timings[k], 1) for k in ("preview", "plan"))
            added = preview - plan
            result = json.loads((Path(tmp) / f"gate-{stack}.json").read_text())
            ok = preview <= GOAL_SECONDS and preview <= GOAL_RATIO * plan
            print(
                f"  {stack:<6} preview {preview:.2f} s  plan {plan:.2f} s  gate adds {added:.2f} s"
                f" = {preview / plan:.2f} x plan  (gate alone {gate:.2f} s; CPU: preview"
                f" {preview_cpu:.2f} s, plan {plan_cpu:.2f} s)  {'ok' if ok else 'OVER GOAL'}"
            )
            print(
                f"         {result['pack']['policies']} policies x {result['resources']} resources:"
                f" {result['summary']['mandatory']} mandatory, {result['summary']['advisory']}"
                f" advisory, exit {result['exitCode']}"
            )


if __name__ == "__main__":
    run()
