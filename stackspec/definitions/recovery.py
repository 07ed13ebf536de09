"""Recovery that is tested and evidenced: AWS Backup restore testing of the table, the vault's
restore-job notifications to the alert topic, and AWS Backup Audit Manager (a framework whose
controls are the stacks' backup promises, and report plans delivering to the audit bucket).

Control names and parameters are AWS Backup Audit Manager's own (``CreateFramework``); each
control is listed only when the stack makes the promise it checks (no cross-region control
without the copy, no vault-lock control without the lock).
"""

from __future__ import annotations

from dataclasses import dataclass

from stackspec.config.stack import StackConfig

#: AWS Backup's resource type name for DynamoDB tables (restore testing and control scopes).
DYNAMODB_RESOURCE_TYPE = "DynamoDB"
#: Vault events the alert topic receives. RESTORE_JOB_COMPLETED carries the job's final status
#: (COMPLETED or FAILED); RESTORE_JOB_FAILED and BACKUP_JOB_FAILED are deprecated by AWS and never
#: sent, so they are not used.
VAULT_EVENTS = ("RESTORE_JOB_STARTED", "RESTORE_JOB_COMPLETED", "COPY_JOB_FAILED")
#: AWS Backup Audit Manager writes reports with this service-linked role.
REPORTS_SERVICE_ROLE = (
    "aws-service-role/reports.backup.amazonaws.com/AWSServiceRoleForBackupReports"
)


@dataclass(frozen=True, kw_only=True)
class RestoreTestingDefinition:
    plan_name: str
    schedule: str
    start_window_hours: int
    algorithm: str
    selection_window_days: int
    recovery_point_types: tuple[str, ...]
    """SNAPSHOT: the vault's daily recovery points (PITR is native DynamoDB, not in the vault)."""
    include_vault: str
    """Name of the one vault whose recovery points are tested (never ``*``)."""
    selection_name: str
    protected_resource_type: str
    validation_window_hours: int
    """Hours the restored copy is kept before AWS Backup deletes it."""


@dataclass(frozen=True, kw_only=True)
class ControlDefinition:
    name: str
    parameters: tuple[tuple[str, str], ...] = ()
    resource_types: tuple[str, ...] = (DYNAMODB_RESOURCE_TYPE,)


@dataclass(frozen=True, kw_only=True)
class FrameworkDefinition:
    name: str
    description: str
    controls: tuple[ControlDefinition, ...]

    @property
    def control_names(self) -> tuple[str, ...]:
        return tuple(control.name for control in self.controls)


@dataclass(frozen=True, kw_only=True)
class ReportPlanDefinition:
    key: str
    """Logical suffix (``restore-jobs``)."""
    name: str
    description: str
    template: str
    covers_framework: bool
    """Compliance reports name the framework; job reports do not."""
    formats: tuple[str, ...]
    key_prefix: str


@dataclass(frozen=True, kw_only=True)
class RecoveryDefinition:
    rto_minutes: int
    rpo_minutes: int
    backup_rpo_hours: int
    vault_name: str
    notification_events: tuple[str, ...]
    restore_testing: RestoreTestingDefinition | None
    framework: FrameworkDefinition | None
    report_plans: tuple[ReportPlanDefinition, ...]
    tags: dict[str, str]


def framework_controls(cfg: StackConfig) -> tuple[ControlDefinition, ...]:
    backup = cfg.backup
    retention = str(backup.retention_days)
    controls = [
        ControlDefinition(name="BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN"),
        ControlDefinition(
            name="BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK",
            parameters=(
                ("requiredFrequencyUnit", "hours"),
                ("requiredFrequencyValue", "24"),
                ("requiredRetentionDays", retention),
            ),
            resource_types=(),
        ),
        ControlDefinition(name="BACKUP_RECOVERY_POINT_ENCRYPTED", resource_types=()),
        ControlDefinition(
            name="BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK",
            parameters=(("requiredRetentionDays", retention),),
            resource_types=(),
        ),
        ControlDefinition(name="BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED", resource_types=()),
        ControlDefinition(
            name="BACKUP_LAST_RECOVERY_POINT_CREATED",
            parameters=(("recoveryPointAgeUnit", "hours"), ("recoveryPointAgeValue", "25")),
        ),
        ControlDefinition(
            name="RESTORE_TIME_FOR_RESOURCES_MEET_TARGET",
            parameters=(("maxRestoreTime", str(cfg.recovery.targets.rto_minutes)),),
        ),
    ]
    lock = backup.vault_lock
    if lock.enabled:
        controls.append(
            ControlDefinition(
                name="BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK",
                parameters=(
                    ("minRetentionDays", str(lock.min_retention_days)),
                    ("maxRetentionDays", str(lock.max_retention_days)),
                ),
            )
        )
    if backup.cross_region_copy.enabled:
        controls.append(
            ControlDefinition(
                name="BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION",
                parameters=(("crossRegionList", cfg.dr_region),),
            )
        )
    return tuple(controls)


def recovery_definition(cfg: StackConfig) -> RecoveryDefinition:
    names = cfg.names
    settings = cfg.recovery
    testing = settings.restore_testing
    audit = settings.audit
    framework = (
        FrameworkDefinition(
            name=names.audit_framework,
            description=(
                f"Backup promises of {names.table}: plan, frequency, retention, encryption, "
                "lock, copy, recency and restore time"
            ),
            controls=framework_controls(cfg),
        )
        if audit.enabled
        else None
    )
    reports = (
        ("restore_jobs", "RESTORE_JOB_REPORT", False, "Every restore job, restore tests included"),
        ("backup_jobs", "BACKUP_JOB_REPORT", False, "Every backup job of the stack's vaults"),
        (
            "control_compliance",
            "CONTROL_COMPLIANCE_REPORT",
            True,
            "Compliance of each control of the stack's framework",
        ),
    )
    return RecoveryDefinition(
        rto_minutes=settings.targets.rto_minutes,
        rpo_minutes=settings.targets.rpo_minutes,
        backup_rpo_hours=settings.targets.backup_rpo_hours,
        vault_name=names.vault,
        notification_events=VAULT_EVENTS,
        restore_testing=(
            RestoreTestingDefinition(
                plan_name=names.restore_testing_plan,
                schedule=testing.schedule,
                start_window_hours=testing.start_window_hours,
                algorithm=testing.algorithm,
                selection_window_days=testing.selection_window_days,
                recovery_point_types=("SNAPSHOT",),
                include_vault=names.vault,
                selection_name=names.restore_testing_selection,
                protected_resource_type=DYNAMODB_RESOURCE_TYPE,
                validation_window_hours=testing.validation_window_hours,
            )
            if testing.enabled
            else None
        ),
        framework=framework,
        report_plans=(
            tuple(
                ReportPlanDefinition(
                    key=key.replace("_", "-"),
                    name=names.report_plan(key),
                    description=description,
                    template=template,
                    covers_framework=covers,
                    formats=tuple(audit.report_formats),
                    key_prefix=f"backup-audit/{key.replace('_', '-')}",
                )
                for key, template, covers, description in reports
            )
            if audit.enabled
            else ()
        ),
        tags=cfg.tags.as_dict(),
    )
