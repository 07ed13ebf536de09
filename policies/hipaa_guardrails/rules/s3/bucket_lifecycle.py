"""S3 lifecycle on buckets that keep versions: old versions and unfinished uploads do not pile up
forever, and retention ends where the stack says it does."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, items_of
from hipaa_guardrails.resource_types import S3_LIFECYCLE, S3_LIFECYCLE_V2
from hipaa_guardrails.rules.s3._attached import BUCKET_TYPES, attached, keeps_versions
from hipaa_guardrails.spec import Finding, Guardrail, Scope, Stack


def _ends_old_versions(rule: Any) -> bool:
    if rule is UNKNOWN:
        return True
    if get(rule, "status") not in ("Enabled", UNKNOWN):
        return False
    days = get(rule, "noncurrentVersionExpiration", "noncurrentDays")
    return days is UNKNOWN or isinstance(days, int | float)


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    for bucket in stack.of_type(*BUCKET_TYPES):
        if not keeps_versions(stack, bucket):
            continue
        configs = attached(stack, bucket, S3_LIFECYCLE, S3_LIFECYCLE_V2)
        rules = [r for c in configs for r in items_of(get(c.props, "rules"))]
        if not any(_ends_old_versions(r) for r in rules):
            yield Finding(
                f"bucket {bucket.name} keeps versions but no enabled lifecycle rule expires "
                "noncurrent versions (noncurrentVersionExpiration.noncurrentDays)",
                bucket.urn,
            )


RULE = Guardrail(
    name="hipaa-s3-bucket-lifecycle",
    catalog_id="custom",
    title="S3 lifecycle on versioned buckets",
    description=(
        "Every versioned or object-locked S3 bucket must have an enabled lifecycle rule that "
        "expires noncurrent versions, so retention ends by policy rather than never."
    ),
    severity=Severity.MEDIUM,
    controls=("164.316(b)(2)(i)",),
    judgement=True,
    remediation=(
        "Add aws.s3.BucketLifecycleConfiguration with an Enabled rule setting "
        "noncurrent_version_expiration (and transitions to archive tiers where data is kept long)."
    ),
    unknowns="An unknown rule or period that is set counts as set.",
    scope=Scope.STACK,
    resource_types=BUCKET_TYPES,
    check=check,
    aws_config="s3-version-lifecycle-policy-check",
    checkov="CKV2_AWS_61",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "s3-version-lifecycle-policy-check.html"
    ),
)
