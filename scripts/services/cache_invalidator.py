"""The cache invalidator on the local endpoint: its failure queue (CMK, retention, TLS-only
policy), its log group, the function (package, runtime, memory, key, environment, concurrency)
and its alarms, from ``stackspec.definitions.cache_invalidator``; as the stream consumer's.

What is not built, and why (each is a SKIP row with the reason, never faked):

- The event source mapping, for the stream consumer's reason: moto would invoke the function on
  every table write (Docker) and drop the stream's records the local poller reads. The poller's
  second thread is the local mapping (``scripts/stream_poller.py``), logging in as the cache's
  ``invalidator`` user with a local password (no TLS, no Secrets Manager read locally).
- The function's VPC attachment: the local environment has no VPC to attach to.
- Its logging config: moto neither stores nor returns ``LoggingConfig``.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from scripts.aws_target import error_code
from scripts.services.base import (
    CheckContext,
    Outcome,
    SetupContext,
    Skipped,
    policy_document,
)
from scripts.services.monitoring import alarm_differences, alarm_request
from stackspec.definitions.cache_invalidator import CacheInvalidatorDefinition
from stackspec.naming import KeyPurpose
from stackspec.stack_file import PROJECT_DIR

NAME = "cache-invalidator"

MAPPING_NOT_BUILT = (
    "not created on moto: it would invoke the function on every write (Docker) and drop the "
    "stream records the local poller reads; the poller applies the mapping's settings"
)
NO_VPC = "no VPC locally: the function is not attached to one"


def queue_attributes(
    definition: CacheInvalidatorDefinition, key_arn: str, queue_arn: str
) -> dict[str, str]:
    """The ``Attributes`` of ``CreateQueue`` / ``SetQueueAttributes`` for the failure queue."""
    return {
        "KmsMasterKeyId": key_arn,
        "MessageRetentionPeriod": str(definition.queue_retention_seconds),
        "SqsManagedSseEnabled": "false",
        "Policy": definition.queue_policy(queue_arn=queue_arn),
    }


def local_cache(definition: CacheInvalidatorDefinition, secret_arn: str) -> dict[str, str]:
    """The function's environment pointing at the local Valkey's host (``make local-up``'s
    invalidator URL, else loopback) and the user's secret as the cache service stored it."""
    url = urlsplit(os.environ.get("CACHE_INVALIDATOR_URL", ""))
    return definition.environment(host=url.hostname or "127.0.0.1", secret_arn=secret_arn)


def package(definition: CacheInvalidatorDefinition) -> bytes:
    """The function's zip: the same files the component's asset archive names."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, file in sorted(definition.package_files(PROJECT_DIR).items()):
            info = zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0))
            archive.writestr(info, file.read_bytes())
    return buffer.getvalue()


def function_request(
    definition: CacheInvalidatorDefinition, role_arn: str, key_arn: str, secret_arn: str
) -> dict[str, Any]:
    """``CreateFunction`` arguments (no code, no VPC: see the module docstring)."""
    return {
        "FunctionName": definition.function_name,
        "Description": definition.description,
        "Role": role_arn,
        "Runtime": definition.runtime,
        "Architectures": [definition.architecture],
        "Handler": definition.handler,
        "MemorySize": definition.memory_mb,
        "Timeout": definition.timeout_seconds,
        "KMSKeyArn": key_arn,
        "Environment": {"Variables": local_cache(definition, secret_arn)},
        "TracingConfig": {"Mode": definition.tracing},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": definition.log_group_name},
    }


#: The function fields compared with GetFunctionConfiguration.
FUNCTION_FIELDS = (
    "Description",
    "Role",
    "Runtime",
    "Architectures",
    "Handler",
    "MemorySize",
    "Timeout",
    "KMSKeyArn",
    "Environment",
    "TracingConfig",
)


def _function_view(config: dict[str, Any]) -> dict[str, Any]:
    view = {name: config.get(name) for name in FUNCTION_FIELDS}
    view["Environment"] = {"Variables": (config.get("Environment") or {}).get("Variables", {})}
    return view


def _role_arn(ctx: SetupContext | CheckContext, definition: CacheInvalidatorDefinition) -> str:
    return f"arn:{ctx.identity.partition}:iam::{ctx.identity.account}:role/{definition.role_name}"


def _secret_arn(ctx: SetupContext | CheckContext, definition: CacheInvalidatorDefinition) -> str:
    """The invalidator user's secret (the cache service creates it), else its name."""
    try:
        described = ctx.clients("secretsmanager").describe_secret(
            SecretId=definition.cache_secret_name
        )
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        return definition.cache_secret_name
    return str(described["ARN"])


