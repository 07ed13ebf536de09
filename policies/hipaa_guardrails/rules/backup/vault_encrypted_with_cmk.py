"""B2: backup vaults encrypt recovery points with a customer-managed key."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import get, is_present
from hipaa_guardrails.resource_types import AWS_MANAGED_KEY_PREFIX, BACKUP_VAULT
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(vault: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    key = get(vault.props, "kmsKeyArn")
    if not is_present(key):
        yield "kmsKeyArn is not set, so recovery points use the AWS managed key aws/backup"
    elif isinstance(key, str) and AWS_MANAGED_KEY_PREFIX in key:
        yield f"kmsKeyArn is the AWS managed key {key}; use a customer-managed key"


RULE = Guardrail(
    name="hipaa-backup-vault-encrypted-with-cmk",
    catalog_id="B2",
    title="Backup vault encrypted with a customer-managed key",
    description="AWS Backup vaults must encrypt recovery points with a customer-managed KMS key.",
    severity=Severity.HIGH,
    controls=("164.312(a)(2)(iv)", "164.312(e)(2)(ii)"),
    remediation="Set kms_key_arn on the vault to the backup key of its region.",
    unknowns="An unknown key ARN that is set counts as a customer-managed key.",
    scope=Scope.RESOURCE,
    resource_types=(BACKUP_VAULT,),
    check=check,
    aws_config="backup-recovery-point-encrypted",
    checkov="CKV_AWS_166",
    url="https://docs.aws.amazon.com/config/latest/developerguide/backup-recovery-point-encrypted.html",
)
