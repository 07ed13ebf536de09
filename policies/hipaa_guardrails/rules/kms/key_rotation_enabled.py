"""K1: automatic rotation of symmetric customer-managed keys."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, describe, get, is_true
from hipaa_guardrails.resource_types import KMS_KEY
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope


def check(key: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    spec = get(key.props, "customerMasterKeySpec")
    usage = get(key.props, "keyUsage")
    if spec is UNKNOWN or usage is UNKNOWN:
        yield "customerMasterKeySpec or keyUsage is unknown during preview (fails closed)"
        return
    # AWS rotates only symmetric encryption keys; asymmetric and HMAC keys cannot rotate.
    if spec not in (MISSING, "SYMMETRIC_DEFAULT") or usage not in (MISSING, "ENCRYPT_DECRYPT"):
        raise NotApplicable(f"key spec {describe(spec)} / usage {describe(usage)} cannot rotate")
    enabled = get(key.props, "enableKeyRotation")
    if not is_true(enabled):
        yield f"enableKeyRotation is {describe(enabled)}; symmetric keys must rotate automatically"
        return
    period = get(key.props, "rotationPeriodInDays")
    maximum = int(config["maxRotationPeriodDays"])
    if period is UNKNOWN:
        yield "rotationPeriodInDays is unknown during preview (fails closed)"
    elif period is not MISSING and int(period) > maximum:
        yield f"rotationPeriodInDays is {period}; keys must rotate at least every {maximum} days"


RULE = Guardrail(
    name="hipaa-kms-key-rotation-enabled",
    catalog_id="K1",
    title="KMS key rotation",
    description="Symmetric customer-managed KMS keys must rotate automatically, at least yearly.",
    severity=Severity.HIGH,
    controls=("164.312(a)(2)(iv)",),
    judgement=True,
    remediation=(
        "Set enable_key_rotation=True and rotation_period_in_days<=365 on the key "
        "(config: keys.rotation)."
    ),
    unknowns="An unknown key spec, rotation flag or period fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(KMS_KEY,),
    check=check,
    aws_config="cmk-backing-key-rotation-enabled",
    cdk_nag="AwsSolutions-KMS5",
    checkov="CKV_AWS_7",
    url="https://docs.aws.amazon.com/config/latest/developerguide/cmk-backing-key-rotation-enabled.html",
    config_properties={
        "maxRotationPeriodDays": {
            "type": "integer",
            "minimum": 90,
            "maximum": 2560,
            "default": 365,
            "description": "Longest rotation period allowed (AWS default 365).",
        }
    },
)
