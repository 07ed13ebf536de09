"""``make diagram STACK=<stack> [PLAN=plan.json]``: the stack's architecture as Mermaid.

``--write-docs`` regenerates docs/architecture.md (dev and prod, what ``make docs`` runs) and
``--check`` says whether it is current. Exit 0; 1 when ``--check`` finds it stale; 2 with one
``error:`` line on bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path

from stackspec.stack_file import PROJECT_DIR
from tools.diagram.mermaid import Diagram
from tools.generated_file import write_or_check
from tools.plan_source import obtain_plan, stack_region
from tools.review_errors import USAGE_ERROR, OneLineParser, ReviewError

DOC = PROJECT_DIR / "docs" / "architecture.md"
DOC_STACKS = ("dev", "prod")


def stack_diagram(stack: str, plan_path: Path | None = None) -> str:
    plan = obtain_plan(stack, plan_path)
    return Diagram(plan, stack_region(stack)).render()


def render_doc() -> str:
    parts = [
        "# Architecture",
        "",
        "Generated from each stack's offline plan by `make docs` (`python -m tools.diagram "
        "--write-docs`); a test fails when it is stale. Each box is a component "
        "(`medeez:data:*`), arrows are data flows read from the plan: keys to what they "
        "encrypt, the table to its stream, the backup plan to its vaults and the DR copy, alarms "
        "and the budget to the alert topic. IAM roles and policies are left out; alike "
        "siblings (alarms) are one node. Resources outside the stack's region are marked.",
    ]
    for stack in DOC_STACKS:
        parts += ["", f"## {stack}", "", "```mermaid", stack_diagram(stack).rstrip(), "```"]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="make diagram", description=__doc__.split("\n\n")[1])
    parser.add_argument("--stack")
    parser.add_argument("--plan", type=Path)
    parser.add_argument("--write-docs", action="store_true", help="regenerate " + DOC.name)
    parser.add_argument("--check", action="store_true", help="fail when " + DOC.name + " is stale")
    args = parser.parse_args(argv)
    try:
        if args.write_docs or args.check:
            return write_or_check(DOC, render_doc(), check=args.check)
        if not args.stack:
            raise ReviewError("--stack is required (or --write-docs / --check)")
        text = stack_diagram(args.stack, args.plan)
    except ReviewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
