"""S3-4: all four public access blocks on every bucket."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import get
from hipaa_guardrails.resource_types import S3_PUBLIC_ACCESS_BLOCK
from hipaa_guardrails.rules.s3._attached import BUCKET_TYPES, attached
from hipaa_guardrails.spec import Finding, Guardrail, Scope, Stack

FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    for bucket in stack.of_type(*BUCKET_TYPES):
        blocks = attached(stack, bucket, S3_PUBLIC_ACCESS_BLOCK)
        if not blocks:
            yield Finding(f"bucket {bucket.name} has no public access block", bucket.urn)
            continue
        off = [flag for flag in FLAGS if not any(get(b.props, flag) is True for b in blocks)]
        if off:
            yield Finding(
                f"bucket {bucket.name} public access block leaves {', '.join(off)} off "
                "(unknown values fail closed)",
                bucket.urn,
            )


RULE = Guardrail(
    name="hipaa-s3-bucket-public-access-blocked",
    catalog_id="S3-4",
    title="S3 public access blocked",
    description="Every S3 bucket must have all four public access block settings on.",
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.312(e)(1)"),
    remediation=(
        "Add aws.s3.BucketPublicAccessBlock with block_public_acls, block_public_policy, "
        "ignore_public_acls and restrict_public_buckets all True."
    ),
    unknowns="An unknown flag fails closed.",
    scope=Scope.STACK,
    resource_types=BUCKET_TYPES,
    check=check,
    aws_config="s3-bucket-public-read-prohibited, s3-bucket-public-write-prohibited",
    cdk_nag="HIPAA.Security-S3BucketLevelPublicAccessProhibited",
    checkov="CKV2_AWS_6, CKV_AWS_53, CKV_AWS_54, CKV_AWS_55, CKV_AWS_56",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "s3-bucket-public-read-prohibited.html"
    ),
)
