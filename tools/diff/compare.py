"""Two plans of one stack compared resource by resource, as ``pulumi preview`` would report the
step for each: create, delete, replace, update; with the changed properties, secrets masked."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tools.diff.replacement import DATA_BEARING, forces_replacement
from tools.gate.plan_input import Plan, PlanResource
from tools.gate.wire import OUTPUT_VALUE_SIG, SECRET_SIG, SIG_KEY

MASK = "[secret]"
ORDER = ("replace", "delete", "create", "update")


@dataclass(frozen=True)
class Change:
    path: str
    old: Any
    new: Any
    replaces: bool = False


@dataclass(frozen=True)
class Step:
    op: str
    urn: str
    type: str
    name: str
    changes: tuple[Change, ...] = ()
    #: Sub-parts replaced inside an update (a GSI deleted and rebuilt).
    rebuilt: tuple[str, ...] = ()
    protect: bool = False

    @property
    def data_loss(self) -> str:
        """What this step destroys, or "" when nothing that holds data is destroyed."""
        if self.op in ("delete", "replace") and self.type in DATA_BEARING:
            return DATA_BEARING[self.type]
        if self.rebuilt:
            return (
                f"index {', '.join(self.rebuilt)} deleted and rebuilt: unqueryable until it "
                "has backfilled"
            )
        return ""


@dataclass(frozen=True)
class PlanDiff:
    stack: str
    base: str
    steps: tuple[Step, ...]
    unchanged: int
    changed_urns: frozenset[str] = field(default_factory=frozenset)

    def count(self, op: str) -> int:
        return sum(1 for s in self.steps if s.op == op)

    @property
    def data_steps(self) -> list[Step]:
        return [s for s in self.steps if s.data_loss]

    @property
    def empty(self) -> bool:
        return not self.steps


def _secret(value: Any) -> bool:
    return isinstance(value, dict) and (
        value.get(SIG_KEY) == SECRET_SIG
        or (value.get(SIG_KEY) == OUTPUT_VALUE_SIG and bool(value.get("secret")))
    )


def mask(value: Any) -> Any:
    """``value`` with every secret replaced by a mask."""
    if _secret(value):
        return MASK
    if isinstance(value, dict):
        return {k: mask(v) for k, v in value.items() if not str(k).startswith("__")}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def _json_text(value: Any) -> Any:
    """A JSON document held in a string (a policy, a dashboard body) compares as its content."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _changes(old: Any, new: Any, path: str) -> list[Change]:
    if _secret(old) or _secret(new):
        same = _secret(old) and _secret(new) and old.get("value") == new.get("value")
        return [] if same else [Change(path, MASK if _secret(old) else mask(old), MASK)]
    old, new = _json_text(old), _json_text(new)
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[Change] = []
        for key in sorted(set(old) | set(new)):
            if str(key).startswith("__"):
                continue
            out += _changes(old.get(key), new.get(key), f"{path}.{key}" if path else str(key))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            out += _changes(a, b, f"{path}[{i}]")
        return out
    return [] if old == new else [Change(path, mask(old), mask(new))]


def _gsis(resource: PlanResource) -> dict[str, dict[str, Any]]:
    return {str(g.get("name")): g for g in resource.inputs.get("globalSecondaryIndexes") or []}


def _index_changes(old: PlanResource, new: PlanResource) -> tuple[list[Change], list[str]]:
    """The table's GSIs compared by name (their order is not meaningful)."""
    before, after = _gsis(old), _gsis(new)
    changes: list[Change] = []
    rebuilt: list[str] = []
    for name in sorted(set(before) | set(after)):
        path = f"globalSecondaryIndexes[{name}]"
        if name not in after:
            changes.append(Change(path, "index", None))
            rebuilt.append(name)
        elif name not in before:
            changes.append(Change(path, None, "index"))
        else:
            found = _changes(before[name], after[name], path)
            changes += found
            # Key schema and projection cannot change in place: the index is recreated.
            if any(
                part in c.path
                for c in found
                for part in (
                    "keySchemas",
                    "hashKey",
                    "rangeKey",
                    "projectionType",
                    "nonKeyAttributes",
                )
            ):
                rebuilt.append(name)
    return changes, rebuilt


def compare(base: Plan, head: Plan, *, base_label: str) -> PlanDiff:
    """The steps that take ``base`` to ``head``."""
    old = {r.urn: r for r in base.resources if r.custom}
    new = {r.urn: r for r in head.resources if r.custom}
    steps: list[Step] = []
    unchanged = 0
    for urn in sorted(set(old) | set(new)):
        before, after = old.get(urn), new.get(urn)
        if before is None and after is not None:
            steps.append(Step("create", urn, after.type, after.name, protect=after.protect))
            continue
        if after is None or before is None:
            assert before is not None
            steps.append(Step("delete", urn, before.type, before.name, protect=before.protect))
            continue
        rebuilt: list[str] = []
        changes: list[Change] = []
        for key in sorted(set(before.inputs) | set(after.inputs)):
            if key.startswith("__"):
                continue
            if key == "globalSecondaryIndexes" and after.type == "aws:dynamodb/table:Table":
                found, rebuilt = _index_changes(before, after)
                changes += found
                continue
            replaces = forces_replacement(after.type, key)
            changes += [
                Change(c.path, c.old, c.new, replaces)
                for c in _changes(before.inputs.get(key), after.inputs.get(key), key)
            ]
        if not changes:
            unchanged += 1
            continue
        op = "replace" if any(c.replaces for c in changes) else "update"
        steps.append(
            Step(
                op,
                urn,
                after.type,
                after.name,
                tuple(changes),
                tuple(rebuilt),
                protect=before.protect,
            )
        )
    steps.sort(key=lambda s: (not s.data_loss, ORDER.index(s.op), s.urn))
    return PlanDiff(
        stack=head.stack,
        base=base_label,
        steps=tuple(steps),
        unchanged=unchanged,
        changed_urns=frozenset(s.urn for s in steps),
    )
