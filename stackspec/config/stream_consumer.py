"""Config of the stream consumer, the Lambda function that writes the table's stream into the audit
database, its event source mapping and its failure queue: ``medeez-platform:streamConsumer``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from stackspec.config.alarms import AlarmThreshold
from stackspec.config.base import ConfigModel, default

#: Retention periods CloudWatch Logs accepts (PutRetentionPolicy), in days.
LogRetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
]  # fmt: skip

#: SQS's longest message retention, 14 days: a failed record's pointer must outlive any holiday.
SQS_MAX_RETENTION_SECONDS = 1_209_600


class StreamConsumerAlarms(ConfigModel):
    """Alarms on the consumer; each notifies the alert topic."""

    errors: AlarmThreshold = default(AlarmThreshold, threshold=1, evaluationPeriods=5)
    """Function errors (Errors, Sum): the audit database unreachable or a bug; Lambda retries."""
    throttles: AlarmThreshold = default(AlarmThreshold, threshold=1, evaluationPeriods=5)
    """Throttled invocations (Throttles, Sum): reserved concurrency too low for the shards."""
    iterator_age_ms: AlarmThreshold = default(AlarmThreshold, threshold=60_000, evaluationPeriods=5)
    """Age of the newest record of the last batch (IteratorAge, Maximum, ms): the consumer is
    falling behind the stream (records expire from the stream after 24 hours)."""
    failure_queue_messages: AlarmThreshold = default(
        AlarmThreshold, threshold=1, evaluationPeriods=1
    )
    """Messages in the failure queue (ApproximateNumberOfMessagesVisible, Maximum): any record
    that could not be audited; the threshold 1 means "more than zero"."""


class StreamConsumerConfig(ConfigModel):
    runtime: Literal["python3.12"] = "python3.12"
    """Lambda runtime, pinned: python3.12 runs on arm64 and on Amazon Linux 2023, and psycopg's
    binary wheels exist for it (manylinux aarch64); the layer is built for the same version."""
    architecture: Literal["arm64", "x86_64"] = "arm64"
    """Instruction set (Graviton, arm64, costs 20 % less per GB-second)."""
    memory_mb: Annotated[int, Field(ge=128, le=10240)] = 256
    """Function memory, 128-10240 MB (Lambda's range); CPU grows with it."""
    timeout_seconds: Annotated[int, Field(ge=1, le=900)] = 60
    """Invocation timeout, 1-900 s; a batch of 100 takes well under a second locally."""
    reserved_concurrency: Annotated[int, Field(ge=1, le=1000)] = 5
    """Reserved concurrent executions: also the most audit-database connections the consumer can
    hold (one per warm instance). At least the stream's shard count, or batches are throttled."""
    batch_size: Annotated[int, Field(ge=1, le=10000)] = 100
    """Records per batch (DynamoDB streams: 1-10000); each batch is one database transaction."""
    maximum_batching_window_seconds: Annotated[int, Field(ge=0, le=300)] = 1
    """How long Lambda gathers records before invoking (0-300 s): fewer, larger batches against
    lag."""
    maximum_retry_attempts: Annotated[int, Field(ge=0, le=10)] = 5
    """Retries of a failed batch before it goes to the failure queue, 0-10 here (Lambda allows
    10000 or -1, infinite: a poison record would block its shard for the stream's 24 hours)."""
    maximum_record_age_seconds: Annotated[int, Field(ge=60, le=86400)] = 3600
    """Records older than this go to the failure queue instead of being retried, 60-86400 s
    (-1, infinite, is refused)."""
    bisect_batch_on_function_error: bool = True
    """Split a failing batch in two and retry each half, so one bad record cannot fail its
    neighbours."""
    parallelization_factor: Literal[1] = 1
    """Concurrent batches per shard, fixed at 1: records of a shard are then audited strictly in
    stream order, so a clinic's chain follows the order of the writes, a retry from the lowest
    failed sequence number never overtakes a later batch, and the connections stay at one per
    shard."""
    log_retention_days: LogRetentionDays = 365
    """Retention of the function's log group (CloudWatch's allowed values)."""
    failure_queue_retention_seconds: Annotated[int, Field(ge=60, le=SQS_MAX_RETENTION_SECONDS)] = (
        SQS_MAX_RETENTION_SECONDS
    )
    """How long the failure queue keeps a failed batch's record (60-1209600 s, SQS's range)."""
    tracing: Literal["PassThrough", "Active"] = "PassThrough"
    """X-Ray tracing mode (Active costs per trace)."""
    alarms: StreamConsumerAlarms = StreamConsumerAlarms()
    """Alarm thresholds."""
