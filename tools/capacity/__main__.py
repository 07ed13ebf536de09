"""``make capacity STACK=<stack> [CLINICS=n] [PLAN=plan.json] [USAGE=file] [FORMAT=...]``.

Requests a second per partition key value of the table and each GSI at the fleet's peak hour,
the hottest partitions named, and the margin to DynamoDB's per-partition limits (3,000 RCU, 1,000
WCU). Exit 0, or 2 with one ``error:`` line on bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.capacity.model import Capacity, fleet_capacity
from tools.capacity.report import RENDERERS
from tools.cost.usage import load_usage, usage_path
from tools.gate.plan_input import Plan
from tools.plan_source import check_stack, obtain_plan
from tools.review_errors import USAGE_ERROR, OneLineParser, ReviewError


def stack_capacity(
    stack: str, plan: Plan, usage_file: Path | None = None, clinics: int | None = None
) -> Capacity:
    check_stack(stack)
    return fleet_capacity(plan, load_usage(usage_file or usage_path(stack)), clinics=clinics)


def _clinics(text: str) -> int:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="make capacity", description=__doc__.split("\n\n")[1])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--clinics", type=_clinics, help="fleet size (default: the usage model's)")
    parser.add_argument("--plan", type=Path)
    parser.add_argument("--usage", type=Path)
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text")
    args = parser.parse_args(argv)
    try:
        if args.usage is not None and not args.usage.exists():
            raise ReviewError(f"{args.usage}: no such usage model")
        plan = obtain_plan(args.stack, args.plan)
        result = stack_capacity(args.stack, plan, args.usage, args.clinics)
    except ReviewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    sys.stdout.write(RENDERERS[args.format](result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
