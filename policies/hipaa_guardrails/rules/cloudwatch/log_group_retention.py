"""C2: log groups keep audit records for an explicit, long enough period."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, get
from hipaa_guardrails.resource_types import LOG_GROUP
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(group: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    days = get(group.props, "retentionInDays")
    minimum = int(config["minRetentionDays"])
    if days is UNKNOWN:
        yield "retentionInDays is unknown during preview (fails closed)"
    elif days is MISSING or int(days) == 0:
        yield "retentionInDays is not set (never expire); set an explicit retention"
    elif int(days) < minimum:
        yield f"retentionInDays is {days}; audit logs must be kept at least {minimum} days"


RULE = Guardrail(
    name="hipaa-cloudwatch-log-group-retention",
    catalog_id="C2",
    title="Log group retention",
    description="CloudWatch log groups must set an explicit retention of at least the minimum.",
    severity=Severity.MEDIUM,
    controls=("164.312(b)", "164.316(b)(2)(i)"),
    judgement=True,
    remediation=(
        "Set retention_in_days to an allowed CloudWatch value >= the minimum, e.g. 2192 (6 years) "
        "for audit logs."
    ),
    unknowns="An unknown retention fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(LOG_GROUP,),
    check=check,
    aws_config="cw-loggroup-retention-period-check",
    cdk_nag="HIPAA.Security-CloudWatchLogGroupRetentionPeriod",
    checkov="CKV_AWS_338",
    url="https://docs.aws.amazon.com/config/latest/developerguide/cw-loggroup-retention-period-check.html",
    config_properties={
        "minRetentionDays": {
            "type": "integer",
            "minimum": 1,
            "default": 365,
            "description": "Fewest days logs are kept (Checkov and AWS Config: 365).",
        }
    },
)
