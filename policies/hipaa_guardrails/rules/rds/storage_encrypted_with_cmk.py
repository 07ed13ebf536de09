"""R1: RDS storage encrypted with a customer-managed key."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, describe, get, is_present
from hipaa_guardrails.resource_types import AWS_MANAGED_KEY_PREFIX, RDS_CLUSTER, RDS_INSTANCE
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(db: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    encrypted = get(db.props, "storageEncrypted")
    if encrypted is not True:
        yield f"storageEncrypted is {describe(encrypted)}; database storage must be encrypted"
        return
    key = get(db.props, "kmsKeyId")
    if not is_present(key):
        yield "kmsKeyId is not set, so the AWS managed key aws/rds is used"
    elif key is not UNKNOWN and AWS_MANAGED_KEY_PREFIX in str(key):
        yield f"kmsKeyId is the AWS managed key {key}; use a customer-managed key"


RULE = Guardrail(
    name="hipaa-rds-storage-encrypted-with-cmk",
    catalog_id="R1",
    title="RDS storage encrypted with a customer-managed key",
    description="RDS instances and clusters must encrypt storage with a customer-managed KMS key.",
    severity=Severity.CRITICAL,
    controls=("164.312(a)(2)(iv)", "164.312(e)(2)(ii)"),
    remediation="Set storage_encrypted=True and kms_key_id to the database key.",
    unknowns="An unknown storageEncrypted fails closed; an unknown key id that is set counts.",
    scope=Scope.RESOURCE,
    resource_types=(RDS_INSTANCE, RDS_CLUSTER),
    check=check,
    aws_config="rds-storage-encrypted",
    cdk_nag="HIPAA.Security-RDSStorageEncrypted",
    checkov="CKV_AWS_16",
    url="https://docs.aws.amazon.com/config/latest/developerguide/rds-storage-encrypted.html",
)
