"""The tenant-isolation case table over the documents each stack's plan renders, and proof that
it fails when the documents are weakened in the ways the pitfalls describe (prefix collision,
ForAllValues with no keys, a KMS grant without the clinic context, a granted Scan)."""

from __future__ import annotations

import copy
import subprocess
import sys
from typing import Any

import pytest

from datalayer.access_patterns import CATALOG
from stackspec.config.stack import load_stack_config
from stackspec.definitions import stack_definition
from stackspec.definitions.access import RolePurpose
from tools.isolation import Documents, case_table, documents_from_plan, run
from tools.isolation.__main__ import _simulate_with
from tools.plan import Plan

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def documents(plan: Plan) -> Documents:
    return documents_from_plan(plan, stack_definition(load_stack_config(plan.stack)).access)


@pytest.fixture(scope="module")
def dev_documents(dev_plan: Plan) -> Documents:
    return documents(dev_plan)


@pytest.mark.parametrize("plan_name", ["dev_plan", "prod_plan"])
def test_every_case_holds_on_the_planned_documents(
    plan_name: str, request: pytest.FixtureRequest
) -> None:
    report = run(documents(request.getfixturevalue(plan_name)))
    assert [o.case.name for o in report.failed] == []
    assert len(report.outcomes) >= 80


def test_every_tenant_catalog_pattern_is_a_case_for_each_clinic(dev_documents: Documents) -> None:
    names = {c.name for c in case_table(dev_documents.arns)}
    for pattern in CATALOG:
        for whose in ("own clinic", "another clinic", "extending clinic c10"):
            assert (f"catalog {pattern.name}: {whose}" in names) is not pattern.cross_tenant


def _tenant_statement(docs: Documents, sid: str) -> dict[str, Any]:
    return next(s for s in docs.policies[RolePurpose.TENANT]["Statement"] if s["Sid"] == sid)


def _weakened(docs: Documents, change: Any) -> Documents:
    weak = copy.deepcopy(docs)
    change(weak)
    return weak


def _failed(docs: Documents) -> set[str]:
    return {o.case.name for o in run(docs).failed}


def test_a_prefix_without_delimiter_lets_clinic_c1_reach_c10(dev_documents: Documents) -> None:
    def no_delimiter(docs: Documents) -> None:
        condition = _tenant_statement(docs, "ItemsOfTheSessionClinicOnly")["Condition"]
        condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] = [
            "CLINIC#${aws:PrincipalTag/clinicId}*"
        ]

    failed = _failed(_weakened(dev_documents, no_delimiter))
    assert "a clinic whose id extends the caller's (c10): GetItem" in failed
    assert "catalog patient_timeline: extending clinic c10" in failed
    assert not any("another clinic" in name for name in failed)


def test_for_all_values_without_the_null_guard_passes_keyless_requests(
    dev_documents: Documents,
) -> None:
    def no_guard(docs: Documents) -> None:
        del _tenant_statement(docs, "ItemsOfTheSessionClinicOnly")["Condition"]["Null"]

    assert _failed(_weakened(dev_documents, no_guard)) == {
        "no partition key: Query",
        "no partition key: GetItem",
    }


def test_a_phi_key_grant_without_the_clinic_context_decrypts_other_clinics(
    dev_documents: Documents,
) -> None:
    def no_context(docs: Documents) -> None:
        del _tenant_statement(docs, "PhiKeyWithTheSessionClinicContextOnly")["Condition"]

    # The shared boundary still stops Encrypt with a foreign context and calls without one, but
    # it carries the operations role's any-clinic Decrypt, so the identity policy is what
    # stops a foreign Decrypt: exactly that case fails.
    assert _failed(_weakened(dev_documents, no_context)) == {
        "PHI key, another clinic's context: Decrypt",
    }


def test_a_clinic_key_grant_without_the_tag_condition_reaches_other_clinics_keys(
    dev_documents: Documents,
) -> None:
    def no_tag(docs: Documents) -> None:
        statement = _tenant_statement(docs, "OwnClinicKeyWithTheSessionClinicContextOnly")
        del statement["Condition"]["StringEquals"]["aws:ResourceTag/clinicId"]

    # The shared boundary still stops GenerateDataKey on a foreign key and any use of an untagged
    # key, but it carries the operations role's Decrypt on every clinic key, so the identity
    # policy's tag condition is what stops a Decrypt under another clinic's key.
    assert _failed(_weakened(dev_documents, no_tag)) == {
        "another clinic's key, own context: Decrypt",
    }


def test_the_boundary_still_denies_scan_if_the_tenant_policy_grants_it(
    dev_documents: Documents,
) -> None:
    def grant_scan(docs: Documents) -> None:
        _tenant_statement(docs, "ItemsOfTheSessionClinicOnly")["Action"].append("dynamodb:Scan")

    assert _failed(_weakened(dev_documents, grant_scan)) == set()

    def and_drop_the_boundary_deny(docs: Documents) -> None:
        grant_scan(docs)
        docs.boundary["Statement"] = [  # type: ignore[index]
            s for s in docs.boundary["Statement"] if s["Sid"] != "CrossTenantReadsOnlyByOperations"
        ]
        for s in docs.boundary["Statement"]:
            if s["Sid"] == "TenantItemsOfTheSessionClinicOnly":
                s["Action"].append("dynamodb:Scan")

    assert _failed(_weakened(dev_documents, and_drop_the_boundary_deny)) == {
        "Scan naming the own clinic"
    }


class _Simulator:
    """Records SimulateCustomPolicy requests and answers one fixed decision."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def simulate_custom_policy(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        return {"EvaluationResults": [{"EvalDecision": "implicitDeny"}]}


def test_aws_mode_sends_the_case_as_context_entries(dev_documents: Documents) -> None:
    simulator = _Simulator()
    case = next(c for c in case_table(dev_documents.arns) if c.name.startswith("own patient"))
    assert _simulate_with(simulator)(case, dev_documents) == "ImplicitDeny"
    request = simulator.calls[0]
    assert request["ActionNames"] == ["dynamodb:PutItem"]
    assert request["ResourceArns"] == [dev_documents.arns.table_arn]
    entries = {e["ContextKeyName"]: e for e in request["ContextEntries"]}
    assert entries["dynamodb:LeadingKeys"]["ContextKeyType"] == "stringList"
    assert entries["dynamodb:LeadingKeys"]["ContextKeyValues"] == ["CLINIC#c1#PATIENT#p1"]
    assert entries["aws:PrincipalTag/clinicId"] == {
        "ContextKeyName": "aws:PrincipalTag/clinicId",
        "ContextKeyValues": ["c1"],
        "ContextKeyType": "string",
    }
    assert len(request["PermissionsBoundaryPolicyInputList"]) == 1


def test_cli_unknown_stack_is_one_line_and_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.isolation", "--stack", "qa"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == "error: unknown stack 'qa': no Pulumi.qa.yaml; stacks: dev, prod\n"
    assert result.stdout == ""