def _queue_arn(ctx: SetupContext | CheckContext, definition: CacheInvalidatorDefinition) -> str:
    return definition.queue_arn(
        partition=ctx.identity.partition,
        region=ctx.stack.config.region,
        account_id=ctx.identity.account,
    )


# --- setup ---------------------------------------------------------------------------------------


def ensure(ctx: SetupContext) -> None:
    definition = ctx.stack.cache_invalidator
    key_arn = ctx.key_arns.get(definition.key_purpose)
    if key_arn is None:
        ctx.result.add("cache invalidator", definition.function_name, "skipped", "no consumer key")
        return
    _ensure_queue(ctx, definition, key_arn)
    _ensure_log_group(ctx, definition)
    _ensure_function(ctx, definition, key_arn)
    ctx.result.add("event source mapping", definition.function_name, "skipped", MAPPING_NOT_BUILT)
    if ctx.topic_arn is not None:
        _ensure_alarms(ctx, definition, ctx.topic_arn)


def _ensure_queue(ctx: SetupContext, definition: CacheInvalidatorDefinition, key_arn: str) -> None:
    sqs = ctx.clients("sqs")
    wanted = queue_attributes(definition, key_arn, _queue_arn(ctx, definition))
    try:
        url = sqs.get_queue_url(QueueName=definition.queue_name)["QueueUrl"]
    except ClientError as exc:
        if error_code(exc) not in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            raise
        sqs.create_queue(
            QueueName=definition.queue_name, Attributes=wanted, tags=dict(definition.tags)
        )
        ctx.result.add("sqs queue", definition.queue_name, "created", "encrypted, TLS only")
        return
    live = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    changed = {
        name: value
        for name, value in wanted.items()
        if (policy_document(live.get(name)) if name == "Policy" else live.get(name))
        != (json.loads(value) if name == "Policy" else value)
    }
    if changed:
        # Every attribute, not only the changed ones: moto drops the policy of a queue whose
        # SetQueueAttributes omits it (AWS keeps it); sending all is right on both.
        sqs.set_queue_attributes(QueueUrl=url, Attributes=wanted)
    outcome: Outcome = "updated" if changed else "unchanged"
    ctx.result.add("sqs queue", definition.queue_name, outcome, ", ".join(sorted(changed)))


def _ensure_log_group(ctx: SetupContext, definition: CacheInvalidatorDefinition) -> None:
    logs = ctx.clients("logs")
    name = definition.log_group_name
    key_arn = ctx.key_arns.get(KeyPurpose.LOGS)
    found = [
        g
        for g in logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
        if g["logGroupName"] == name
    ]
    outcome: Outcome = "unchanged"
    if not found:
        logs.create_log_group(
            logGroupName=name,
            tags=dict(definition.tags),
            **({"kmsKeyId": key_arn} if key_arn else {}),
        )
        outcome = "created"
    elif key_arn and found[0].get("kmsKeyId") != key_arn:
        logs.associate_kms_key(logGroupName=name, kmsKeyId=key_arn)
        outcome = "updated"
    if not found or found[0].get("retentionInDays") != definition.log_retention_days:
        logs.put_retention_policy(logGroupName=name, retentionInDays=definition.log_retention_days)
        outcome = "created" if not found else "updated"
    ctx.result.add("log group", name, outcome, f"{definition.log_retention_days} days")


