"""The registry: the pinned rule manifest, the metadata every rule must carry, the pack built from
it, and POLICIES.md kept current."""

from __future__ import annotations

import importlib
import pkgutil
import runpy
from pathlib import Path
from typing import NamedTuple

import pytest
from hipaa_guardrails import docs, exemptions, rules
from hipaa_guardrails.registry import PACK_NAME, all_rules, build_policies, policy_names, rule
from hipaa_guardrails.spec import CITATION_PATTERN, NAME_PATTERN, Scope
from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)


class Pin(NamedTuple):
    name: str
    path: str  # the rule's module, relative to rules/: the folder matters (rds/ vs dynamodb/)
    catalog_id: str
    severity: str
    scope: str
    controls: tuple[str, ...]
    aws_config: str | None
    cdk_nag: str | None
    checkov: str | None


#: Every rule's identity, weight, citations and cross-references: changing any is a reviewed change.
MANIFEST = [
    Pin(
        "hipaa-backup-audit-framework",
        "backup/audit_framework.py",
        "B9",
        "high",
        "stack",
        ("164.308(a)(7)(ii)(D)", "164.308(a)(8)", "164.316(b)(1)"),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-backup-copy-retention",
        "backup/copy_retention.py",
        "B5",
        "medium",
        "resource",
        ("164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"),
        "backup-recovery-point-minimum-retention-check",
        None,
        None,
    ),
    Pin(
        "hipaa-backup-cross-region-copy",
        "backup/cross_region_copy.py",
        "B4",
        "high",
        "stack",
        ("164.308(a)(7)(ii)(B)", "164.312(a)(2)(ii)"),
        "dynamodb-resources-protected-by-backup-plan (crossRegionList)",
        None,
        None,
    ),
    Pin(
        "hipaa-backup-plan-daily-with-retention",
        "backup/plan_daily_with_retention.py",
        "B1",
        "high",
        "resource",
        ("164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"),
        "backup-plan-min-frequency-and-min-retention-check",
        None,
        None,
    ),
    Pin(
        "hipaa-backup-restore-copy-deleted",
        "backup/restore_copy_deleted.py",
        "B7",
        "high",
        "resource",
        ("164.310(d)(2)(i)", "164.308(a)(7)(ii)(D)"),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-backup-restore-results-routed",
        "backup/restore_results_routed.py",
        "B8",
        "high",
        "stack",
        ("164.308(a)(7)(ii)(D)", "164.308(a)(6)(ii)"),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-backup-restore-tested",
        "backup/restore_tested.py",
        "B6",
        "high",
        "stack",
        ("164.308(a)(7)(ii)(D)", "164.308(a)(7)(ii)(B)"),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-backup-vault-encrypted-with-cmk",
        "backup/vault_encrypted_with_cmk.py",
        "B2",
        "high",
        "resource",
        ("164.312(a)(2)(iv)", "164.312(e)(2)(ii)"),
        "backup-recovery-point-encrypted",
        None,
        "CKV_AWS_166",
    ),
    Pin(
        "hipaa-backup-vault-locked",
        "backup/vault_locked.py",
        "B3",
        "high",
        "stack",
        ("164.312(c)(1)", "164.308(a)(7)(ii)(A)"),
        "backup-recovery-point-manual-deletion-disabled",
        None,
        None,
    ),
    Pin(
        "hipaa-budgets-route-to-encrypted-topic",
        "budgets/route_to_encrypted_topic.py",
        "S4",
        "medium",
        "stack",
        (),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-cloudtrail-encrypted-with-kms",
        "cloudtrail/encrypted_with_kms.py",
        "custom",
        "high",
        "resource",
        ("164.312(a)(2)(iv)", "164.312(b)"),
        "cloud-trail-encryption-enabled",
        "HIPAA.Security-CloudTrailEncryptionEnabled",
        "CKV_AWS_35",
    ),
    Pin(
        "hipaa-cloudtrail-log-file-validation",
        "cloudtrail/log_file_validation.py",
        "custom",
        "high",
        "resource",
        ("164.312(b)", "164.312(c)(1)", "164.312(c)(2)"),
        "cloud-trail-log-file-validation-enabled",
        "HIPAA.Security-CloudTrailLogFileValidationEnabled",
        "CKV_AWS_36",
    ),
    Pin(
        "hipaa-cloudtrail-management-events",
        "cloudtrail/management_events.py",
        "custom",
        "high",
        "resource",
        ("164.312(b)", "164.308(a)(1)(ii)(D)"),
        "cloudtrail-enabled",
        None,
        None,
    ),
    Pin(
        "hipaa-cloudtrail-multi-region",
        "cloudtrail/multi_region.py",
        "custom",
        "high",
        "resource",
        ("164.312(b)", "164.308(a)(1)(ii)(D)"),
        "multi-region-cloudtrail-enabled",
        None,
        "CKV_AWS_67",
    ),
    Pin(
        "hipaa-cloudtrail-table-data-events",
        "cloudtrail/table_data_events.py",
        "custom",
        "high",
        "stack",
        ("164.312(b)", "164.308(a)(1)(ii)(D)"),
        "cloudtrail-s3-dataevents-enabled",
        None,
        None,
    ),
    Pin(
        "hipaa-cloudwatch-alarm-actions-enabled",
        "cloudwatch/alarm_actions_enabled.py",
        "C1",
        "high",
        "resource",
        ("164.312(b)", "164.308(a)(6)(i)"),
        "cloudwatch-alarm-action-check",
        "HIPAA.Security-CloudWatchAlarmAction",
        "CKV_AWS_319",
    ),
    Pin(
        "hipaa-cloudwatch-alarms-route-to-encrypted-topic",
        "cloudwatch/alarms_route_to_encrypted_topic.py",
        "S4",
        "high",
        "stack",
        ("164.308(a)(6)(ii)", "164.312(b)"),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-cloudwatch-log-group-encrypted",
        "cloudwatch/log_group_encrypted.py",
        "C3",
        "high",
        "resource",
        ("164.312(a)(2)(iv)", "164.312(e)(2)(ii)"),
        "cloudwatch-log-group-encrypted",
        "HIPAA.Security-CloudWatchLogGroupEncrypted",
        "CKV_AWS_158",
    ),
    Pin(
        "hipaa-cloudwatch-log-group-retention",
        "cloudwatch/log_group_retention.py",
        "C2",
        "medium",
        "resource",
        ("164.312(b)", "164.316(b)(2)(i)"),
        "cw-loggroup-retention-period-check",
        "HIPAA.Security-CloudWatchLogGroupRetentionPeriod",
        "CKV_AWS_338",
    ),
    Pin(
        "hipaa-dynamodb-deletion-protection-enabled",
        "dynamodb/deletion_protection_enabled.py",
        "D5",
        "high",
        "resource",
        ("164.308(a)(7)(i)", "164.312(c)(1)"),
        "dynamodb-table-deletion-protection-enabled",
        None,
        None,
    ),
    Pin(
        "hipaa-dynamodb-encrypted-with-cmk",
        "dynamodb/encrypted_with_cmk.py",
        "D2",
        "critical",
        "resource",
        ("164.312(a)(2)(iv)", "164.312(e)(2)(ii)", "164.308(a)(4)(ii)(A)"),
        "dynamodb-table-encrypted-kms",
        None,
        "CKV_AWS_119",
    ),
    Pin(
        "hipaa-dynamodb-in-backup-plan",
        "dynamodb/in_backup_plan.py",
        "D3",
        "high",
        "stack",
        ("164.308(a)(7)(i)", "164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"),
        "dynamodb-in-backup-plan",
        "HIPAA.Security-DynamoDBInBackupPlan",
        None,
    ),
    Pin(
        "hipaa-dynamodb-on-demand-or-autoscaled",
        "dynamodb/on_demand_or_autoscaled.py",
        "D4",
        "medium",
        "resource",
        ("164.308(a)(7)(i)", "164.308(a)(7)(ii)(C)"),
        "dynamodb-autoscaling-enabled",
        "HIPAA.Security-DynamoDBAutoScalingEnabled",
        "CKV2_AWS_16",
    ),
    Pin(
        "hipaa-dynamodb-pitr-enabled",
        "dynamodb/pitr_enabled.py",
        "D1",
        "high",
        "resource",
        ("164.308(a)(7)(i)", "164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"),
        "dynamodb-pitr-enabled",
        "HIPAA.Security-DynamoDBPITREnabled",
        "CKV_AWS_28",
    ),
    Pin(
        "hipaa-dynamodb-stream-view-allowed",
        "dynamodb/stream_view_allowed.py",
        "D7",
        "medium",
        "resource",
        ("164.312(a)(1)",),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-dynamodb-ttl-spares-retained-attributes",
        "dynamodb/ttl_spares_retained_attributes.py",
        "D8",
        "medium",
        "resource",
        ("164.316(b)(2)(i)", "164.312(c)(1)"),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-elasticache-backups-retained",
        "elasticache/backups_retained.py",
        "E1",
        "high",
        "resource",
        ("164.308(a)(7)(i)", "164.308(a)(7)(ii)(A)"),
        "elasticache-redis-cluster-automatic-backup-check",
        "HIPAA.Security-ElastiCacheRedisClusterAutomaticBackup",
        "CKV_AWS_134",
    ),
    Pin(
        "hipaa-elasticache-default-user-disabled",
        "elasticache/default_user_disabled.py",
        "custom",
        "high",
        "stack",
        ("164.312(d)", "164.312(a)(1)"),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-elasticache-encrypted-at-rest-with-cmk",
        "elasticache/encrypted_at_rest_with_cmk.py",
        "E2",
        "critical",
        "resource",
        ("164.312(a)(2)(iv)", "164.312(e)(2)(ii)"),
        "elasticache-repl-grp-encrypted-at-rest",
        "AwsSolutions-AEC3",
        "CKV_AWS_29, CKV_AWS_191",
    ),
    Pin(
        "hipaa-elasticache-engine-pinned",
        "elasticache/engine_pinned.py",
        "custom",
        "medium",
        "resource",
        (),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-elasticache-in-transit-encrypted-with-auth",
        "elasticache/in_transit_encrypted_with_auth.py",
        "E3",
        "high",
        "resource",
        ("164.312(e)(1)", "164.312(d)"),
        "elasticache-repl-grp-encrypted-in-transit",
        "AwsSolutions-AEC3, AwsSolutions-AEC6",
        "CKV_AWS_30, CKV_AWS_31",
    ),
    Pin(
        "hipaa-elasticache-multi-az-failover",
        "elasticache/multi_az_failover.py",
        "E4",
        "high",
        "resource",
        ("164.308(a)(7)(ii)(C)", "164.312(a)(1)"),
        None,
        "AwsSolutions-AEC4",
        "CKV2_AWS_50",
    ),
    Pin(
        "hipaa-elasticache-parameter-group-family",
        "elasticache/parameter_group_family.py",
        "custom",
        "medium",
        "stack",
        (),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-elasticache-slow-log-delivered",
        "elasticache/slow_log_delivered.py",
        "E6",
        "medium",
        "resource",
        ("164.312(b)",),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-elasticache-transit-required-with-rbac",
        "elasticache/transit_required_with_rbac.py",
        "E5",
        "high",
        "resource",
        ("164.312(e)(1)", "164.312(d)", "164.312(a)(2)(i)"),
        "elasticache-repl-grp-encrypted-in-transit",
        "AwsSolutions-AEC3, AwsSolutions-AEC6",
        "CKV_AWS_30",
    ),
    Pin(
        "hipaa-elasticache-user-access-restricted",
        "elasticache/user_access_restricted.py",
        "custom",
        "high",
        "resource",
        ("164.308(a)(4)(ii)(B)", "164.312(a)(1)"),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-elasticache-user-password-required",
        "elasticache/user_password_required.py",
        "custom",
        "high",
        "resource",
        ("164.312(d)", "164.312(a)(2)(i)"),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-iam-data-access-scoped",
        "iam/data_access_scoped.py",
        "I3",
        "high",
        "resource",
        ("164.312(a)(1)", "164.308(a)(4)(ii)(B)"),
        "iam-customer-policy-blocked-kms-actions, iam-inline-policy-blocked-kms-actions",
        "AwsSolutions-IAM5",
        "CKV_AWS_355, CKV_AWS_288",
    ),
    Pin(
        "hipaa-iam-no-admin-or-full-access",
        "iam/no_admin_or_full_access.py",
        "I1",
        "high",
        "resource",
        ("164.308(a)(3)(i)", "164.308(a)(4)(ii)(A)", "164.312(a)(1)"),
        "iam-policy-no-statements-with-admin-access, iam-policy-no-statements-with-full-access",
        "HIPAA.Security-IAMPolicyNoStatementsWithAdminAccess, "
        "HIPAA.Security-IAMPolicyNoStatementsWithFullAccess",
        "CKV_AWS_62, CKV_AWS_63, CKV_AWS_274",
    ),
    Pin(
        "hipaa-iam-no-credentials-exposure",
        "iam/no_credentials_exposure.py",
        "custom",
        "high",
        "resource",
        ("164.312(a)(1)", "164.312(d)", "164.308(a)(4)(ii)(B)"),
        None,
        None,
        "CKV_AWS_287",
    ),
    Pin(
        "hipaa-iam-no-inline-policies",
        "iam/no_inline_policies.py",
        "I2",
        "medium",
        "resource",
        ("164.308(a)(4)(ii)(B)", "164.312(a)(1)"),
        "iam-no-inline-policy-check",
        "HIPAA.Security-IAMNoInlinePolicy",
        None,
    ),
    Pin(
        "hipaa-iam-no-privilege-escalation",
        "iam/no_privilege_escalation.py",
        "custom",
        "high",
        "resource",
        ("164.308(a)(3)(ii)(A)", "164.308(a)(4)(ii)(C)", "164.312(a)(1)"),
        None,
        None,
        "CKV_AWS_286",
    ),
    Pin(
        "hipaa-iam-no-unconstrained-permissions-management",
        "iam/no_unconstrained_permissions_management.py",
        "custom",
        "high",
        "resource",
        ("164.308(a)(4)(ii)(C)", "164.312(a)(1)"),
        None,
        None,
        "CKV_AWS_289",
    ),
    Pin(
        "hipaa-iam-no-unconstrained-write",
        "iam/no_unconstrained_write.py",
        "custom",
        "medium",
        "resource",
        ("164.312(c)(1)", "164.312(a)(1)"),
        None,
        None,
        "CKV_AWS_290",
    ),
    Pin(
        "hipaa-iam-no-user-policies",
        "iam/no_user_policies.py",
        "I2",
        "high",
        "resource",
        ("164.308(a)(3)(i)", "164.308(a)(4)(ii)(B)", "164.312(a)(1)"),
        "iam-user-no-policies-check",
        "HIPAA.Security-IAMUserNoPolicies",
        "CKV_AWS_40",
    ),
    Pin(
        "hipaa-iam-oidc-trust-sub-scoped",
        "iam/oidc_trust_sub_scoped.py",
        "I4",
        "high",
        "resource",
        ("164.312(a)(1)", "164.312(d)"),
        None,
        None,
        "CKV_AWS_393",
    ),
    Pin(
        "hipaa-iam-role-permissions-boundary",
        "iam/role_permissions_boundary.py",
        "I6",
        "high",
        "resource",
        ("164.308(a)(4)(ii)(B)", "164.312(a)(1)"),
        None,
        None,
        "CKV_AWS_286, CKV_AWS_289",
    ),
    Pin(
        "hipaa-iam-tenant-leading-keys",
        "iam/tenant_leading_keys.py",
        "D9",
        "high",
        "resource",
        ("164.312(a)(1)", "164.308(a)(4)(ii)(B)", "164.308(a)(4)(ii)(C)"),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-iam-trust-policy-scoped",
        "iam/trust_policy_scoped.py",
        "I4",
        "high",
        "resource",
        ("164.312(a)(1)", "164.312(d)"),
        None,
        None,
        "CKV_AWS_60, CKV_AWS_61, CKV_AWS_393",
    ),
    Pin(
        "hipaa-kms-key-deletion-guarded",
        "kms/key_deletion_guarded.py",
        "K2",
        "high",
        "resource",
        ("164.308(a)(1)(ii)(B)", "164.312(a)(2)(iv)"),
        "kms-cmk-not-scheduled-for-deletion",
        None,
        "CKV_AWS_227",
    ),
    Pin(
        "hipaa-kms-key-policy-explicit",
        "kms/key_policy_explicit.py",
        "K3",
        "high",
        "resource",
        ("164.312(a)(1)", "164.312(a)(2)(iv)"),
        None,
        None,
        "CKV2_AWS_64",
    ),
    Pin(
        "hipaa-kms-key-policy-safe",
        "kms/key_policy_safe.py",
        "K3",
        "high",
        "resource",
        ("164.312(a)(1)",),
        None,
        None,
        "CKV_AWS_33",
    ),
    Pin(
        "hipaa-kms-key-rotation-enabled",
        "kms/key_rotation_enabled.py",
        "K1",
        "high",
        "resource",
        ("164.312(a)(2)(iv)",),
        "cmk-backing-key-rotation-enabled",
        "AwsSolutions-KMS5",
        "CKV_AWS_7",
    ),
    Pin(
        "hipaa-lambda-environment-encrypted-with-cmk",
        "awslambda/environment_encrypted_with_cmk.py",
        "L5",
        "medium",
        "resource",
        ("164.312(a)(2)(iv)",),
        None,
        None,
        "CKV_AWS_173",
    ),
    Pin(
        "hipaa-lambda-function-inside-vpc",
        "awslambda/function_inside_vpc.py",
        "L4",
        "high",
        "resource",
        ("164.312(a)(1)", "164.312(e)(1)"),
        "lambda-inside-vpc",
        "HIPAA.Security-LambdaInsideVPC",
        "CKV_AWS_117",
    ),
    Pin(
        "hipaa-lambda-permission-not-public",
        "awslambda/permission_not_public.py",
        "L1",
        "high",
        "resource",
        ("164.312(a)(1)", "164.312(e)(1)"),
        "lambda-function-public-access-prohibited",
        "HIPAA.Security-LambdaFunctionPublicAccessProhibited",
        "CKV_AWS_301, CKV_AWS_364",
    ),
    Pin(
        "hipaa-lambda-reserved-concurrency",
        "awslambda/reserved_concurrency.py",
        "L2",
        "medium",
        "resource",
        ("164.312(b)",),
        "lambda-concurrency-check",
        "HIPAA.Security-LambdaConcurrency",
        "CKV_AWS_115",
    ),
    Pin(
        "hipaa-lambda-runtime-supported",
        "awslambda/runtime_supported.py",
        "L6",
        "medium",
        "resource",
        ("164.308(a)(1)(ii)(B)", "164.308(a)(5)(ii)(B)"),
        None,
        "AwsSolutions-L1",
        "CKV_AWS_363",
    ),
    Pin(
        "hipaa-lambda-stream-consumer-failure-destination",
        "awslambda/stream_consumer_failure_destination.py",
        "D6",
        "medium",
        "resource",
        ("164.312(b)", "164.312(c)(1)"),
        None,
        "Serverless-LambdaEventSourceMappingDestination",
        None,
    ),
    Pin(
        "hipaa-rds-alarm-set",
        "rds/alarm_set.py",
        "custom",
        "medium",
        "stack",
        ("164.308(a)(1)(ii)(D)", "164.308(a)(7)(i)"),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-rds-auto-minor-version-upgrade",
        "rds/auto_minor_version_upgrade.py",
        "R9",
        "medium",
        "resource",
        ("164.308(a)(5)(ii)(A)",),
        "rds-automatic-minor-version-upgrade-enabled",
        "HIPAA.Security-RDSAutomaticMinorVersionUpgradeEnabled",
        "CKV_AWS_226",
    ),
    Pin(
        "hipaa-rds-backups-retained",
        "rds/backups_retained.py",
        "R3",
        "high",
        "resource",
        ("164.308(a)(7)(i)", "164.308(a)(7)(ii)(A)"),
        "db-instance-backup-enabled",
        "HIPAA.Security-RDSInstanceBackupEnabled",
        "CKV_AWS_133",
    ),
    Pin(
        "hipaa-rds-copy-tags-to-snapshot",
        "rds/copy_tags_to_snapshot.py",
        "custom",
        "low",
        "resource",
        (),
        None,
        None,
        "CKV2_AWS_60",
    ),
    Pin(
        "hipaa-rds-deletion-protection-enabled",
        "rds/deletion_protection_enabled.py",
        "R6",
        "high",
        "resource",
        ("164.308(a)(7)(i)", "164.312(c)(1)"),
        "rds-cluster-deletion-protection-enabled",
        "HIPAA.Security-RDSInstanceDeletionProtectionEnabled",
        "CKV_AWS_293",
    ),
    Pin(
        "hipaa-rds-enhanced-monitoring",
        "rds/enhanced_monitoring.py",
        "R8",
        "medium",
        "resource",
        ("164.312(b)",),
        "rds-enhanced-monitoring-enabled",
        "HIPAA.Security-RDSEnhancedMonitoringEnabled",
        "CKV_AWS_118",
    ),
    Pin(
        "hipaa-rds-iam-auth-enabled",
        "rds/iam_auth_enabled.py",
        "R11",
        "high",
        "resource",
        ("164.308(a)(3)(ii)(A)", "164.308(a)(4)(i)", "164.312(d)"),
        "rds-instance-iam-authentication-enabled",
        None,
        "CKV_AWS_161",
    ),
    Pin(
        "hipaa-rds-in-backup-plan",
        "rds/in_backup_plan.py",
        "R4",
        "high",
        "stack",
        ("164.308(a)(7)(i)", "164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"),
        "rds-in-backup-plan",
        "HIPAA.Security-RDSInBackupPlan",
        "CKV2_AWS_8",
    ),
    Pin(
        "hipaa-rds-logs-exported",
        "rds/logs_exported.py",
        "R7",
        "medium",
        "resource",
        ("164.312(b)",),
        "rds-logging-enabled",
        "HIPAA.Security-RDSLoggingEnabled",
        "CKV_AWS_129",
    ),
    Pin(
        "hipaa-rds-managed-master-password",
        "rds/managed_master_password.py",
        "custom",
        "high",
        "resource",
        ("164.312(a)(1)", "164.312(d)"),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-rds-multi-az",
        "rds/multi_az.py",
        "R5",
        "high",
        "resource",
        ("164.308(a)(7)(i)", "164.308(a)(7)(ii)(C)"),
        "rds-multi-az-support",
        "HIPAA.Security-RDSMultiAZSupport",
        "CKV_AWS_157",
    ),
    Pin(
        "hipaa-rds-not-public",
        "rds/not_public.py",
        "R2",
        "high",
        "resource",
        ("164.312(a)(1)", "164.312(e)(1)"),
        "rds-instance-public-access-check",
        "HIPAA.Security-RDSInstancePublicAccess",
        "CKV_AWS_17",
    ),
    Pin(
        "hipaa-rds-parameter-group-audit-logging",
        "rds/parameter_group_audit_logging.py",
        "R7",
        "medium",
        "resource",
        ("164.312(b)", "164.308(a)(5)(ii)(C)"),
        "rds-logging-enabled",
        None,
        "CKV2_AWS_30",
    ),
    Pin(
        "hipaa-rds-parameter-group-tls",
        "rds/parameter_group_tls.py",
        "R10",
        "high",
        "resource",
        ("164.312(e)(1)", "164.312(e)(2)(i)"),
        "rds-postgres-instance-encrypted-in-transit",
        None,
        "CKV2_AWS_69",
    ),
    Pin(
        "hipaa-rds-performance-insights-encrypted-with-cmk",
        "rds/performance_insights_encrypted_with_cmk.py",
        "R12",
        "medium",
        "resource",
        ("164.312(a)(2)(iv)", "164.312(b)"),
        None,
        None,
        "CKV_AWS_353, CKV_AWS_354",
    ),
    Pin(
        "hipaa-rds-storage-encrypted-with-cmk",
        "rds/storage_encrypted_with_cmk.py",
        "R1",
        "critical",
        "resource",
        ("164.312(a)(2)(iv)", "164.312(e)(2)(ii)"),
        "rds-storage-encrypted",
        "HIPAA.Security-RDSStorageEncrypted",
        "CKV_AWS_16",
    ),
    Pin(
        "hipaa-s3-bucket-access-logging",
        "s3/bucket_access_logging.py",
        "S3-5",
        "high",
        "stack",
        ("164.312(b)",),
        "s3-bucket-logging-enabled",
        "HIPAA.Security-S3BucketLoggingEnabled",
        "CKV_AWS_18",
    ),
    Pin(
        "hipaa-s3-bucket-acls-disabled",
        "s3/bucket_acls_disabled.py",
        "S3-4",
        "high",
        "stack",
        ("164.312(a)(1)", "164.312(e)(1)"),
        "s3-bucket-acl-prohibited",
        None,
        "CKV2_AWS_65",
    ),
    Pin(
        "hipaa-s3-bucket-encrypted-with-kms",
        "s3/bucket_encrypted_with_kms.py",
        "S3-2",
        "high",
        "stack",
        ("164.312(a)(2)(iv)", "164.312(e)(2)(ii)"),
        "s3-default-encryption-kms",
        "HIPAA.Security-S3DefaultEncryptionKMS",
        "CKV_AWS_145",
    ),
    Pin(
        "hipaa-s3-bucket-lifecycle",
        "s3/bucket_lifecycle.py",
        "custom",
        "medium",
        "stack",
        ("164.316(b)(2)(i)",),
        "s3-version-lifecycle-policy-check",
        None,
        "CKV2_AWS_61",
    ),
    Pin(
        "hipaa-s3-bucket-public-access-blocked",
        "s3/bucket_public_access_blocked.py",
        "S3-4",
        "high",
        "stack",
        ("164.312(a)(1)", "164.312(e)(1)"),
        "s3-bucket-public-read-prohibited, s3-bucket-public-write-prohibited",
        "HIPAA.Security-S3BucketLevelPublicAccessProhibited",
        "CKV2_AWS_6, CKV_AWS_53, CKV_AWS_54, CKV_AWS_55, CKV_AWS_56",
    ),
    Pin(
        "hipaa-s3-bucket-tls-minimum-version",
        "s3/bucket_tls_minimum_version.py",
        "S3-1",
        "high",
        "stack",
        ("164.312(e)(1)", "164.312(e)(2)(i)"),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-s3-bucket-tls-only",
        "s3/bucket_tls_only.py",
        "S3-1",
        "high",
        "stack",
        ("164.312(e)(1)", "164.312(e)(2)(i)", "164.312(c)(2)"),
        "s3-bucket-ssl-requests-only",
        "HIPAA.Security-S3BucketSSLRequestsOnly",
        None,
    ),
    Pin(
        "hipaa-s3-bucket-versioned",
        "s3/bucket_versioned.py",
        "S3-3",
        "high",
        "stack",
        ("164.308(a)(7)(ii)(A)", "164.312(c)(1)", "164.312(c)(2)"),
        "s3-bucket-versioning-enabled",
        "HIPAA.Security-S3BucketVersioningEnabled",
        "CKV_AWS_21",
    ),
    Pin(
        "hipaa-s3-object-lock-compliance-mode",
        "s3/object_lock_compliance_mode.py",
        "custom",
        "high",
        "resource",
        ("164.312(c)(1)", "164.316(b)(2)(i)"),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-s3-object-lock-retention",
        "s3/object_lock_retention.py",
        "S3-5",
        "high",
        "resource",
        ("164.312(c)(1)", "164.316(b)(2)(i)"),
        "s3-bucket-default-lock-enabled",
        None,
        "CKV_AWS_143",
    ),
    Pin(
        "hipaa-secretsmanager-secret-encrypted-with-cmk",
        "secretsmanager/secret_encrypted_with_cmk.py",
        "custom",
        "high",
        "resource",
        ("164.312(a)(2)(iv)", "164.312(e)(2)(ii)"),
        "secretsmanager-using-cmk",
        "HIPAA.Security-SecretsManagerUsingKMSKey",
        "CKV_AWS_149",
    ),
    Pin(
        "hipaa-sns-topic-encrypted-with-cmk",
        "sns/topic_encrypted_with_cmk.py",
        "S1",
        "high",
        "resource",
        ("164.312(a)(2)(iv)", "164.312(e)(2)(ii)"),
        "sns-encrypted-kms",
        "HIPAA.Security-SNSEncryptedKMS",
        "CKV_AWS_26",
    ),
    Pin(
        "hipaa-sns-topic-policy-not-public",
        "sns/topic_policy_not_public.py",
        "S3",
        "high",
        "resource",
        ("164.312(a)(1)",),
        None,
        None,
        "CKV_AWS_169",
    ),
    Pin(
        "hipaa-sns-topic-publish-same-account",
        "sns/topic_publish_same_account.py",
        "S3",
        "high",
        "resource",
        ("164.312(a)(1)", "164.312(c)(1)"),
        None,
        None,
        "CKV_AWS_385",
    ),
    Pin(
        "hipaa-sns-topic-tls-only",
        "sns/topic_tls_only.py",
        "S2",
        "medium",
        "stack",
        ("164.312(e)(1)", "164.312(e)(2)(i)"),
        None,
        "AwsSolutions-SNS3",
        None,
    ),
    Pin(
        "hipaa-sqs-queue-encrypted-with-cmk",
        "sqs/queue_encrypted_with_cmk.py",
        "Q1",
        "high",
        "resource",
        ("164.312(a)(2)(iv)", "164.312(e)(2)(ii)"),
        None,
        None,
        "CKV_AWS_27, CKV2_AWS_73",
    ),
    Pin(
        "hipaa-sqs-queue-policy-not-public",
        "sqs/queue_policy_not_public.py",
        "Q3",
        "high",
        "resource",
        ("164.312(a)(1)",),
        None,
        None,
        "CKV_AWS_168",
    ),
    Pin(
        "hipaa-sqs-queue-tls-only",
        "sqs/queue_tls_only.py",
        "Q2",
        "medium",
        "stack",
        ("164.312(e)(1)", "164.312(e)(2)(i)"),
        None,
        "AwsSolutions-SQS4",
        None,
    ),
    Pin(
        "hipaa-stack-data-resources-protected",
        "stack/data_resources_protected.py",
        "custom",
        "high",
        "stack",
        ("164.312(c)(1)", "164.308(a)(7)(ii)(B)"),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-stack-data-types-covered",
        "stack/data_types_covered.py",
        "custom",
        "high",
        "stack",
        ("164.308(a)(1)(ii)(B)", "164.312(a)(2)(iv)"),
        None,
        None,
        None,
    ),
    Pin(
        "hipaa-vpc-default-security-group-closed",
        "vpc/default_security_group_closed.py",
        "custom",
        "high",
        "stack",
        ("164.312(a)(1)", "164.312(e)(1)"),
        "vpc-default-security-group-closed",
        "HIPAA.Security-VPCDefaultSecurityGroupClosed",
        "CKV2_AWS_12",
    ),
    Pin(
        "hipaa-vpc-flow-log-destination-encrypted",
        "vpc/flow_log_destination_encrypted.py",
        "custom",
        "high",
        "stack",
        ("164.312(a)(2)(iv)", "164.312(b)"),
        "cloudwatch-log-group-encrypted",
        None,
        "CKV_AWS_158",
    ),
    Pin(
        "hipaa-vpc-flow-logs-enabled",
        "vpc/flow_logs_enabled.py",
        "custom",
        "high",
        "stack",
        ("164.308(a)(1)(ii)(D)", "164.312(b)"),
        "vpc-flow-logs-enabled",
        "HIPAA.Security-VPCFlowLogsEnabled",
        "CKV2_AWS_11",
    ),
    Pin(
        "hipaa-vpc-interface-endpoint-private-dns",
        "vpc/interface_endpoint_private_dns.py",
        "custom",
        "medium",
        "resource",
        ("164.312(e)(1)",),
        "service-vpc-endpoint-enabled",
        None,
        None,
    ),
    Pin(
        "hipaa-vpc-no-internet-gateway",
        "vpc/no_internet_gateway.py",
        "custom",
        "high",
        "resource",
        ("164.312(a)(1)", "164.312(e)(1)"),
        "no-unrestricted-route-to-igw",
        "HIPAA.Security-VPCNoUnrestrictedRouteToIGW",
        None,
    ),
    Pin(
        "hipaa-vpc-security-group-no-open-egress",
        "vpc/security_group_no_open_egress.py",
        "custom",
        "high",
        "resource",
        ("164.312(a)(1)", "164.312(e)(1)"),
        None,
        None,
        "CKV_AWS_382",
    ),
    Pin(
        "hipaa-vpc-security-group-no-public-ingress",
        "vpc/security_group_no_public_ingress.py",
        "custom",
        "high",
        "resource",
        ("164.312(a)(1)", "164.312(e)(1)"),
        "restricted-ssh, restricted-common-ports",
        "HIPAA.Security-EC2RestrictedSSH, HIPAA.Security-EC2RestrictedCommonPorts",
        "CKV_AWS_24, CKV_AWS_25, CKV_AWS_260, CKV_AWS_277",
    ),
    Pin(
        "hipaa-vpc-subnet-no-public-ip",
        "vpc/subnet_no_public_ip.py",
        "custom",
        "high",
        "resource",
        ("164.312(a)(1)", "164.312(e)(1)"),
        "subnet-auto-assign-public-ip-disabled",
        "HIPAA.Security-VPCSubnetAutoAssignPublicIpDisabled",
        "CKV_AWS_130",
    ),
]


