"""CloudTrail log files are encrypted with a customer-managed KMS key (SSE-KMS)."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import get, is_present
from hipaa_guardrails.resource_types import CLOUDTRAIL_TRAIL
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(trail: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if not is_present(get(trail.props, "kmsKeyId")):
        yield "kmsKeyId is not set; log files are encrypted with SSE-S3 only, not a KMS key"


RULE = Guardrail(
    name="hipaa-cloudtrail-encrypted-with-kms",
    catalog_id="custom",
    title="CloudTrail encrypted with KMS",
    description="Every CloudTrail trail must encrypt its log files with a customer-managed key.",
    severity=Severity.HIGH,
    controls=("164.312(a)(2)(iv)", "164.312(b)"),
    remediation=(
        "Set kms_key_id on the aws.cloudtrail.Trail to a CMK whose policy lets "
        "cloudtrail.amazonaws.com GenerateDataKey* for this trail (aws:SourceArn)."
    ),
    unknowns="An unknown key id that is set counts as set.",
    scope=Scope.RESOURCE,
    resource_types=(CLOUDTRAIL_TRAIL,),
    check=check,
    aws_config="cloud-trail-encryption-enabled",
    cdk_nag="HIPAA.Security-CloudTrailEncryptionEnabled",
    checkov="CKV_AWS_35",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "cloud-trail-encryption-enabled.html"
    ),
)
