"""The audit bucket (``stackspec.definitions.audit_bucket``): SSE-KMS with its own key, bucket
key on, versioned, object lock with a default retention, every public access block, owner
enforced (no ACLs), TLS-only policy that lets only the Backup reports role write."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.encryption_key import EncryptionKey, EncryptionKeyArgs
from stackspec.config.stack import Protection
from stackspec.definitions.audit_bucket import AuditBucketDefinition
from stackspec.definitions.keys import KeyDefinition


@dataclass(frozen=True, kw_only=True)
class AuditBucketArgs:
    """Inputs of :class:`AuditBucket`."""

    definition: AuditBucketDefinition
    key: KeyDefinition
    """The bucket's own key (purpose ``audit``)."""
    protection: Protection
    """``protect`` / ``retainOnDelete`` for the bucket and its key (evidence is data)."""


class AuditBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    bucket_name: pulumi.Output[str]
    key_arn: pulumi.Output[str]

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
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket_id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket_id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=child,
        )
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
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket_id,
            policy=pulumi.Output.all(
                self.bucket.arn, partition.partition, identity.account_id
            ).apply(lambda v: definition.policy(bucket_arn=v[0], partition=v[1], account_id=v[2])),
            opts=child,
        )
        self.bucket_name = self.bucket.bucket
        self.key_arn = key.arn
        self.register_outputs({"bucketName": self.bucket_name, "keyArn": self.key_arn})
