"""S3-1: buckets refuse requests that do not use TLS."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.iam import denies_insecure_transport
from hipaa_guardrails.props import get, policy_document
from hipaa_guardrails.resource_types import S3_BUCKET_POLICY
from hipaa_guardrails.rules.s3._attached import BUCKET_TYPES, attached
from hipaa_guardrails.spec import Finding, Guardrail, Scope, Stack


def _denies(policy_resource: Any) -> bool:
    try:
        document = policy_document(get(policy_resource.props, "policy"), "policy")
    except ValueError:
        return False
    return document is not None and denies_insecure_transport(document)


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    for bucket in stack.of_type(*BUCKET_TYPES):
        if not any(_denies(p) for p in attached(stack, bucket, S3_BUCKET_POLICY)):
            yield Finding(
                f"bucket {bucket.name} has no bucket policy denying requests with "
                "aws:SecureTransport false",
                bucket.urn,
            )


RULE = Guardrail(
    name="hipaa-s3-bucket-tls-only",
    catalog_id="S3-1",
    title="S3 accepts TLS only",
    description="Every S3 bucket must have a policy that denies requests made without TLS.",
    severity=Severity.HIGH,
    controls=("164.312(e)(1)", "164.312(e)(2)(i)", "164.312(c)(2)"),
    remediation=(
        "Add aws.s3.BucketPolicy with a Deny of s3:* for Principal * when aws:SecureTransport "
        "is false, on the bucket and bucket/*."
    ),
    unknowns="A bucket policy that is unknown during preview defers this rule to `pulumi up`.",
    scope=Scope.STACK,
    resource_types=BUCKET_TYPES,
    check=check,
    aws_config="s3-bucket-ssl-requests-only",
    cdk_nag="HIPAA.Security-S3BucketSSLRequestsOnly",
    url="https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-ssl-requests-only.html",
)
