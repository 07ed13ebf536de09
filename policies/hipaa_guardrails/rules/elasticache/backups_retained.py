"""E1: Redis keeps automatic snapshots for at least 15 days."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, describe, get
from hipaa_guardrails.resource_types import ELASTICACHE_REPLICATION_GROUP
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(group: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    days = get(group.props, "snapshotRetentionLimit")
    minimum = int(config["minRetentionDays"])
    if days is UNKNOWN:
        yield "snapshotRetentionLimit is unknown during preview (fails closed)"
    elif not isinstance(days, int | float) or days < minimum:
        yield f"snapshotRetentionLimit is {describe(days)}; keep snapshots at least {minimum} days"


RULE = Guardrail(
    name="hipaa-elasticache-backups-retained",
    catalog_id="E1",
    title="ElastiCache automatic backups",
    description="ElastiCache Redis replication groups must keep automatic snapshots 15+ days.",
    severity=Severity.HIGH,
    controls=("164.308(a)(7)(i)", "164.308(a)(7)(ii)(A)"),
    remediation="Set snapshot_retention_limit >= 15 and a snapshot_window.",
    unknowns="An unknown retention fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(ELASTICACHE_REPLICATION_GROUP,),
    check=check,
    aws_config="elasticache-redis-cluster-automatic-backup-check",
    cdk_nag="HIPAA.Security-ElastiCacheRedisClusterAutomaticBackup",
    checkov="CKV_AWS_134",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "elasticache-redis-cluster-automatic-backup-check.html"
    ),
    config_properties={
        "minRetentionDays": {
            "type": "integer",
            "minimum": 1,
            "default": 15,
            "description": "Fewest days snapshots are kept (AWS Config HIPAA pack: 15).",
        }
    },
)
