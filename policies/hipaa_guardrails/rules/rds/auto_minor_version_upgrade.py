"""R9: security patches (minor versions) are applied in the maintenance window."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get
from hipaa_guardrails.resource_types import RDS_INSTANCE
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(db: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    value = get(db.props, "autoMinorVersionUpgrade")
    if value is UNKNOWN:
        yield "autoMinorVersionUpgrade is unknown during preview (fails closed)"
    elif value is False:
        yield "autoMinorVersionUpgrade is false; engine security fixes are never applied"


RULE = Guardrail(
    name="hipaa-rds-auto-minor-version-upgrade",
    catalog_id="R9",
    title="RDS automatic minor version upgrades",
    description="RDS instances must take minor engine versions automatically (AWS's default).",
    severity=Severity.MEDIUM,
    controls=("164.308(a)(5)(ii)(A)",),
    remediation="Leave auto_minor_version_upgrade unset or True.",
    unknowns="An unknown flag fails closed; unset is AWS's default, true.",
    scope=Scope.RESOURCE,
    resource_types=(RDS_INSTANCE,),
    check=check,
    aws_config="rds-automatic-minor-version-upgrade-enabled",
    cdk_nag="HIPAA.Security-RDSAutomaticMinorVersionUpgradeEnabled",
    checkov="CKV_AWS_226",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "rds-automatic-minor-version-upgrade-enabled.html"
    ),
)
