"""Secrets Manager secrets are encrypted with a customer-managed key."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, is_present
from hipaa_guardrails.resource_types import AWS_MANAGED_KEY_PREFIX, SECRETSMANAGER_SECRET
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(secret: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    key = get(secret.props, "kmsKeyId")
    if not is_present(key):
        yield "kmsKeyId is not set, so the AWS managed key aws/secretsmanager is used"
    elif key is not UNKNOWN and AWS_MANAGED_KEY_PREFIX in str(key):
        yield f"kmsKeyId is the AWS managed key {key}; use a customer-managed key"


RULE = Guardrail(
    name="hipaa-secretsmanager-secret-encrypted-with-cmk",
    catalog_id="custom",
    title="Secrets Manager secret on a customer-managed key",
    description="Secrets Manager secrets must be encrypted with a customer-managed KMS key.",
    severity=Severity.HIGH,
    controls=("164.312(a)(2)(iv)", "164.312(e)(2)(ii)"),
    remediation="Set kms_key_id to a customer-managed key of the stack.",
    unknowns="An unknown key id that is set counts.",
    scope=Scope.RESOURCE,
    resource_types=(SECRETSMANAGER_SECRET,),
    check=check,
    aws_config="secretsmanager-using-cmk",
    cdk_nag="HIPAA.Security-SecretsManagerUsingKMSKey",
    checkov="CKV_AWS_149",
    url="https://docs.aws.amazon.com/config/latest/developerguide/secretsmanager-using-cmk.html",
)
