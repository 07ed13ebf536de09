"""The lead's dev and prod plans through every rule, in process, via the SDK's own analyzer
servicer (the code `pulumi preview --policy-pack` talks to; the gRPC round trip is the gate's test).

Each stack runs with its own pack config, so this is exactly what the gate would enforce.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from google.protobuf import struct_pb2
from hipaa_guardrails import docs
from hipaa_guardrails.pack_config import PackConfig, load_pack_config
from hipaa_guardrails.registry import PACK_NAME, build_policies
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer  # private: the SDK is pinned

LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    mandatory: bool
    urn: str
    message: str


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


def analyze(plan: dict[str, Any], config: PackConfig) -> list[Diagnostic]:
    """Configure the pack, Analyze every resource, then AnalyzeStack once, as the engine does."""
    servicer = _PolicyAnalyzerServicer(
        PACK_NAME, "0.1.0", build_policies(), EnforcementLevel.ADVISORY
    )
    configure = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, entry in config.as_cli_config().items():
        configure.policyConfig[name].enforcementLevel = LEVELS[entry["enforcementLevel"]]
        configure.policyConfig[name].properties.update(entry["properties"])
    servicer.Configure(configure, None)
    responses = []
    stack_resources = []
    for resource in plan["resources"]:
        options = analyzer_pb2.AnalyzerResourceOptions(
            protect=resource["options"]["protect"], parent=resource["parent"] or ""
        )
        properties = _struct(resource["inputs"])
        if resource["custom"]:
            request = analyzer_pb2.AnalyzeRequest(
                type=resource["type"],
                properties=properties,
                urn=resource["urn"],
                name=resource["name"],
                options=options,
            )
            responses.append(servicer.Analyze(request, None))
        stack_resource = analyzer_pb2.AnalyzerResource(
            type=resource["type"],
            properties=properties,
            urn=resource["urn"],
            name=resource["name"],
            options=options,
            parent=resource["parent"] or "",
            dependencies=resource["dependencies"],
        )
        for key, urns in resource["propertyDependencies"].items():
            stack_resource.propertyDependencies[key].urns.extend(urns)
        stack_resources.append(stack_resource)
    responses.append(
        servicer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=stack_resources), None)
    )
    # The SDK sends "<description>\n<message>"; keep the rule's own message.
    return [
        Diagnostic(
            d.policyName,
            d.enforcementLevel == analyzer_pb2.MANDATORY,
            d.urn,
            d.message.removeprefix(d.description + "\n"),
        )
        for response in responses
        for d in response.diagnostics
    ]


@pytest.fixture(scope="module")
def results(dev_plan, prod_plan) -> dict[str, list[Diagnostic]]:
    return {
        stack: analyze(plan.to_json(), load_pack_config(docs.CONFIG_DIR / f"{stack}.json"))
        for stack, plan in (("dev", dev_plan), ("prod", prod_plan))
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_plan_has_no_mandatory_violation(results, stack):
    mandatory = [
        f"{d.policy} {d.urn.rsplit('::', 1)[-1]}: {d.message}"
        for d in results[stack]
        if d.mandatory
    ]
    assert mandatory == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_rule_is_skipped_for_unknown_values(results, stack):
    # The mock plan has every value known; a "can't run policy" note would mean a rule read
    # something the plan does not carry.
    assert [d for d in results[stack] if "can't run policy" in d.message] == []


def test_dev_reports_its_relaxations_and_prod_does_not_need_them(results):
    dev = {
        d.message.split(" runs with")[0] for d in results["dev"] if "CONFIG DEVIATION" in d.message
    }
    assert "CONFIG DEVIATION: hipaa-backup-vault-locked" in dev
    prod = [d for d in results["prod"] if "CONFIG DEVIATION" in d.message]
    assert [d.message.split(" runs with")[0] for d in prod] == [
        "CONFIG DEVIATION: hipaa-dynamodb-stream-view-allowed"
    ]


def test_prod_rules_that_dev_relaxes_actually_ran(results, prod_plan):
    # With required=true these rules judged prod's resources and found them compliant.
    assert prod_plan.of_type("aws:backup/vaultLockConfiguration:VaultLockConfiguration")
    assert not [
        d
        for d in results["prod"]
        if d.policy in ("hipaa-backup-vault-locked", "hipaa-backup-cross-region-copy")
    ]


def test_a_broken_prod_plan_is_caught(prod_plan):
    plan = prod_plan.to_json()
    for resource in plan["resources"]:
        if resource["type"] == "aws:dynamodb/table:Table":
            resource["inputs"]["pointInTimeRecovery"] = {"enabled": False}
            resource["options"]["protect"] = False
    found = analyze(plan, load_pack_config(docs.CONFIG_DIR / "prod.json"))
    mandatory = sorted({d.policy for d in found if d.mandatory})
    assert "hipaa-dynamodb-pitr-enabled" in mandatory
    assert "hipaa-stack-data-resources-protected" in mandatory
