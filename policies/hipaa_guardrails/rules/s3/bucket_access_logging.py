"""S3-5: server access logging, so every request to a bucket is recorded."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import get, is_present
from hipaa_guardrails.rules.s3._attached import (
    BUCKET_TYPES,
    LOGGING_TYPES,
    attached,
    is_access_log_target,
)
from hipaa_guardrails.spec import Finding, Guardrail, Scope, Stack


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    for bucket in stack.of_type(*BUCKET_TYPES):
        if is_access_log_target(stack, bucket):
            continue  # logging a log bucket into itself or a third bucket only multiplies logs
        logging = attached(stack, bucket, *LOGGING_TYPES)
        if not any(is_present(get(r.props, "targetBucket")) for r in logging):
            yield Finding(
                f"bucket {bucket.name} has no server access logging (aws.s3.BucketLogging with "
                "a target bucket)",
                bucket.urn,
            )


RULE = Guardrail(
    name="hipaa-s3-bucket-access-logging",
    catalog_id="S3-5",
    title="S3 server access logging",
    description=(
        "Every S3 bucket must deliver server access logs to a log bucket (a bucket that receives "
        "access logs is not itself required to log)."
    ),
    severity=Severity.HIGH,
    controls=("164.312(b)",),
    remediation=(
        "Add aws.s3.BucketLogging with target_bucket (an SSE-S3, versioned, public-access-"
        "blocked log bucket whose policy lets logging.s3.amazonaws.com write) and target_prefix."
    ),
    unknowns="An unknown target bucket that is set counts as set.",
    scope=Scope.STACK,
    resource_types=BUCKET_TYPES,
    check=check,
    aws_config="s3-bucket-logging-enabled",
    cdk_nag="HIPAA.Security-S3BucketLoggingEnabled",
    checkov="CKV_AWS_18",
    url="https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-logging-enabled.html",
)
