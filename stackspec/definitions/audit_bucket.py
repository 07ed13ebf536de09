"""The audit bucket: where AWS Backup Audit Manager delivers its reports (and, later, other
audit evidence). Encrypted with its own key, versioned, object-locked, public access blocked,
owner-enforced, TLS only; only this account's Backup reports role may write to it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from stackspec.config.stack import StackConfig
from stackspec.definitions.recovery import REPORTS_SERVICE_ROLE
from stackspec.naming import KeyPurpose, StackNames


@dataclass(frozen=True, kw_only=True)
class AuditBucketDefinition:
    names: StackNames
    key_purpose: KeyPurpose
    object_lock_mode: str
    retention_days: int
    tags: dict[str, str]

    def bucket_name(self, account_id: str) -> str:
        return self.names.audit_bucket(account_id)

    @staticmethod
    def writer_role_arn(*, partition: str, account_id: str) -> str:
        return f"arn:{partition}:iam::{account_id}:role/{REPORTS_SERVICE_ROLE}"

    def policy(self, *, bucket_arn: str, partition: str, account_id: str) -> str:
        """TLS only for everyone; the Backup reports role may put objects, nothing else."""
        statements: list[dict[str, Any]] = [
            {
                "Sid": "DenyWithoutTls",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "BackupReportsWrite",
                "Effect": "Allow",
                "Principal": {
                    "AWS": self.writer_role_arn(partition=partition, account_id=account_id)
                },
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/*",
            },
        ]
        return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def audit_bucket_definition(cfg: StackConfig) -> AuditBucketDefinition | None:
    audit = cfg.recovery.audit
    if not audit.enabled:
        return None
    return AuditBucketDefinition(
        names=cfg.names,
        key_purpose=KeyPurpose.AUDIT,
        object_lock_mode=audit.object_lock_mode,
        retention_days=audit.report_retention_days,
        tags=cfg.tags.as_dict(),
    )
