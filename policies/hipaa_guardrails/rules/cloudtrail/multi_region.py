"""CloudTrail covers every region, so activity in an unused region is recorded too."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import describe, get, is_true
from hipaa_guardrails.resource_types import CLOUDTRAIL_TRAIL
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(trail: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    value = get(trail.props, "isMultiRegionTrail")
    if not is_true(value):
        yield f"isMultiRegionTrail is {describe(value)}; the trail must cover every region"
    glob = get(trail.props, "includeGlobalServiceEvents")
    if glob is False:
        yield "includeGlobalServiceEvents is false; IAM and STS events would not be recorded"


RULE = Guardrail(
    name="hipaa-cloudtrail-multi-region",
    catalog_id="custom",
    title="CloudTrail multi-region",
    description=(
        "Every CloudTrail trail must be multi-region and include global service events (IAM, STS)."
    ),
    severity=Severity.HIGH,
    controls=("164.312(b)", "164.308(a)(1)(ii)(D)"),
    remediation=(
        "Set is_multi_region_trail=True and include_global_service_events=True on the "
        "aws.cloudtrail.Trail."
    ),
    unknowns="An unknown isMultiRegionTrail fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(CLOUDTRAIL_TRAIL,),
    check=check,
    aws_config="multi-region-cloudtrail-enabled",
    checkov="CKV_AWS_67",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "multi-region-cloudtrail-enabled.html"
    ),
)
