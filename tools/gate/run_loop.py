"""The engine's loop over a plan: ``Configure``, then per registered resource ``Remediate`` and
``Analyze`` of the remediated properties, then ``AnalyzeStack`` once; what the pack said, attributed
to URNs as the engine attributes it.

The loop talks to an :class:`AnalyzerClient`: the pack process over gRPC
(:class:`tools.gate.pack_process.PolicyPackProcess`) or, in tests, an analyzer servicer called in
process. Either way the requests and the order are the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from google.protobuf import empty_pb2, json_format

from tools.gate.pack_config import PolicyConfig
from tools.gate.plan_input import STACK_TYPE, Plan, PlanResource
from tools.gate.protocol import (
    ENFORCEMENT_NAMES,
    SEVERITY_NAMES,
    PackInfo,
    analyze_request,
    analyze_stack_request,
    configure_request,
    read_pack_info,
)
from tools.gate.registrations import registrations


class AnalyzerClient(Protocol):
    """Something that answers analyzer RPCs."""

    def call(self, method: str, request: Any, *, optional: bool = False) -> Any:
        """Call ``method``; None when ``optional`` and the pack does not implement it."""


@dataclass(frozen=True)
class Diagnostic:
    """One ``AnalyzeDiagnostic``, attributed to a URN the way the engine attributes it."""

    policy_name: str
    pack_name: str
    description: str
    message: str
    enforcement_level: str
    severity: str
    urn: str


@dataclass
class PackRun:
    """Everything the pack said about one plan."""

    info: PackInfo
    diagnostics: list[Diagnostic] = field(default_factory=list)
    not_applicable: dict[str, int] = field(default_factory=dict)
    remediations: list[str] = field(default_factory=list)
    analyzed_resources: int = 0


def pack_info(client: AnalyzerClient, manifest_version: str = "") -> PackInfo:
    """``GetAnalyzerInfo`` and ``GetPluginInfo``."""
    response = client.call("GetAnalyzerInfo", empty_pb2.Empty())
    plugin = client.call("GetPluginInfo", empty_pb2.Empty(), optional=True)
    return read_pack_info(response, plugin, manifest_version)


def _attribute(diagnostics: Any, sink: list[Diagnostic], *, resource_urn: str = "") -> None:
    for d in diagnostics:
        level = ENFORCEMENT_NAMES.get(d.enforcementLevel, "advisory")
        sink.append(
            Diagnostic(
                policy_name=d.policyName,
                pack_name=d.policyPackName,
                description=d.description,
                message=d.message,
                # The engine reports a remediate-level violation that still fires as mandatory.
                enforcement_level="mandatory" if level == "remediate" else level,
                severity=SEVERITY_NAMES.get(d.severity, ""),
                # For Analyze the engine always reports against the analyzed resource; for
                # AnalyzeStack it uses the URN the policy named ("" = the stack as a whole).
                urn=resource_urn or d.urn,
            )
        )


def _remediated(
    client: AnalyzerClient, resource: PlanResource, provider: PlanResource | None, run: PackRun
) -> PlanResource:
    request = analyze_request(resource, provider, for_remediate=True)
    response = client.call("Remediate", request, optional=True)
    if response is None:
        return resource
    for remediation in response.remediations:
        if remediation.diagnostic:
            # The engine shows a remediation that could not run as an advisory violation.
            run.diagnostics.append(
                Diagnostic(
                    policy_name=remediation.policyName,
                    pack_name=remediation.policyPackName,
                    description=remediation.description,
                    message=remediation.diagnostic,
                    enforcement_level="advisory",
                    severity="",
                    urn=resource.urn,
                )
            )
        elif remediation.HasField("properties"):
            resource = replace(resource, inputs=json_format.MessageToDict(remediation.properties))
            run.remediations.append(f"{remediation.policyName} remediated {resource.urn}")
    return resource


def run_pack(
    client: AnalyzerClient,
    plan: Plan,
    config: Mapping[str, PolicyConfig],
    info: PackInfo,
    provider_config: Mapping[str, Any] | None = None,
) -> PackRun:
    """Configure the pack, then analyze every resource and the stack as a preview does.

    ``provider_config`` is the stack's config (``aws:region``...), the inputs of the default
    providers the engine registers.
    """
    if config:  # the CLI skips Configure for an empty config
        client.call("Configure", configure_request(config))
    run = PackRun(info=info)
    resources = registrations(plan, provider_config or {})
    by_urn = {r.urn: r for r in resources}
    for index, resource in enumerate(resources):
        provider = by_urn.get(resource.provider)
        # As the engine does: remediations first, then analysis of the remediated properties.
        resource = _remediated(client, resource, provider, run)
        resources[index] = resource
        response = client.call("Analyze", analyze_request(resource, provider))
        run.analyzed_resources += 1
        _attribute(response.diagnostics, run.diagnostics, resource_urn=resource.urn)
        for item in response.not_applicable:
            run.not_applicable[item.policy_name] = run.not_applicable.get(item.policy_name, 0) + 1
    # In stack analysis the engine shows each resource's state; for the root stack resource that
    # is its outputs (the program's exports).
    stack_view = [replace(r, inputs=plan.outputs) if r.type == STACK_TYPE else r for r in resources]
    response = client.call("AnalyzeStack", analyze_stack_request(stack_view))
    _attribute(response.diagnostics, run.diagnostics)
    return run
