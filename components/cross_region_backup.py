"""AWS Backup for the app table: a vault per region on its own key, a daily plan, optional
cross-region copy and vault lock, all as ``stackspec.definitions.backup`` defines them.

The region settings are an account-and-region singleton: if an account baseline already manages
them, drop them from here rather than fight over them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.encryption_key import EncryptionKey, EncryptionKeyArgs
from stackspec.config.stack import Protection
from stackspec.definitions.backup import BackupDefinition, VaultDefinition
from stackspec.definitions.keys import KeyDefinition
from stackspec.naming import KeyPurpose


@dataclass(frozen=True, kw_only=True)
class CrossRegionBackupArgs:
    """Inputs of :class:`CrossRegionBackup`."""

    definition: BackupDefinition
    """Vaults, lock, plan rule, copy, role and selection (``stackspec.definitions.backup``)."""
    vault_keys: Mapping[KeyPurpose, KeyDefinition]
    """The definitions of the vaults' keys (``backup`` and, with the copy, ``backup-dr``)."""
    table_arn: pulumi.Input[str]
    """The table the plan selects (by ARN)."""
    table_key_arn: pulumi.Input[str]
    """The table's SSE key: the backup role must be able to read through it."""
    database_arns: Sequence[pulumi.Input[str]] = ()
    """Further resources the plan selects by ARN: the audit database."""
    database_key_arns: Sequence[pulumi.Input[str]] = ()
    """Their keys, which the backup role must be able to use as well."""
    protection: Protection = field(default_factory=Protection)
    """``protect`` / ``retainOnDelete`` for the data-bearing children: the vaults, their keys and
    their locks. The role, plan and selection stay replaceable."""


class CrossRegionBackup(pulumi.ComponentResource):
    """Vaults, plan, selection, service role and (per definition) the DR copy and vault lock."""

    vault: aws.backup.Vault
    dr_vault: aws.backup.Vault | None
    plan: aws.backup.Plan
    selection: aws.backup.Selection
    role: aws.iam.Role
    vault_arn: pulumi.Output[str]
    dr_vault_arn: pulumi.Output[str | None]
    plan_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: CrossRegionBackupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medeez:data:CrossRegionBackup", name, None, opts)
        definition = args.definition
        tags = definition.tags
        child = pulumi.ResourceOptions(parent=self)
        data = pulumi.ResourceOptions(
            parent=self,
            protect=args.protection.protect,
            retain_on_delete=args.protection.retain_on_delete,
        )
        key_arns: list[pulumi.Input[str]] = [args.table_key_arn, *args.database_key_arns]

        def vault(logical: str, vault: VaultDefinition) -> aws.backup.Vault:
            region = None if vault.primary_region else vault.region
            key = EncryptionKey(
                f"{name}-{logical}-key",
                EncryptionKeyArgs(definition=args.vault_keys[vault.key_purpose]),
                opts=data,
            )
            key_arns.append(key.arn)
            created = aws.backup.Vault(
                f"{name}-{logical}",
                name=vault.name,
                kms_key_arn=key.arn,
                region=region,
                tags=dict(tags),
                opts=data,
            )
            if definition.lock is not None:
                aws.backup.VaultLockConfiguration(
                    f"{name}-{logical}-lock",
                    backup_vault_name=created.name,
                    min_retention_days=definition.lock.min_retention_days,
                    max_retention_days=definition.lock.max_retention_days,
                    changeable_for_days=definition.lock.changeable_for_days,
                    region=region,
                    opts=data,
                )
            return created

        for index, region_name in enumerate(definition.region_settings_regions):
            aws.backup.RegionSettings(
                f"{name}-{'dr-' if index else ''}region-settings",
                resource_type_opt_in_preference=dict.fromkeys(
                    definition.opted_in_resource_types, True
                ),
                # Advanced DynamoDB backup: vault-key encryption and cross-region copy.
                resource_type_management_preference={"DynamoDB": True},
                region=None if index == 0 else region_name,
                opts=child,
            )
        self.vault = vault("vault", definition.vault)
        self.dr_vault = vault("dr-vault", definition.dr_vault) if definition.dr_vault else None

        rule = definition.rule
        copy_actions = None
        if rule.copy is not None and self.dr_vault is not None:
            copy_actions = [
                aws.backup.PlanRuleCopyActionArgs(
                    destination_vault_arn=self.dr_vault.arn,
                    lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(
                        delete_after=rule.copy.retention_days
                    ),
                )
            ]
        self.role = self._service_role(name, definition, key_arns, child)
        self.plan = aws.backup.Plan(
            f"{name}-plan",
            name=definition.plan_name,
            rules=[
                aws.backup.PlanRuleArgs(
                    rule_name=rule.name,
                    target_vault_name=self.vault.name,
                    schedule=rule.schedule,
                    start_window=rule.start_window_minutes,
                    completion_window=rule.completion_window_minutes,
                    lifecycle=aws.backup.PlanRuleLifecycleArgs(
                        delete_after=rule.retention_days,
                        cold_storage_after=rule.cold_storage_after_days,
                    ),
                    copy_actions=copy_actions,
                    recovery_point_tags=dict(tags),
                )
            ],
            tags=dict(tags),
            opts=child,
        )
        self.selection = aws.backup.Selection(
            f"{name}-selection",
            name=definition.selection_name,
            plan_id=self.plan.id,
            iam_role_arn=self.role.arn,
            resources=[args.table_arn, *args.database_arns],
            opts=child,
        )
        self.vault_arn = self.vault.arn
        self.dr_vault_arn = self.dr_vault.arn if self.dr_vault else pulumi.Output.from_input(None)
        self.plan_arn = self.plan.arn
        self.register_outputs(
            {"vaultArn": self.vault_arn, "drVaultArn": self.dr_vault_arn, "planArn": self.plan_arn}
        )

    def _service_role(
        self,
        name: str,
        definition: BackupDefinition,
        key_arns: list[pulumi.Input[str]],
        opts: pulumi.ResourceOptions,
    ) -> aws.iam.Role:
        invoke = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        role = aws.iam.Role(
            f"{name}-role",
            name=definition.role_name,
            description=definition.role_description,
            assume_role_policy=identity.account_id.apply(
                lambda account_id: json.dumps(
                    definition.trust_policy(account_id=account_id), sort_keys=True
                )
            ),
            tags=dict(definition.tags),
            opts=opts,
        )
        managed_arns = partition.partition.apply(definition.managed_policy_arns)
        for purpose in ("backup", "restore"):
            aws.iam.RolePolicyAttachment(
                f"{name}-role-{purpose}",
                role=role.name,
                policy_arn=managed_arns[purpose],
                opts=opts,
            )
        # A managed policy rather than an inline one: it is versioned and reviewable on its own.
        keys_policy = aws.iam.Policy(
            f"{name}-keys-policy",
            name=definition.keys_policy_name,
            description=definition.keys_policy_description,
            policy=pulumi.Output.all(*key_arns).apply(definition.keys_policy),
            tags=dict(definition.tags),
            opts=opts,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-role-keys",
            role=role.name,
            policy_arn=keys_policy.arn,
            opts=opts,
        )
        return role
