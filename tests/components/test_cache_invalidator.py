"""CacheInvalidator: the function in the VPC with its package, layer, environment (TLS, its own
cache user and secret) and log group, the second event source mapping on the table's stream
(record age bounded by the cache's TTL), the failure queue and its TLS-only policy, and the
alarms, with the exact inputs for dev and prod."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.cache_invalidator import CacheInvalidator, CacheInvalidatorArgs
from stackspec.config.stack import load_stack_config
from stackspec.definitions.cache_invalidator import cache_invalidator_definition
from stackspec.stack_file import PROJECT, PROJECT_DIR
from tools.mocks import RealisticMocks, RecordedResource, RecordingMonitor

ACCOUNT = "111122223333"
REGION = "us-east-1"
STREAM = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/medeez-ENV-app/stream/2026-01-01T00:00:00.000"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/consumer"
LOGS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/logs"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:medeez-ENV-alerts"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/medeez-ENV-cache-invalidator"
HOST = "master.medeez-ENV-cache.abc123.use1.cache.amazonaws.com"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:medeez-ENV/cache/invalidator-a1b2c3"


def record(stack: str) -> dict[str, RecordedResource]:
    config = load_stack_config(stack)
    definition = cache_invalidator_definition(config)
    mocks = RealisticMocks(region=REGION)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)

    def env(value: str) -> str:
        return value.replace("ENV", stack)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[Any]:
        invalidator = CacheInvalidator(
            "invalidator",
            CacheInvalidatorArgs(
                definition=definition,
                role_arn=env(ROLE),
                key_arn=KEY,
                logs_key_arn=LOGS_KEY,
                table_stream_arn=env(STREAM),
                topic_arn=env(TOPIC),
                subnet_ids=["subnet-a", "subnet-b"],
                security_group_ids=["sg-consumer"],
                cache_address=env(HOST),
                cache_secret_arn=env(SECRET),
                protection=config.protection,
            ),
        )
        return invalidator.function_arn

    program()
    return {r.name: r for r in monitor.recorded}


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request: pytest.FixtureRequest) -> tuple[str, dict[str, RecordedResource]]:
    return request.param, record(request.param)


def test_resources_are_exactly_these(stack: tuple[str, dict[str, RecordedResource]]) -> None:
    _, resources = stack
    assert sorted((r.type, name) for name, r in resources.items()) == [
        ("aws:cloudwatch/logGroup:LogGroup", "invalidator-log-group"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "invalidator-cache-invalidator-errors"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "invalidator-cache-invalidator-failures"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "invalidator-cache-invalidator-iterator-age"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "invalidator-cache-invalidator-throttles"),
        ("aws:lambda/eventSourceMapping:EventSourceMapping", "invalidator-mapping"),
        ("aws:lambda/function:Function", "invalidator-function"),
        ("aws:lambda/layerVersion:LayerVersion", "invalidator-layer"),
        ("aws:sqs/queue:Queue", "invalidator-failures"),
        ("aws:sqs/queuePolicy:QueuePolicy", "invalidator-failures-policy"),
        ("medeez:data:CacheInvalidator", "invalidator"),
    ]
    component = resources["invalidator"].urn
    assert all(r.parent == component for n, r in resources.items() if n != "invalidator")


def test_what_keeps_data_carries_the_stack_protection(
    stack: tuple[str, dict[str, RecordedResource]],
) -> None:
    env, resources = stack
    protected = {n for n, r in resources.items() if r.protect and r.retain_on_delete}
    expected = {"invalidator-log-group", "invalidator-failures"}
    assert protected == (expected if env == "prod" else set())


def test_function_inputs(stack: tuple[str, dict[str, RecordedResource]]) -> None:
    env, resources = stack
    function = resources["invalidator-function"]
    inputs = {k: v for k, v in function.inputs.items() if k not in ("code", "tags")}
    assert inputs == {
        "name": f"medeez-{env}-cache-invalidator",
        "description": f"Invalidates medeez-{env}-cache from the medeez-{env}-app stream",
        "role": f"arn:aws:iam::{ACCOUNT}:role/medeez-{env}-cache-invalidator",
        "runtime": "python3.12",
        "architectures": ["arm64"],
        "handler": "functions.cache_invalidator.handler.handler",
        "memorySize": 128,
        "timeout": 10,
        "reservedConcurrentExecutions": 2 if env == "dev" else 10,
        "layers": [
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:medeez-{env}-cache-invalidator-deps:1"
        ],
        "kmsKeyArn": KEY,
        "environment": {
            "variables": {
                "CACHE_HOST": HOST.replace("ENV", env),
                "CACHE_PORT": "6379",
                "CACHE_TLS": "true",
                "CACHE_USER": "invalidator",
                "CACHE_SECRET_ARN": SECRET.replace("ENV", env),
                "CACHE_KEY_PREFIX": f"medeez:{env}:",
                "CACHE_TTL_SECONDS": "60",
            }
        },
        "vpcConfig": {"subnetIds": ["subnet-a", "subnet-b"], "securityGroupIds": ["sg-consumer"]},
        "loggingConfig": {
            "logFormat": "Text",
            "logGroup": f"/aws/lambda/medeez-{env}-cache-invalidator",
        },
        "tracingConfig": {"mode": "PassThrough"},
    }
    assert function.inputs["tags"]["Environment"] == env
    assert resources["invalidator-log-group"].urn in function.dependencies


def test_function_package_is_the_handler_with_what_it_imports(
    stack: tuple[str, dict[str, RecordedResource]],
) -> None:
    _, resources = stack
    code = resources["invalidator-function"].inputs["code"]
    assets = code.assets if hasattr(code, "assets") else code
    assert sorted(assets) == [
        "auditlog/__init__.py",
        "auditlog/chain.py",
        "datalayer/__init__.py",
        "datalayer/audit.py",
        "datalayer/beacons.py",
        "datalayer/cache.py",
        "datalayer/entities.py",
        "datalayer/phi.py",
        "datalayer/store.py",
        "functions/__init__.py",
        "functions/cache_invalidator/__init__.py",
        "functions/cache_invalidator/handler.py",
        "stackspec/__init__.py",
        "stackspec/key_schema.py",
        "stackspec/tenancy.py",
    ]
    assert all((PROJECT_DIR / path).is_file() for path in assets)


def test_layer_comes_from_the_built_zip(stack: tuple[str, dict[str, RecordedResource]]) -> None:
    env, resources = stack
    layer = resources["invalidator-layer"].inputs
    assert layer["layerName"] == f"medeez-{env}-cache-invalidator-deps"
    assert layer["code"].path == ".build/cache-invalidator-layer.zip"
    assert layer["compatibleRuntimes"] == ["python3.12"]
    assert layer["compatibleArchitectures"] == ["arm64"]


def test_log_group_is_encrypted_and_retained(
    stack: tuple[str, dict[str, RecordedResource]],
) -> None:
    env, resources = stack
    group = resources["invalidator-log-group"].inputs
    assert group["name"] == f"/aws/lambda/medeez-{env}-cache-invalidator"
    assert group["kmsKeyId"] == LOGS_KEY
    assert group["retentionInDays"] == 365


def test_mapping_is_the_streams_second_reader_bounded_by_the_ttl(
    stack: tuple[str, dict[str, RecordedResource]],
) -> None:
    env, resources = stack
    mapping = {k: v for k, v in resources["invalidator-mapping"].inputs.items() if k != "tags"}
    assert mapping == {
        "eventSourceArn": STREAM.replace("ENV", env),
        "functionName": (
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:medeez-{env}-cache-invalidator"
        ),
        "startingPosition": "LATEST",
        "batchSize": 100,
        "maximumBatchingWindowInSeconds": 0,
        "maximumRetryAttempts": 3,
        "maximumRecordAgeInSeconds": 60,
        "bisectBatchOnFunctionError": True,
        "parallelizationFactor": 1,
        "functionResponseTypes": ["ReportBatchItemFailures"],
        "destinationConfig": {
            "onFailure": {
                "destinationArn": (
                    f"arn:aws:sqs:{REGION}:{ACCOUNT}:medeez-{env}-cache-invalidator-failures"
                )
            }
        },
    }


def test_failure_queue_is_cmk_encrypted_14_days_and_tls_only(
    stack: tuple[str, dict[str, RecordedResource]],
) -> None:
    env, resources = stack
    queue = {k: v for k, v in resources["invalidator-failures"].inputs.items() if k != "tags"}
    assert queue == {
        "name": f"medeez-{env}-cache-invalidator-failures",
        "kmsMasterKeyId": KEY,
        "messageRetentionSeconds": 1209600,
        "sqsManagedSseEnabled": False,
    }
    policy = resources["invalidator-failures-policy"].inputs
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:medeez-{env}-cache-invalidator-failures"
    assert json.loads(policy["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyWithoutTls",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def test_alarms_notify_the_alert_topic(stack: tuple[str, dict[str, RecordedResource]]) -> None:
    env, resources = stack
    topic = [TOPIC.replace("ENV", env)]
    function = {"FunctionName": f"medeez-{env}-cache-invalidator"}
    expected = {
        "errors": ("AWS/Lambda", "Errors", function, "Sum", 1),
        "throttles": ("AWS/Lambda", "Throttles", function, "Sum", 1),
        "iterator-age": ("AWS/Lambda", "IteratorAge", function, "Maximum", 30000),
        "failures": (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": f"medeez-{env}-cache-invalidator-failures"},
            "Maximum",
            1,
        ),
    }
    for key, (namespace, metric, dims, statistic, threshold) in expected.items():
        alarm = resources[f"invalidator-cache-invalidator-{key}"].inputs
        assert alarm["name"] == f"medeez-{env}-cache-invalidator-{key}"
        assert (alarm["namespace"], alarm["metricName"], alarm["dimensions"]) == (
            namespace,
            metric,
            dims,
        )
        assert (alarm["statistic"], alarm["threshold"]) == (statistic, threshold)
        assert alarm["alarmActions"] == alarm["okActions"] == topic
        assert alarm["insufficientDataActions"] == topic


@pytest.mark.parametrize(
    ("resource", "rules"),
    [
        (
            "invalidator-function",
            (
                "hipaa-lambda-function-inside-vpc",
                "hipaa-lambda-reserved-concurrency",
                "hipaa-lambda-runtime-supported",
                "hipaa-lambda-environment-encrypted-with-cmk",
            ),
        ),
        ("invalidator-mapping", ("hipaa-lambda-stream-consumer-failure-destination",)),
        ("invalidator-failures", ("hipaa-sqs-queue-encrypted-with-cmk",)),
        ("invalidator-failures-policy", ("hipaa-sqs-queue-policy-not-public",)),
        (
            "invalidator-log-group",
            ("hipaa-cloudwatch-log-group-encrypted", "hipaa-cloudwatch-log-group-retention"),
        ),
    ],
)
def test_the_pack_passes_what_the_component_builds(
    stack: tuple[str, dict[str, RecordedResource]], resource: str, rules: tuple[str, ...]
) -> None:
    from tests.policies.support import run_resource

    recorded = stack[1][resource]
    for rule in rules:
        outcome = run_resource(rule, recorded.type, recorded.inputs)
        assert outcome.passed, (rule, outcome)
