"""The plan a review command works on: a plan file (``--plan``), or the stack planned now.

Shared by ``make cost``, ``capacity``, ``diff`` and ``diagram``, so that each refuses an unknown
stack, an unreadable plan or a plan of another stack with the same one line.
"""

from __future__ import annotations

from pathlib import Path

from stackspec.errors import ConfigError
from stackspec.stack_file import PROJECT, PROJECT_DIR, list_stacks, read_stack
from tools.gate.plan_input import Plan, PlanError, load_plan, parse_plan
from tools.review_errors import ReviewError


def check_stack(stack: str, project_dir: Path = PROJECT_DIR) -> None:
    known = list_stacks(project_dir)
    if stack not in known:
        raise ReviewError(
            f"unknown stack {stack!r}: stacks are {', '.join(known) or 'none'} "
            "(one Pulumi.<stack>.yaml each)"
        )


def stack_region(stack: str, project_dir: Path = PROJECT_DIR) -> str:
    """The stack's ``aws:region``: where resources without their own region live."""
    try:
        return str(read_stack(stack, project_dir).config["aws:region"])
    except ConfigError as exc:
        raise ReviewError(str(exc).splitlines()[0]) from None
    except KeyError:
        raise ReviewError(f"Pulumi.{stack}.yaml: aws:region is not set") from None


def read_plan_file(path: Path, stack: str) -> Plan:
    """A plan file of ``stack``; a bad file is one line."""
    try:
        plan = load_plan(path)
    except PlanError as exc:
        raise ReviewError("; ".join(line.strip() for line in str(exc).splitlines())) from None
    if plan.stack != stack or plan.project != PROJECT:
        raise ReviewError(
            f"{path}: planned for {plan.project}/{plan.stack}, not {PROJECT}/{stack}; run "
            f"`make plan STACK={stack} OUT={path}`"
        )
    return plan


def obtain_plan(stack: str, plan_path: Path | None) -> Plan:
    """The plan in ``plan_path``, or ``stack`` planned now under the mock runtime."""
    check_stack(stack)
    if plan_path is not None:
        return read_plan_file(plan_path, stack)
    import pulumi  # the mock runtime is only needed when planning here

    from tools.plan import plan_stack

    try:
        planned = plan_stack(stack)
    except ConfigError as exc:
        raise ReviewError(" ".join(str(exc).split())) from None
    except pulumi.RunError as exc:
        raise ReviewError(f"the program failed under the mock runtime: {exc}") from None
    return parse_plan(planned.to_json(), f"plan of {stack}")
