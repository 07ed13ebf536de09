"""S2: every topic refuses requests that do not use TLS."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.iam import denies_insecure_transport
from hipaa_guardrails.props import get, policy_document
from hipaa_guardrails.resource_types import SNS_TOPIC, SNS_TOPIC_POLICY
from hipaa_guardrails.spec import Finding, Guardrail, Resource, Scope, Stack


def _policy_of(resource: Resource) -> bool:
    try:
        document = policy_document(get(resource.props, "policy"), f"{resource.name}.policy")
    except ValueError:
        return False
    return document is not None and denies_insecure_transport(document)


def _governs(policy: Resource, topic: Resource) -> bool:
    if topic in policy.deps_of("arn"):
        return True
    arn = get(policy.props, "arn")
    name = get(topic.props, "name")
    return isinstance(arn, str) and isinstance(name, str) and arn.endswith(f":{name}")


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    policies = stack.of_type(SNS_TOPIC_POLICY)
    for topic in stack.of_type(SNS_TOPIC):
        governing = [p for p in policies if _governs(p, topic)]
        # A separate TopicPolicy replaces the topic's inline policy, so judge that when present.
        sources = governing or [topic]
        if not any(_policy_of(source) for source in sources):
            yield Finding(
                f"topic {topic.name} has no policy statement denying requests with "
                "aws:SecureTransport false",
                topic.urn,
            )


RULE = Guardrail(
    name="hipaa-sns-topic-tls-only",
    catalog_id="S2",
    title="SNS topic accepts TLS only",
    description=(
        "Every SNS topic must have a policy that denies any request made without TLS "
        "(aws:SecureTransport false)."
    ),
    severity=Severity.MEDIUM,
    controls=("164.312(e)(1)", "164.312(e)(2)(i)"),
    remediation=(
        "Add a TopicPolicy statement: Effect Deny, Principal *, Action sns:Publish, Resource the "
        "topic, Condition Bool aws:SecureTransport false."
    ),
    unknowns=(
        "A policy document that is unknown during preview defers this rule to `pulumi up` "
        "(the SDK's advisory preview note)."
    ),
    scope=Scope.STACK,
    check=check,
    cdk_nag="AwsSolutions-SNS3",
)
