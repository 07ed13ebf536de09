"""Medeez v2 data layer: one stack per environment, built from ``Pulumi.<stack>.yaml``."""

import pulumi

from components.alarm_specs import alarm_specs
from components.app_table import AppTable, AppTableArgs
from components.cost_budget import CostBudget, CostBudgetArgs
from components.cross_region_backup import CrossRegionBackup, CrossRegionBackupArgs
from components.encryption_key import EncryptionKey, EncryptionKeyArgs
from components.monitoring import PUBLISHING_SERVICES, Monitoring, MonitoringArgs
from components.pulumi_config import stack_config_from_runtime
from components.schema import GLOBAL_INDEX_NAMES
from components.table_spec import table_spec

config = stack_config_from_runtime()
tags = config.tags.as_dict()
# Data-bearing resources (keys, table, vaults): protection comes from the stack config.
data = pulumi.ResourceOptions(
    protect=config.protection.protect, retain_on_delete=config.protection.retain_on_delete
)


def encryption_key(purpose: str, description: str, **policy: tuple[str, ...]) -> EncryptionKey:
    return EncryptionKey(
        f"{purpose}-key",
        EncryptionKeyArgs(
            alias=config.key_alias(purpose),
            description=description,
            rotation_enabled=config.keys.rotation.enabled,
            rotation_period_days=config.keys.rotation.period_days,
            deletion_window_days=config.keys.deletion_window_days,
            tags=tags,
            **policy,  # type: ignore[arg-type]
        ),
        opts=data,
    )


table_key = encryption_key("table", f"DynamoDB SSE for {config.table_name}")
phi_key = encryption_key(
    "phi",
    "PHI field envelope encryption (encryption context must carry clinicId)",
    required_context_keys=("clinicId",),
)
alerts_key = encryption_key(
    "alerts", f"SNS topic {config.topic_name}", service_publishers=PUBLISHING_SERVICES
)

table = AppTable(
    "app",
    AppTableArgs(spec=table_spec(config), kms_key_arn=table_key.arn, tags=tags),
    opts=data,
)

monitoring = Monitoring(
    "monitoring",
    MonitoringArgs(
        topic_name=config.topic_name,
        alerts_key_arn=alerts_key.arn,
        alarms=alarm_specs(config),
        subscribers=config.alarms.subscribers,
        dashboard_name=config.dashboard_name,
        table_name=config.table_name,
        index_names=GLOBAL_INDEX_NAMES,
        tags=tags,
    ),
)

backup = CrossRegionBackup(
    "backup",
    CrossRegionBackupArgs(
        table_arn=table.arn,
        table_key_arn=table_key.arn,
        settings=config.backup,
        keys=config.keys,
        vault_name=config.vault_name,
        dr_vault_name=config.dr_vault_name,
        plan_name=config.backup_plan_name,
        role_name=config.backup_role_name,
        vault_key_alias=config.key_alias("backup"),
        dr_vault_key_alias=config.key_alias("backup-dr"),
        dr_region=config.dr_region,
        protection=config.protection,
        tags=tags,
    ),
)

budget = CostBudget(
    "cost",
    CostBudgetArgs(
        budget_name=config.budget_name,
        monthly_limit_usd=config.budget.monthly_limit_usd,
        notifications=config.budget.notifications,
        topic_arn=monitoring.topic_arn,
        emails=config.budget.emails,
        cost_allocation_tag=config.budget.cost_allocation_tag,
        cost_allocation_value=tags[config.budget.cost_allocation_tag],
        tags=tags,
    ),
)

pulumi.export("environment", config.environment)
pulumi.export("region", config.region)
pulumi.export("drRegion", config.dr_region)
pulumi.export("tableName", table.name)
pulumi.export("tableArn", table.arn)
pulumi.export("tableStreamArn", table.stream_arn)
for purpose, key in (("table", table_key), ("phi", phi_key), ("alerts", alerts_key)):
    pulumi.export(f"{purpose}KeyArn", key.arn)
    pulumi.export(f"{purpose}KeyAlias", key.alias_name)
pulumi.export("alertTopicArn", monitoring.topic_arn)
pulumi.export("dashboardName", monitoring.dashboard_name)
pulumi.export("backupVaultArn", backup.vault_arn)
pulumi.export("drBackupVaultArn", backup.dr_vault_arn)
pulumi.export("backupPlanArn", backup.plan_arn)
pulumi.export("budgetName", config.budget_name)
