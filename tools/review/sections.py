"""The review sections of a stack's PR comment, built from the plan the gate judged and (when CI
planned it) the base branch's plan.

Each section comes in a full and a folded form; the comment renderer
(``tools.gate.formats.render_markdown``) keeps the full forms while the comment fits GitHub's size
limit and folds the rest, saying so. A section that cannot be computed says why instead of
breaking the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tools.capacity.model import Capacity
from tools.capacity.report import headline as capacity_headline
from tools.capacity.report import render_markdown as capacity_markdown
from tools.cost.estimate import Estimate
from tools.cost.report import budget_lines, short_type, source_line
from tools.diagram.mermaid import Diagram
from tools.diff.compare import PlanDiff, compare
from tools.diff.report import render_markdown as diff_markdown
from tools.diff.report import summary as diff_summary
from tools.gate.plan_input import Plan
from tools.plan_source import stack_region
from tools.review_errors import ReviewError

TOP_MOVERS = 5


@dataclass(frozen=True)
class Section:
    key: str
    full: str
    folded: str


@dataclass
class Review:
    stack: str
    sections: list[Section] = field(default_factory=list)
    #: Shown in every format of the gate's report (a budget the estimate exceeds).
    warnings: list[str] = field(default_factory=list)


def budget_warnings(estimate: Estimate) -> list[str]:
    """One warning per budget whose monthly limit the estimate exceeds."""
    return [
        f"estimated monthly cost ${estimate.total:,.2f} exceeds budget {name} "
        f"(${limit:,.2f}) by ${estimate.total - limit:,.2f}; see `make cost STACK={estimate.stack}`"
        for name, limit in estimate.budgets.items()
        if estimate.total > limit
    ]


def _movers(head: Estimate, base: Estimate) -> list[tuple[str, str, float, float]]:
    """(name, type, base USD, head USD) of the resources whose price changed, biggest first."""
    before = {line.urn: line for line in base.lines}
    after = {line.urn: line for line in head.lines}
    moved = []
    for urn in set(before) | set(after):
        old = before[urn].monthly_usd if urn in before else 0.0
        new = after[urn].monthly_usd if urn in after else 0.0
        if abs(new - old) >= 0.005:
            line = after.get(urn) or before[urn]
            moved.append((line.name, short_type(line.type), old, new))
    return sorted(moved, key=lambda m: (-abs(m[3] - m[2]), m[0]))


def cost_section(head: Estimate, base: Estimate | None) -> Section:
    delta = "" if base is None else f" ({_signed(head.total - base.total)} against base)"
    title = f"#### 💵 Monthly cost of `{head.stack}`: **${head.total:,.2f}**{delta}"
    lines = [title, ""]
    if base is not None:
        movers = _movers(head, base)
        if movers:
            lines += [
                "| Top movers | Type | Base | This PR | Change |",
                "| --- | --- | ---: | ---: | ---: |",
            ]
            lines += [
                f"| `{name}` | {kind} | ${old:,.2f} | ${new:,.2f} | {_signed(new - old)} |"
                for name, kind, old, new in movers[:TOP_MOVERS]
            ]
            if len(movers) > TOP_MOVERS:
                lines.append(f"| … {len(movers) - TOP_MOVERS} more | | | | |")
            lines.append("")
    lines += [
        *budget_lines(head),
        "",
        f"<sub>{source_line(head)} `make cost STACK={head.stack}` prices every resource.</sub>",
    ]
    return Section("cost", "\n".join(lines) + "\n", title + "\n")


def _signed(value: float) -> str:
    return f"+${value:,.2f}" if value >= 0 else f"-${-value:,.2f}"


def capacity_section(head: Capacity, base: Capacity | None) -> Section:
    text = capacity_markdown(head)
    if base is not None and abs(base.hottest.use - head.hottest.use) > 0.005:
        text += f"\nBase branch: {capacity_headline(base)}.\n"
    icon = "🔥" if head.over_limit else "✅"
    return Section("capacity", text, f"#### {icon} Capacity: {capacity_headline(head)}.\n")


def diff_section(diff: PlanDiff) -> Section:
    folded = f"#### Change against base: {diff_summary(diff)}\n"
    if diff.data_steps:
        folded += (
            "\n> [!CAUTION]\n> "
            + f"{len(diff.data_steps)} data-bearing step(s): run `make diff`.\n"
        )
    return Section("diff", diff_markdown(diff), folded)


def diagram_section(plan: Plan, diff: PlanDiff, region: str) -> Section | None:
    if diff.empty:
        return None
    diagram = Diagram(plan, region)
    keep, changed = diagram.around(diff.changed_urns)
    deleted = [s.name for s in diff.steps if s.op == "delete"]
    note = f" Deleted, not drawn: {', '.join(f'`{n}`' for n in deleted)}." if deleted else ""
    if not keep:
        return Section(
            "diagram",
            f"#### Changed part of the architecture\n\nNothing drawn changed.{note}\n",
            "",
        )
    text = "\n".join(
        [
            "#### Changed part of the architecture",
            "",
            f"Changed resources are outlined, with their neighbours.{note}",
            "",
            "```mermaid",
            diagram.render(keep, changed).rstrip(),
            "```",
        ]
    )
    return Section("diagram", text + "\n", "")


def build_review(
    plan: Plan,
    *,
    base: Plan | None = None,
    base_label: str = "base",
) -> Review:
    """Every section for ``plan`` (and its base). Imports of the heavier models stay here so that
    the gate loads them only when a review is asked for."""
    from tools.capacity.__main__ import stack_capacity
    from tools.cost.__main__ import stack_estimate

    review = Review(plan.stack)
    try:
        estimate = stack_estimate(plan.stack, plan)
        review.warnings = budget_warnings(estimate)
        base_estimate = stack_estimate(plan.stack, base) if base is not None else None
        review.sections.append(cost_section(estimate, base_estimate))
    except ReviewError as exc:
        review.sections.append(Section("cost", f"#### 💵 Cost not estimated: {exc}\n", ""))
    try:
        capacity = stack_capacity(plan.stack, plan)
        base_capacity = (
            stack_capacity(plan.stack, base) if base is not None and base.resources else None
        )
        review.sections.append(capacity_section(capacity, base_capacity))
    except ReviewError as exc:
        review.sections.append(Section("capacity", f"#### Capacity not computed: {exc}\n", ""))
    if base is not None:
        diff = compare(base, plan, base_label=base_label)
        review.sections.append(diff_section(diff))
        drawn = diagram_section(plan, diff, stack_region(plan.stack))
        if drawn is not None:
            review.sections.append(drawn)
    return review
