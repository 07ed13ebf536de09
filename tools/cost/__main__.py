"""``make cost STACK=<stack> [PLAN=plan.json] [USAGE=file] [FORMAT=text|markdown|json]``.

The monthly cost of a stack, per resource and in total, from its plan (planned now when no plan
file is given), its usage model (``usage.<stack>.yaml``) and the dated price snapshot in
``pricing/aws-prices.yaml``. Exit 0, or 2 with one ``error:`` line on bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path

from stackspec.stack_file import PROJECT_DIR
from tools.cost.estimate import Estimate, estimate
from tools.cost.pricing import default_snapshot
from tools.cost.report import RENDERERS
from tools.cost.usage import load_usage, usage_path
from tools.gate.plan_input import Plan
from tools.plan_source import check_stack, obtain_plan, stack_region
from tools.review_errors import USAGE_ERROR, OneLineParser, ReviewError


def stack_estimate(stack: str, plan: Plan, usage_file: Path | None = None) -> Estimate:
    """The estimate of ``plan`` with the stack's (or the given) usage model."""
    check_stack(stack)
    path = usage_file or usage_path(stack)
    usage = load_usage(path)
    source = path.name if path.exists() else f"{path.name} absent: the model's defaults"
    if path.exists() and path.is_relative_to(PROJECT_DIR):
        source = str(path.relative_to(PROJECT_DIR))
    return estimate(
        plan, usage, default_snapshot(), region=stack_region(stack), usage_source=source
    )


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="make cost", description=__doc__.split("\n\n")[1])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--plan", type=Path, help="plan JSON (`make plan OUT=`); default: plan now")
    parser.add_argument("--usage", type=Path, help="usage model (default usage.<stack>.yaml)")
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text")
    args = parser.parse_args(argv)
    try:
        if args.usage is not None and not args.usage.exists():
            raise ReviewError(f"{args.usage}: no such usage model")
        plan = obtain_plan(args.stack, args.plan)
        result = stack_estimate(args.stack, plan, args.usage)
    except ReviewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    sys.stdout.write(RENDERERS[args.format](result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
