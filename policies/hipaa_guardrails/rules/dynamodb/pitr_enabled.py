"""D1: point-in-time recovery on every table, keeping enough days."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, describe, get, is_true
from hipaa_guardrails.resource_types import TABLE
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(table: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    enabled = get(table.props, "pointInTimeRecovery", "enabled")
    if not is_true(enabled):
        yield f"pointInTimeRecovery.enabled is {describe(enabled)}; continuous backups must be on"
        return
    days = get(table.props, "pointInTimeRecovery", "recoveryPeriodInDays")
    minimum = int(config["minRecoveryPeriodDays"])
    if days is UNKNOWN:
        yield "pointInTimeRecovery.recoveryPeriodInDays is unknown during preview (fails closed)"
    elif days is not MISSING and int(days) < minimum:
        yield (
            f"pointInTimeRecovery.recoveryPeriodInDays is {days}; this stack requires at least "
            f"{minimum} days of recovery"
        )


RULE = Guardrail(
    name="hipaa-dynamodb-pitr-enabled",
    catalog_id="D1",
    title="DynamoDB point-in-time recovery",
    description="DynamoDB tables must have point-in-time recovery on, with the required window.",
    severity=Severity.HIGH,
    controls=("164.308(a)(7)(i)", "164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"),
    remediation=(
        "Set point_in_time_recovery={'enabled': True, 'recovery_period_in_days': 35} on the table "
        "(config: table.pointInTimeRecovery)."
    ),
    unknowns="An unknown `enabled` or recovery period fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(TABLE,),
    check=check,
    aws_config="dynamodb-pitr-enabled",
    cdk_nag="HIPAA.Security-DynamoDBPITREnabled",
    checkov="CKV_AWS_28",
    url="https://docs.aws.amazon.com/config/latest/developerguide/dynamodb-pitr-enabled.html",
    config_properties={
        "minRecoveryPeriodDays": {
            "type": "integer",
            "minimum": 1,
            "maximum": 35,
            "default": 35,
            "description": "Fewest days of point-in-time recovery allowed (AWS default 35).",
        }
    },
)
