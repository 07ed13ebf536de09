"""A customer-managed KMS key with automatic rotation, an alias and a least-privilege key policy."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stackspec.definitions.keys import KeyDefinition


@dataclass(frozen=True, kw_only=True)
class EncryptionKeyArgs:
    """Inputs of :class:`EncryptionKey`."""

    definition: KeyDefinition
    """Alias, description, rotation, deletion window, policy grants and region
    (``stackspec.definitions.keys``)."""


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
        definition = args.definition
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        policy = pulumi.Output.all(partition.partition, identity.account_id).apply(
            lambda values: json.dumps(
                definition.policy(partition=values[0], account_id=values[1]), sort_keys=True
            )
        )
        # The primary region is the provider's; only the DR key names its region.
        region = None if definition.primary_region else definition.region
        self.key = aws.kms.Key(
            f"{name}-key",
            description=definition.description,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            enable_key_rotation=definition.rotation_enabled,
            rotation_period_in_days=(
                definition.rotation_period_days if definition.rotation_enabled else None
            ),
            deletion_window_in_days=definition.deletion_window_days,
            policy=policy,
            region=region,
            tags=dict(definition.tags),
            opts=child,
        )
        self.alias = aws.kms.Alias(
            f"{name}-alias",
            name=definition.alias,
            target_key_id=self.key.key_id,
            region=region,
            opts=child,
        )
        self.arn = self.key.arn
        self.key_id = self.key.key_id
        self.alias_name = self.alias.name
        self.register_outputs({"arn": self.arn, "keyId": self.key_id, "aliasName": self.alias_name})
