"""D2: server-side encryption with a customer-managed KMS key."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, get, is_present, is_true
from hipaa_guardrails.resource_types import AWS_MANAGED_KEY_PREFIX, TABLE
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(table: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    enabled = get(table.props, "serverSideEncryption", "enabled")
    if enabled is UNKNOWN:
        yield "serverSideEncryption.enabled is unknown during preview (fails closed)"
        return
    if not is_true(enabled):
        yield (
            "serverSideEncryption is not enabled, so the table uses an AWS owned key that the "
            "account cannot audit or revoke"
        )
        return
    key = get(table.props, "serverSideEncryption", "kmsKeyArn")
    if not is_present(key):
        yield (
            "serverSideEncryption.kmsKeyArn is not set, so the AWS managed key aws/dynamodb is "
            "used; set a customer-managed key"
        )
    elif key is not UNKNOWN and key is not MISSING and AWS_MANAGED_KEY_PREFIX in str(key):
        yield (
            f"serverSideEncryption.kmsKeyArn is the AWS managed key {key}; "
            "use a customer-managed key"
        )


RULE = Guardrail(
    name="hipaa-dynamodb-encrypted-with-cmk",
    catalog_id="D2",
    title="DynamoDB encrypted with a customer-managed key",
    description="DynamoDB tables must be encrypted at rest with a customer-managed KMS key.",
    severity=Severity.CRITICAL,
    controls=("164.312(a)(2)(iv)", "164.312(e)(2)(ii)", "164.308(a)(4)(ii)(A)"),
    remediation=(
        "Set server_side_encryption={'enabled': True, 'kms_key_arn': <the table key's ARN>} "
        "(the EncryptionKey component's key for purpose 'table')."
    ),
    unknowns=(
        "An unknown `enabled` fails closed; an unknown key ARN that is set counts as a "
        "customer-managed key (new keys have no ARN until created)."
    ),
    scope=Scope.RESOURCE,
    resource_types=(TABLE,),
    check=check,
    aws_config="dynamodb-table-encrypted-kms",
    checkov="CKV_AWS_119",
    url="https://docs.aws.amazon.com/config/latest/developerguide/dynamodb-table-encrypted-kms.html",
)
