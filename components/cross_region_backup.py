"""AWS Backup for the app table: a vault per region on its own key, a daily plan, optional
cross-region copy and vault lock.

AWS Backup copies DynamoDB backups across regions only with *advanced DynamoDB backup* enabled in
the region settings of both regions; without it backups inherit the table's encryption and nothing
is copied. The region settings are an account-and-region singleton: if an account baseline already
manages them, drop them from here rather than fight over them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.config import BackupConfig, KeysConfig, Protection
from components.encryption_key import EncryptionKey, EncryptionKeyArgs

#: AWS-managed policies the AWS Backup service role needs for DynamoDB backups and restores.
BACKUP_MANAGED_POLICIES = {
    "backup": "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "restore": "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
}
#: What the backup role must be able to do with the table key and the vault keys; without it
#: backup jobs "succeed" while the data is not backed up.
BACKUP_KEY_ACTIONS = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
    "kms:DescribeKey",
    "kms:CreateGrant",
)


@dataclass(frozen=True, kw_only=True)
class CrossRegionBackupArgs:
    """Inputs of :class:`CrossRegionBackup`."""

    table_arn: pulumi.Input[str]
    """The table the plan selects (by ARN)."""
    table_key_arn: pulumi.Input[str]
    """The table's SSE key: the backup role must be able to read through it."""
    settings: BackupConfig
    """Schedule, windows, retention, cross-region copy and vault lock."""
    keys: KeysConfig
    """Rotation and deletion window of the vault keys."""
    vault_name: str
    dr_vault_name: str
    plan_name: str
    role_name: str
    vault_key_alias: str
    dr_vault_key_alias: str
    dr_region: str
    """Region of the copy vault; used only when the copy is enabled."""
    protection: Protection = field(default_factory=Protection)
    """``protect`` / ``retainOnDelete`` for the data-bearing children: the vaults, their keys and
    their locks. The role, plan and selection stay replaceable."""
    tags: Mapping[str, str] = field(default_factory=dict)