def _rule_files() -> dict[str, str]:
    """Each rule's module, relative to ``rules/``, found the way the registry finds rules."""
    root = Path(rules.__file__).parent
    files = {}
    for info in pkgutil.walk_packages(rules.__path__, prefix=rules.__name__ + "."):
        module = importlib.import_module(info.name)
        found = getattr(module, "RULE", None)
        if found is not None:
            files[found.name] = Path(module.__file__).relative_to(root).as_posix()
    return files


def test_manifest_pins_every_rule():
    files = _rule_files()
    assert [
        Pin(
            r.name,
            files[r.name],
            r.catalog_id,
            r.severity.value,
            r.scope.value,
            r.controls,
            r.aws_config,
            r.cdk_nag,
            r.checkov,
        )
        for r in all_rules()
    ] == MANIFEST


def test_catalog_coverage_required_by_the_issue():
    # DynamoDB D1-D5, D7, D8; KMS K1-K3; Backup B1-B5; CloudWatch C1-C3; SNS S1-S4; IAM I1-I4.
    ids = {r.catalog_id for r in all_rules()}
    required = {"D1", "D2", "D3", "D4", "D5", "D7", "D8", "K1", "K2", "K3", "B1", "B2", "B3"}
    required |= {"B4", "B5", "C1", "C2", "C3", "S1", "S2", "S3", "S4", "I1", "I2", "I3", "I4"}
    assert required <= ids


