"""S3-2: buckets encrypt new objects with KMS by default (server access log targets: SSE-S3,
the only default encryption S3 delivers server access logs to)."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, is_present, items_of
from hipaa_guardrails.resource_types import S3_SSE, S3_SSE_V2
from hipaa_guardrails.rules.s3._attached import BUCKET_TYPES, attached, is_access_log_target
from hipaa_guardrails.spec import Finding, Guardrail, Scope, Stack


def _kms_default(rule: Any) -> bool:
    default = get(rule, "applyServerSideEncryptionByDefault")
    algorithm = get(default, "sseAlgorithm")
    return algorithm in ("aws:kms", "aws:kms:dsse") and is_present(get(default, "kmsMasterKeyId"))


def _sse_s3_default(rule: Any) -> bool:
    return bool(get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm") == "AES256")


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    for bucket in stack.of_type(*BUCKET_TYPES):
        configs = attached(stack, bucket, S3_SSE, S3_SSE_V2)
        rules = [r for c in configs for r in items_of(get(c.props, "rules"))]
        inline = get(bucket.props, "serverSideEncryptionConfiguration", "rule")
        if inline is not UNKNOWN and isinstance(inline, dict):
            rules.append(inline)
        if any(rule is UNKNOWN or _kms_default(rule) for rule in rules):
            continue
        if is_access_log_target(stack, bucket):
            if not any(_sse_s3_default(rule) for rule in rules):
                yield Finding(
                    f"bucket {bucket.name} receives server access logs but has no default "
                    "encryption (sseAlgorithm AES256, SSE-S3: S3 delivers server access logs "
                    "only to SSE-S3 buckets)",
                    bucket.urn,
                )
        else:
            yield Finding(
                f"bucket {bucket.name} has no default encryption with a KMS key "
                "(sseAlgorithm aws:kms and kmsMasterKeyId)",
                bucket.urn,
            )


RULE = Guardrail(
    name="hipaa-s3-bucket-encrypted-with-kms",
    catalog_id="S3-2",
    title="S3 default encryption with KMS",
    description=(
        "Every S3 bucket must encrypt new objects by default with a customer-managed key; a "
        "bucket that receives server access logs must use SSE-S3, the only default encryption "
        "S3 delivers those logs to."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(2)(iv)", "164.312(e)(2)(ii)"),
    remediation=(
        "Add aws.s3.BucketServerSideEncryptionConfiguration with sse_algorithm='aws:kms', "
        "kms_master_key_id and bucket_key_enabled=True."
    ),
    unknowns="Matched by property dependency; an unknown rule or key id that is set counts.",
    scope=Scope.STACK,
    resource_types=BUCKET_TYPES,
    check=check,
    aws_config="s3-default-encryption-kms",
    cdk_nag="HIPAA.Security-S3DefaultEncryptionKMS",
    checkov="CKV_AWS_145",
    url="https://docs.aws.amazon.com/config/latest/developerguide/s3-default-encryption-kms.html",
)
