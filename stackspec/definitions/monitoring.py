"""Alerting: the encrypted alert topic, its subscribers, the CloudWatch alarm set and the dashboard.

AWS's recommended DynamoDB alarms (read/write throttles on the table and on every GSI, system
errors, request latency, user errors, on-demand max-throughput throttles) plus AWS Backup job and
copy-job failures, restore-job failures and a missing-backup heartbeat (which also bounds the age
of the newest recovery point: no completed job in a day means the latest point is over a day
old), and AWS's recommended alarm for the alert topic itself: notifications SNS failed to
deliver. That alarm notifies the same topic, so it reaches the subscribers that still work when
one fails (a webhook down, a bounced address); when every delivery fails it cannot announce
itself, and stays visible in ALARM on the dashboard's alarm widget. The ``Monitoring`` component
turns each definition into a ``MetricAlarm``; the local setup puts the same alarms and validate
compares them.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stackspec.config.alarms import AlarmThreshold, DynamoDbOperation, Subscriber
from stackspec.config.stack import StackConfig
from stackspec.definitions.table import table_definition

#: Services that publish to the alert topic: CloudWatch alarms, AWS Budgets and AWS Backup.
ALERT_PUBLISHERS = ("budgets.amazonaws.com", "backup.amazonaws.com", "cloudwatch.amazonaws.com")
TOPIC_DISPLAY_NAME = "Medeez data-layer alerts"

DYNAMODB = "AWS/DynamoDB"
BACKUP = "AWS/Backup"
SNS = "AWS/SNS"

#: Operations whose SystemErrors are summed into one table-wide alarm (CloudWatch publishes
#: SystemErrors per Operation only; ten is also the most metrics one alarm's math may use).
SYSTEM_ERROR_OPERATIONS: tuple[str, ...] = typing.get_args(DynamoDbOperation)

GREATER_OR_EQUAL = "GreaterThanOrEqualToThreshold"
LESS_THAN = "LessThanThreshold"


@dataclass(frozen=True, kw_only=True)
class MetricQuery:
    """One entry of a metric-math alarm: a metric (``metric_name`` set) or an expression."""

    id: str
    metric_name: str | None = None
    dimensions: tuple[tuple[str, str], ...] = ()
    stat: str | None = None
    expression: str | None = None
    label: str | None = None
    return_data: bool = False


@dataclass(frozen=True, kw_only=True)
class AlarmDefinition:
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
    metric_queries: tuple[MetricQuery, ...] = ()
    #: States whose transitions notify the alert topic. All three by default: HIPAA's AWS Config
    #: check wants insufficient-data actions too, so a metric that stops reporting is noticed.
    notify_on: tuple[str, ...] = ("ALARM", "OK", "INSUFFICIENT_DATA")


def alarm_definitions(config: StackConfig) -> tuple[AlarmDefinition, ...]:
    alarms = config.alarms
    index_names = table_definition(config).index_names
    names = config.names
    table = names.table
    table_dims = (("TableName", table),)
    alarms_out: list[AlarmDefinition] = []

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
        queries: tuple[MetricQuery, ...] = (),
    ) -> None:
        alarms_out.append(
            AlarmDefinition(
                key=key,
                name=names.alarm(key),
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
        for index in index_names:
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
                MetricQuery(
                    id=f"m{i}",
                    metric_name="SystemErrors",
                    dimensions=(*table_dims, ("Operation", op)),
                    stat="Sum",
                )
                for i, op in enumerate(SYSTEM_ERROR_OPERATIONS, start=1)
            ),
            MetricQuery(
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
    vault_dims = (("BackupVaultName", names.vault),)
    add(
        "backup-job-failures",
        f"An AWS Backup job into vault {names.vault} failed.",
        alarms.backup_job_failures,
        namespace=BACKUP,
        metric_name="NumberOfBackupJobsFailed",
        dimensions=vault_dims,
    )
    if config.backup.cross_region_copy.enabled:
        add(
            "copy-job-failures",
            f"Copying a recovery point from {names.vault} to {config.dr_region} failed.",
            alarms.backup_job_failures,
            namespace=BACKUP,
            metric_name="NumberOfCopyJobsFailed",
            dimensions=vault_dims,
        )
    add(
        "restore-job-failures",
        "An AWS Backup restore job of a DynamoDB table failed: a restore test (or a real "
        "restore) could not bring a recovery point back.",
        alarms.backup_job_failures,
        namespace=BACKUP,
        # Restore jobs belong to no vault: AWS/Backup publishes them per resource type.
        metric_name="NumberOfRestoreJobsFailed",
        dimensions=(("ResourceType", "DynamoDB"),),
    )
    add(
        "backup-missing",
        f"No backup job into {names.vault} completed in the last day: the schedule or "
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
    add(
        "alert-topic-delivery-failures",
        f"SNS could not deliver a notification of the alert topic {names.topic} to a "
        "subscriber (email: after SNS stopped retrying; https: every failed attempt). This "
        "alarm notifies the same topic: the other subscribers hear of it; if every delivery "
        "fails, it shows in ALARM on the dashboard only.",
        alarms.topic_delivery_failures,
        namespace=SNS,
        metric_name="NumberOfNotificationsFailed",
        dimensions=(("TopicName", names.topic),),
    )
    return tuple(alarms_out)


@dataclass(frozen=True, kw_only=True)
class MonitoringDefinition:
    """The alert topic, who it notifies, the alarms and the dashboard of one stack."""

    topic_name: str
    topic_display_name: str
    publishers: tuple[str, ...]
    subscribers: tuple[Subscriber, ...]
    alarms: tuple[AlarmDefinition, ...]
    dashboard_name: str
    table_name: str
    index_names: tuple[str, ...]
    latency_operations: tuple[str, ...]
    latency_statistic: str
    alarm_name_prefix: str
    """Every alarm's name starts with it (``medeez-<env>-``)."""
    tags: dict[str, str]

    def topic_policy(self, *, topic_arn: str, account_id: str, partition: str, region: str) -> str:
        """Who may publish to the alert topic: this account's alarms, budgets and backup vaults,
        only over TLS."""
        source_arns = {
            "cloudwatch.amazonaws.com": f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:*",
            "budgets.amazonaws.com": f"arn:{partition}:budgets::{account_id}:*",
            "backup.amazonaws.com": (
                f"arn:{partition}:backup:{region}:{account_id}:backup-vault:*"
            ),
        }
        statements: list[dict[str, Any]] = [
            {
                "Sid": f"Allow{service.split('.')[0].capitalize()}Publish",
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": source_arns[service]},
                },
            }
            for service in self.publishers
        ]
        statements.append(
            {
                "Sid": "DenyPublishWithoutTls",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        )
        return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)

    def dashboard_body(self, *, region: str, alarm_arns: Sequence[str]) -> str:
        """CloudWatch dashboard JSON: alarm status, then throttles, errors, latency and traffic.

        The latency widget shows the operations and statistic the latency alarms watch, and the
        error widget every operation the system-errors alarm sums, so the two never disagree.
        """

        def metric_widget(
            title: str, metrics: list[list[Any]], y: int, x: int = 0
        ) -> dict[str, Any]:
            return {
                "type": "metric",
                "x": x,
                "y": y,
                "width": 12,
                "height": 6,
                "properties": {
                    "title": title,
                    "region": region,
                    "stat": "Sum",
                    "period": 60,
                    "view": "timeSeries",
                    "metrics": metrics,
                },
            }

        table = ["TableName", self.table_name]
        gsi_throttles = [
            [DYNAMODB, f"{kind}ThrottleEvents", *table, "GlobalSecondaryIndexName", index]
            for index in self.index_names
            for kind in ("Read", "Write")
        ]
        latency_stat = self.latency_statistic
        widgets = [
            {
                "type": "alarm",
                "x": 0,
                "y": 0,
                "width": 24,
                "height": 4,
                "properties": {"title": "Alarms", "alarms": sorted(alarm_arns)},
            },
            metric_widget(
                "Table throttles",
                [
                    [DYNAMODB, "ReadThrottleEvents", *table],
                    [DYNAMODB, "WriteThrottleEvents", *table],
                ],
                4,
            ),
            metric_widget("GSI throttles", gsi_throttles, 4, 12),
            metric_widget(
                "Errors",
                [
                    [DYNAMODB, "SystemErrors", *table, "Operation", op]
                    for op in SYSTEM_ERROR_OPERATIONS
                ]
                + [[DYNAMODB, "UserErrors"]],
                10,
            ),
            metric_widget(
                f"Latency {latency_stat} (ms)",
                [
                    [
                        DYNAMODB,
                        "SuccessfulRequestLatency",
                        *table,
                        "Operation",
                        op,
                        {"stat": latency_stat},
                    ]
                    for op in self.latency_operations
                ],
                10,
                12,
            ),
            metric_widget(
                "Consumed capacity",
                [
                    [DYNAMODB, "ConsumedReadCapacityUnits", *table],
                    [DYNAMODB, "ConsumedWriteCapacityUnits", *table],
                ],
                16,
            ),
            metric_widget(
                "Alert delivery",
                [
                    [SNS, "NumberOfNotificationsDelivered", "TopicName", self.topic_name],
                    [SNS, "NumberOfNotificationsFailed", "TopicName", self.topic_name],
                ],
                16,
                12,
            ),
        ]
        return json.dumps({"widgets": widgets}, sort_keys=True)


def monitoring_definition(cfg: StackConfig) -> MonitoringDefinition:
    names = cfg.names
    return MonitoringDefinition(
        topic_name=names.topic,
        topic_display_name=TOPIC_DISPLAY_NAME,
        publishers=ALERT_PUBLISHERS,
        subscribers=cfg.alarms.subscribers,
        alarms=alarm_definitions(cfg),
        dashboard_name=names.dashboard,
        table_name=names.table,
        index_names=table_definition(cfg).index_names,
        latency_operations=cfg.alarms.latency.operations,
        latency_statistic=cfg.alarms.latency.statistic,
        alarm_name_prefix=f"{names.prefix}-",
        tags=cfg.tags.as_dict(),
    )
