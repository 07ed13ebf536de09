"""R2: databases are not reachable from the internet."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get
from hipaa_guardrails.resource_types import RDS_INSTANCE
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(db: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    public = get(db.props, "publiclyAccessible")
    if public is UNKNOWN:
        yield "publiclyAccessible is unknown during preview (fails closed)"
    elif public is True:
        yield "publiclyAccessible is true; the database gets a public address"


RULE = Guardrail(
    name="hipaa-rds-not-public",
    catalog_id="R2",
    title="RDS not publicly accessible",
    description="RDS instances must not be publicly accessible.",
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.312(e)(1)"),
    remediation="Leave publicly_accessible unset or False; reach the database from inside the VPC.",
    unknowns="An unknown value fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(RDS_INSTANCE,),
    check=check,
    aws_config="rds-instance-public-access-check",
    cdk_nag="HIPAA.Security-RDSInstancePublicAccess",
    checkov="CKV_AWS_17",
    url="https://docs.aws.amazon.com/config/latest/developerguide/rds-instance-public-access-check.html",
)
