"""R5: a synchronous standby in a second Availability Zone, where the stack requires it."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import describe, get
from hipaa_guardrails.resource_types import RDS_INSTANCE
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope


def check(db: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if not config["required"]:
        raise NotApplicable("Multi-AZ is not required by this stack's pack config")
    value = get(db.props, "multiAz")
    if value is not True:
        yield f"multiAz is {describe(value)}; losing one Availability Zone loses the database"


RULE = Guardrail(
    name="hipaa-rds-multi-az",
    catalog_id="R5",
    title="RDS Multi-AZ",
    description=(
        "Where the stack's pack config requires it, RDS instances must run Multi-AZ "
        "(a synchronous standby in another Availability Zone)."
    ),
    severity=Severity.HIGH,
    controls=("164.308(a)(7)(i)", "164.308(a)(7)(ii)(C)"),
    remediation="Set multi_az=True (config: auditDatabase.multiAz; prod must).",
    unknowns="An unknown flag fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(RDS_INSTANCE,),
    check=check,
    aws_config="rds-multi-az-support",
    cdk_nag="HIPAA.Security-RDSMultiAZSupport",
    checkov="CKV_AWS_157",
    url="https://docs.aws.amazon.com/config/latest/developerguide/rds-multi-az-support.html",
    config_properties={
        "required": {
            "type": "boolean",
            "default": True,
            "description": "Whether this stack's RDS instances must be Multi-AZ.",
        }
    },
)