def _ensure_function(
    ctx: SetupContext, definition: CacheInvalidatorDefinition, key_arn: str
) -> None:
    lam = ctx.clients("lambda")
    request = function_request(
        definition, _role_arn(ctx, definition), key_arn, _secret_arn(ctx, definition)
    )
    try:
        live = lam.get_function_configuration(FunctionName=definition.function_name)
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        lam.create_function(
            **request,
            Code={"ZipFile": package(definition)},
            Tags=dict(definition.tags),
        )
        outcome: Outcome = "created"
    else:
        if _function_view(live) != _function_view(request):
            update = {k: v for k, v in request.items() if k not in ("Architectures",)}
            lam.update_function_configuration(**update)
            outcome = "updated"
        else:
            outcome = "unchanged"
    lam.put_function_concurrency(
        FunctionName=definition.function_name,
        ReservedConcurrentExecutions=definition.reserved_concurrency,
    )
    ctx.result.add(
        "lambda function",
        definition.function_name,
        outcome,
        f"{definition.runtime} {definition.architecture}, "
        f"reserved {definition.reserved_concurrency}",
    )


def _ensure_alarms(ctx: SetupContext, definition: CacheInvalidatorDefinition, topic: str) -> None:
    cloudwatch = ctx.clients("cloudwatch")
    names = [alarm.name for alarm in definition.alarms]
    live = {
        a["AlarmName"]: a
        for a in cloudwatch.describe_alarms(AlarmNames=names).get("MetricAlarms", [])
    }
    outcomes: list[str] = []
    for alarm in definition.alarms:
        request = alarm_request(alarm, topic, definition.tags)
        current = live.get(alarm.name)
        if current is not None and not alarm_differences(request, current):
            outcomes.append("unchanged")
            continue
        cloudwatch.put_metric_alarm(**request)
        outcomes.append("created" if current is None else "updated")
    for outcome in ("created", "updated", "unchanged"):
        count = outcomes.count(outcome)
        if count:
            ctx.result.add(
                "cloudwatch alarms", f"{count} of {len(names)} (cache invalidator)", outcome
            )


# --- validate ------------------------------------------------------------------------------------


def check(ctx: CheckContext) -> None:
    definition = ctx.stack.cache_invalidator
    _check_queue(ctx, definition)
    _check_log_group(ctx, definition)
    _check_function(ctx, definition)
    ctx.skip("invalidator.mapping", MAPPING_NOT_BUILT, definition.starting_position)
    _check_alarms(ctx, definition)


