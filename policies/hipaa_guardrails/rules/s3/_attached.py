"""S3 settings live in side resources (pulumi-aws v7): find the ones attached to a bucket."""

from hipaa_guardrails.props import get
from hipaa_guardrails.resource_types import S3_BUCKET, S3_BUCKET_V2
from hipaa_guardrails.spec import Resource, Stack

BUCKET_TYPES = (S3_BUCKET, S3_BUCKET_V2)


def attached(stack: Stack, bucket: Resource, *types: str) -> list[Resource]:
    """Resources of ``types`` whose ``bucket`` input is this bucket (by dependency or by name)."""
    name = get(bucket.props, "bucket")
    return [
        r
        for r in stack.of_type(*types)
        if bucket in r.deps_of("bucket")
        or (isinstance(name, str) and get(r.props, "bucket") == name)
    ]
