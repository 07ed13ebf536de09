"""S4 (budgets): every budget notifies the encrypted alert topic of the stack."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import get, items_of
from hipaa_guardrails.resource_types import BUDGET
from hipaa_guardrails.routing import targets
from hipaa_guardrails.spec import Finding, Guardrail, Scope, Stack


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    for budget in stack.of_type(BUDGET):
        notifications = items_of(get(budget.props, "notifications"))
        if not notifications:
            yield Finding(f"budget {budget.name} has no notifications", budget.urn)
            continue
        for index, notification in enumerate(notifications):
            arns = items_of(get(notification, "subscriberSnsTopicArns"))
            if not arns:
                yield Finding(
                    f"budget {budget.name} notifications[{index}] has no SNS subscriber, so it "
                    "does not reach the alert topic",
                    budget.urn,
                )
                continue
            for problem in targets(budget, "notifications", arns, stack):
                yield Finding(f"budget {budget.name} notifications[{index}]: {problem}", budget.urn)


RULE = Guardrail(
    name="hipaa-budgets-route-to-encrypted-topic",
    catalog_id="S4",
    title="Budgets reach an encrypted alert topic",
    description=(
        "Every budget notification must reach an SNS topic of this stack that is encrypted with a "
        "customer-managed key (an operational guardrail: cost alerts, not a HIPAA control)."
    ),
    severity=Severity.MEDIUM,
    controls=(),
    operational=True,
    remediation=(
        "Add the alert topic's ARN to subscriber_sns_topic_arns of every budget notification "
        "(the topic policy must let budgets.amazonaws.com publish)."
    ),
    unknowns=(
        "Targets are matched by property dependency, so an unknown topic ARN counts when it comes "
        "from a topic of the stack."
    ),
    scope=Scope.STACK,
    check=check,
)
