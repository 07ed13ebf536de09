"""Rules ready for the resources the stacks will add: ElastiCache, Lambda and S3.

RDS: test_rds.py."""

from __future__ import annotations

import pytest
from hipaa_guardrails import resource_types as t

from tests.policies.fixtures import (
    EVENT_SOURCE_MAPPING,
    LAMBDA_FUNCTION,
    LAMBDA_PERMISSION,
    REPLICATION_GROUP,
    compliant_stack,
    replace,
    without,
)
from tests.policies.support import (
    DELETE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_STRING_VALUE,
    mutate,
    run_resource,
    run_stack,
)

RG = t.ELASTICACHE_REPLICATION_GROUP
PERM, ESM, FN = t.LAMBDA_PERMISSION, t.LAMBDA_EVENT_SOURCE_MAPPING, t.LAMBDA_FUNCTION

CASES = [
    (
        "hipaa-elasticache-backups-retained",
        RG,
        REPLICATION_GROUP,
        "snapshotRetentionLimit",
        7,
        "is 7",
    ),
    (
        "hipaa-elasticache-backups-retained",
        RG,
        REPLICATION_GROUP,
        "snapshotRetentionLimit",
        DELETE,
        "is not set",
    ),
    (
        "hipaa-elasticache-encrypted-at-rest-with-cmk",
        RG,
        REPLICATION_GROUP,
        "atRestEncryptionEnabled",
        DELETE,
        "plaintext",
    ),
    (
        "hipaa-elasticache-encrypted-at-rest-with-cmk",
        RG,
        REPLICATION_GROUP,
        "kmsKeyId",
        DELETE,
        "AWS managed key",
    ),
    (
        "hipaa-elasticache-in-transit-encrypted-with-auth",
        RG,
        REPLICATION_GROUP,
        "transitEncryptionEnabled",
        False,
        "in clear",
    ),
    (
        "hipaa-elasticache-in-transit-encrypted-with-auth",
        RG,
        REPLICATION_GROUP,
        "userGroupIds",
        [],
        "neither authToken nor userGroupIds",
    ),
    ("hipaa-lambda-permission-not-public", PERM, LAMBDA_PERMISSION, "principal", "*", "anyone"),
    (
        "hipaa-lambda-permission-not-public",
        PERM,
        LAMBDA_PERMISSION,
        "sourceArn",
        DELETE,
        "any account",
    ),
    (
        "hipaa-lambda-permission-not-public",
        PERM,
        LAMBDA_PERMISSION,
        "principal",
        UNKNOWN_STRING_VALUE,
        "fails closed",
    ),
    (
        "hipaa-lambda-stream-consumer-failure-destination",
        ESM,
        EVENT_SOURCE_MAPPING,
        "maximumRetryAttempts",
        -1,
        "unbounded",
    ),
    (
        "hipaa-lambda-stream-consumer-failure-destination",
        ESM,
        EVENT_SOURCE_MAPPING,
        "bisectBatchOnFunctionError",
        DELETE,
        "bisectBatchOnFunctionError is not set",
    ),
    (
        "hipaa-lambda-stream-consumer-failure-destination",
        ESM,
        EVENT_SOURCE_MAPPING,
        "destinationConfig.onFailure.destinationArn",
        UNKNOWN_STRING_VALUE,
        None,
    ),
    (
        "hipaa-lambda-environment-encrypted-with-cmk",
        FN,
        LAMBDA_FUNCTION,
        "kmsKeyArn",
        "",
        "not set",
    ),
]


@pytest.mark.parametrize(("rule", "type_", "base", "path", "value", "expected"), CASES)
def test_mutation(rule, type_, base, path, value, expected):
    outcome = run_resource(rule, type_, mutate(base, path, value))
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


@pytest.mark.parametrize(
    ("rule", "type_", "props"),
    [
        (
            "hipaa-lambda-stream-consumer-failure-destination",
            ESM,
            {"functionName": "f", "eventSourceArn": "arn:aws:sqs:us-east-1:1:q"},
        ),
        ("hipaa-lambda-environment-encrypted-with-cmk", FN, {"name": "f", "runtime": "python3.12"}),
    ],
)
def test_not_applicable_variants(rule, type_, props):
    assert run_resource(rule, type_, props).not_applicable


@pytest.mark.parametrize(
    ("rule", "removed", "expected"),
    [
        (
            "hipaa-s3-bucket-encrypted-with-kms",
            "exports-sse",
            "has no default encryption with a KMS",
        ),
        ("hipaa-s3-bucket-public-access-blocked", "exports-pab", "has no public access block"),
        ("hipaa-s3-bucket-versioned", "exports-versioning", "does not have versioning Enabled"),
        ("hipaa-s3-bucket-tls-only", "exports-policy", "has no bucket policy denying"),
    ],
)
def test_bucket_without_its_side_resource_is_flagged(rule, removed, expected):
    outcome = run_stack(rule, without(compliant_stack(), removed))
    assert len(outcome.violations) == 1
    assert f"bucket exports {expected}" in outcome.violations[0]


def test_bucket_with_sse_s3_only_is_flagged():
    nodes = compliant_stack()
    sse = next(n for n in nodes if n.name == "exports-sse")
    props = mutate(sse.props, "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm", "AES256")
    outcome = run_stack(
        "hipaa-s3-bucket-encrypted-with-kms", replace(nodes, "exports-sse", props=props)
    )
    assert len(outcome.violations) == 1


def test_public_access_block_with_a_flag_off_is_flagged():
    nodes = compliant_stack()
    pab = next(n for n in nodes if n.name == "exports-pab")
    props = mutate(pab.props, "restrictPublicBuckets", UNKNOWN_BOOLEAN_VALUE)
    outcome = run_stack(
        "hipaa-s3-bucket-public-access-blocked", replace(nodes, "exports-pab", props=props)
    )
    assert "leaves restrictPublicBuckets off" in outcome.violations[0]


def test_side_resource_of_another_bucket_does_not_count():
    nodes = compliant_stack()
    versioning = next(n for n in nodes if n.name == "exports-versioning")
    other = replace(
        nodes,
        "exports-versioning",
        props={**versioning.props, "bucket": "someone-else"},
        deps={},
    )
    assert len(run_stack("hipaa-s3-bucket-versioned", other).violations) == 1
