"""K3 (CKV2_AWS_64): every key carries its own, reviewed key policy."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, get
from hipaa_guardrails.resource_types import KMS_KEY
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(key: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    policy = get(key.props, "policy")
    # An unknown policy is set (built from ARNs of new resources); the key-policy rule reads it.
    if policy is MISSING or (isinstance(policy, str) and not policy.strip()):
        yield (
            "policy is not set, so AWS applies its default key policy: who may use and "
            "administer the key is then decided outside this stack's reviewed code"
        )


RULE = Guardrail(
    name="hipaa-kms-key-policy-explicit",
    catalog_id="K3",
    title="KMS key has an explicit policy",
    description=(
        "Every customer-managed KMS key must carry an explicit key policy, so the principals "
        "that can use and administer it are written down and reviewed with the stack."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.312(a)(2)(iv)"),
    judgement=True,
    remediation=(
        "Set the key's policy (components/encryption_key.py builds one per key: account-root "
        "administration plus the purpose's statements)."
    ),
    unknowns="An unknown policy counts as set; hipaa-kms-key-policy-safe judges its content.",
    scope=Scope.RESOURCE,
    resource_types=(KMS_KEY,),
    check=check,
    checkov="CKV2_AWS_64",
)