@pytest.mark.parametrize("guardrail", all_rules(), ids=lambda r: r.name)
def test_rule_metadata(guardrail):
    assert NAME_PATTERN.match(guardrail.name)
    assert guardrail.description.endswith(".")
    assert guardrail.remediation
    assert guardrail.unknowns
    if guardrail.operational:
        assert guardrail.controls == ()
    else:
        assert guardrail.controls
        assert all(CITATION_PATTERN.match(c) for c in guardrail.controls), guardrail.controls
    expected = (
        EnforcementLevel.MANDATORY
        if guardrail.severity in (Severity.CRITICAL, Severity.HIGH)
        else EnforcementLevel.ADVISORY
    )
    assert guardrail.enforcement is expected
    if guardrail.scope is Scope.RESOURCE:
        assert guardrail.resource_types
    for key, schema in guardrail.config_properties.items():
        assert "default" in schema, key
        assert schema.get("description"), key


def test_rule_module_names_follow_the_rule_names():
    # rules/<service>/<what>.py holds hipaa-<service>-<what> (service spelt as in the name).
    root = Path(docs.PACK_DIR) / "hipaa_guardrails" / "rules"
    stems = {p.stem.replace("_", "-") for p in root.rglob("*.py") if not p.name.startswith("_")}
    for guardrail in all_rules():
        assert any(guardrail.name.endswith(stem) for stem in stems), guardrail.name