class CrossRegionBackup(pulumi.ComponentResource):
    """Vaults, plan, selection, service role and (per config) the DR copy and vault lock."""

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
        settings = args.settings
        copy = settings.cross_region_copy
        child = pulumi.ResourceOptions(parent=self)
        data = pulumi.ResourceOptions(
            parent=self,
            protect=args.protection.protect,
            retain_on_delete=args.protection.retain_on_delete,
        )

        def vault_key_args(alias: str, description: str, region: str | None) -> EncryptionKeyArgs:
            return EncryptionKeyArgs(
                alias=alias,
                description=description,
                rotation_enabled=args.keys.rotation.enabled,
                rotation_period_days=args.keys.rotation.period_days,
                deletion_window_days=args.keys.deletion_window_days,
                region=region,
                tags=args.tags,
            )

        self._region_settings(f"{name}-region-settings", None, child)
        vault_key = EncryptionKey(
            f"{name}-vault-key",
            vault_key_args(
                args.vault_key_alias,
                f"AWS Backup vault {args.vault_name}: DynamoDB recovery points",
                None,
            ),
            opts=data,
        )
        self.vault = aws.backup.Vault(
            f"{name}-vault",
            name=args.vault_name,
            kms_key_arn=vault_key.arn,
            tags=dict(args.tags),
            opts=data,
        )
        key_arns: list[pulumi.Input[str]] = [args.table_key_arn, vault_key.arn]

        copy_actions = None
        self.dr_vault = None
        if copy.enabled:
            self._region_settings(f"{name}-dr-region-settings", args.dr_region, child)
            dr_key = EncryptionKey(
                f"{name}-dr-vault-key",
                vault_key_args(
                    args.dr_vault_key_alias,
                    f"AWS Backup vault {args.dr_vault_name}: cross-region copies",
                    args.dr_region,
                ),
                opts=data,
            )
            self.dr_vault = aws.backup.Vault(
                f"{name}-dr-vault",
                name=args.dr_vault_name,
                kms_key_arn=dr_key.arn,
                region=args.dr_region,
                tags=dict(args.tags),
                opts=data,
            )
            key_arns.append(dr_key.arn)
            copy_actions = [
                aws.backup.PlanRuleCopyActionArgs(
                    destination_vault_arn=self.dr_vault.arn,
                    lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(
                        delete_after=copy.retention_days
                    ),
                )
            ]

        lock = settings.vault_lock
        if lock.enabled:
            aws.backup.VaultLockConfiguration(
                f"{name}-vault-lock",
                backup_vault_name=self.vault.name,
                min_retention_days=lock.min_retention_days,
                max_retention_days=lock.max_retention_days,
                changeable_for_days=lock.changeable_for_days,
                opts=data,
            )
            if self.dr_vault is not None:
                aws.backup.VaultLockConfiguration(
                    f"{name}-dr-vault-lock",
                    backup_vault_name=self.dr_vault.name,
                    min_retention_days=lock.min_retention_days,
                    max_retention_days=lock.max_retention_days,
                    changeable_for_days=lock.changeable_for_days,
                    region=args.dr_region,
                    opts=data,
                )

        self.role = self._service_role(name, args, key_arns, child)
        self.plan = aws.backup.Plan(
            f"{name}-plan",
            name=args.plan_name,
            rules=[
                aws.backup.PlanRuleArgs(
                    rule_name="daily",
                    target_vault_name=self.vault.name,
                    schedule=settings.schedule,
                    start_window=settings.start_window_minutes,
                    completion_window=settings.completion_window_minutes,
                    lifecycle=aws.backup.PlanRuleLifecycleArgs(
                        delete_after=settings.retention_days,
                        cold_storage_after=settings.cold_storage_after_days,
                    ),
                    copy_actions=copy_actions,
                    recovery_point_tags=dict(args.tags),
                )
            ],
            tags=dict(args.tags),
            opts=child,
        )
        self.selection = aws.backup.Selection(
            f"{name}-selection",
            name=f"{args.plan_name}-table",
            plan_id=self.plan.id,
            iam_role_arn=self.role.arn,
            resources=[args.table_arn],
            opts=child,
        )
        self.vault_arn = self.vault.arn
        self.dr_vault_arn = self.dr_vault.arn if self.dr_vault else pulumi.Output.from_input(None)
        self.plan_arn = self.plan.arn
        self.register_outputs(
            {"vaultArn": self.vault_arn, "drVaultArn": self.dr_vault_arn, "planArn": self.plan_arn}
        )

    def _region_settings(
        self, logical_name: str, region: str | None, opts: pulumi.ResourceOptions
    ) -> aws.backup.RegionSettings:
        return aws.backup.RegionSettings(
            logical_name,
            resource_type_opt_in_preference={"DynamoDB": True},
            # Advanced DynamoDB backup: vault-key encryption and cross-region copy.
            resource_type_management_preference={"DynamoDB": True},
            region=region,
            opts=opts,
        )

    def _service_role(
        self,
        name: str,
        args: CrossRegionBackupArgs,
        key_arns: list[pulumi.Input[str]],
        opts: pulumi.ResourceOptions,
    ) -> aws.iam.Role:
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        assume_role_policy = identity.account_id.apply(
            lambda account_id: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "BackupServiceOfThisAccount",
                            "Effect": "Allow",
                            "Principal": {"Service": "backup.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                        }
                    ],
                },
                sort_keys=True,
            )
        )
        role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description="AWS Backup service role for the app table's backups and restores",
            assume_role_policy=assume_role_policy,
            tags=dict(args.tags),
            opts=opts,
        )
        for purpose, policy_arn in BACKUP_MANAGED_POLICIES.items():
            aws.iam.RolePolicyAttachment(
                f"{name}-role-{purpose}",
                role=role.name,
                policy_arn=policy_arn,
                opts=opts,
            )
        # A managed policy rather than an inline one: it is versioned and reviewable on its own.
        keys_policy = aws.iam.Policy(
            f"{name}-keys-policy",
            name=f"{args.role_name}-keys",
            description="Lets the AWS Backup role use the table key and the vault keys",
            policy=pulumi.Output.all(*key_arns).apply(
                lambda arns: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "UseTableAndVaultKeys",
                                "Effect": "Allow",
                                "Action": list(BACKUP_KEY_ACTIONS),
                                "Resource": sorted(arns),
                            }
                        ],
                    },
                    sort_keys=True,
                )
            ),
            tags=dict(args.tags),
            opts=opts,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-role-keys",
            role=role.name,
            policy_arn=keys_policy.arn,
            opts=opts,
        )
        return role
