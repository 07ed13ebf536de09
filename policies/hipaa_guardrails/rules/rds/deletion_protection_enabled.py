"""R6: databases cannot be deleted by one call."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import describe, get
from hipaa_guardrails.resource_types import RDS_CLUSTER, RDS_INSTANCE
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(db: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    value = get(db.props, "deletionProtection")
    if value is not True:
        yield f"deletionProtection is {describe(value)}; the database could be deleted at once"


RULE = Guardrail(
    name="hipaa-rds-deletion-protection-enabled",
    catalog_id="R6",
    title="RDS deletion protection",
    description="RDS instances and clusters must have deletion protection enabled.",
    severity=Severity.HIGH,
    controls=("164.308(a)(7)(i)", "164.312(c)(1)"),
    remediation="Set deletion_protection=True.",
    unknowns="An unknown value fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(RDS_INSTANCE, RDS_CLUSTER),
    check=check,
    aws_config="rds-cluster-deletion-protection-enabled",
    cdk_nag="HIPAA.Security-RDSInstanceDeletionProtectionEnabled",
    checkov="CKV_AWS_293",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "rds-cluster-deletion-protection-enabled.html"
    ),
)
