"""R8: enhanced monitoring (OS metrics) with a role to publish them."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, get, is_present
from hipaa_guardrails.resource_types import RDS_INSTANCE
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(db: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    interval = get(db.props, "monitoringInterval")
    if interval is UNKNOWN:
        yield "monitoringInterval is unknown during preview (fails closed)"
        return
    if interval is MISSING or int(interval) <= 0:
        shown = "not set" if interval is MISSING else interval
        yield f"monitoringInterval is {shown}; enhanced monitoring is off"
        return
    if not is_present(get(db.props, "monitoringRoleArn")):
        yield "monitoringRoleArn is not set; enhanced monitoring cannot publish"


RULE = Guardrail(
    name="hipaa-rds-enhanced-monitoring",
    catalog_id="R8",
    title="RDS enhanced monitoring",
    description="RDS instances must publish enhanced monitoring metrics (interval > 0, a role).",
    severity=Severity.MEDIUM,
    controls=("164.312(b)",),
    remediation="Set monitoring_interval (1-60 s) and monitoring_role_arn.",
    unknowns="An unknown interval fails closed; an unknown role ARN that is set counts.",
    scope=Scope.RESOURCE,
    resource_types=(RDS_INSTANCE,),
    check=check,
    aws_config="rds-enhanced-monitoring-enabled",
    cdk_nag="HIPAA.Security-RDSEnhancedMonitoringEnabled",
    checkov="CKV_AWS_118",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "rds-enhanced-monitoring-enabled.html"
    ),
)
