"""The stream consumer: the Lambda function that writes the table's stream into the audit
database (``functions/stream_consumer/handler.py``), its event source mapping, its failure queue,
its log group and its alarms.

The function runs in the VPC (the consumer tier's security group), logs in to RDS as the audit
database's ingest user with IAM database authentication over TLS ``verify-full`` (``AUDIT_DB_AUTH
=iam``: a password URL in its environment is refused), and is packaged from the handler's folder
with the ``auditlog`` package and the one ``stackspec`` module it imports. Third-party code
(psycopg's binary wheel for manylinux aarch64) and the RDS CA bundle come in a layer built by
``make consumer-layer`` (README, "The stream consumer"), at the path the definition names.

Batches are in stream order per shard (parallelization factor 1): Lambda reports a poison record
with ``ReportBatchItemFailures``, bisects a failing batch, retries a bounded number of times, drops
records older than the bounded age, and sends what still fails to the failure queue (SQS, the
consumer's own CMK, 14 days). An alarm fires on any message there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stackspec.config.stack import StackConfig
from stackspec.definitions.monitoring import GREATER_OR_EQUAL, AlarmDefinition
from stackspec.naming import KeyPurpose

LAMBDA = "AWS/Lambda"
SQS = "AWS/SQS"

#: Where the handler lives inside the package.
HANDLER = "functions.stream_consumer.handler.handler"
#: Packages and modules the handler imports from this repository (the archive's contents).
PACKAGE_SOURCES = (
    "functions/__init__.py",
    "functions/stream_consumer",
    "auditlog",
    "stackspec/__init__.py",
    "stackspec/key_schema.py",
)
#: The layer zip ``make consumer-layer`` builds (psycopg for the runtime, the RDS CA bundle).
LAYER_ZIP = ".build/stream-consumer-layer.zip"
#: Layers are extracted under /opt: ``python/`` goes on sys.path, the bundle sits beside it.
CA_BUNDLE_PATH = "/opt/rds/global-bundle.pem"
#: The third-party distributions the layer holds (pinned by requirements.txt, as the tests run).
LAYER_REQUIREMENTS = ("psycopg", "psycopg-binary")
#: Where AWS publishes the RDS certificate bundle the layer carries.
CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
#: What the ingest connection's environment must say in Lambda: IAM auth, never a URL.
AUTH_IAM = "iam"


@dataclass(frozen=True, kw_only=True)
class StreamConsumerDefinition:
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
    ca_bundle_path: str
    log_group_name: str
    log_retention_days: int
    key_purpose: KeyPurpose
    """The CMK of the function's environment and of the failure queue."""
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
    alarms: tuple[AlarmDefinition, ...]
    tags: dict[str, str]

    def environment(self, *, host: str, port: int, database: str, user: str) -> dict[str, str]:
        """The function's environment: where the audit database is and how to log in.

        ``AWS_REGION`` is set by Lambda itself (a reserved variable), so it is not here.
        """
        return {
            "AUDIT_DB_AUTH": AUTH_IAM,
            "AUDIT_DB_HOST": host,
            "AUDIT_DB_PORT": str(port),
            "AUDIT_DB_NAME": database,
            "AUDIT_DB_USER": user,
            "AUDIT_RDS_CA_BUNDLE": self.ca_bundle_path,
        }

    def package_files(self, root: Path) -> dict[str, Path]:
        """Archive path -> file, for every Python module of :attr:`package_sources` under
        ``root`` (no caches, no SQL migrations: the consumer never migrates)."""
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
        """Deny every request to the failure queue that is not over TLS (SQS's
        ``aws:SecureTransport``); access itself is granted by IAM only (no Allow here)."""
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


