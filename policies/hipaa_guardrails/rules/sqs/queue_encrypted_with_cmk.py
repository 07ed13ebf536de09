"""Q1: queues are encrypted with a customer-managed key, not SQS-managed keys."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import get, is_present
from hipaa_guardrails.resource_types import AWS_MANAGED_KEY_PREFIX, SQS_QUEUE
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(queue: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    key = get(queue.props, "kmsMasterKeyId")
    if not is_present(key):
        managed = get(queue.props, "sqsManagedSseEnabled") is True
        yield (
            "kmsMasterKeyId is not set, so messages are encrypted with SQS-managed keys"
            if managed
            else "kmsMasterKeyId is not set, so messages are not encrypted with a KMS key"
        )
    elif isinstance(key, str) and AWS_MANAGED_KEY_PREFIX in key:
        yield (
            f"kmsMasterKeyId is the AWS managed key {key}, which cannot be audited or revoked; "
            "use a customer-managed key"
        )


RULE = Guardrail(
    name="hipaa-sqs-queue-encrypted-with-cmk",
    catalog_id="Q1",
    title="SQS queue encrypted with a customer-managed key",
    description="SQS queues must be encrypted with a customer-managed KMS key.",
    severity=Severity.HIGH,
    controls=("164.312(a)(2)(iv)", "164.312(e)(2)(ii)"),
    remediation=(
        "Set kms_master_key_id to a customer-managed key (the consumer key for the failure "
        "queue) and leave sqs_managed_sse_enabled off."
    ),
    unknowns="An unknown key id that is set counts as present.",
    scope=Scope.RESOURCE,
    resource_types=(SQS_QUEUE,),
    check=check,
    checkov="CKV_AWS_27, CKV2_AWS_73",
)
