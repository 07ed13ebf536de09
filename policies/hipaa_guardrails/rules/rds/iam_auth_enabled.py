"""R11: database users log in with IAM credentials, not long-lived passwords."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import describe, get
from hipaa_guardrails.resource_types import RDS_CLUSTER, RDS_INSTANCE
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(db: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    value = get(db.props, "iamDatabaseAuthenticationEnabled")
    if value is not True:
        yield (
            f"iamDatabaseAuthenticationEnabled is {describe(value)}; database users would need "
            "long-lived passwords"
        )


RULE = Guardrail(
    name="hipaa-rds-iam-auth-enabled",
    catalog_id="R11",
    title="RDS IAM database authentication",
    description=(
        "RDS instances and clusters must enable IAM database authentication, so workloads log "
        "in with short-lived tokens tied to an IAM principal."
    ),
    severity=Severity.HIGH,
    controls=("164.308(a)(3)(ii)(A)", "164.308(a)(4)(i)", "164.312(d)"),
    judgement=True,
    remediation="Set iam_database_authentication_enabled=True and GRANT rds_iam to the roles.",
    unknowns="An unknown flag fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(RDS_INSTANCE, RDS_CLUSTER),
    check=check,
    aws_config="rds-instance-iam-authentication-enabled",
    checkov="CKV_AWS_161",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "rds-instance-iam-authentication-enabled.html"
    ),
)
