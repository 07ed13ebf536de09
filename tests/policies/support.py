"""Run one rule the way the analyzer does: real SDK argument objects, props behind the SDK's
unknown-checking proxy, the pack's own built policies, and the SDK's not-applicable signal."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from hipaa_guardrails import exemptions
from hipaa_guardrails.registry import build_policies
from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError  # the SDK's own signal; SDK pinned
from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    unknown_checking_proxy,
)

__all__ = [
    "UNKNOWN_ARRAY_VALUE",
    "UNKNOWN_BOOLEAN_VALUE",
    "UNKNOWN_NUMBER_VALUE",
    "UNKNOWN_STRING_VALUE",
]

STACK = "urn:pulumi:dev::medeez-platform::"
DELETE = object()


@cache
def policies() -> dict[str, Policy]:
    """The pack's policies by name, built exactly as ``policies/__main__.py`` builds them."""
    return {p.name: p for p in build_policies()}


def urn(type_: str, name: str) -> str:
    """A URN of a top-level resource in the dev stack."""
    return f"{STACK}{type_}::{name}"


def options(protect: bool = False) -> PolicyResourceOptions:
    """Resource options as the analyzer builds them."""
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def mutate(props: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``props`` with ``path`` (dotted, list indexes as numbers) set or deleted."""
    result = copy.deepcopy(dict(props))
    *parents, last = path.split(".")
    target: Any = result
    for step in parents:
        target = target[int(step)] if isinstance(target, list) else target.setdefault(step, {})
    key: Any = int(last) if isinstance(target, list) else last
    if value is DELETE:
        del target[key]
    else:
        target[key] = value
    return result


@dataclass
class Outcome:
    """What one policy run reported."""

    violations: list[str] = field(default_factory=list)
    urns: list[str | None] = field(default_factory=list)
    not_applicable: str | None = None
    deferred: str | None = None

    @property
    def passed(self) -> bool:
        return not self.violations and self.not_applicable is None and self.deferred is None


def _run(policy: Policy, call: Callable[[Callable[[str, str | None], None]], Any]) -> Outcome:
    outcome = Outcome()

    def report(message: str, urn_: str | None = None) -> None:
        outcome.violations.append(message)
        outcome.urns.append(urn_)

    try:
        call(report)
    except _NotApplicableError as exc:
        outcome.not_applicable = exc.reason or ""
    except UnknownValueError as exc:
        outcome.deferred = exc.message
    return outcome


def run_resource(
    rule: str,
    type_: str,
    props: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
    *,
    name: str = "subject",
    provider_region: str | None = None,
) -> Outcome:
    """Run resource rule ``rule`` on one resource, as ``Analyze`` does."""
    policy = policies()[rule]
    assert isinstance(policy, ResourceValidationPolicy)
    provider = None
    if provider_region is not None:
        provider = PolicyProviderResource(
            "pulumi:providers:aws",
            unknown_checking_proxy({"region": provider_region}),
            urn("pulumi:providers:aws", "default"),
            "default",
        )
    args = ResourceValidationArgs(
        type_,
        unknown_checking_proxy(copy.deepcopy(dict(props))),
        urn(type_, name),
        name,
        options(),
        provider,
        dict(config) if config is not None else None,
    )
    return _run(policy, lambda report: policy.validate(args, report))


@dataclass
class Node:
    """A resource of a test stack, before it becomes a PolicyResource."""

    type: str
    name: str
    props: dict[str, Any]
    deps: dict[str, list[str]] = field(default_factory=dict)
    protect: bool = False

    @property
    def urn(self) -> str:
        return urn(self.type, self.name)


def stack_resources(nodes: Sequence[Node]) -> list[PolicyResource]:
    """PolicyResources with dependencies and property dependencies wired by name, as
    ``AnalyzeStack`` wires them."""
    by_name = {
        n.name: PolicyResource(
            n.type,
            unknown_checking_proxy(copy.deepcopy(n.props)),
            n.urn,
            n.name,
            options(n.protect),
            None,
            None,
            [],
            {},
        )
        for n in nodes
    }
    for node in nodes:
        resource = by_name[node.name]
        for prop, names in node.deps.items():
            resource.property_dependencies[prop] = [by_name[d] for d in names]
            for d in names:
                if by_name[d] not in resource.dependencies:
                    resource.dependencies.append(by_name[d])
    return list(by_name.values())


def run_stack(rule: str, nodes: Sequence[Node], config: Mapping[str, Any] | None = None) -> Outcome:
    """Run stack rule ``rule`` over the stack, as ``AnalyzeStack`` does."""
    policy = policies()[rule]
    assert isinstance(policy, StackValidationPolicy)
    args = StackValidationArgs(stack_resources(nodes), dict(config) if config else None)
    return _run(policy, lambda report: policy.validate(args, report))


def report_exemptions() -> Outcome:
    """Run the exemption reporter (the pack's last stack policy) over an empty stack."""
    return run_stack(exemptions.REPORT_POLICY, [])


def as_json(value: Any) -> str:
    """Policy documents travel as JSON text."""
    return json.dumps(value)
