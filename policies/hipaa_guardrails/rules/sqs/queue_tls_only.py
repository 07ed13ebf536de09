"""Q2: every queue refuses requests that do not use TLS."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.iam import denies_insecure_transport
from hipaa_guardrails.props import get, policy_document
from hipaa_guardrails.resource_types import SQS_QUEUE, SQS_QUEUE_POLICY
from hipaa_guardrails.spec import Finding, Guardrail, Resource, Scope, Stack


def _policy_of(resource: Resource) -> bool:
    try:
        document = policy_document(get(resource.props, "policy"), f"{resource.name}.policy")
    except ValueError:
        return False
    return document is not None and denies_insecure_transport(document)


def _governs(policy: Resource, queue: Resource) -> bool:
    if queue in policy.deps_of("queueUrl"):
        return True
    url = get(policy.props, "queueUrl")
    name = get(queue.props, "name")
    return isinstance(url, str) and isinstance(name, str) and url.endswith(f"/{name}")


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    policies = stack.of_type(SQS_QUEUE_POLICY)
    for queue in stack.of_type(SQS_QUEUE):
        governing = [p for p in policies if _governs(p, queue)]
        # A QueuePolicy replaces the queue's inline policy, so judge that when present.
        sources = governing or [queue]
        if not any(_policy_of(source) for source in sources):
            yield Finding(
                f"queue {queue.name} has no policy statement denying requests with "
                "aws:SecureTransport false",
                queue.urn,
            )


RULE = Guardrail(
    name="hipaa-sqs-queue-tls-only",
    catalog_id="Q2",
    title="SQS queue accepts TLS only",
    description=(
        "Every SQS queue must have a policy that denies any request made without TLS "
        "(aws:SecureTransport false)."
    ),
    severity=Severity.MEDIUM,
    controls=("164.312(e)(1)", "164.312(e)(2)(i)"),
    remediation=(
        "Add a QueuePolicy statement: Effect Deny, Principal *, Action sqs:*, Resource the "
        "queue, Condition Bool aws:SecureTransport false."
    ),
    unknowns=(
        "A policy document that is unknown during preview defers this rule to `pulumi up` "
        "(the SDK's advisory preview note)."
    ),
    scope=Scope.STACK,
    check=check,
    cdk_nag="AwsSolutions-SQS4",
)
