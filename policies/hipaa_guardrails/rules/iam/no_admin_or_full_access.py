"""I1: no administrator or whole-service grants."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.iam import admin_or_full_access, is_aws_managed_admin
from hipaa_guardrails.props import UNKNOWN, get, items_of
from hipaa_guardrails.resource_types import (
    IAM_POLICY_ATTACHMENT,
    IAM_ROLE,
    IAM_ROLE_POLICY_ATTACHMENT,
    IAM_USER_POLICY_ATTACHMENT,
)
from hipaa_guardrails.rules.iam._documents import DOCUMENT_TYPES, document_findings
from hipaa_guardrails.spec import Guardrail, Resource, Scope

ATTACHMENT_TYPES = (IAM_ROLE_POLICY_ATTACHMENT, IAM_USER_POLICY_ATTACHMENT, IAM_POLICY_ATTACHMENT)


def check(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    arns: list[Any] = []
    if resource.type in ATTACHMENT_TYPES:
        arns = [get(resource.props, "policyArn")]
    elif resource.type == IAM_ROLE:
        arns = items_of(get(resource.props, "managedPolicyArns"))
    for arn in arns:
        if arn is not UNKNOWN and isinstance(arn, str) and is_aws_managed_admin(arn):
            yield f"attaches the AWS managed policy {arn}"
    yield from document_findings(
        resource,
        lambda label, document: (
            f"{label}: {problem}" for problem in admin_or_full_access(document)
        ),
    )


RULE = Guardrail(
    name="hipaa-iam-no-admin-or-full-access",
    catalog_id="I1",
    title="IAM grants no admin or full-service access",
    description=(
        "IAM policies must not allow every action or every action of a service, and must not "
        "attach AWS administrator policies."
    ),
    severity=Severity.HIGH,
    controls=("164.308(a)(3)(i)", "164.308(a)(4)(ii)(A)", "164.312(a)(1)"),
    remediation="List the exact actions the role needs; never use *, <service>:* or NotAction.",
    unknowns=(
        "A policy document that is unknown during preview defers this rule to `pulumi up`; an "
        "unknown managed policy ARN is not judged (it cannot name an AWS policy)."
    ),
    scope=Scope.RESOURCE,
    resource_types=(*DOCUMENT_TYPES, *ATTACHMENT_TYPES),
    check=check,
    aws_config=(
        "iam-policy-no-statements-with-admin-access, iam-policy-no-statements-with-full-access"
    ),
    cdk_nag=(
        "HIPAA.Security-IAMPolicyNoStatementsWithAdminAccess, "
        "HIPAA.Security-IAMPolicyNoStatementsWithFullAccess"
    ),
    checkov="CKV_AWS_62, CKV_AWS_63, CKV_AWS_274",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "iam-policy-no-statements-with-admin-access.html"
    ),
)
