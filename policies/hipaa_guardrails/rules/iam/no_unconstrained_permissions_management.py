"""CKV_AWS_289: permissions management only on named resources or under a condition."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.rules.iam._actions import permissions_management
from hipaa_guardrails.rules.iam._documents import DOCUMENT_TYPES, document_findings
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    yield from document_findings(
        resource,
        lambda label, document: (
            f"{label}: {problem}" for problem in permissions_management(document)
        ),
    )


RULE = Guardrail(
    name="hipaa-iam-no-unconstrained-permissions-management",
    catalog_id="custom",
    title="IAM permissions management is constrained",
    description=(
        "IAM policies must not grant permissions-management actions (identity and resource "
        "policies, ACLs, grants, permissions boundaries, group membership: iam:Put*Policy, "
        "s3:PutBucketPolicy, kms:PutKeyPolicy, kms:CreateGrant, sns:AddPermission...) on every "
        "resource (*) without a condition."
    ),
    severity=Severity.HIGH,
    controls=("164.308(a)(4)(ii)(C)", "164.312(a)(1)"),
    judgement=True,
    remediation=(
        "Scope the statement to the stack's own ARNs, or add a Condition that confines it "
        "(aws:ResourceTag, iam:PermissionsBoundary, kms:ResourceAliases)."
    ),
    unknowns=(
        "A policy document that is unknown during preview defers this rule to `pulumi up`. "
        "Access levels are read from the action's name and a catalog of permissions actions "
        "(errs towards flagging)."
    ),
    scope=Scope.RESOURCE,
    resource_types=DOCUMENT_TYPES,
    check=check,
    checkov="CKV_AWS_289",
)
