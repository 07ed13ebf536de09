"""The cache invalidator: the Lambda function that invalidates the data layer's cache from the
table's stream (``functions/cache_invalidator/handler.py``), so writes made outside the
application (another service, an operator, a restore) are not served stale until the TTL. Its
event source mapping, failure queue, log group and alarms mirror the stream consumer's.

A DynamoDB stream serves at most two concurrent readers per shard (more are throttled): this
mapping and the stream consumer's are those two, each with its own iterator, so neither delays
the other, and a third reader of the table's stream would have to share one of them.

The function runs in the network's private subnets with the consumer tier's security group (the
cache's security group admits its port from that tier) and logs in over TLS as the cache's
``invalidator`` user (``UNLINK`` and ``PING`` on the stack's key prefix), whose password it reads
from Secrets Manager at cold start. Records older than the cache's TTL need no invalidation (their
entries have expired; the handler skips them), so the mapping's maximum record age is the TTL (at
least 60 s, Lambda's minimum): retries of an unreachable cache stop there, and what still fails
goes to the failure queue (SQS on the consumer's key, 14 days), on which an alarm fires.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from stackspec.config.stack import StackConfig
from stackspec.definitions.cache import CacheUserRole, cache_definition
from stackspec.definitions.monitoring import GREATER_OR_EQUAL, AlarmDefinition
from stackspec.definitions.stream_consumer import LAMBDA, SQS
from stackspec.naming import KeyPurpose

#: Where the handler lives inside the package.
HANDLER = "functions.cache_invalidator.handler.handler"
#: Packages and modules the handler imports from this repository (the archive's contents).
PACKAGE_SOURCES = (
    "functions/__init__.py",
    "functions/cache_invalidator",
    "datalayer/__init__.py",
    "datalayer/audit.py",
    "datalayer/beacons.py",
    "datalayer/cache.py",
    "datalayer/entities.py",
    "datalayer/phi.py",
    "datalayer/store.py",
    "auditlog/__init__.py",
    "auditlog/chain.py",
    "stackspec/__init__.py",
    "stackspec/key_schema.py",
    "stackspec/tenancy.py",
)
#: The layer zip ``make invalidator-layer`` builds.
LAYER_ZIP = ".build/cache-invalidator-layer.zip"
#: The third-party distributions the handler imports beyond the runtime's boto3 (valkey-py at
#: connect; the data layer's modules import the AWS Encryption SDK and cryptography), pinned by
#: requirements.txt; pip adds their own dependencies for the runtime's platform.
LAYER_REQUIREMENTS = ("valkey", "aws-encryption-sdk", "cryptography")
#: Lambda's lowest ``MaximumRecordAgeInSeconds`` for stream sources (-1 aside).
MIN_RECORD_AGE_SECONDS = 60
#: The cache user the function logs in as.
CACHE_USER_ROLE = CacheUserRole.INVALIDATOR


@dataclass(frozen=True, kw_only=True)
class CacheInvalidatorDefinition:
    """The function, its package, mapping, failure queue, log group and alarms."""

    function_name: str
    role_name: str
    description: str
    runtime: str
    architecture: str
    handler: str
    memory_mb: int
    timeout_seconds: int
    reserved_concurrency: int
    tracing: str
    package_sources: tuple[str, ...]
    layer_name: str
    layer_zip: str
    log_group_name: str
    log_retention_days: int
    key_purpose: KeyPurpose
    """The CMK of the function's environment and of the failure queue (the consumer's: the same
    services, Lambda and SQS, use it for the same kind of data, stream batch pointers)."""
    queue_name: str
    queue_retention_seconds: int
    starting_position: str
    batch_size: int
    maximum_batching_window_seconds: int
    maximum_retry_attempts: int
    maximum_record_age_seconds: int
    bisect_batch_on_function_error: bool
    parallelization_factor: int
    function_response_types: tuple[str, ...]
    cache_user_name: str
    cache_secret_name: str
    cache_port: int
    cache_tls: bool
    key_prefix: str
    ttl_seconds: int
    alarms: tuple[AlarmDefinition, ...]
    tags: dict[str, str]

    def environment(self, *, host: str, secret_arn: str) -> dict[str, str]:
        """The function's environment (``functions.cache_invalidator.handler.cache_url``)."""
        return {
            "CACHE_HOST": host,
            "CACHE_PORT": str(self.cache_port),
            "CACHE_TLS": "true" if self.cache_tls else "false",
            "CACHE_USER": self.cache_user_name,
            "CACHE_SECRET_ARN": secret_arn,
            "CACHE_KEY_PREFIX": self.key_prefix,
            "CACHE_TTL_SECONDS": str(self.ttl_seconds),
        }

    def package_files(self, root: Path) -> dict[str, Path]:
        """Archive path -> file, for every Python module of :attr:`package_sources` under
        ``root`` (no caches)."""
        files: dict[str, Path] = {}
        for source in self.package_sources:
            path = root / source
            candidates = sorted(path.rglob("*.py")) if path.is_dir() else [path]
            for file in candidates:
                if "__pycache__" not in file.parts:
                    files[file.relative_to(root).as_posix()] = file
        return files

    def queue_arn(self, *, partition: str, region: str, account_id: str) -> str:
        return f"arn:{partition}:sqs:{region}:{account_id}:{self.queue_name}"

    def log_group_arn(self, *, partition: str, region: str, account_id: str) -> str:
        return f"arn:{partition}:logs:{region}:{account_id}:log-group:{self.log_group_name}"

    def queue_policy(self, *, queue_arn: str) -> str:
        """Deny every request to the failure queue that is not over TLS (as the consumer's);
        access itself is granted by IAM only."""
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyWithoutTls",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "sqs:*",
                        "Resource": queue_arn,
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            },
            sort_keys=True,
        )


