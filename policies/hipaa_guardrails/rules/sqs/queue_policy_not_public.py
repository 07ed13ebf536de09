"""Q3: queue policies do not open a queue to everyone."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.iam import open_principal_statements
from hipaa_guardrails.props import get, policy_document
from hipaa_guardrails.resource_types import SQS_QUEUE, SQS_QUEUE_POLICY
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope


def check(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    try:
        document = policy_document(get(resource.props, "policy"), "policy")
    except ValueError as exc:
        yield str(exc)
        return
    if document is None:
        raise NotApplicable("no inline queue policy")
    for sid in open_principal_statements(document):
        yield (
            f"policy statement {sid} allows any principal (*) without a condition, so anyone "
            "could read or send the queue's messages"
        )


RULE = Guardrail(
    name="hipaa-sqs-queue-policy-not-public",
    catalog_id="Q3",
    title="SQS queue policy is not public",
    description="SQS queue policies must not allow any principal (*) without a condition.",
    severity=Severity.HIGH,
    controls=("164.312(a)(1)",),
    remediation=(
        "Grant queue actions through IAM policies of named roles (the stream-consumer role may "
        "send); keep only Deny statements for Principal *."
    ),
    unknowns="A policy document that is unknown during preview defers this rule to `pulumi up`.",
    scope=Scope.RESOURCE,
    resource_types=(SQS_QUEUE_POLICY, SQS_QUEUE),
    check=check,
    checkov="CKV_AWS_168",
)
