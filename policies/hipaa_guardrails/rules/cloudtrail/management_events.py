"""CloudTrail records management events: every change to the stack's resources, keys and roles."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, is_true
from hipaa_guardrails.resource_types import CLOUDTRAIL_TRAIL
from hipaa_guardrails.rules.cloudtrail._selectors import records_management_events
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(trail: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if get(trail.props, "enableLogging") is False:
        yield "enableLogging is false; the trail records nothing"
    recorded = records_management_events(trail.props)
    if recorded is UNKNOWN:
        yield "the event selectors are unknown during preview (fails closed)"
    elif not is_true(recorded):
        yield (
            "no event selector records all management events (advanced selector eventCategory "
            "= Management without a readOnly field, or includeManagementEvents with "
            "readWriteType All)"
        )


RULE = Guardrail(
    name="hipaa-cloudtrail-management-events",
    catalog_id="custom",
    title="CloudTrail records management events",
    description="Every CloudTrail trail must be logging and record all management events.",
    severity=Severity.HIGH,
    controls=("164.312(b)", "164.308(a)(1)(ii)(D)"),
    remediation=(
        "Add an advanced event selector with eventCategory = Management (no readOnly field) to "
        "the aws.cloudtrail.Trail, and leave enable_logging on."
    ),
    unknowns="Unknown selectors fail closed.",
    scope=Scope.RESOURCE,
    resource_types=(CLOUDTRAIL_TRAIL,),
    check=check,
    aws_config="cloudtrail-enabled",
    url="https://docs.aws.amazon.com/config/latest/developerguide/cloudtrail-enabled.html",
)
