"""Read and check an offline plan (``make plan OUT=...``) before anything is sent to the pack.

The plan is the engine's view of one stack: every registered resource with its URN, type, custom
flag, parent, dependencies, property dependencies, camelCase inputs (what a policy pack sees) and
resource options. A malformed plan is rejected whole, with the JSON path of the first problems, so
the gate never analyzes half a stack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

STACK_TYPE = "pulumi:pulumi:Stack"


class PlanError(Exception):
    """The plan cannot be read or does not have the plan shape; the message says where."""


class _Model(BaseModel):
    # Unknown keys are ignored so a newer plan runner can add fields without breaking the gate.
    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)


class _Options(_Model):
    protect: StrictBool = False
    retain_on_delete: StrictBool = Field(False, alias="retainOnDelete")
    ignore_changes: list[StrictStr] = Field(default_factory=list, alias="ignoreChanges")
    delete_before_replace: StrictBool | None = Field(None, alias="deleteBeforeReplace")


class _Resource(_Model):
    urn: StrictStr = Field(pattern=r"^urn:pulumi:[^:]+::[^:]+::.+::.+$")
    type: StrictStr = Field(min_length=1)
    name: StrictStr = Field(min_length=1)
    custom: StrictBool
    parent: StrictStr = ""
    dependencies: list[StrictStr] = Field(default_factory=list)
    property_dependencies: dict[str, list[StrictStr]] = Field(
        default_factory=dict, alias="propertyDependencies"
    )
    inputs: dict[str, Any] = Field(default_factory=dict)
    options: _Options = Field(default_factory=_Options)
    provider: StrictStr = ""


class _Plan(_Model):
    project: StrictStr = Field(min_length=1)
    stack: StrictStr = Field(min_length=1)
    resources: list[_Resource]
    outputs: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class PlanResource:
    """One registered resource, as the engine hands it to an analyzer."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    inputs: dict[str, Any]
    protect: bool = False
    retain_on_delete: bool = False
    ignore_changes: tuple[str, ...] = ()
    delete_before_replace: bool | None = None
    provider: str = ""
    """URN of the resource's provider; "" = the package's default provider."""


@dataclass(frozen=True)
class Plan:
    """A whole stack's plan; ``resources`` keeps registration order."""

    project: str
    stack: str
    resources: tuple[PlanResource, ...]
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def stack_urn(self) -> str:
        """The URN the engine gives the stack's root resource."""
        return f"urn:pulumi:{self.stack}::{self.project}::{STACK_TYPE}::{self.project}-{self.stack}"

    def by_urn(self) -> dict[str, PlanResource]:
        """Resources keyed by URN."""
        return {r.urn: r for r in self.resources}


def _location(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _describe(errors: list[Any], source: str, limit: int = 5) -> str:
    lines = [f"{source}: not a plan written by `make plan OUT=...`:"]
    for error in errors[:limit]:
        lines.append(f"  {_location(tuple(error['loc']))}: {error['msg']}")
    if len(errors) > limit:
        lines.append(f"  ... and {len(errors) - limit} more")
    return "\n".join(lines)


def parse_plan(document: Any, source: str = "plan") -> Plan:
    """Check ``document`` (parsed JSON) against the plan shape and return it as a :class:`Plan`."""
    if not isinstance(document, dict):
        raise PlanError(f"{source}: expected a JSON object with project, stack and resources")
    try:
        raw = _Plan.model_validate(document)
    except ValidationError as exc:
        raise PlanError(_describe(exc.errors(), source)) from None
    seen: set[str] = set()
    for index, resource in enumerate(raw.resources):
        if resource.urn in seen:
            raise PlanError(f"{source}: resources[{index}].urn: {resource.urn} appears twice")
        seen.add(resource.urn)
        stack_part = resource.urn.split("::", 1)[0].removeprefix("urn:pulumi:")
        if stack_part != raw.stack:
            raise PlanError(
                f"{source}: resources[{index}].urn: {resource.urn} belongs to stack "
                f"{stack_part!r}, but the plan is for stack {raw.stack!r}"
            )
    return Plan(
        project=raw.project,
        stack=raw.stack,
        resources=tuple(
            PlanResource(
                urn=r.urn,
                type=r.type,
                name=r.name,
                custom=r.custom,
                parent=r.parent,
                dependencies=tuple(r.dependencies),
                property_dependencies={k: tuple(v) for k, v in r.property_dependencies.items()},
                inputs=r.inputs,
                protect=r.options.protect,
                retain_on_delete=r.options.retain_on_delete,
                ignore_changes=tuple(r.options.ignore_changes),
                delete_before_replace=r.options.delete_before_replace,
                # A provider reference is "<urn>::<id>"; the URN (four "::" parts) is kept.
                provider="::".join(r.provider.split("::")[:4]),
            )
            for r in raw.resources
        ),
        outputs=raw.outputs,
    )


def load_plan(path: Path) -> Plan:
    """Read a plan file; unreadable, non-JSON or mis-shaped files raise :class:`PlanError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(
            f"{path}: no such plan file; write one with `make plan STACK=<stack> OUT={path}`"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise PlanError(f"{path}: cannot read the plan: {reason}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(
            f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return parse_plan(document, str(path))
