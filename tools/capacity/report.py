"""``make capacity`` output: text, Markdown and JSON; and the one-line headline."""

from __future__ import annotations

import json
from typing import Any

from tools.capacity.model import READ_LIMIT, WRITE_LIMIT, Capacity, PartitionLoad


def _margin(load: PartitionLoad) -> str:
    if load.use > 1:
        return f"OVER by x{load.use:.1f}"
    if load.margin == float("inf"):
        return "idle"
    return f"x{load.margin:,.1f}" if load.margin < 100 else f"x{load.margin:,.0f}"


def _rate(value: float) -> str:
    return f"{value:,.1f}" if value >= 10 else f"{value:.3g}"


def _share(use: float) -> str:
    """A share of a limit; below 1 % to two significant digits, so a quiet partition is not 0 %."""
    return f"{use:.0%}" if use >= 0.01 or use == 0 else f"{use * 100:.2g}%"


def describe(load: PartitionLoad) -> str:
    limit, use, unit = (
        (WRITE_LIMIT, load.write_use, "WCU")
        if load.write_use >= load.read_use
        else (READ_LIMIT, load.read_use, "RCU")
    )
    rate = load.wcu if unit == "WCU" else load.rcu
    return (
        f"{load.index} `{load.partition}` ({load.scope}): {_rate(rate)} {unit}/s = "
        f"{_share(use)} of the {limit:,.0f} {unit} partition limit, margin {_margin(load)}"
    )


def headline(capacity: Capacity) -> str:
    over = capacity.over_limit
    lead = (
        f"{len(over)} partition(s) over DynamoDB's per-partition limit"
        if over
        else "no partition over DynamoDB's per-partition limit"
    )
    return f"{capacity.clinics:,} clinics at peak: {lead}; hottest: {describe(capacity.hottest)}"


def _rows(capacity: Capacity) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for index in capacity.indexes:
        for load in index.partitions[:3]:
            rows.append(
                (
                    index.index,
                    load.partition,
                    load.scope,
                    _rate(load.wcu),
                    f"{load.write_use:.0%}",
                    _rate(load.rcu),
                    f"{load.read_use:.0%}",
                    _margin(load),
                )
            )
    return rows


HEADER = ("Index", "Partition", "Scope", "WCU/s", "of 1,000", "RCU/s", "of 3,000", "Margin")


def render_text(capacity: Capacity) -> str:
    rows = [HEADER, *_rows(capacity)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    out = [
        f"Capacity of stack {capacity.stack} at fleet scale: {capacity.fleet_description}",
        "Busiest partition key values per index (the three busiest formats or values):",
        "",
    ]
    for row in rows:
        out.append(
            "  ".join(
                c.rjust(widths[i]) if i >= 3 else c.ljust(widths[i]) for i, c in enumerate(row)
            ).rstrip()
        )
    out += [
        "",
        "Index totals at peak: "
        + "; ".join(
            f"{i.index} ({i.projection}) {i.wcu:,.0f} WCU/s, {i.rcu:,.0f} RCU/s"
            for i in capacity.indexes
        ),
        "",
        headline(capacity),
    ]
    return "\n".join(out) + "\n"


def render_markdown(capacity: Capacity, *, heading: str = "####") -> str:
    icon = "🔥" if capacity.over_limit else "✅"
    out = [
        f"{heading} {icon} Capacity at fleet scale",
        "",
        headline(capacity) + ".",
        "",
        "<details><summary>Busiest partitions per index</summary>",
        "",
        "| " + " | ".join(HEADER) + " |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |",
        *(
            "| " + " | ".join(f"`{c}`" if i == 1 else c for i, c in enumerate(row)) + " |"
            for row in _rows(capacity)
        ),
        "",
        f"<sub>{capacity.fleet_description}.</sub>",
        "",
        "</details>",
    ]
    return "\n".join(out) + "\n"


def to_json(capacity: Capacity) -> dict[str, Any]:
    def load(p: PartitionLoad) -> dict[str, Any]:
        return {
            "index": p.index,
            "partition": p.partition,
            "shared": p.shared,
            "wcuPerSecond": round(p.wcu, 3),
            "rcuPerSecond": round(p.rcu, 3),
            "writeLimitShare": round(p.write_use, 4),
            "readLimitShare": round(p.read_use, 4),
            "overLimit": p.use > 1,
        }

    return {
        "stack": capacity.stack,
        "clinics": capacity.clinics,
        "fleet": capacity.fleet_description,
        "limits": {"wcuPerPartition": WRITE_LIMIT, "rcuPerPartition": READ_LIMIT},
        "hottest": load(capacity.hottest),
        "headline": headline(capacity),
        "indexes": [
            {
                "index": i.index,
                "projection": i.projection,
                "wcuPerSecond": round(i.wcu, 3),
                "rcuPerSecond": round(i.rcu, 3),
                "partitions": [load(p) for p in i.partitions],
            }
            for i in capacity.indexes
        ],
    }


def render_json(capacity: Capacity) -> str:
    return json.dumps(to_json(capacity), indent=2) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json}
