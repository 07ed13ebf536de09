"""How long the review commands take on a plan, and the whole PR comment for both stacks.

Goals (issue 12): ``make cost``, ``capacity``, ``diff`` and ``diagram`` each under 1 s on a plan
file, and the PR comment (the gate with ``--review`` against a base plan) under 5 s for both stacks
together, the gate planning the stack itself as CI does. Each run is a fresh process, so
interpreter start-up and imports count; medians of interleaved runs are reported, with CPU time
(which depends less on the machine's load).
"""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path

from bench.timing import timed_module

RUNS = 5
STACKS = ("dev", "prod")
COMMAND_GOAL = 1.0
COMMENT_GOAL = 5.0


def _commands(stack: str, plan: Path, base: Path, comment: Path) -> dict[str, list[str]]:
    on_plan = ["--stack", stack, "--plan", str(plan)]
    return {
        "cost": ["tools.cost", *on_plan],
        "capacity": ["tools.capacity", *on_plan],
        "diff": ["tools.diff", *on_plan, "--base-plan", str(base)],
        "diagram": ["tools.diagram", *on_plan],
        # As CI runs it: the gate plans the stack itself, judges it and adds the review.
        "comment": [
            "tools.gate",
            "--stack",
            stack,
            "--save-plan",
            str(comment.with_suffix(".plan.json")),
            "--review",
            "--base-plan",
            str(base),
            "--format",
            "markdown",
            "--output",
            str(comment),
        ],
    }


def run() -> None:
    print(
        f"== review commands on a plan file ({RUNS} runs each, fresh process, interleaved; goals:"
        f" each command <= {COMMAND_GOAL} s, PR comment <= {COMMENT_GOAL} s for both stacks)"
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"   load average now: {load} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        commands = {}
        for stack in STACKS:
            plan = work / f"plan-{stack}.json"
            timed_module(["tools.plan", "--stack", stack, "--out", str(plan)])
            # The base plan is this tree's plan: the comment's sections are all built either way.
            commands[stack] = _commands(stack, plan, plan, work / f"comment-{stack}.md")
        timings: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for _ in range(RUNS):
            for stack in STACKS:
                for name, argv in commands[stack].items():
                    allowed = (0, 1) if name == "comment" else (0,)
                    timings.setdefault((stack, name), []).append(timed_module(argv, allowed))
        comment_total = comment_cpu = 0.0
        for stack in STACKS:
            cells = []
            for name in commands[stack]:
                wall = statistics.median(t[0] for t in timings[stack, name])
                cpu = statistics.median(t[1] for t in timings[stack, name])
                goal = COMMENT_GOAL if name == "comment" else COMMAND_GOAL
                if name == "comment":
                    comment_total += wall
                    comment_cpu += cpu
                flag = "" if wall <= goal else " OVER"
                cells.append(f"{name} {wall:.2f} s (CPU {cpu:.2f}){flag}")
            print(f"  {stack:<6} " + "  ".join(cells))
        verdict = "ok" if comment_total <= COMMENT_GOAL else "OVER GOAL"
        print(
            f"  PR comment, both stacks: {comment_total:.2f} s (CPU {comment_cpu:.2f} s)  {verdict}"
        )


if __name__ == "__main__":
    run()
