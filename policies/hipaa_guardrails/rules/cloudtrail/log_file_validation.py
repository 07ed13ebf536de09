"""CloudTrail log-file validation: digest files prove a log file was not changed or deleted."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import describe, get, is_true
from hipaa_guardrails.resource_types import CLOUDTRAIL_TRAIL
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(trail: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    value = get(trail.props, "enableLogFileValidation")
    if not is_true(value):
        yield f"enableLogFileValidation is {describe(value)}; log-file validation must be on"


RULE = Guardrail(
    name="hipaa-cloudtrail-log-file-validation",
    catalog_id="custom",
    title="CloudTrail log-file validation",
    description="Every CloudTrail trail must have log-file integrity validation enabled.",
    severity=Severity.HIGH,
    controls=("164.312(b)", "164.312(c)(1)", "164.312(c)(2)"),
    remediation="Set enable_log_file_validation=True on the aws.cloudtrail.Trail.",
    unknowns="An unknown value fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(CLOUDTRAIL_TRAIL,),
    check=check,
    aws_config="cloud-trail-log-file-validation-enabled",
    cdk_nag="HIPAA.Security-CloudTrailLogFileValidationEnabled",
    checkov="CKV_AWS_36",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "cloud-trail-log-file-validation-enabled.html"
    ),
)
