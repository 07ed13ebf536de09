"""The analyzer protocol's messages: the requests the engine builds and what the gate reads back.

Every request here is built as the engine builds it (pulumi/pulumi ``analyzer_plugin.go``), from a
:class:`~tools.gate.plan_input.PlanResource`; every response is read into plain dataclasses
(:class:`PackInfo`, :class:`PolicyMeta`). Nothing here talks to a process: see
:mod:`tools.gate.pack_process` for that and :mod:`tools.gate.run_loop` for the order of calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2

from tools.gate.pack_config import PolicyConfig, PolicySchema
from tools.gate.plan_input import PlanResource
from tools.gate.wire import to_struct

ENFORCEMENT_NAMES = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
_ENFORCEMENT_VALUES = {name: value for value, name in ENFORCEMENT_NAMES.items()}
SEVERITY_NAMES = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}


# -- responses ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyMeta:
    """One policy's metadata, from ``GetAnalyzerInfo``."""

    name: str
    description: str
    enforcement_level: str
    severity: str
    policy_type: str
    framework: str
    framework_version: str
    citation: str
    tags: tuple[str, ...]
    remediation: str
    url: str
    config_properties: dict[str, Any]
    config_required: tuple[str, ...]

    def schema(self) -> PolicySchema:
        """What pack-config reconciliation needs from this policy."""
        return PolicySchema(
            self.name, self.enforcement_level, self.config_properties, self.config_required
        )


@dataclass(frozen=True)
class PackInfo:
    """The pack's ``AnalyzerInfo``, with the plugin (SDK) version."""

    name: str
    version: str
    sdk_version: str
    policies: tuple[PolicyMeta, ...]
    initial_config: dict[str, PolicyConfig]

    def policy(self, name: str) -> PolicyMeta | None:
        """The metadata of policy ``name``, if the pack has it."""
        return next((p for p in self.policies if p.name == name), None)


def _citation(policy: analyzer_pb2.PolicyInfo) -> str:
    if policy.framework.reference:
        return policy.framework.reference
    hipaa = [t.split(":", 1)[1] for t in policy.tags if t.lower().startswith("hipaa:")]
    return ", ".join(hipaa)


def _policy_meta(policy: analyzer_pb2.PolicyInfo) -> PolicyMeta:
    schema = json_format.MessageToDict(policy.configSchema.properties)
    return PolicyMeta(
        name=policy.name,
        description=policy.description,
        enforcement_level=ENFORCEMENT_NAMES.get(policy.enforcementLevel, "advisory"),
        severity=SEVERITY_NAMES.get(policy.severity, ""),
        policy_type={
            analyzer_pb2.POLICY_TYPE_RESOURCE: "resource",
            analyzer_pb2.POLICY_TYPE_STACK: "stack",
        }.get(policy.policy_type, ""),
        framework=policy.framework.name,
        framework_version=policy.framework.version,
        citation=_citation(policy),
        tags=tuple(policy.tags),
        remediation=policy.remediation_steps,
        url=policy.url,
        config_properties=schema,
        config_required=tuple(policy.configSchema.required),
    )


def read_pack_info(
    response: analyzer_pb2.AnalyzerInfo, plugin: Any | None, manifest_version: str = ""
) -> PackInfo:
    """``GetAnalyzerInfo`` (and ``GetPluginInfo``, None when unimplemented) as a :class:`PackInfo`.

    As the CLI does, the version in ``PulumiPolicy.yaml`` wins over the one the pack reports."""
    initial = {
        name: PolicyConfig(
            ENFORCEMENT_NAMES.get(value.enforcementLevel, "advisory"),
            json_format.MessageToDict(value.properties) or None,
        )
        for name, value in response.initialConfig.items()
    }
    return PackInfo(
        name=response.name,
        version=manifest_version or response.version,
        sdk_version=plugin.version if plugin is not None else "",
        policies=tuple(sorted((_policy_meta(p) for p in response.policies), key=lambda p: p.name)),
        initial_config=initial,
    )


# -- requests -------------------------------------------------------------------------------------


def handshake_request(engine_address: str, directory: str) -> analyzer_pb2.AnalyzerHandshakeRequest:
    """``Handshake``: the engine's address and the pack directory as root and program directory."""
    return analyzer_pb2.AnalyzerHandshakeRequest(
        engine_address=engine_address, root_directory=directory, program_directory=directory
    )


def configure_stack_request(
    *,
    stack: str,
    project: str,
    config: Mapping[str, str],
    secret_keys: Sequence[str],
    tags: Mapping[str, str],
) -> analyzer_pb2.AnalyzerStackConfigureRequest:
    """``ConfigureStack`` of a preview (``dry_run``)."""
    return analyzer_pb2.AnalyzerStackConfigureRequest(
        stack=stack,
        project=project,
        dry_run=True,
        config=dict(config),
        config_secret_keys=list(secret_keys),
        tags=dict(tags),
    )


def configure_request(config: Mapping[str, PolicyConfig]) -> analyzer_pb2.ConfigureAnalyzerRequest:
    """``Configure`` with one entry per key of the reconciled config."""
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, value in config.items():
        entry = request.policyConfig[name]
        entry.enforcementLevel = _ENFORCEMENT_VALUES[value.enforcement_level or "advisory"]
        if value.properties:
            entry.properties.update(value.properties)
    return request


def _provider(provider: PlanResource) -> analyzer_pb2.AnalyzerProviderResource:
    return analyzer_pb2.AnalyzerProviderResource(
        urn=provider.urn,
        type=provider.type,
        name=provider.urn.rsplit("::", 1)[-1],
        properties=to_struct(provider.inputs),
    )


def _options(resource: PlanResource) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=resource.protect,
        ignoreChanges=list(resource.ignore_changes),
        deleteBeforeReplace=bool(resource.delete_before_replace),
        deleteBeforeReplaceDefined=resource.delete_before_replace is not None,
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(),
        parent=resource.parent,
    )


def analyze_request(
    resource: PlanResource, provider: PlanResource | None, *, for_remediate: bool = False
) -> analyzer_pb2.AnalyzeRequest:
    """``Analyze`` (or ``Remediate``) of one resource with its inputs, options and provider."""
    request = analyzer_pb2.AnalyzeRequest(
        urn=resource.urn,
        type=resource.type,
        name=resource.urn.rsplit("::", 1)[-1],
        # For Remediate the engine keeps internal keys (SkipInternalKeys: false).
        properties=to_struct(resource.inputs, skip_internal=not for_remediate),
        options=_options(resource),
    )
    if provider is not None:
        request.provider.CopyFrom(_provider(provider))
    return request


def analyze_stack_request(resources: Sequence[PlanResource]) -> analyzer_pb2.AnalyzeStackRequest:
    """``AnalyzeStack``: every resource with parents, dependencies, property dependencies and
    providers."""
    request = analyzer_pb2.AnalyzeStackRequest()
    by_urn = {r.urn: r for r in resources}
    for resource in resources:
        item = request.resources.add(
            urn=resource.urn,
            type=resource.type,
            name=resource.urn.rsplit("::", 1)[-1],
            properties=to_struct(resource.inputs),
            options=_options(resource),
            parent=resource.parent,
            dependencies=list(resource.dependencies),
        )
        for key, urns in resource.property_dependencies.items():
            if urns:  # the engine skips properties with no dependencies
                item.propertyDependencies[key].urns.extend(urns)
        if resource.provider in by_urn:
            item.provider.CopyFrom(_provider(by_urn[resource.provider]))
    return request
