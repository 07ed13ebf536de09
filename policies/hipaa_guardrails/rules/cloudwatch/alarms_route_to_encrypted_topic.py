"""S4 (alarms): every alarm notifies an encrypted alert topic of the stack."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import get, items_of
from hipaa_guardrails.resource_types import COMPOSITE_ALARM, METRIC_ALARM
from hipaa_guardrails.routing import targets
from hipaa_guardrails.spec import Finding, Guardrail, Scope, Stack


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    for alarm in stack.of_type(METRIC_ALARM, COMPOSITE_ALARM):
        arns = items_of(get(alarm.props, "alarmActions"))
        if not arns:
            yield Finding(f"alarm {alarm.name} has no alarmActions", alarm.urn)
            continue
        for problem in targets(alarm, "alarmActions", arns, stack):
            yield Finding(f"alarm {alarm.name}: {problem}", alarm.urn)


RULE = Guardrail(
    name="hipaa-cloudwatch-alarms-route-to-encrypted-topic",
    catalog_id="S4",
    title="Alarms reach an encrypted alert topic",
    description=(
        "Every CloudWatch alarm must notify an SNS topic of this stack that is encrypted with a "
        "customer-managed key."
    ),
    severity=Severity.HIGH,
    controls=("164.308(a)(6)(ii)", "164.312(b)"),
    judgement=True,
    remediation="Point alarm_actions at the Monitoring component's encrypted alert topic.",
    unknowns=(
        "Targets are matched by property dependency, so an unknown topic ARN counts when it comes "
        "from a topic of the stack; an unknown ARN from anywhere else is a violation."
    ),
    scope=Scope.STACK,
    check=check,
)
