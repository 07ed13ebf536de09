"""S3-3: versioning keeps overwritten and deleted objects recoverable."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import get
from hipaa_guardrails.resource_types import S3_VERSIONING, S3_VERSIONING_V2
from hipaa_guardrails.rules.s3._attached import BUCKET_TYPES, attached
from hipaa_guardrails.spec import Finding, Guardrail, Scope, Stack


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    for bucket in stack.of_type(*BUCKET_TYPES):
        versioning = attached(stack, bucket, S3_VERSIONING, S3_VERSIONING_V2)
        statuses = [get(v.props, "versioningConfiguration", "status") for v in versioning]
        inline = get(bucket.props, "versioning", "enabled")
        if "Enabled" not in statuses and inline is not True:
            yield Finding(
                f"bucket {bucket.name} does not have versioning Enabled "
                "(unknown status fails closed)",
                bucket.urn,
            )


RULE = Guardrail(
    name="hipaa-s3-bucket-versioned",
    catalog_id="S3-3",
    title="S3 versioning",
    description="Every S3 bucket must have versioning enabled.",
    severity=Severity.HIGH,
    controls=("164.308(a)(7)(ii)(A)", "164.312(c)(1)", "164.312(c)(2)"),
    remediation="Add aws.s3.BucketVersioning with versioning_configuration status 'Enabled'.",
    unknowns="An unknown status fails closed.",
    scope=Scope.STACK,
    resource_types=BUCKET_TYPES,
    check=check,
    aws_config="s3-bucket-versioning-enabled",
    cdk_nag="HIPAA.Security-S3BucketVersioningEnabled",
    checkov="CKV_AWS_21",
    url="https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-versioning-enabled.html",
)