def on_failure_message(
    *,
    request_id: str,
    timestamp: str,
    function_arn: str,
    stream_arn: str,
    shard_id: str,
    start_sequence_number: str,
    end_sequence_number: str,
    approximate_arrival_of_first_record: str,
    approximate_arrival_of_last_record: str,
    batch_size: int,
    condition: str,
    status_code: int | None = None,
    function_error: str | None = None,
    retry_attempts: int = 0,
) -> dict[str, Any]:
    """The message Lambda sends to an on-failure destination for a DynamoDB stream batch
    (AWS Lambda developer guide, "Retaining discarded records..."): no record data, only
    where the batch is in the stream (its shard and sequence numbers) so it can be read again
    while the stream keeps it (24 hours). The local poller sends the same shape."""
    response: dict[str, Any] = {"executedVersion": "$LATEST"}
    if status_code is not None:
        response["statusCode"] = status_code
    if function_error is not None:
        response["functionError"] = function_error
    return {
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": retry_attempts + 1,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": timestamp,
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": start_sequence_number,
            "endSequenceNumber": end_sequence_number,
            "approximateArrivalOfFirstRecord": approximate_arrival_of_first_record,
            "approximateArrivalOfLastRecord": approximate_arrival_of_last_record,
            "batchSize": batch_size,
            "streamArn": stream_arn,
        },
    }


def _alarms(cfg: StackConfig, function: str, queue: str) -> tuple[AlarmDefinition, ...]:
    settings = cfg.stream_consumer.alarms
    names = cfg.names
    function_dims = (("FunctionName", function),)
    specs = (
        (
            "stream-consumer-errors",
            f"{function} failed (Errors): the audit database is unreachable or the handler has a "
            "bug; Lambda retries the batch, then sends it to the failure queue.",
            LAMBDA,
            "Errors",
            function_dims,
            "Sum",
            settings.errors,
        ),
        (
            "stream-consumer-throttles",
            f"{function} was throttled: its reserved concurrency is below what the stream's "
            "shards need, so audit rows fall behind.",
            LAMBDA,
            "Throttles",
            function_dims,
            "Sum",
            settings.throttles,
        ),
        (
            "stream-consumer-iterator-age",
            f"{function} is falling behind the table's stream (IteratorAge, ms); records leave "
            "the stream after 24 hours.",
            LAMBDA,
            "IteratorAge",
            function_dims,
            "Maximum",
            settings.iterator_age_ms,
        ),
        (
            "stream-consumer-failures",
            f"A batch of the table's stream could not be audited and is in {queue}: read it "
            "again from the stream (shard and sequence numbers in the message) within 24 hours.",
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


def stream_consumer_definition(cfg: StackConfig) -> StreamConsumerDefinition:
    names = cfg.names
    consumer = cfg.stream_consumer
    function = names.stream_consumer
    return StreamConsumerDefinition(
        function_name=function,
        role_name=names.role("stream-consumer"),
        description=f"Writes the {names.table} stream into the audit database",
        runtime=consumer.runtime,
        architecture=consumer.architecture,
        handler=HANDLER,
        memory_mb=consumer.memory_mb,
        timeout_seconds=consumer.timeout_seconds,
        reserved_concurrency=consumer.reserved_concurrency,
        tracing=consumer.tracing,
        package_sources=PACKAGE_SOURCES,
        layer_name=names.stream_consumer_layer,
        layer_zip=LAYER_ZIP,
        ca_bundle_path=CA_BUNDLE_PATH,
        log_group_name=f"/aws/lambda/{function}",
        log_retention_days=consumer.log_retention_days,
        key_purpose=KeyPurpose.CONSUMER,
        queue_name=names.stream_consumer_failures,
        queue_retention_seconds=consumer.failure_queue_retention_seconds,
        starting_position="TRIM_HORIZON",
        batch_size=consumer.batch_size,
        maximum_batching_window_seconds=consumer.maximum_batching_window_seconds,
        maximum_retry_attempts=consumer.maximum_retry_attempts,
        maximum_record_age_seconds=consumer.maximum_record_age_seconds,
        bisect_batch_on_function_error=consumer.bisect_batch_on_function_error,
        parallelization_factor=consumer.parallelization_factor,
        function_response_types=("ReportBatchItemFailures",),
        alarms=_alarms(cfg, function, names.stream_consumer_failures),
        tags=cfg.tags.as_dict(),
    )
