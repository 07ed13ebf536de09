"""I2: permissions go to roles (and groups), never straight to IAM users."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import get, items_of
from hipaa_guardrails.resource_types import (
    IAM_POLICY_ATTACHMENT,
    IAM_USER_POLICY,
    IAM_USER_POLICY_ATTACHMENT,
)
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope


def check(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if resource.type == IAM_POLICY_ATTACHMENT:
        if not items_of(get(resource.props, "users")):
            raise NotApplicable("attaches to no users")
        yield "attaches a policy directly to IAM users; attach it to a role or group"
        return
    kind = "an inline policy" if resource.type == IAM_USER_POLICY else "a managed policy"
    yield f"gives {kind} directly to an IAM user; grant permissions through roles or groups"


RULE = Guardrail(
    name="hipaa-iam-no-user-policies",
    catalog_id="I2",
    title="No policies on IAM users",
    description="IAM policies must not be attached directly to IAM users.",
    severity=Severity.HIGH,
    controls=("164.308(a)(3)(i)", "164.308(a)(4)(ii)(B)", "164.312(a)(1)"),
    remediation="Use roles assumed through SSO/OIDC, or groups, instead of user policies.",
    unknowns="Judged by resource type only; unknown values do not matter.",
    scope=Scope.RESOURCE,
    resource_types=(IAM_USER_POLICY, IAM_USER_POLICY_ATTACHMENT, IAM_POLICY_ATTACHMENT),
    check=check,
    aws_config="iam-user-no-policies-check",
    cdk_nag="HIPAA.Security-IAMUserNoPolicies",
    checkov="CKV_AWS_40",
    url="https://docs.aws.amazon.com/config/latest/developerguide/iam-user-no-policies-check.html",
)
