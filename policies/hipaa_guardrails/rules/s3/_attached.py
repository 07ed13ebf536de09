"""S3 settings live in side resources (pulumi-aws v7): find the ones attached to a bucket."""

from hipaa_guardrails.props import get
from hipaa_guardrails.resource_types import (
    S3_BUCKET,
    S3_BUCKET_V2,
    S3_LOGGING,
    S3_LOGGING_V2,
    S3_OBJECT_LOCK,
    S3_OBJECT_LOCK_V2,
    S3_VERSIONING,
    S3_VERSIONING_V2,
)
from hipaa_guardrails.spec import Resource, Stack

BUCKET_TYPES = (S3_BUCKET, S3_BUCKET_V2)
LOGGING_TYPES = (S3_LOGGING, S3_LOGGING_V2)


def attached(stack: Stack, bucket: Resource, *types: str) -> list[Resource]:
    """Resources of ``types`` whose ``bucket`` input is this bucket (by dependency or by name)."""
    name = get(bucket.props, "bucket")
    return [
        r
        for r in stack.of_type(*types)
        if bucket in r.deps_of("bucket")
        or (isinstance(name, str) and get(r.props, "bucket") == name)
    ]


def is_access_log_target(stack: Stack, bucket: Resource) -> bool:
    """True if some bucket's server access logs go to this bucket (``targetBucket``)."""
    name = get(bucket.props, "bucket")
    return any(
        bucket in r.deps_of("targetBucket")
        or (isinstance(name, str) and get(r.props, "targetBucket") == name)
        for r in stack.of_type(*LOGGING_TYPES)
    )


def keeps_versions(stack: Stack, bucket: Resource) -> bool:
    """True if the bucket is versioned or object-locked (so old versions accumulate)."""
    versioned = any(
        get(v.props, "versioningConfiguration", "status") == "Enabled"
        for v in attached(stack, bucket, S3_VERSIONING, S3_VERSIONING_V2)
    )
    return (
        versioned
        or get(bucket.props, "objectLockEnabled") is True
        or bool(attached(stack, bucket, S3_OBJECT_LOCK, S3_OBJECT_LOCK_V2))
    )
