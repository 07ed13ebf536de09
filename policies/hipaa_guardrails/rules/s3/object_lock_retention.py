"""S3-5: object lock with a default retention, so evidence cannot be deleted or overwritten."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, get
from hipaa_guardrails.resource_types import S3_OBJECT_LOCK, S3_OBJECT_LOCK_V2
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def _days(retention: Any) -> Any:
    days, years = get(retention, "days"), get(retention, "years")
    if UNKNOWN in (days, years):
        return UNKNOWN
    if isinstance(days, int | float):
        return days
    if isinstance(years, int | float):
        return years * 365
    return MISSING


def check(lock: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    enabled = get(lock.props, "objectLockEnabled")
    if enabled not in ("Enabled", UNKNOWN) and enabled is not MISSING:
        yield f"objectLockEnabled is {enabled}; it must be Enabled"
    retention = get(lock.props, "rule", "defaultRetention")
    mode = get(retention, "mode")
    minimum = int(config["minRetentionDays"])
    if mode is UNKNOWN or _days(retention) is UNKNOWN:
        yield "the default retention is unknown during preview (fails closed)"
    elif mode not in ("GOVERNANCE", "COMPLIANCE"):
        yield "rule.defaultRetention sets no mode, so new objects are not locked by default"
    elif (days := _days(retention)) is MISSING or days < minimum:
        yield (
            f"rule.defaultRetention keeps objects {0 if days is MISSING else days} days; "
            f"this stack requires at least {minimum}"
        )


RULE = Guardrail(
    name="hipaa-s3-object-lock-retention",
    catalog_id="S3-5",
    title="S3 object lock retention",
    description=(
        "An S3 object lock configuration must lock new objects by default (GOVERNANCE or "
        "COMPLIANCE) for at least the stack's retention."
    ),
    severity=Severity.HIGH,
    controls=("164.312(c)(1)", "164.316(b)(2)(i)"),
    judgement=True,
    remediation=(
        "Set rule.default_retention with mode and days on the "
        "aws.s3.BucketObjectLockConfiguration (config: trail.bucket.retentionDays)."
    ),
    unknowns="An unknown mode or period fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(S3_OBJECT_LOCK, S3_OBJECT_LOCK_V2),
    check=check,
    aws_config="s3-bucket-default-lock-enabled",
    checkov="CKV_AWS_143",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "s3-bucket-default-lock-enabled.html"
    ),
    config_properties={
        "minRetentionDays": {
            "type": "integer",
            "minimum": 1,
            "default": 2190,
            "description": "Shortest default retention, in days (HIPAA documentation: 6 years).",
        }
    },
)
