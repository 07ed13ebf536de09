"""``make diff STACK=<stack> [BASE=<git ref>] [PLAN=plan.json] [BASE_PLAN=file] [FORMAT=...]``.

What the working tree (or ``--plan``) changes in the stack's plan against the plan of ``--base``
(default ``main``), both planned offline: resources created, deleted, replaced (a change to a
property the provider cannot update in place) and updated, with the changed properties and
secrets masked; data-bearing resources that would be replaced or deleted come first. Exit 0, or 2
with one ``error:`` line on bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools.diff.base import plan_at
from tools.diff.compare import compare
from tools.diff.report import RENDERERS
from tools.plan_source import check_stack, obtain_plan, read_plan_file
from tools.review_errors import USAGE_ERROR, OneLineParser, ReviewError


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="make diff", description=__doc__.split("\n\n")[1])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--base", default="main", help="git ref to compare with (default main)")
    parser.add_argument("--base-plan", type=Path, help="the base's plan file, instead of --base")
    parser.add_argument("--plan", type=Path, help="the head's plan file (default: plan now)")
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text")
    args = parser.parse_args(argv)
    try:
        check_stack(args.stack)
        if args.base_plan is not None:
            base, label = read_plan_file(args.base_plan, args.stack), str(args.base_plan)
        else:
            base, label = plan_at(args.base, args.stack)
        head = obtain_plan(args.stack, args.plan)
    except ReviewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    sys.stdout.write(RENDERERS[args.format](compare(base, head, base_label=label)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
