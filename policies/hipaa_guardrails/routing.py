"""Where notifications go: the alert topics of the stack that an alarm or budget targets."""

from __future__ import annotations

from typing import Any

from hipaa_guardrails.props import UNKNOWN, get, is_present
from hipaa_guardrails.resource_types import AWS_MANAGED_KEY_PREFIX, SNS_TOPIC
from hipaa_guardrails.spec import Resource, Stack


def topic_encrypted(topic: Resource) -> bool:
    """True if the topic has a customer-managed KMS key (an unknown key id counts)."""
    key = get(topic.props, "kmsMasterKeyId")
    if not is_present(key):
        return False
    return key is UNKNOWN or AWS_MANAGED_KEY_PREFIX not in str(key)


def targets(resource: Resource, prop: str, arns: list[Any], stack: Stack) -> list[str]:
    """Problems with where ``resource`` sends notifications through property ``prop``.

    Each target must be an encrypted SNS topic of the stack: known through the engine's property
    dependencies (an unknown ARN computed from a stack topic counts), or a known ARN equal to a
    stack topic's ``arn``/``name``.
    """
    problems: list[str] = []
    topics = [d for d in resource.deps_of(prop) if d.type == SNS_TOPIC]
    for topic in topics:
        if not topic_encrypted(topic):
            problems.append(f"topic {topic.name} is not encrypted with a customer-managed key")
    stack_topics = stack.of_type(SNS_TOPIC)
    for arn in arns:
        if arn is UNKNOWN:
            if not topics:
                problems.append(f"{prop} holds an ARN that is unknown and not from a stack topic")
            continue
        if not isinstance(arn, str):
            continue
        named = [t for t in stack_topics if arn.rsplit(":", 1)[-1] == get(t.props, "name")]
        if topics or named:
            for topic in named:
                if topic not in topics and not topic_encrypted(topic):
                    problems.append(
                        f"topic {topic.name} is not encrypted with a customer-managed key"
                    )
            continue
        problems.append(f"{prop} targets {arn}, which is not an SNS topic of this stack")
    return problems
