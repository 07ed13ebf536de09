"""A customer-managed KMS key with automatic rotation, an alias and a least-privilege key policy."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

#: What a service that publishes to an encrypted SNS topic needs of the topic's key.
PUBLISHER_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")
#: Cryptographic operations that a required encryption context can be enforced on.
CRYPTO_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")


@dataclass(frozen=True, kw_only=True)
class EncryptionKeyArgs:
    """Inputs of :class:`EncryptionKey`. The defaults are the compliant ones."""

    alias: str
    """Alias name, ``alias/...``: how people and scripts find the key."""
    description: str
    """What the key protects; shown in the KMS console and CloudTrail."""
    rotation_enabled: bool = True
    """Automatic rotation of the key material (HIPAA 164.312(a)(2)(iv) key management)."""
    rotation_period_days: int = 365
    """Days between automatic rotations (90-2560)."""
    deletion_window_days: int = 30
    """Waiting period before a scheduled deletion takes effect (7-30); 30 is the safest."""
    service_publishers: Sequence[str] = ()
    """Service principals (``cloudwatch.amazonaws.com``...) that must use the key directly to
    publish to a topic encrypted with it; they get only Decrypt and GenerateDataKey*."""
    required_context_keys: Sequence[str] = ()
    """Encryption-context keys every cryptographic call must carry (e.g. ``clinicId`` for the PHI
    key): calls without them are denied for everyone, so ciphertexts are always tenant-bound."""
    region: str | None = None
    """Region of the key; ``None`` is the provider's region."""
    tags: Mapping[str, str] = field(default_factory=dict)


def key_policy(
    *,
    partition: str,
    account_id: str,
    service_publishers: Sequence[str] = (),
    required_context_keys: Sequence[str] = (),
) -> str:
    """The key policy document as JSON.

    The account root statement hands key administration to the account's IAM policies (without
    it nobody could manage the key); everything else is the narrow per-consumer grant.
    """
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountRootAdministersViaIam",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if service_publishers:
        statements.append(
            {
                "Sid": "ServicesPublishToEncryptedTopic",
                "Effect": "Allow",
                "Principal": {"Service": sorted(service_publishers)},
                "Action": list(PUBLISHER_ACTIONS),
                "Resource": "*",
            }
        )
    for context_key in required_context_keys:
        statements.append(
            {
                "Sid": f"Require{context_key[:1].upper()}{context_key[1:]}EncryptionContext",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": list(CRYPTO_ACTIONS),
                "Resource": "*",
                "Condition": {"Null": {f"kms:EncryptionContext:{context_key}": "true"}},
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


class EncryptionKey(pulumi.ComponentResource):
    """A symmetric KMS key, its alias and its key policy.

    Children: ``<name>-key`` (aws.kms.Key) and ``<name>-alias`` (aws.kms.Alias).
    """

    key: aws.kms.Key
    alias: aws.kms.Alias
    arn: pulumi.Output[str]
    key_id: pulumi.Output[str]
    alias_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: EncryptionKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medeez:data:EncryptionKey", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        policy = pulumi.Output.all(partition.partition, identity.account_id).apply(
            lambda values: key_policy(
                partition=values[0],
                account_id=values[1],
                service_publishers=args.service_publishers,
                required_context_keys=args.required_context_keys,
            )
        )
        self.key = aws.kms.Key(
            f"{name}-key",
            description=args.description,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            enable_key_rotation=args.rotation_enabled,
            rotation_period_in_days=args.rotation_period_days if args.rotation_enabled else None,
            deletion_window_in_days=args.deletion_window_days,
            policy=policy,
            region=args.region,
            tags=dict(args.tags),
            opts=child,
        )
        self.alias = aws.kms.Alias(
            f"{name}-alias",
            name=args.alias,
            target_key_id=self.key.key_id,
            region=args.region,
            opts=child,
        )
        self.arn = self.key.arn
        self.key_id = self.key.key_id
        self.alias_name = self.alias.name
        self.register_outputs({"arn": self.arn, "keyId": self.key_id, "aliasName": self.alias_name})
