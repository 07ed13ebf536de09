"""``make diff`` output: text, Markdown (the PR comment) and JSON."""

from __future__ import annotations

import json
from typing import Any

from tools.cost.report import short_type
from tools.diff.compare import Change, PlanDiff, Step

VALUE_WIDTH = 60


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def _change(change: Change) -> str:
    forced = " (forces replacement)" if change.replaces else ""
    return f"{change.path}: {_value(change.old)} -> {_value(change.new)}{forced}"


def summary(diff: PlanDiff) -> str:
    if diff.empty:
        return f"no change against {diff.base} ({diff.unchanged} resources unchanged)"
    counts = ", ".join(
        f"{diff.count(op)} to {op}"
        for op in ("replace", "delete", "create", "update")
        if diff.count(op)
    )
    return f"{counts} against {diff.base}; {diff.unchanged} unchanged"


def _loss_line(step: Step) -> str:
    forced = [c.path for c in step.changes if c.replaces]
    because = f"; forced by {', '.join(forced)}" if forced else ""
    protect = " (protected: `pulumi up` refuses until protect is lifted)" if step.protect else ""
    return f"{step.op} {step.name} ({short_type(step.type)}): {step.data_loss}{because}{protect}"


def render_text(diff: PlanDiff) -> str:
    out = [f"Plan of stack {diff.stack}: {summary(diff)}"]
    if diff.data_steps:
        out += ["", "DATA AT RISK:", *(f"  ! {_loss_line(s)}" for s in diff.data_steps)]
    for step in diff.steps:
        out.append("")
        out.append(f"{step.op:>7}  {step.name}  ({step.type})")
        out += [f"           {_change(c)}" for c in step.changes]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


ICONS = {"replace": "🔁", "delete": "🗑️", "create": "🆕", "update": "✏️"}


def render_markdown(diff: PlanDiff, *, heading: str = "####", max_rows: int = 60) -> str:
    out = [f"{heading} Change against base: {summary(diff)}"]
    if diff.empty:
        return "\n".join(out) + "\n"
    if diff.data_steps:
        out += ["", "> [!CAUTION]", "> **Data-bearing resources replaced or deleted:**"]
        out += [f"> - {_cell(_loss_line(s))}" for s in diff.data_steps]
    out += ["", "| Step | Resource | Type | Changed properties |", "| --- | --- | --- | --- |"]
    for step in diff.steps[:max_rows]:
        props = "<br>".join(f"`{_cell(_change(c))}`" for c in step.changes[:8])
        if len(step.changes) > 8:
            props += f"<br>… {len(step.changes) - 8} more"
        out.append(
            f"| {ICONS[step.op]} {step.op} | `{step.name}` | {short_type(step.type)} | {props} |"
        )
    if len(diff.steps) > max_rows:
        out.append(f"| … | {len(diff.steps) - max_rows} more steps | | see `make diff` |")
    return "\n".join(out) + "\n"


def to_json(diff: PlanDiff) -> dict[str, Any]:
    return {
        "stack": diff.stack,
        "base": diff.base,
        "counts": {op: diff.count(op) for op in ("replace", "delete", "create", "update")},
        "unchanged": diff.unchanged,
        "dataAtRisk": [{"urn": s.urn, "op": s.op, "what": s.data_loss} for s in diff.data_steps],
        "steps": [
            {
                "op": s.op,
                "urn": s.urn,
                "type": s.type,
                "name": s.name,
                "rebuiltIndexes": list(s.rebuilt),
                "changes": [
                    {"path": c.path, "old": c.old, "new": c.new, "forcesReplacement": c.replaces}
                    for c in s.changes
                ],
            }
            for s in diff.steps
        ],
    }


def render_json(diff: PlanDiff) -> str:
    return json.dumps(to_json(diff), indent=2) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json}
