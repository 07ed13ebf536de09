"""The audit bucket (``stackspec.definitions.audit_bucket``): SSE-KMS with its own key, bucket
key on, versioned, object lock with a default retention, every public access block, owner
enforced (no ACLs), a TLS 1.2+ policy that lets only the stack's trail and the Backup reports role
write, lifecycle to archive tiers, and server access logs to its access-log bucket (SSE-S3,
versioned, public access blocked, owner enforced, TLS 1.2+, written by S3's logging service)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.encryption_key import EncryptionKey, EncryptionKeyArgs
from stackspec.config.stack import Protection
from stackspec.definitions.audit_bucket import AuditBucketDefinition, LifecycleRule
from stackspec.definitions.keys import KeyDefinition


@dataclass(frozen=True, kw_only=True)
class AuditBucketArgs:
    """Inputs of :class:`AuditBucket`."""

    definition: AuditBucketDefinition
    key: KeyDefinition
    """The bucket's own key (purpose ``audit``)."""
    protection: Protection
    """``protect`` / ``retainOnDelete`` for the bucket and its key (evidence is data)."""


def _lifecycle_rule(rule: LifecycleRule) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    return aws.s3.BucketLifecycleConfigurationRuleArgs(
        id=rule.id,
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        transitions=[
            aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                days=t.days, storage_class=t.storage_class
            )
            for t in rule.transitions
        ]
        or None,
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=rule.expiration_days),
        noncurrent_version_expiration=(
            aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=rule.noncurrent_expiration_days
            )
        ),
        abort_incomplete_multipart_upload=(
            aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=rule.abort_incomplete_upload_days
            )
        ),
    )


def _locked_down(name: str, bucket: aws.s3.Bucket, opts: pulumi.ResourceOptions) -> None:
    """Owner enforced (ACLs disabled), every public access block, versioning."""
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=opts,
    )
    aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
            status="Enabled"
        ),
        opts=opts,
    )


class AuditBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    bucket_name: pulumi.Output[str]
    key_arn: pulumi.Output[str]
    policy: aws.s3.BucketPolicy
    """The bucket policy: a trail must wait for it (CloudTrail checks it on create)."""
    access_log_bucket_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: AuditBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medeez:data:AuditBucket", name, None, opts)
        definition = args.definition
        child = pulumi.ResourceOptions(parent=self)
        data = pulumi.ResourceOptions(
            parent=self,
            protect=args.protection.protect,
            retain_on_delete=args.protection.retain_on_delete,
        )
        invoke = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        key = EncryptionKey(f"{name}-key", EncryptionKeyArgs(definition=args.key), opts=data)
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=identity.account_id.apply(definition.bucket_name),
            # Object lock can only be switched on when the bucket is created.
            object_lock_enabled=True,
            tags=dict(definition.tags),
            opts=data,
        )
        bucket_id = self.bucket.id
        _locked_down(name, self.bucket, child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket_id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=key.arn
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        aws.s3.BucketObjectLockConfiguration(
            f"{name}-object-lock",
            bucket=bucket_id,
            object_lock_enabled="Enabled",
            rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                    mode=definition.object_lock_mode, days=definition.retention_days
                )
            ),
            opts=data,
        )
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket_id,
            policy=pulumi.Output.all(
                self.bucket.arn, partition.partition, identity.account_id
            ).apply(lambda v: definition.policy(bucket_arn=v[0], partition=v[1], account_id=v[2])),
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket_id,
            rules=[_lifecycle_rule(definition.lifecycle)],
            opts=child,
        )
        # S3 delivers server access logs only to a bucket whose default encryption is SSE-S3,
        # and without object lock: a bucket of its own.
        logs = aws.s3.Bucket(
            f"{name}-access-logs",
            bucket=identity.account_id.apply(definition.access_log_bucket_name),
            tags=dict(definition.tags),
            opts=data,
        )
        _locked_down(f"{name}-access-logs", logs, child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-access-logs-encryption",
            bucket=logs.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    ),
                )
            ],
            opts=child,
        )
        logs_policy = aws.s3.BucketPolicy(
            f"{name}-access-logs-policy",
            bucket=logs.id,
            policy=pulumi.Output.all(logs.arn, self.bucket.arn, identity.account_id).apply(
                lambda v: definition.access_log_policy(
                    log_bucket_arn=v[0], source_bucket_arn=v[1], account_id=v[2]
                )
            ),
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-access-logs-lifecycle",
            bucket=logs.id,
            rules=[_lifecycle_rule(definition.access_log_lifecycle)],
            opts=child,
        )
        aws.s3.BucketLogging(
            f"{name}-logging",
            bucket=bucket_id,
            target_bucket=logs.bucket,
            target_prefix=definition.access_log_prefix,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs_policy]),
        )
        self.bucket_name = self.bucket.bucket
        self.key_arn = key.arn
        self.access_log_bucket_name = logs.bucket
        self.register_outputs(
            {
                "bucketName": self.bucket_name,
                "keyArn": self.key_arn,
                "accessLogBucketName": self.access_log_bucket_name,
            }
        )
