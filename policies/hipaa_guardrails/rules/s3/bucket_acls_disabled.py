"""S3-4 (ACLs): object ownership BucketOwnerEnforced, so no ACL can grant access to an object."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import describe, get
from hipaa_guardrails.resource_types import S3_OWNERSHIP_CONTROLS
from hipaa_guardrails.rules.s3._attached import BUCKET_TYPES, attached
from hipaa_guardrails.spec import Finding, Guardrail, Scope, Stack

ENFORCED = "BucketOwnerEnforced"


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    for bucket in stack.of_type(*BUCKET_TYPES):
        found = [
            get(c.props, "rule", "objectOwnership")
            for c in attached(stack, bucket, S3_OWNERSHIP_CONTROLS)
        ]
        if ENFORCED not in found:
            seen = ", ".join(describe(v) for v in found) if found else "no ownership controls"
            yield Finding(
                f"bucket {bucket.name} does not disable ACLs (object ownership {seen}; "
                f"required {ENFORCED})",
                bucket.urn,
            )


RULE = Guardrail(
    name="hipaa-s3-bucket-acls-disabled",
    catalog_id="S3-4",
    title="S3 ACLs disabled",
    description=(
        "Every S3 bucket must disable ACLs (object ownership BucketOwnerEnforced), so access is "
        "decided by policies only."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.312(e)(1)"),
    remediation=(
        "Add aws.s3.BucketOwnershipControls with rule.object_ownership='BucketOwnerEnforced'."
    ),
    unknowns="An unknown ownership setting fails closed.",
    scope=Scope.STACK,
    resource_types=BUCKET_TYPES,
    check=check,
    aws_config="s3-bucket-acl-prohibited",
    checkov="CKV2_AWS_65",
    url="https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-acl-prohibited.html",
)
