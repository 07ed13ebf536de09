"""AWS Backup of the app table: vaults on their own keys, the daily plan with its optional
cross-region copy, vault lock, the service role and the table's selection.

AWS Backup copies DynamoDB backups across regions only with *advanced DynamoDB backup* enabled in
the region settings of both regions; without it backups inherit the table's encryption and nothing
is copied, so the definition lists the regions whose settings must opt in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stackspec.config.stack import StackConfig
from stackspec.naming import KeyPurpose

#: AWS-managed policies the AWS Backup service role needs for DynamoDB backups and restores.
BACKUP_MANAGED_POLICY_NAMES = {
    "backup": "AWSBackupServiceRolePolicyForBackup",
    "restore": "AWSBackupServiceRolePolicyForRestores",
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
BACKUP_SERVICE = "backup.amazonaws.com"


@dataclass(frozen=True, kw_only=True)
class VaultDefinition:
    name: str
    region: str
    primary_region: bool
    key_purpose: KeyPurpose


@dataclass(frozen=True, kw_only=True)
class VaultLockDefinition:
    min_retention_days: int
    max_retention_days: int
    changeable_for_days: int | None
    """Set: compliance mode, immutable after that many days; unset: governance mode."""


@dataclass(frozen=True, kw_only=True)
class CopyDefinition:
    destination_vault: str
    retention_days: int


@dataclass(frozen=True, kw_only=True)
class BackupRuleDefinition:
    name: str
    target_vault: str
    schedule: str
    start_window_minutes: int
    completion_window_minutes: int
    retention_days: int
    cold_storage_after_days: int | None
    copy: CopyDefinition | None


@dataclass(frozen=True, kw_only=True)
class BackupDefinition:
    vault: VaultDefinition
    dr_vault: VaultDefinition | None
    lock: VaultLockDefinition | None
    """Applied to every vault of the stack."""
    region_settings_regions: tuple[str, ...]
    """Regions whose AWS Backup settings must opt DynamoDB in with advanced backup."""
    opted_in_resource_types: tuple[str, ...] = ("DynamoDB", "RDS")
    """Resource types the region settings opt in to AWS Backup: the table and the audit
    database."""
    plan_name: str
    rule: BackupRuleDefinition
    selection_name: str
    role_name: str
    role_description: str
    keys_policy_name: str
    keys_policy_description: str
    key_purposes_used: tuple[KeyPurpose, ...]
    """The keys the role must be able to use: the table's, the audit database's and every
    vault's."""
    tags: dict[str, str]

    @property
    def vaults(self) -> tuple[VaultDefinition, ...]:
        return (self.vault, self.dr_vault) if self.dr_vault else (self.vault,)

    def trust_policy(self, *, account_id: str) -> dict[str, Any]:
        """Only the AWS Backup service, acting for this account, may assume the role."""
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "BackupServiceOfThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": BACKUP_SERVICE},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                }
            ],
        }

    @staticmethod
    def managed_policy_arns(partition: str) -> dict[str, str]:
        return {
            purpose: f"arn:{partition}:iam::aws:policy/service-role/{name}"
            for purpose, name in BACKUP_MANAGED_POLICY_NAMES.items()
        }

    @staticmethod
    def keys_policy(key_arns: Sequence[str]) -> str:
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "UseTableAndVaultKeys",
                        "Effect": "Allow",
                        "Action": list(BACKUP_KEY_ACTIONS),
                        "Resource": sorted(key_arns),
                    }
                ],
            },
            sort_keys=True,
        )


def backup_definition(cfg: StackConfig) -> BackupDefinition:
    names = cfg.names
    settings = cfg.backup
    copy = settings.cross_region_copy
    lock = settings.vault_lock
    dr_vault = (
        VaultDefinition(
            name=names.dr_vault,
            region=cfg.dr_region,
            primary_region=False,
            key_purpose=KeyPurpose.BACKUP_DR,
        )
        if copy.enabled
        else None
    )
    return BackupDefinition(
        vault=VaultDefinition(
            name=names.vault, region=cfg.region, primary_region=True, key_purpose=KeyPurpose.BACKUP
        ),
        dr_vault=dr_vault,
        lock=(
            VaultLockDefinition(
                min_retention_days=lock.min_retention_days,
                max_retention_days=lock.max_retention_days,
                changeable_for_days=lock.changeable_for_days,
            )
            if lock.enabled
            else None
        ),
        region_settings_regions=(cfg.region, cfg.dr_region) if copy.enabled else (cfg.region,),
        plan_name=names.backup_plan,
        rule=BackupRuleDefinition(
            name="daily",
            target_vault=names.vault,
            schedule=settings.schedule,
            start_window_minutes=settings.start_window_minutes,
            completion_window_minutes=settings.completion_window_minutes,
            retention_days=settings.retention_days,
            cold_storage_after_days=settings.cold_storage_after_days,
            copy=(
                CopyDefinition(destination_vault=names.dr_vault, retention_days=copy.retention_days)
                if copy.enabled
                else None
            ),
        ),
        selection_name=names.backup_selection,
        role_name=names.backup_role,
        role_description=(
            "AWS Backup service role for the app table's and the audit database's backups "
            "and restores"
        ),
        keys_policy_name=names.backup_keys_policy,
        keys_policy_description="Lets the AWS Backup role use the table key and the vault keys",
        key_purposes_used=(
            KeyPurpose.TABLE,
            KeyPurpose.AUDIT_DATABASE,
            KeyPurpose.BACKUP,
            *((KeyPurpose.BACKUP_DR,) if copy.enabled else ()),
        ),
        tags=cfg.tags.as_dict(),
    )