def _alarms(cfg: StackConfig, function: str, queue: str) -> tuple[AlarmDefinition, ...]:
    settings = cfg.cache_invalidator.alarms
    names = cfg.names
    function_dims = (("FunctionName", function),)
    specs = (
        (
            "cache-invalidator-errors",
            f"{function} failed (Errors): the cache is unreachable or the handler has a bug; "
            "out-of-band writes stay cached until the TTL.",
            LAMBDA,
            "Errors",
            function_dims,
            "Sum",
            settings.errors,
        ),
        (
            "cache-invalidator-throttles",
            f"{function} was throttled: its reserved concurrency is below what the stream's "
            "shards need, so invalidations fall behind.",
            LAMBDA,
            "Throttles",
            function_dims,
            "Sum",
            settings.throttles,
        ),
        (
            "cache-invalidator-iterator-age",
            f"{function} is falling behind the table's stream (IteratorAge, ms): out-of-band "
            "writes are served stale that long, up to the cache's TTL.",
            LAMBDA,
            "IteratorAge",
            function_dims,
            "Maximum",
            settings.iterator_age_ms,
        ),
        (
            "cache-invalidator-failures",
            f"A batch of the table's stream could not invalidate the cache and is in {queue}: "
            "its entries were bounded by the TTL only; look for why the cache was unreachable.",
            SQS,
            "ApproximateNumberOfMessagesVisible",
            (("QueueName", queue),),
            "Maximum",
            settings.failure_queue_messages,
        ),
    )
    return tuple(
        AlarmDefinition(
            key=key,
            name=names.alarm(key),
            description=description,
            namespace=namespace,
            metric_name=metric,
            dimensions=dims,
            statistic=statistic,
            extended_statistic=None,
            period_seconds=threshold.period_seconds,
            evaluation_periods=threshold.evaluation_periods,
            datapoints_to_alarm=threshold.datapoints,
            threshold=threshold.threshold,
            comparison_operator=GREATER_OR_EQUAL,
            treat_missing_data="notBreaching",
        )
        for key, description, namespace, metric, dims, statistic, threshold in specs
    )


def cache_invalidator_definition(cfg: StackConfig) -> CacheInvalidatorDefinition:
    names = cfg.names
    settings = cfg.cache_invalidator
    cache = cache_definition(cfg)
    user = cache.user(CACHE_USER_ROLE)
    function = names.cache_invalidator
    return CacheInvalidatorDefinition(
        function_name=function,
        role_name=names.role("cache-invalidator"),
        description=f"Invalidates {names.cache} from the {names.table} stream",
        runtime=settings.runtime,
        architecture=settings.architecture,
        handler=HANDLER,
        memory_mb=settings.memory_mb,
        timeout_seconds=settings.timeout_seconds,
        reserved_concurrency=settings.reserved_concurrency,
        tracing=settings.tracing,
        package_sources=PACKAGE_SOURCES,
        layer_name=names.cache_invalidator_layer,
        layer_zip=LAYER_ZIP,
        log_group_name=f"/aws/lambda/{function}",
        log_retention_days=settings.log_retention_days,
        key_purpose=KeyPurpose.CONSUMER,
        queue_name=names.cache_invalidator_failures,
        queue_retention_seconds=settings.failure_queue_retention_seconds,
        # New writes only: what the stream held before the function existed predates nothing
        # the cache could still hold beyond the TTL.
        starting_position="LATEST",
        batch_size=settings.batch_size,
        maximum_batching_window_seconds=settings.maximum_batching_window_seconds,
        maximum_retry_attempts=settings.maximum_retry_attempts,
        maximum_record_age_seconds=max(MIN_RECORD_AGE_SECONDS, cache.ttl_seconds),
        bisect_batch_on_function_error=settings.bisect_batch_on_function_error,
        parallelization_factor=settings.parallelization_factor,
        function_response_types=("ReportBatchItemFailures",),
        cache_user_name=user.user_name,
        cache_secret_name=user.secret_name,
        cache_port=cache.port,
        cache_tls=cache.transit_encryption_mode == "required",
        key_prefix=cache.key_prefix,
        ttl_seconds=cache.ttl_seconds,
        alarms=_alarms(cfg, function, names.cache_invalidator_failures),
        tags=cfg.tags.as_dict(),
    )
