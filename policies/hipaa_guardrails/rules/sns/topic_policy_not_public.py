"""S3: topic policies do not open the topic to everyone."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.iam import open_principal_statements
from hipaa_guardrails.props import get, policy_document
from hipaa_guardrails.resource_types import SNS_TOPIC, SNS_TOPIC_POLICY
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope


def check(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    try:
        document = policy_document(get(resource.props, "policy"), "policy")
    except ValueError as exc:
        yield str(exc)
        return
    if document is None:
        raise NotApplicable("no inline topic policy")
    for sid in open_principal_statements(document):
        yield (
            f"policy statement {sid} allows any principal (*) without a condition, so anyone "
            "could publish alerts or subscribe to them"
        )


RULE = Guardrail(
    name="hipaa-sns-topic-policy-not-public",
    catalog_id="S3",
    title="SNS topic policy is not public",
    description="SNS topic policies must not allow any principal (*) without a condition.",
    severity=Severity.HIGH,
    controls=("164.312(a)(1)",),
    remediation=(
        "Grant publish to named service principals (cloudwatch.amazonaws.com, "
        "budgets.amazonaws.com) with an aws:SourceAccount condition."
    ),
    unknowns="A policy document that is unknown during preview defers this rule to `pulumi up`.",
    scope=Scope.RESOURCE,
    resource_types=(SNS_TOPIC_POLICY, SNS_TOPIC),
    check=check,
    checkov="CKV_AWS_169",
)
