"""D4: capacity that follows demand, so a load spike cannot throttle clinical reads and writes."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, get
from hipaa_guardrails.resource_types import TABLE
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(table: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    mode = get(table.props, "billingMode")
    if mode is UNKNOWN:
        yield "billingMode is unknown during preview (fails closed)"
    elif mode == "PAY_PER_REQUEST":
        return
    else:
        shown = "not set (AWS default PROVISIONED)" if mode is MISSING else f"{mode}"
        yield (
            f"billingMode is {shown}; use PAY_PER_REQUEST, or exempt the table with a ticket that "
            "names its Application Auto Scaling targets for the table and every GSI"
        )


RULE = Guardrail(
    name="hipaa-dynamodb-on-demand-or-autoscaled",
    catalog_id="D4",
    title="DynamoDB capacity follows demand",
    description="DynamoDB tables must use on-demand capacity (or documented auto scaling).",
    severity=Severity.MEDIUM,
    controls=("164.308(a)(7)(i)", "164.308(a)(7)(ii)(C)"),
    remediation="Set billing_mode='PAY_PER_REQUEST' (config: table.billing.mode).",
    unknowns="An unknown billing mode fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(TABLE,),
    check=check,
    aws_config="dynamodb-autoscaling-enabled",
    cdk_nag="HIPAA.Security-DynamoDBAutoScalingEnabled",
    checkov="CKV2_AWS_16",
    url="https://docs.aws.amazon.com/config/latest/developerguide/dynamodb-autoscaling-enabled.html",
)
