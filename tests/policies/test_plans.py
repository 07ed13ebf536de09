"""The lead's dev and prod plans through every rule, driven by the gate's own run loop
(``tools.gate.run_loop.run_pack``: Configure, Remediate and Analyze per registration, AnalyzeStack)
against the pack's own analyzer servicer in process; the gRPC round trip is the gate's test.

Each stack runs with its own pack config, reconciled as the CLI reconciles it, so this is exactly
what the gate would enforce.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hipaa_guardrails import docs

from stackspec.stack_file import read_stack
from tests.policies.in_process import InProcessPack
from tools.gate.plan_input import parse_plan
from tools.gate.report import split_message


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    mandatory: bool
    urn: str
    message: str


def analyze(plan: dict[str, Any], stack: str) -> list[Diagnostic]:
    """The gate's run loop over ``plan`` with the stack's pack config and provider config."""
    run = InProcessPack().run(
        parse_plan(plan), docs.CONFIG_DIR / f"{stack}.json", read_stack(stack).config
    )
    return [
        Diagnostic(d.policy_name, d.enforcement_level == "mandatory", d.urn, split_message(d))
        for d in run.diagnostics
    ]


@pytest.fixture(scope="module")
def results(dev_plan, prod_plan) -> dict[str, list[Diagnostic]]:
    return {
        stack: analyze(plan.to_json(), stack)
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
    # The cache keeps a day of snapshots: it rebuilds from the table (README, "Cache").
    assert [d.message.split(" runs with")[0] for d in prod] == [
        "CONFIG DEVIATION: hipaa-dynamodb-stream-view-allowed",
        "CONFIG DEVIATION: hipaa-elasticache-backups-retained",
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
    found = analyze(plan, "prod")
    mandatory = sorted({d.policy for d in found if d.mandatory})
    assert "hipaa-dynamodb-pitr-enabled" in mandatory
    assert "hipaa-stack-data-resources-protected" in mandatory
