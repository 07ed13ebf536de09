"""R12: Performance Insights (which keeps query text) is on and encrypted with a CMK."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, describe, get, is_present
from hipaa_guardrails.resource_types import AWS_MANAGED_KEY_PREFIX, RDS_INSTANCE
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(db: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    enabled = get(db.props, "performanceInsightsEnabled")
    if enabled is not True:
        yield (
            f"performanceInsightsEnabled is {describe(enabled)}; database load (DBLoad) is not "
            "recorded"
        )
        return
    key = get(db.props, "performanceInsightsKmsKeyId")
    if not is_present(key):
        yield "performanceInsightsKmsKeyId is not set, so the AWS managed key aws/rds is used"
    elif key is not UNKNOWN and AWS_MANAGED_KEY_PREFIX in str(key):
        yield f"performanceInsightsKmsKeyId is the AWS managed key {key}; use a CMK"


RULE = Guardrail(
    name="hipaa-rds-performance-insights-encrypted-with-cmk",
    catalog_id="R12",
    title="RDS Performance Insights on a customer-managed key",
    description=(
        "RDS instances must enable Performance Insights and encrypt it (it keeps SQL text, "
        "which can carry PHI) with a customer-managed key."
    ),
    severity=Severity.MEDIUM,
    controls=("164.312(a)(2)(iv)", "164.312(b)"),
    remediation=(
        "Set performance_insights_enabled=True and performance_insights_kms_key_id to the "
        "database key."
    ),
    unknowns="An unknown flag fails closed; an unknown key id that is set counts.",
    scope=Scope.RESOURCE,
    resource_types=(RDS_INSTANCE,),
    check=check,
    checkov="CKV_AWS_353, CKV_AWS_354",
)
