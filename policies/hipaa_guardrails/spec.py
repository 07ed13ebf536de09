"""What a guardrail is: one frozen record per rule, the single source of its metadata.

A rule module builds exactly one :class:`Guardrail` named ``RULE``; the registry collects them, the
pack is assembled from them, and ``POLICIES.md`` is generated from them. Checks are pure functions
over plain views of the resources (:class:`Resource`, :class:`Stack`), so the same rule runs under
the analyzer, in tests and over a plan file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

#: Rule names: ``hipaa-<service>-<what>``, lowercase words joined by hyphens.
NAME_PATTERN = re.compile(r"^hipaa-[a-z0-9]+(-[a-z0-9]+)+$")
#: A HIPAA Security Rule citation, e.g. ``164.308(a)(7)(ii)(A)``.
CITATION_PATTERN = re.compile(r"^164\.3(0[6-9]|1[0-6])(\([a-z0-9]+\)|\([ivx]+\)|\([A-Z]\))*$")


class Scope(Enum):
    """Whether a rule judges one resource at a time or the whole stack."""

    RESOURCE = "resource"
    STACK = "stack"


class NotApplicable(Exception):
    """Raised by a check when the rule does not apply (reported as "not applicable", not passed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, eq=False)
class Resource:
    """One resource as a rule sees it: plain props (``UNKNOWN`` for unknown values) and options.

    Compared by identity: a stack view holds one object per URN, shared by every reference.
    """

    type: str
    name: str
    urn: str
    props: dict[str, Any]
    protect: bool = False
    provider_region: str | None = None
    """The ``region`` of the resource's provider, when the engine sent the provider."""
    parent: Resource | None = None
    dependencies: tuple[Resource, ...] = ()
    property_dependencies: Mapping[str, tuple[Resource, ...]] = field(default_factory=dict)

    @property
    def region(self) -> str | None:
        """Where the resource lives: its own ``region`` input (pulumi-aws v7), else its
        provider's; None when neither is known."""
        own = self.props.get("region")
        if isinstance(own, str) and own:
            return own
        return self.provider_region

    def deps_of(self, prop: str) -> tuple[Resource, ...]:
        """Resources the input ``prop`` was computed from (the engine's property dependencies)."""
        return tuple(self.property_dependencies.get(prop, ()))


@dataclass(frozen=True)
class Stack:
    """All resources of a stack, for stack rules."""

    resources: tuple[Resource, ...]

    def of_type(self, *types: str) -> list[Resource]:
        """The resources whose type is one of ``types``, in stack order."""
        return [r for r in self.resources if r.type in types]


@dataclass(frozen=True)
class Finding:
    """A violation found by a check: the cause, and for stack rules the resource it is about."""

    message: str
    urn: str | None = None


ResourceCheck = Callable[[Resource, Mapping[str, Any]], Iterable[str]]
StackCheck = Callable[[Stack, Mapping[str, Any]], Iterable[Finding]]


@dataclass(frozen=True, kw_only=True)
class Guardrail:
    """A rule and everything the pack, the gate and the docs say about it."""

    name: str
    catalog_id: str
    """The guardrail's id in the catalog (e.g. ``D1``), or ``custom``."""
    title: str
    description: str
    severity: Severity
    controls: tuple[str, ...]
    """HIPAA Security Rule citations (45 CFR); empty only for ``operational`` rules."""
    remediation: str
    unknowns: str
    """What the rule does with values that are unknown during preview."""
    scope: Scope
    resource_types: tuple[str, ...] = ()
    """For resource rules, the types it judges (others are "not applicable")."""
    check: ResourceCheck | StackCheck
    aws_config: str | None = None
    cdk_nag: str | None = None
    checkov: str | None = None
    url: str | None = None
    config_properties: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """JSON Schema of this rule's own config properties (each with a ``default``)."""
    operational: bool = False
    """True for guardrails that are good operations but no HIPAA control (no citation)."""
    judgement: bool = False
    """True when the citation is this pack's reading of the rule, not an AWS/cdk-nag mapping."""

    @property
    def enforcement(self) -> EnforcementLevel:
        """Mandatory for critical and high severity; advisory otherwise."""
        if self.severity in (Severity.CRITICAL, Severity.HIGH):
            return EnforcementLevel.MANDATORY
        return EnforcementLevel.ADVISORY

    @property
    def citation(self) -> str:
        """The citation shown in messages, e.g. ``45 CFR 164.312(a)(2)(iv), 164.312(e)(2)(ii)``."""
        if not self.controls:
            return "operational guardrail, no HIPAA citation"
        return "45 CFR " + ", ".join(self.controls)

    def defaults(self) -> dict[str, Any]:
        """This rule's config with every property at its default."""
        return {key: schema["default"] for key, schema in self.config_properties.items()}
