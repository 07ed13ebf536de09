"""K3: the key policy grants nobody-in-particular nothing, and keeps the lockout safety check."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.iam import open_principal_statements
from hipaa_guardrails.props import UNKNOWN, get, policy_document
from hipaa_guardrails.resource_types import KMS_KEY
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(key: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    bypass = get(key.props, "bypassPolicyLockoutSafetyCheck")
    if bypass is UNKNOWN:
        yield "bypassPolicyLockoutSafetyCheck is unknown during preview (fails closed)"
    elif bypass is True:
        yield "bypassPolicyLockoutSafetyCheck is true; a bad key policy could lock everyone out"
    try:
        document = policy_document(get(key.props, "policy"), "policy")
    except ValueError as exc:
        yield str(exc)
        return
    if document is None:
        return  # AWS's default key policy: the account root only
    for sid in open_principal_statements(document):
        yield f"key policy statement {sid} allows any principal (*) without a condition"


RULE = Guardrail(
    name="hipaa-kms-key-policy-safe",
    catalog_id="K3",
    title="KMS key policy is not open",
    description=(
        "KMS key policies must not allow any principal without a condition, and must not bypass "
        "the policy lockout safety check."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(1)",),
    remediation=(
        "Name principals explicitly (account root, service principals with aws:SourceAccount), "
        "and leave bypass_policy_lockout_safety_check unset."
    ),
    unknowns=(
        "An unknown bypass flag fails closed. A key policy that is unknown during preview "
        "(built from ARNs of new resources) is checked at `pulumi up`: the SDK reports an "
        "advisory preview note instead."
    ),
    scope=Scope.RESOURCE,
    resource_types=(KMS_KEY,),
    check=check,
    checkov="CKV_AWS_33",
)
