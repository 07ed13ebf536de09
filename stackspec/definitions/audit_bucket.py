"""The audit bucket: every kind of audit evidence of the stack, in one object-locked place.

CloudTrail's log files under ``cloudtrail/``, the audit chain's digests under ``audit-chain/``,
AWS Backup Audit Manager reports under ``backup-audit/``. SSE-KMS with the stack's audit key and a
bucket key, versioned, object lock by default, every public access block, ACLs disabled (owner
enforced), a policy that refuses requests without TLS or below TLS 1.2 and lets only this stack's
trail and the Backup reports role write; lifecycle to archive tiers over the retention; server
access logs to a separate access-log bucket (SSE-S3: S3 delivers server access logs only to
buckets whose default encryption is SSE-S3).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from stackspec.config.stack import StackConfig
from stackspec.definitions.recovery import REPORTS_SERVICE_ROLE
from stackspec.naming import KeyPurpose, StackNames

CLOUDTRAIL_PREFIX = "cloudtrail"
AUDIT_CHAIN_PREFIX = "audit-chain"
BACKUP_REPORTS_PREFIX = "backup-audit"
#: Where the access-log bucket keeps the audit bucket's server access logs.
ACCESS_LOG_PREFIX = "audit-bucket/"
CLOUDTRAIL_SERVICE = "cloudtrail.amazonaws.com"
S3_LOGGING_SERVICE = "logging.s3.amazonaws.com"
MIN_TLS_VERSION = "1.2"


@dataclass(frozen=True, kw_only=True)
class Transition:
    days: int
    storage_class: str


@dataclass(frozen=True, kw_only=True)
class LifecycleRule:
    """One lifecycle rule, whole bucket (no filter prefix)."""

    id: str
    transitions: tuple[Transition, ...]
    expiration_days: int
    noncurrent_expiration_days: int
    abort_incomplete_upload_days: int


def tls_statements(bucket_arn: str) -> list[dict[str, Any]]:
    """Deny any request without TLS, and any below TLS 1.2 (AWS: s3:TlsVersion)."""
    resources = [bucket_arn, f"{bucket_arn}/*"]
    return [
        {
            "Sid": "DenyWithoutTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyTlsBelow12",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": MIN_TLS_VERSION}},
        },
    ]


def _document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


@dataclass(frozen=True, kw_only=True)
class AuditBucketDefinition:
    names: StackNames
    region: str
    key_purpose: KeyPurpose
    object_lock_mode: str
    retention_days: int
    lifecycle: LifecycleRule
    access_log_lifecycle: LifecycleRule
    trail_name: str | None
    """The stack's own trail, the only one that may deliver here (None: no trail of this stack,
    e.g. an organization trail delivers elsewhere)."""
    backup_reports: bool
    """The AWS Backup reports role may write (where ``recovery.audit`` is on)."""
    tags: dict[str, str]
    cloudtrail_prefix: str = CLOUDTRAIL_PREFIX
    audit_chain_prefix: str = AUDIT_CHAIN_PREFIX
    backup_reports_prefix: str = BACKUP_REPORTS_PREFIX
    access_log_prefix: str = ACCESS_LOG_PREFIX

    def bucket_name(self, account_id: str) -> str:
        return self.names.audit_bucket(account_id)

    def access_log_bucket_name(self, account_id: str) -> str:
        return self.names.audit_access_log_bucket(account_id)

    def trail_arn(self, *, partition: str, account_id: str) -> str | None:
        if self.trail_name is None:
            return None
        return f"arn:{partition}:cloudtrail:{self.region}:{account_id}:trail/{self.trail_name}"

    @staticmethod
    def writer_role_arn(*, partition: str, account_id: str) -> str:
        return f"arn:{partition}:iam::{account_id}:role/{REPORTS_SERVICE_ROLE}"

    def policy(self, *, bucket_arn: str, partition: str, account_id: str) -> str:
        """TLS 1.2+ only for everyone; the stack's trail and the Backup reports role may put
        objects under their own prefixes, nothing else (the account's IAM grants the rest)."""
        statements = tls_statements(bucket_arn)
        trail_arn = self.trail_arn(partition=partition, account_id=account_id)
        if trail_arn is not None:
            statements += [
                {
                    "Sid": "CloudTrailAclCheck",
                    "Effect": "Allow",
                    "Principal": {"Service": CLOUDTRAIL_SERVICE},
                    "Action": "s3:GetBucketAcl",
                    "Resource": bucket_arn,
                    "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
                },
                {
                    "Sid": "CloudTrailWrite",
                    "Effect": "Allow",
                    "Principal": {"Service": CLOUDTRAIL_SERVICE},
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket_arn}/{self.cloudtrail_prefix}/AWSLogs/{account_id}/*",
                    "Condition": {
                        "StringEquals": {
                            "aws:SourceArn": trail_arn,
                            "s3:x-amz-acl": "bucket-owner-full-control",
                        }
                    },
                },
            ]
        if self.backup_reports:
            statements.append(
                {
                    "Sid": "BackupReportsWrite",
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": self.writer_role_arn(partition=partition, account_id=account_id)
                    },
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket_arn}/{self.backup_reports_prefix}/*",
                }
            )
        return _document(statements)

    def access_log_policy(
        self, *, log_bucket_arn: str, source_bucket_arn: str, account_id: str
    ) -> str:
        """TLS 1.2+ only; S3's logging service may put the audit bucket's access logs, and only
        for that bucket of this account (AWS: aws:SourceArn and aws:SourceAccount)."""
        # The grant comes first: statement order means nothing to AWS, but moto 5.2.5's
        # PutBucketLogging check walks the statements in order and fails on a Principal "*"
        # before it reaches the grant.
        return _document(
            [
                {
                    "Sid": "S3ServerAccessLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": S3_LOGGING_SERVICE},
                    "Action": "s3:PutObject",
                    "Resource": f"{log_bucket_arn}/{self.access_log_prefix}*",
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": source_bucket_arn},
                        "StringEquals": {"aws:SourceAccount": account_id},
                    },
                },
                *tls_statements(log_bucket_arn),
            ]
        )


def audit_bucket_definition(cfg: StackConfig) -> AuditBucketDefinition:
    bucket = cfg.trail.bucket
    own_trail = cfg.trail.enabled and not cfg.trail.organization_trail
    return AuditBucketDefinition(
        names=cfg.names,
        region=cfg.region,
        key_purpose=KeyPurpose.AUDIT,
        object_lock_mode=bucket.object_lock_mode,
        retention_days=bucket.retention_days,
        lifecycle=LifecycleRule(
            id="archive-then-expire",
            transitions=tuple(
                Transition(days=t.days, storage_class=t.storage_class) for t in bucket.transitions
            ),
            expiration_days=bucket.expiration_days,
            noncurrent_expiration_days=bucket.noncurrent_expiration_days,
            abort_incomplete_upload_days=bucket.abort_incomplete_upload_days,
        ),
        access_log_lifecycle=LifecycleRule(
            id="expire-access-logs",
            transitions=(),
            expiration_days=bucket.access_log_retention_days,
            noncurrent_expiration_days=1,
            abort_incomplete_upload_days=bucket.abort_incomplete_upload_days,
        ),
        trail_name=cfg.names.trail if own_trail else None,
        backup_reports=cfg.recovery.audit.enabled,
        tags=cfg.tags.as_dict(),
    )
