"""Config of the CloudWatch alarms and the alert topic's subscribers: ``medeez-platform:alarms``."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from stackspec.config.base import ConfigModel, PositiveFloat, PositiveInt, default
from stackspec.stack_file import OFFLINE_SECRET_PLACEHOLDER

#: CloudWatch: an alarm may look back at most 7 days, and at most 1 day when its period is
#: shorter than an hour (PutMetricAlarm's EvaluationPeriods x Period limit).
MAX_EVALUATION_SECONDS = 7 * 86400
MAX_EVALUATION_SECONDS_SHORT_PERIOD = 86400


class AlarmThreshold(ConfigModel):
    """An alarm fires when the statistic is >= threshold in datapointsToAlarm of the last
    evaluationPeriods periods."""

    threshold: PositiveFloat
    """The alarm fires at or above this value (below it for the backup heartbeat)."""
    period_seconds: Literal[60, 300, 900, 3600, 21600, 86400] = 60
    """Length of one datapoint."""
    evaluation_periods: PositiveInt = 5
    """How many recent periods are evaluated."""
    datapoints_to_alarm: PositiveInt | None = None
    """How many of them must breach (default: all)."""

    @model_validator(mode="after")
    def _datapoints(self) -> Self:
        if self.datapoints_to_alarm is not None and (
            self.datapoints_to_alarm > self.evaluation_periods
        ):
            raise ValueError("datapointsToAlarm must not exceed evaluationPeriods")
        limit = (
            MAX_EVALUATION_SECONDS_SHORT_PERIOD
            if self.period_seconds < 3600
            else MAX_EVALUATION_SECONDS
        )
        if self.period_seconds * self.evaluation_periods > limit:
            raise ValueError(
                f"evaluationPeriods x periodSeconds is "
                f"{self.period_seconds * self.evaluation_periods} s; CloudWatch allows at most "
                f"{limit} s ({limit // 86400} day{'s' if limit > 86400 else ''}) "
                f"{'for periods under an hour' if limit < MAX_EVALUATION_SECONDS else ''}".rstrip()
            )
        return self

    @property
    def datapoints(self) -> int:
        return self.datapoints_to_alarm or self.evaluation_periods


#: DynamoDB data-plane operations that CloudWatch publishes per-operation metrics for.
DynamoDbOperation = Literal[
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
]


class LatencyAlarm(AlarmThreshold):
    operations: tuple[DynamoDbOperation, ...] = ("GetItem", "Query", "PutItem", "UpdateItem")
    """DynamoDB operations with a latency alarm each."""
    statistic: Literal["Average", "p90", "p95", "p99"] = "p99"
    """Average or a percentile of SuccessfulRequestLatency (ms)."""

    @model_validator(mode="after")
    def _some_operations(self) -> Self:
        if not self.operations:
            raise ValueError("operations must name at least one DynamoDB operation")
        if len(set(self.operations)) != len(self.operations):
            raise ValueError("operations lists an operation twice")
        return self


class Subscriber(ConfigModel):
    protocol: Literal["email", "https", "sqs", "lambda"]
    """email, https, sqs or lambda."""
    endpoint: Annotated[str, Field(min_length=1)]
    """Address, URL or ARN fitting the protocol; may be a secure value."""

    @model_validator(mode="after")
    def _endpoint_matches(self) -> Self:
        expected = {
            "email": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
            "https": r"^https://",
            "sqs": r"^arn:aws[a-z-]*:sqs:",
            "lambda": r"^arn:aws[a-z-]*:lambda:",
        }[self.protocol]
        secret = self.endpoint == OFFLINE_SECRET_PLACEHOLDER
        if not secret and not re.match(expected, self.endpoint):
            raise ValueError(
                f"endpoint does not fit protocol {self.protocol} (expected {expected})"
            )
        return self


class AlarmsConfig(ConfigModel):
    throttles: AlarmThreshold = default(AlarmThreshold, threshold=1, evaluationPeriods=5)
    """Read/write throttle events, on the table and on each GSI."""
    system_errors: AlarmThreshold = default(AlarmThreshold, threshold=1, evaluationPeriods=5)
    """DynamoDB HTTP 500s, summed over operations."""
    user_errors: AlarmThreshold = default(AlarmThreshold, threshold=10, evaluationPeriods=10)
    """DynamoDB HTTP 400s in the account and region."""
    max_throughput_throttles: AlarmThreshold = default(
        AlarmThreshold, threshold=1, evaluationPeriods=1
    )
    """Requests throttled by the table's maximum on-demand throughput."""
    latency: LatencyAlarm = default(LatencyAlarm, threshold=25, evaluationPeriods=10)
    """SuccessfulRequestLatency per operation."""
    backup_job_failures: AlarmThreshold = default(
        AlarmThreshold, threshold=1, periodSeconds=3600, evaluationPeriods=1
    )
    """Failed backup and copy jobs of the primary vault, and failed restore jobs."""
    topic_delivery_failures: AlarmThreshold = default(
        AlarmThreshold, threshold=1, periodSeconds=300, evaluationPeriods=1
    )
    """Notifications of the alert topic SNS could not deliver (NumberOfNotificationsFailed);
    the default fires on the first failure."""
    subscribers: tuple[Subscriber, ...] = ()
    """Who the alert topic notifies."""