def test_policies_are_built_from_the_registry():
    built = build_policies()
    assert [p.name for p in built] == policy_names()
    assert built[-1].name == exemptions.REPORT_POLICY  # last, after every rule that records
    for policy, guardrail in zip(built, all_rules(), strict=False):
        assert policy.name == guardrail.name
        assert policy.severity is guardrail.severity
        assert policy.enforcement_level is guardrail.enforcement
        assert policy.remediation_steps == guardrail.remediation
        assert policy.framework is not None
        assert policy.framework.name == "HIPAA Security Rule"
        assert policy.framework.reference == (", ".join(guardrail.controls) or None)
        assert [f"hipaa:{c}" for c in guardrail.controls] == [
            t for t in (policy.tags or []) if t.startswith("hipaa:")
        ]
        assert policy.config_schema is not None
        assert "exemptions" in policy.config_schema.properties
        kind = (
            ResourceValidationPolicy if guardrail.scope is Scope.RESOURCE else StackValidationPolicy
        )
        assert isinstance(policy, kind)


def test_rule_lookup_names_the_known_rules():
    assert rule("hipaa-dynamodb-pitr-enabled").catalog_id == "D1"
    with pytest.raises(KeyError, match="no rule named 'hipaa-nope'; rules: hipaa-backup"):
        rule("hipaa-nope")


