"""StreamConsumer: the function in the VPC with its package, layer, environment and log group,
the event source mapping on the table's stream, the failure queue and its TLS-only policy, and the
alarms, with the exact inputs for dev and prod.

The component is run under the same mock runtime as ``make plan`` with the network's and the audit
database's outputs given as inputs (those components are other branches' work; ``__main__`` wires
them, see README "The stream consumer")."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.stream_consumer import StreamConsumer, StreamConsumerArgs
from stackspec.config.stack import load_stack_config
from stackspec.definitions.access import AUDIT_INGEST_USER
from stackspec.definitions.stream_consumer import (
    StreamConsumerDefinition,
    stream_consumer_definition,
)
from stackspec.stack_file import PROJECT, PROJECT_DIR
from tools.mocks import RealisticMocks, RecordedResource, RecordingMonitor

ACCOUNT = "111122223333"
REGION = "us-east-1"
STREAM = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/medeez-ENV-app/stream/2026-01-01T00:00:00.000"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/consumer"
LOGS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/logs"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:medeez-ENV-alerts"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/medeez-ENV-stream-consumer"
HOST = "medeez-ENV-audit.c0abc.us-east-1.rds.amazonaws.com"


def record(stack: str) -> dict[str, RecordedResource]:
    """The component's resources by logical name, for ``stack``'s definition."""
    config = load_stack_config(stack)
    definition = stream_consumer_definition(config)
    mocks = RealisticMocks(region=REGION)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)

    def env(value: str) -> str:
        return value.replace("ENV", stack)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[Any]:
        consumer = StreamConsumer(
            "consumer",
            StreamConsumerArgs(
                definition=definition,
                role_arn=env(ROLE),
                key_arn=KEY,
                logs_key_arn=LOGS_KEY,
                table_stream_arn=env(STREAM),
                topic_arn=env(TOPIC),
                subnet_ids=["subnet-a", "subnet-b"],
                security_group_ids=["sg-consumer"],
                database_address=env(HOST),
                database_port=5432,
                database_name="medeez_audit",
                database_user=AUDIT_INGEST_USER,
                protection=config.protection,
            ),
        )
        return consumer.function_arn

    program()
    return {r.name: r for r in monitor.recorded}


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request: pytest.FixtureRequest) -> tuple[str, dict[str, RecordedResource]]:
    return request.param, record(request.param)


def test_resources_are_exactly_these(stack: tuple[str, dict[str, RecordedResource]]) -> None:
    _, resources = stack
    assert sorted((r.type, name) for name, r in resources.items()) == [
        ("aws:cloudwatch/logGroup:LogGroup", "consumer-log-group"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "consumer-stream-consumer-errors"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "consumer-stream-consumer-failures"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "consumer-stream-consumer-iterator-age"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "consumer-stream-consumer-throttles"),
        ("aws:lambda/eventSourceMapping:EventSourceMapping", "consumer-mapping"),
        ("aws:lambda/function:Function", "consumer-function"),
        ("aws:lambda/layerVersion:LayerVersion", "consumer-layer"),
        ("aws:sqs/queue:Queue", "consumer-failures"),
        ("aws:sqs/queuePolicy:QueuePolicy", "consumer-failures-policy"),
        ("medeez:data:StreamConsumer", "consumer"),
    ]
    component = resources["consumer"].urn
    assert all(r.parent == component for n, r in resources.items() if n != "consumer")


def test_what_keeps_data_carries_the_stack_protection(
    stack: tuple[str, dict[str, RecordedResource]],
) -> None:
    env, resources = stack
    protected = {n for n, r in resources.items() if r.protect and r.retain_on_delete}
    assert protected == ({"consumer-log-group", "consumer-failures"} if env == "prod" else set())


def test_function_inputs(stack: tuple[str, dict[str, RecordedResource]]) -> None:
    env, resources = stack
    function = resources["consumer-function"]
    inputs = {k: v for k, v in function.inputs.items() if k not in ("code", "tags")}
    assert inputs == {
        "name": f"medeez-{env}-stream-consumer",
        "description": f"Writes the medeez-{env}-app stream into the audit database",
        "role": f"arn:aws:iam::{ACCOUNT}:role/medeez-{env}-stream-consumer",
        "runtime": "python3.12",
        "architectures": ["arm64"],
        "handler": "functions.stream_consumer.handler.handler",
        "memorySize": 256 if env == "dev" else 512,
        "timeout": 60,
        "reservedConcurrentExecutions": 2 if env == "dev" else 10,
        "layers": [f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:medeez-{env}-stream-consumer-deps:1"],
        "kmsKeyArn": KEY,
        "environment": {
            "variables": {
                "AUDIT_DB_AUTH": "iam",
                "AUDIT_DB_HOST": f"medeez-{env}-audit.c0abc.us-east-1.rds.amazonaws.com",
                "AUDIT_DB_PORT": "5432",
                "AUDIT_DB_NAME": "medeez_audit",
                "AUDIT_DB_USER": "audit_ingest",
                "AUDIT_RDS_CA_BUNDLE": "/opt/rds/global-bundle.pem",
            }
        },
        "vpcConfig": {"subnetIds": ["subnet-a", "subnet-b"], "securityGroupIds": ["sg-consumer"]},
        "loggingConfig": {
            "logFormat": "Text",
            "logGroup": f"/aws/lambda/medeez-{env}-stream-consumer",
        },
        "tracingConfig": {"mode": "PassThrough" if env == "dev" else "Active"},
    }
    assert function.inputs["tags"]["Environment"] == env
    assert resources["consumer-log-group"].urn in function.dependencies


def test_function_package_is_the_handler_folder_with_what_it_imports(
    stack: tuple[str, dict[str, RecordedResource]],
) -> None:
    _, resources = stack
    code = resources["consumer-function"].inputs["code"]
    assets = code.assets if hasattr(code, "assets") else code
    assert sorted(assets) == [
        "auditlog/__init__.py",
        "auditlog/chain.py",
        "auditlog/connect.py",
        "auditlog/digest.py",
        "auditlog/ingest.py",
        "auditlog/schema.py",
        "auditlog/verify.py",
        "functions/__init__.py",
        "functions/stream_consumer/__init__.py",
        "functions/stream_consumer/handler.py",
        "functions/stream_consumer/records.py",
        "stackspec/__init__.py",
        "stackspec/key_schema.py",
    ]
    handler = assets["functions/stream_consumer/handler.py"]
    assert handler.path == "functions/stream_consumer/handler.py"
    assert all((PROJECT_DIR / path).is_file() for path in assets)


def test_layer_comes_from_the_built_zip(stack: tuple[str, dict[str, RecordedResource]]) -> None:
    env, resources = stack
    layer = resources["consumer-layer"].inputs
    assert layer["layerName"] == f"medeez-{env}-stream-consumer-deps"
    assert layer["code"].path == ".build/stream-consumer-layer.zip"
    assert layer["compatibleRuntimes"] == ["python3.12"]
    assert layer["compatibleArchitectures"] == ["arm64"]


def test_log_group_is_encrypted_and_retained(
    stack: tuple[str, dict[str, RecordedResource]],
) -> None:
    env, resources = stack
    group = resources["consumer-log-group"].inputs
    assert group["name"] == f"/aws/lambda/medeez-{env}-stream-consumer"
    assert group["kmsKeyId"] == LOGS_KEY
    assert group["retentionInDays"] == (365 if env == "dev" else 2192)


def test_mapping_reads_the_stream_in_order_and_keeps_failures(
    stack: tuple[str, dict[str, RecordedResource]],
) -> None:
    env, resources = stack
    mapping = {k: v for k, v in resources["consumer-mapping"].inputs.items() if k != "tags"}
    assert mapping == {
        "eventSourceArn": STREAM.replace("ENV", env),
        "functionName": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:medeez-{env}-stream-consumer",
        "startingPosition": "TRIM_HORIZON",
        "batchSize": 100 if env == "dev" else 1000,
        "maximumBatchingWindowInSeconds": 1 if env == "dev" else 2,
        "maximumRetryAttempts": 3 if env == "dev" else 5,
        "maximumRecordAgeInSeconds": 3600 if env == "dev" else 21600,
        "bisectBatchOnFunctionError": True,
        "parallelizationFactor": 1,
        "functionResponseTypes": ["ReportBatchItemFailures"],
        "destinationConfig": {
            "onFailure": {
                "destinationArn": (
                    f"arn:aws:sqs:{REGION}:{ACCOUNT}:medeez-{env}-stream-consumer-failures"
                )
            }
        },
    }


def test_failure_queue_is_cmk_encrypted_14_days_and_tls_only(
    stack: tuple[str, dict[str, RecordedResource]],
) -> None:
    env, resources = stack
    queue = {k: v for k, v in resources["consumer-failures"].inputs.items() if k != "tags"}
    assert queue == {
        "name": f"medeez-{env}-stream-consumer-failures",
        "kmsMasterKeyId": KEY,
        "messageRetentionSeconds": 1209600,
        "sqsManagedSseEnabled": False,
    }
    policy = resources["consumer-failures-policy"].inputs
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:medeez-{env}-stream-consumer-failures"
    assert policy["queueUrl"] == (
        f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/medeez-{env}-stream-consumer-failures"
    )
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
    function = {"FunctionName": f"medeez-{env}-stream-consumer"}
    expected = {
        "errors": ("AWS/Lambda", "Errors", function, "Sum", 1),
        "throttles": ("AWS/Lambda", "Throttles", function, "Sum", 1),
        "iterator-age": (
            "AWS/Lambda",
            "IteratorAge",
            function,
            "Maximum",
            60000 if env == "dev" else 30000,
        ),
        "failures": (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": f"medeez-{env}-stream-consumer-failures"},
            "Maximum",
            1,
        ),
    }
    for key, (namespace, metric, dims, statistic, threshold) in expected.items():
        alarm = resources[f"consumer-stream-consumer-{key}"].inputs
        assert alarm["name"] == f"medeez-{env}-stream-consumer-{key}"
        assert (alarm["namespace"], alarm["metricName"], alarm["dimensions"]) == (
            namespace,
            metric,
            dims,
        )
        assert (alarm["statistic"], alarm["threshold"]) == (statistic, threshold)
        assert alarm["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["alarmActions"] == alarm["okActions"] == topic
        assert alarm["insufficientDataActions"] == topic
        assert alarm["actionsEnabled"] is True


def test_definition_names_the_ingest_role_of_the_audit_schema() -> None:
    from auditlog.schema import INGEST

    assert AUDIT_INGEST_USER == INGEST
    definition: StreamConsumerDefinition = stream_consumer_definition(load_stack_config("dev"))
    assert definition.environment(host="h", port=5432, database="d", user=INGEST)[
        "AUDIT_DB_USER"
    ] == ("audit_ingest")


@pytest.mark.parametrize(
    ("resource", "rules"),
    [
        (
            "consumer-function",
            (
                "hipaa-lambda-function-inside-vpc",
                "hipaa-lambda-reserved-concurrency",
                "hipaa-lambda-runtime-supported",
                "hipaa-lambda-environment-encrypted-with-cmk",
            ),
        ),
        ("consumer-mapping", ("hipaa-lambda-stream-consumer-failure-destination",)),
        ("consumer-failures", ("hipaa-sqs-queue-encrypted-with-cmk",)),
        ("consumer-failures-policy", ("hipaa-sqs-queue-policy-not-public",)),
        (
            "consumer-log-group",
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