def _check_queue(ctx: CheckContext, definition: CacheInvalidatorDefinition) -> None:
    sqs = ctx.clients("sqs")
    found: dict[str, Any] = {}

    def queue_row() -> None:
        try:
            url = sqs.get_queue_url(QueueName=definition.queue_name)["QueueUrl"]
        except ClientError as exc:
            if error_code(exc) not in (
                "AWS.SimpleQueueService.NonExistentQueue",
                "QueueDoesNotExist",
            ):
                raise
            ctx.fail("invalidator.queue", definition.queue_name, "not found")
            return
        found.update(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"])
        ctx.add("invalidator.queue", definition.queue_name, definition.queue_name)

    ctx.guard("invalidator.queue", queue_row, definition.queue_name)

    def attribute_row(check_id: str, expected: Any, actual: Any) -> None:
        if not found:
            raise Skipped(f"queue {definition.queue_name} not found")
        ctx.add(check_id, expected, actual)

    key_arn = ctx.key_arns.get(definition.key_purpose)
    alias = ctx.stack.keys[definition.key_purpose].alias
    ctx.guard(
        "invalidator.queue-encryption",
        lambda: attribute_row(
            "invalidator.queue-encryption",
            {"key": alias, "sqsManagedSse": "false"},
            {
                "key": alias
                if found.get("KmsMasterKeyId") == key_arn
                else found.get("KmsMasterKeyId", "none"),
                "sqsManagedSse": found.get("SqsManagedSseEnabled", "false"),
            },
        ),
    )
    ctx.guard(
        "invalidator.queue-retention",
        lambda: attribute_row(
            "invalidator.queue-retention",
            str(definition.queue_retention_seconds),
            found.get("MessageRetentionPeriod"),
        ),
    )
    ctx.guard(
        "invalidator.queue-policy",
        lambda: attribute_row(
            "invalidator.queue-policy",
            "TLS only",
            "TLS only"
            if found.get("Policy")
            and policy_document(found["Policy"])
            == json.loads(definition.queue_policy(queue_arn=_queue_arn(ctx, definition)))
            else "differs",
        ),
    )


def _check_log_group(ctx: CheckContext, definition: CacheInvalidatorDefinition) -> None:
    logs = ctx.clients("logs")
    name = definition.log_group_name

    def log_group_row() -> None:
        groups = [
            g
            for g in logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
            if g["logGroupName"] == name
        ]
        live = groups[0] if groups else {}
        key_arn = ctx.key_arns.get(KeyPurpose.LOGS)
        ctx.add(
            "invalidator.log-group",
            {"retentionDays": definition.log_retention_days, "encrypted": bool(key_arn)},
            {
                "retentionDays": live.get("retentionInDays", "not found"),
                "encrypted": bool(live.get("kmsKeyId")) and live.get("kmsKeyId") == key_arn,
            },
        )

    ctx.guard("invalidator.log-group", log_group_row, name)


def _check_function(ctx: CheckContext, definition: CacheInvalidatorDefinition) -> None:
    lam = ctx.clients("lambda")
    found: dict[str, Any] = {}
    key_arn = ctx.key_arns.get(definition.key_purpose) or "the consumer key"
    wanted = _function_view(
        function_request(
            definition, _role_arn(ctx, definition), key_arn, _secret_arn(ctx, definition)
        )
    )

    def function_row() -> None:
        try:
            found.update(lam.get_function_configuration(FunctionName=definition.function_name))
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            ctx.fail("invalidator.function", definition.function_name, "not found")
            return
        have = _function_view(found)
        differences = sorted(k for k in wanted if wanted[k] != have[k])
        ctx.add(
            "invalidator.function",
            "as defined",
            "as defined" if not differences else f"differs: {', '.join(differences)}",
        )

    ctx.guard("invalidator.function", function_row, definition.function_name)

    def concurrency_row() -> None:
        if not found:
            raise Skipped(f"function {definition.function_name} not found")
        live = lam.get_function_concurrency(FunctionName=definition.function_name)
        ctx.add(
            "invalidator.function-concurrency",
            definition.reserved_concurrency,
            live.get("ReservedConcurrentExecutions", "none"),
        )

    ctx.guard("invalidator.function-concurrency", concurrency_row)
    ctx.skip("invalidator.function-vpc", NO_VPC, "the consumer tier's subnets and group")
    ctx.skip(
        "invalidator.function-logging",
        "not emulated locally: moto does not return LoggingConfig",
        definition.log_group_name,
    )


def _check_alarms(ctx: CheckContext, definition: CacheInvalidatorDefinition) -> None:
    cloudwatch = ctx.clients("cloudwatch")

    def alarms_row() -> None:
        names = [alarm.name for alarm in definition.alarms]
        live = {
            a["AlarmName"]: a
            for a in cloudwatch.describe_alarms(AlarmNames=names).get("MetricAlarms", [])
        }
        topic = ctx.topic_arn_or_built()
        problems = [
            f"{alarm.name}: {'not found' if alarm.name not in live else '; '.join(diff)}"
            for alarm in definition.alarms
            for diff in [
                alarm_differences(alarm_request(alarm, topic, {}), live.get(alarm.name, {}))
            ]
            if alarm.name not in live or diff
        ]
        if problems:
            ctx.fail("invalidator.alarms", f"{len(names)} alarms", "; ".join(problems))
        else:
            ctx.add("invalidator.alarms", f"{len(names)} alarms", f"{len(names)} alarms")

    ctx.guard("invalidator.alarms", alarms_row)
