"""Lambda functions and stream event source mappings: from a compliant baseline, one wrong
property fails exactly one rule with one finding."""

from __future__ import annotations

import pytest
from hipaa_guardrails import resource_types as t

from tests.policies.fixtures import EVENT_SOURCE_MAPPING, LAMBDA_FUNCTION
from tests.policies.support import (
    DELETE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_STRING_VALUE,
    mutate,
    run_resource,
)

FN, ESM = t.LAMBDA_FUNCTION, t.LAMBDA_EVENT_SOURCE_MAPPING
VPC = "hipaa-lambda-function-inside-vpc"
CONCURRENCY = "hipaa-lambda-reserved-concurrency"
RUNTIME = "hipaa-lambda-runtime-supported"
FAILURES = "hipaa-lambda-stream-consumer-failure-destination"
FUNCTION_RULES = (VPC, CONCURRENCY, RUNTIME, "hipaa-lambda-environment-encrypted-with-cmk")

CASES = [
    (VPC, FN, LAMBDA_FUNCTION, "vpcConfig", DELETE, "subnetIds is not set"),
    (VPC, FN, LAMBDA_FUNCTION, "vpcConfig.subnetIds", [], "runs outside the VPC"),
    (VPC, FN, LAMBDA_FUNCTION, "vpcConfig.securityGroupIds", [], "securityGroupIds is not set"),
    (VPC, FN, LAMBDA_FUNCTION, "vpcConfig.subnetIds", UNKNOWN_ARRAY_VALUE, None),
    (CONCURRENCY, FN, LAMBDA_FUNCTION, "reservedConcurrentExecutions", DELETE, "is not set"),
    (CONCURRENCY, FN, LAMBDA_FUNCTION, "reservedConcurrentExecutions", -1, "account's pool"),
    (CONCURRENCY, FN, LAMBDA_FUNCTION, "reservedConcurrentExecutions", 0, "can never run"),
    (
        CONCURRENCY,
        FN,
        LAMBDA_FUNCTION,
        "reservedConcurrentExecutions",
        UNKNOWN_NUMBER_VALUE,
        "fails closed",
    ),
    (RUNTIME, FN, LAMBDA_FUNCTION, "runtime", "python3.8", "runtime is python3.8"),
    (RUNTIME, FN, LAMBDA_FUNCTION, "runtime", "nodejs16.x", "use one AWS still patches"),
    (RUNTIME, FN, LAMBDA_FUNCTION, "runtime", DELETE, "runtime is not set"),
    (RUNTIME, FN, LAMBDA_FUNCTION, "runtime", UNKNOWN_STRING_VALUE, "fails closed"),
    (RUNTIME, FN, LAMBDA_FUNCTION, "runtime", "python3.13", None),
    (FAILURES, ESM, EVENT_SOURCE_MAPPING, "maximumRecordAgeInSeconds", DELETE, "unbounded"),
    (FAILURES, ESM, EVENT_SOURCE_MAPPING, "maximumRecordAgeInSeconds", -1, "unbounded"),
    (
        FAILURES,
        ESM,
        EVENT_SOURCE_MAPPING,
        "maximumRecordAgeInSeconds",
        UNKNOWN_NUMBER_VALUE,
        "fails closed",
    ),
    (
        FAILURES,
        ESM,
        EVENT_SOURCE_MAPPING,
        "functionResponseTypes",
        DELETE,
        "lacks ReportBatchItemFailures",
    ),
    (FAILURES, ESM, EVENT_SOURCE_MAPPING, "functionResponseTypes", [], "every neighbour"),
    (
        FAILURES,
        ESM,
        EVENT_SOURCE_MAPPING,
        "functionResponseTypes",
        UNKNOWN_ARRAY_VALUE,
        "fails closed",
    ),
    (
        FAILURES,
        ESM,
        EVENT_SOURCE_MAPPING,
        "destinationConfig",
        DELETE,
        "failed batches are dropped",
    ),
    (FAILURES, ESM, EVENT_SOURCE_MAPPING, "maximumRetryAttempts", DELETE, "unbounded"),
    (FAILURES, ESM, EVENT_SOURCE_MAPPING, "bisectBatchOnFunctionError", False, "is false"),
]


@pytest.mark.parametrize(("rule", "type_", "base", "path", "value", "expected"), CASES)
def test_mutation(rule, type_, base, path, value, expected):
    outcome = run_resource(rule, type_, mutate(base, path, value))
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


@pytest.mark.parametrize("rule", FUNCTION_RULES)
def test_the_baseline_function_passes_every_function_rule(rule):
    assert run_resource(rule, FN, LAMBDA_FUNCTION).passed


def test_the_baseline_mapping_passes():
    assert run_resource(FAILURES, ESM, EVENT_SOURCE_MAPPING).passed


def test_a_container_image_function_has_no_runtime_to_judge():
    props = mutate({**LAMBDA_FUNCTION, "packageType": "Image"}, "runtime", DELETE)
    assert run_resource(RUNTIME, FN, props).not_applicable