def test_pack_entry_point_builds_the_pack_once(monkeypatch):
    built = []

    class RecordingPack:
        def __init__(self, **kwargs):
            built.append(kwargs)

    monkeypatch.setattr("pulumi_policy.PolicyPack", RecordingPack)
    runpy.run_path(str(Path(docs.PACK_DIR) / "__main__.py"), run_name="__main__")
    [kwargs] = built
    assert kwargs["name"] == PACK_NAME
    assert [p.name for p in kwargs["policies"]] == policy_names()


def test_pack_requirements_pin_the_sdk_and_nothing_of_the_repo():
    requirements = (Path(docs.PACK_DIR) / "requirements.txt").read_text().splitlines()
    pins = sorted(line for line in requirements if line and not line.startswith("#"))
    assert pins == ["pulumi-policy==1.21.0", "pulumi==3.272.0"]
    for path in (Path(docs.PACK_DIR) / "hipaa_guardrails").rglob("*.py"):
        assert "from components" not in path.read_text(), path


def test_policies_md_is_current():
    assert docs.OUTPUT.read_text(encoding="utf-8") == docs.render(), "run `make docs`"


def test_docs_check_mode(capsys):
    assert docs.main(["--check"]) == 0
    assert "POLICIES.md is current" in capsys.readouterr().out


def test_docs_report_a_broken_pack_config_without_a_traceback(tmp_path, monkeypatch, capsys):
    (tmp_path / "dev.json").write_text("{")
    monkeypatch.setattr(docs, "CONFIG_DIR", tmp_path)
    assert docs.main(["--check"]) == 2
    assert capsys.readouterr().err.startswith("error: cannot read the stack pack configs in")
