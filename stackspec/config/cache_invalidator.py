"""Config of the cache invalidator, the Lambda function that invalidates the cache's entries
from the table's stream (writes made outside the application), its event source mapping and its
failure queue: ``medeez-platform:cacheInvalidator``.

Its ``MaximumRecordAgeInSeconds`` is not a setting: it is the cache's TTL (at least 60 s, the
mapping's minimum), since an entry older than the TTL has expired and needs no invalidation."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from stackspec.config.alarms import AlarmThreshold
from stackspec.config.base import ConfigModel, default
from stackspec.config.stream_consumer import SQS_MAX_RETENTION_SECONDS, LogRetentionDays


class CacheInvalidatorAlarms(ConfigModel):
    """Alarms on the invalidator; each notifies the alert topic."""

    errors: AlarmThreshold = default(AlarmThreshold, threshold=1, evaluationPeriods=5)
    """Function errors (Errors, Sum): the cache unreachable or a bug; Lambda retries."""
    throttles: AlarmThreshold = default(AlarmThreshold, threshold=1, evaluationPeriods=5)
    """Throttled invocations (Throttles, Sum): reserved concurrency too low for the shards."""
    iterator_age_ms: AlarmThreshold = default(AlarmThreshold, threshold=30_000, evaluationPeriods=5)
    """Age of the newest record of the last batch (IteratorAge, Maximum, ms): out-of-band writes
    stay readable stale for this long (up to the TTL)."""
    failure_queue_messages: AlarmThreshold = default(
        AlarmThreshold, threshold=1, evaluationPeriods=1
    )
    """Messages in the failure queue (ApproximateNumberOfMessagesVisible, Maximum): a batch whose
    invalidation never reached the cache (its entries were then bounded by the TTL only)."""


class CacheInvalidatorConfig(ConfigModel):
    runtime: Literal["python3.12"] = "python3.12"
    """Lambda runtime, pinned as the stream consumer's."""
    architecture: Literal["arm64", "x86_64"] = "arm64"
    """Instruction set (Graviton, arm64, costs 20 % less per GB-second)."""
    memory_mb: Annotated[int, Field(ge=128, le=10240)] = 128
    """Function memory, 128-10240 MB (Lambda's range); one UNLINK per clinic needs little."""
    timeout_seconds: Annotated[int, Field(ge=1, le=900)] = 10
    """Invocation timeout, 1-900 s; cache calls time out after 0.5 s each."""
    reserved_concurrency: Annotated[int, Field(ge=1, le=1000)] = 5
    """Reserved concurrent executions, also the most cache connections the invalidator holds. At
    least the stream's shard count, or batches are throttled."""
    batch_size: Annotated[int, Field(ge=1, le=10000)] = 100
    """Records per batch (DynamoDB streams: 1-10000)."""
    maximum_batching_window_seconds: Annotated[int, Field(ge=0, le=300)] = 0
    """How long Lambda gathers records before invoking (0-300 s); 0: invalidate at once, the
    window adds to the staleness of out-of-band writes."""
    maximum_retry_attempts: Annotated[int, Field(ge=0, le=10)] = 3
    """Retries of a failed batch before it goes to the failure queue, 0-10 (-1, infinite, is
    refused); retries also end when the records are older than the cache's TTL."""
    bisect_batch_on_function_error: bool = True
    """Split a failing batch in two and retry each half."""
    parallelization_factor: Annotated[int, Field(ge=1, le=10)] = 1
    """Concurrent batches per shard (1-10): invalidations are idempotent and unordered, so more
    than 1 only trades cache connections for lag."""
    log_retention_days: LogRetentionDays = 365
    """Retention of the function's log group (CloudWatch's allowed values)."""
    failure_queue_retention_seconds: Annotated[int, Field(ge=60, le=SQS_MAX_RETENTION_SECONDS)] = (
        SQS_MAX_RETENTION_SECONDS
    )
    """How long the failure queue keeps a failed batch's record (60-1209600 s, SQS's range)."""
    tracing: Literal["PassThrough", "Active"] = "PassThrough"
    """X-Ray tracing mode (Active costs per trace)."""
    alarms: CacheInvalidatorAlarms = CacheInvalidatorAlarms()
    """Alarm thresholds."""
