"""Every RDS instance has AWS's recommended alarm set, each notifying someone."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import get, is_present, items_of
from hipaa_guardrails.resource_types import METRIC_ALARM, RDS_INSTANCE
from hipaa_guardrails.spec import Finding, Guardrail, Resource, Scope, Stack

#: AWS "Recommended alarms" for RDS instances (the EBS balance alarms apply to gp2 burst only).
RECOMMENDED = (
    "CPUUtilization",
    "DatabaseConnections",
    "FreeStorageSpace",
    "FreeableMemory",
    "MaximumUsedTransactionIDs",
    "ReadLatency",
    "WriteLatency",
    "DBLoad",
)


def _watches(alarm: Resource, db: Resource) -> str | None:
    """The RDS metric ``alarm`` watches on ``db`` (None if it is not such an alarm)."""
    if get(alarm.props, "namespace") != "AWS/RDS":
        return None
    identifier = get(db.props, "identifier")
    dimension = get(alarm.props, "dimensions", "DBInstanceIdentifier")
    if db not in alarm.deps_of("dimensions") and not (
        isinstance(identifier, str) and dimension == identifier
    ):
        return None
    metric = get(alarm.props, "metricName")
    if not is_present(items_of(get(alarm.props, "alarmActions"))):
        return None
    return metric if isinstance(metric, str) else None


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    alarms = stack.of_type(METRIC_ALARM)
    required = tuple(config["metrics"])
    for db in stack.of_type(RDS_INSTANCE):
        watched = {_watches(alarm, db) for alarm in alarms}
        missing = [metric for metric in required if metric not in watched]
        if missing:
            yield Finding(
                f"RDS instance {db.name} has no alarm with actions on {', '.join(missing)}",
                db.urn,
            )


RULE = Guardrail(
    name="hipaa-rds-alarm-set",
    catalog_id="custom",
    title="RDS instances have the recommended alarms",
    description=(
        "Every RDS instance must have an alarm with actions on each metric of AWS's "
        "recommended RDS alarm set."
    ),
    severity=Severity.MEDIUM,
    controls=("164.308(a)(1)(ii)(D)", "164.308(a)(7)(i)"),
    judgement=True,
    remediation=(
        "Add a MetricAlarm per metric (namespace AWS/RDS, dimension DBInstanceIdentifier) "
        "notifying the alert topic; the AuditDatabase component builds the set."
    ),
    unknowns=(
        "An alarm counts when its DBInstanceIdentifier equals the instance's identifier or was "
        "computed from the instance."
    ),
    scope=Scope.STACK,
    check=check,
    url="https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Best_Practice_Recommended_Alarms_AWS_Services.html#RDS",
    config_properties={
        "metrics": {
            "type": "array",
            "items": {"type": "string"},
            "uniqueItems": True,
            "default": list(RECOMMENDED),
            "description": "AWS/RDS metrics every instance must have an alarm on.",
        }
    },
)
