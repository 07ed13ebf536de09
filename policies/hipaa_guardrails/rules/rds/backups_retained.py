"""R3: automated backups kept for the minimum number of days."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, get
from hipaa_guardrails.resource_types import RDS_CLUSTER, RDS_INSTANCE
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(db: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    days = get(db.props, "backupRetentionPeriod")
    minimum = int(config["minRetentionDays"])
    if days is UNKNOWN:
        yield "backupRetentionPeriod is unknown during preview (fails closed)"
    elif days is MISSING:
        yield f"backupRetentionPeriod is not set (AWS default 1 day); set at least {minimum}"
    elif int(days) < minimum:
        yield f"backupRetentionPeriod is {days}; keep automated backups at least {minimum} days"


RULE = Guardrail(
    name="hipaa-rds-backups-retained",
    catalog_id="R3",
    title="RDS automated backups retained",
    description="RDS automated backups must be kept at least the minimum number of days.",
    severity=Severity.HIGH,
    controls=("164.308(a)(7)(i)", "164.308(a)(7)(ii)(A)"),
    remediation="Set backup_retention_period (1-35) to at least the minimum.",
    unknowns="An unknown retention fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(RDS_INSTANCE, RDS_CLUSTER),
    check=check,
    aws_config="db-instance-backup-enabled",
    cdk_nag="HIPAA.Security-RDSInstanceBackupEnabled",
    checkov="CKV_AWS_133",
    url="https://docs.aws.amazon.com/config/latest/developerguide/db-instance-backup-enabled.html",
    config_properties={
        "minRetentionDays": {
            "type": "integer",
            "minimum": 1,
            "maximum": 35,
            "default": 35,
            "description": "Fewest days automated backups are kept (RDS allows up to 35).",
        }
    },
)
