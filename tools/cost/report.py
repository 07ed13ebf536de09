"""``make cost`` output: text, Markdown (README and the PR comment) and JSON."""

from __future__ import annotations

import json
from typing import Any

from tools.cost.estimate import Estimate, Line


def short_type(type_: str) -> str:
    """``aws:dynamodb/table:Table`` -> ``dynamodb Table``."""
    module, _, kind = type_.partition(":")[2].partition(":")
    return f"{module.split('/')[0]} {kind}"


def basis(line: Line) -> str:
    if not line.parts or not line.monthly_usd:
        return f"free: {line.free_reason}" if line.free_reason else "free"
    shown = [f"{p.label} ${p.usd:,.2f}" for p in line.parts if p.usd]
    kind = "fixed" if line.fixed else "usage: " + ", ".join(line.drivers)
    return "; ".join(shown) + f" [{kind}]"


def source_line(estimate: Estimate) -> str:
    return (
        f"Prices: AWS list prices as of {estimate.snapshot_date} (pricing/aws-prices.yaml: "
        f"{estimate.snapshot_source}). Usage: {estimate.usage_source}."
    )


def budget_lines(estimate: Estimate) -> list[str]:
    lines = []
    for name, limit in estimate.budgets.items():
        verdict = (
            f"estimate exceeds it by ${estimate.total - limit:,.2f}"
            if estimate.total > limit
            else f"estimate is {estimate.total / limit:.0%} of it"
        )
        lines.append(f"Budget {name}: ${limit:,.2f}/month; {verdict}.")
    return lines


def render_text(estimate: Estimate) -> str:
    rows = [
        (line.name, short_type(line.type), line.region, f"${line.monthly_usd:,.2f}", basis(line))
        for line in sorted(estimate.lines, key=lambda x: (-x.monthly_usd, x.name))
    ]
    widths = [
        max(len(r[i]) for r in [("Resource", "Type", "Region", "Monthly", ""), *rows])
        for i in range(4)
    ]
    out = [f"Monthly cost of stack {estimate.stack}: ${estimate.total:,.2f}", ""]
    header = ("Resource", "Type", "Region", "Monthly", "Basis")
    for row in [header, *rows]:
        out.append(
            "  ".join(
                cell.rjust(widths[i]) if i == 3 else cell.ljust(widths[i])
                for i, cell in enumerate(row[:4])
            )
            + "  "
            + row[4]
        )
    out += [
        "",
        f"Total: ${estimate.total:,.2f}/month",
        *budget_lines(estimate),
        source_line(estimate),
    ]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def by_service(estimate: Estimate) -> list[tuple[str, int, float]]:
    """(service type, resources, monthly USD), most expensive first."""
    groups: dict[str, list[Line]] = {}
    for line in estimate.lines:
        groups.setdefault(short_type(line.type), []).append(line)
    return sorted(
        ((kind, len(lines), sum(x.monthly_usd for x in lines)) for kind, lines in groups.items()),
        key=lambda g: (-g[2], g[0]),
    )


def render_markdown(estimate: Estimate, *, heading: str = "####") -> str:
    out = [
        f"{heading} Monthly cost of `{estimate.stack}`: **${estimate.total:,.2f}**",
        "",
        "| Resource type | Count | Monthly |",
        "| --- | ---: | ---: |",
        *(f"| {kind} | {count} | ${usd:,.2f} |" for kind, count, usd in by_service(estimate)),
        f"| **Total** | {len(estimate.lines)} | **${estimate.total:,.2f}** |",
        "",
        "<details><summary>Per resource</summary>",
        "",
        "| Resource | Type | Monthly | Basis |",
        "| --- | --- | ---: | --- |",
        *(
            f"| `{line.name}` | {short_type(line.type)} | ${line.monthly_usd:,.2f} | "
            f"{_cell(basis(line))} |"
            for line in sorted(estimate.lines, key=lambda x: (-x.monthly_usd, x.name))
        ),
        "",
        "</details>",
        "",
        *(f"{line}" for line in budget_lines(estimate)),
        f"<sub>{source_line(estimate)}</sub>",
    ]
    return "\n".join(out) + "\n"


def to_json(estimate: Estimate) -> dict[str, Any]:
    return {
        "stack": estimate.stack,
        "currency": "USD",
        "totalMonthlyUsd": round(estimate.total, 4),
        "pricing": {"date": estimate.snapshot_date, "source": estimate.snapshot_source},
        "usage": estimate.usage_source,
        "budgets": [
            {"name": name, "monthlyLimitUsd": limit, "exceeded": estimate.total > limit}
            for name, limit in estimate.budgets.items()
        ],
        "resources": [
            {
                "urn": line.urn,
                "type": line.type,
                "name": line.name,
                "region": line.region,
                "monthlyUsd": round(line.monthly_usd, 4),
                "fixed": line.fixed,
                "drivers": list(line.drivers),
                "parts": [{"label": p.label, "monthlyUsd": round(p.usd, 4)} for p in line.parts],
                **({"free": line.free_reason} if not line.monthly_usd else {}),
            }
            for line in estimate.lines
        ],
    }


def render_json(estimate: Estimate) -> str:
    return json.dumps(to_json(estimate), indent=2) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json}
