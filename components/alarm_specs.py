"""The CloudWatch alarm set as plain data, derived from the stack config.

AWS's recommended DynamoDB alarms (read/write throttles on the table and on every GSI, system
errors, request latency, user errors, on-demand max-throughput throttles) plus AWS Backup job and
copy-job failures and a missing-backup heartbeat. The ``Monitoring`` component turns each spec into
a ``MetricAlarm``; ``validate-setup`` compares the live alarms with the same specs.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

from components.config import AlarmThreshold, DynamoDbOperation, StackConfig
from components.schema import GLOBAL_INDEX_NAMES

DYNAMODB = "AWS/DynamoDB"
BACKUP = "AWS/Backup"

#: Operations whose SystemErrors are summed into one table-wide alarm (CloudWatch publishes
#: SystemErrors per Operation only; ten is also the most metrics one alarm's math may use).
SYSTEM_ERROR_OPERATIONS: tuple[str, ...] = typing.get_args(DynamoDbOperation)

GREATER_OR_EQUAL = "GreaterThanOrEqualToThreshold"
LESS_THAN = "LessThanThreshold"


@dataclass(frozen=True, kw_only=True)
class MetricQuerySpec:
    """One entry of a metric-math alarm: a metric (``metric_name`` set) or an expression."""

    id: str
    metric_name: str | None = None
    dimensions: tuple[tuple[str, str], ...] = ()
    stat: str | None = None
    expression: str | None = None
    label: str | None = None
    return_data: bool = False


@dataclass(frozen=True, kw_only=True)
class AlarmSpec:
    key: str
    """Stable suffix for the logical and physical name, e.g. ``table-read-throttles``."""
    name: str
    description: str
    namespace: str
    metric_name: str | None
    dimensions: tuple[tuple[str, str], ...]
    statistic: str | None
    extended_statistic: str | None
    period_seconds: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison_operator: str
    #: Deliberate per alarm: no data means "no events" for counters (notBreaching) but "no
    #: backup ran" for the heartbeat (breaching).
    treat_missing_data: str
    metric_queries: tuple[MetricQuerySpec, ...] = ()
    #: States whose transitions notify the alert topic. All three by default: HIPAA's AWS Config
    #: check wants insufficient-data actions too, so a metric that stops reporting is noticed.
    notify_on: tuple[str, ...] = ("ALARM", "OK", "INSUFFICIENT_DATA")


def alarm_specs(config: StackConfig) -> tuple[AlarmSpec, ...]:
    alarms = config.alarms
    table = config.table_name
    table_dims = (("TableName", table),)
    specs: list[AlarmSpec] = []

    def add(
        key: str,
        description: str,
        settings: AlarmThreshold,
        *,
        namespace: str = DYNAMODB,
        metric_name: str | None,
        dimensions: tuple[tuple[str, str], ...] = table_dims,
        statistic: str | None = "Sum",
        extended_statistic: str | None = None,
        comparison: str = GREATER_OR_EQUAL,
        missing: str = "notBreaching",
        queries: tuple[MetricQuerySpec, ...] = (),
    ) -> None:
        specs.append(
            AlarmSpec(
                key=key,
                name=f"{config.prefix}-{key}",
                description=description,
                namespace=namespace,
                metric_name=metric_name,
                dimensions=dimensions,
                statistic=statistic,
                extended_statistic=extended_statistic,
                period_seconds=settings.period_seconds,
                evaluation_periods=settings.evaluation_periods,
                datapoints_to_alarm=settings.datapoints,
                threshold=settings.threshold,
                comparison_operator=comparison,
                treat_missing_data=missing,
                metric_queries=queries,
            )
        )

    for kind in ("Read", "Write"):
        add(
            f"table-{kind.lower()}-throttles",
            f"{kind} requests to {table} are throttled (base table only; GSIs have their own).",
            alarms.throttles,
            metric_name=f"{kind}ThrottleEvents",
        )
        for index in GLOBAL_INDEX_NAMES:
            add(
                f"gsi-{index}-{kind.lower()}-throttles",
                f"{kind} throttling on index {index} of {table}; a throttled GSI also "
                "throttles writes to the base table.",
                alarms.throttles,
                metric_name=f"{kind}ThrottleEvents",
                dimensions=(*table_dims, ("GlobalSecondaryIndexName", index)),
            )
    add(
        "system-errors",
        f"DynamoDB returned HTTP 500 errors for {table}, summed over all operations.",
        alarms.system_errors,
        metric_name=None,
        statistic=None,
        queries=(
            *(
                MetricQuerySpec(
                    id=f"m{i}",
                    metric_name="SystemErrors",
                    dimensions=(*table_dims, ("Operation", op)),
                    stat="Sum",
                )
                for i, op in enumerate(SYSTEM_ERROR_OPERATIONS, start=1)
            ),
            MetricQuerySpec(
                id="total",
                expression="SUM(METRICS())",
                label=f"SystemErrors on {table} (all operations)",
                return_data=True,
            ),
        ),
    )
    latency = alarms.latency
    for op in latency.operations:
        add(
            f"latency-{op}",
            f"{latency.statistic} latency of successful {op} calls on {table} is at or above "
            f"{latency.threshold:g} ms.",
            latency,
            metric_name="SuccessfulRequestLatency",
            dimensions=(*table_dims, ("Operation", op)),
            statistic="Average" if latency.statistic == "Average" else None,
            extended_statistic=None if latency.statistic == "Average" else latency.statistic,
        )
    add(
        "user-errors",
        "HTTP 400 errors from DynamoDB in this account and region (the metric has no table "
        "dimension): usually a client bug or missing permission.",
        alarms.user_errors,
        metric_name="UserErrors",
        dimensions=(),
    )
    for kind in ("Read", "Write"):
        add(
            f"table-{kind.lower()}-max-throughput-throttles",
            f"{kind} requests to {table} hit the table's on-demand maximum throughput.",
            alarms.max_throughput_throttles,
            metric_name=f"{kind}MaxOnDemandThroughputThrottleEvents",
        )
    vault_dims = (("BackupVaultName", config.vault_name),)
    add(
        "backup-job-failures",
        f"An AWS Backup job into vault {config.vault_name} failed.",
        alarms.backup_job_failures,
        namespace=BACKUP,
        metric_name="NumberOfBackupJobsFailed",
        dimensions=vault_dims,
    )
    if config.backup.cross_region_copy.enabled:
        add(
            "copy-job-failures",
            f"Copying a recovery point from {config.vault_name} to {config.dr_region} failed.",
            alarms.backup_job_failures,
            namespace=BACKUP,
            metric_name="NumberOfCopyJobsFailed",
            dimensions=vault_dims,
        )
    add(
        "backup-missing",
        f"No backup job into {config.vault_name} completed in the last day: the schedule or "
        "the selection is broken. Missing data counts as breaching.",
        AlarmThreshold.model_validate(
            {"threshold": 1, "periodSeconds": 86400, "evaluationPeriods": 1}
        ),
        namespace=BACKUP,
        metric_name="NumberOfBackupJobsCompleted",
        dimensions=vault_dims,
        comparison=LESS_THAN,
        missing="breaching",
    )
    return tuple(specs)
