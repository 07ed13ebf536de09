"""D5: deletion protection, so deleting PHI is a deliberate two-step act."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, describe, get, is_true
from hipaa_guardrails.resource_types import TABLE
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(table: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    value = get(table.props, "deletionProtectionEnabled")
    if value is UNKNOWN:
        yield "deletionProtectionEnabled is unknown during preview (fails closed)"
    elif not is_true(value):
        shown = "not set (AWS default false)" if value is MISSING else describe(value)
        yield f"deletionProtectionEnabled is {shown}; the table could be deleted by one API call"


RULE = Guardrail(
    name="hipaa-dynamodb-deletion-protection-enabled",
    catalog_id="D5",
    title="DynamoDB deletion protection",
    description="DynamoDB tables must have deletion protection enabled.",
    severity=Severity.HIGH,
    controls=("164.308(a)(7)(i)", "164.312(c)(1)"),
    judgement=True,
    remediation="Set deletion_protection_enabled=True (config: table.deletionProtection).",
    unknowns="An unknown value fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(TABLE,),
    check=check,
    aws_config="dynamodb-table-deletion-protection-enabled",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "dynamodb-table-deletion-protection-enabled.html"
    ),
)
