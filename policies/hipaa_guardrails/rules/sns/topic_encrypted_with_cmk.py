"""S1: SNS topics are encrypted with a customer-managed key."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import get, is_present
from hipaa_guardrails.resource_types import AWS_MANAGED_KEY_PREFIX, SNS_TOPIC
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(topic: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    key = get(topic.props, "kmsMasterKeyId")
    if not is_present(key):
        yield "kmsMasterKeyId is not set, so messages are stored unencrypted"
    elif isinstance(key, str) and AWS_MANAGED_KEY_PREFIX in key:
        yield (
            f"kmsMasterKeyId is the AWS managed key {key}; CloudWatch and Budgets cannot publish "
            "to it and it cannot be audited or revoked; use a customer-managed key"
        )


RULE = Guardrail(
    name="hipaa-sns-topic-encrypted-with-cmk",
    catalog_id="S1",
    title="SNS topic encrypted with a customer-managed key",
    description="SNS topics must be encrypted with a customer-managed KMS key.",
    severity=Severity.HIGH,
    controls=("164.312(a)(2)(iv)", "164.312(e)(2)(ii)"),
    remediation=(
        "Set kms_master_key_id to the alerts key, whose policy lets cloudwatch.amazonaws.com and "
        "budgets.amazonaws.com use it."
    ),
    unknowns="An unknown key id that is set counts as present.",
    scope=Scope.RESOURCE,
    resource_types=(SNS_TOPIC,),
    check=check,
    aws_config="sns-encrypted-kms",
    cdk_nag="HIPAA.Security-SNSEncryptedKMS",
    checkov="CKV_AWS_26",
    url="https://docs.aws.amazon.com/config/latest/developerguide/sns-encrypted-kms.html",
)
