"""Recovery that is tested and evidenced: AWS Backup restore testing of the table, the primary
vault's job notifications to the alert topic, and the Audit Manager framework and report plans,
all as ``stackspec.definitions.recovery`` defines them."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stackspec.definitions.recovery import RecoveryDefinition


@dataclass(frozen=True, kw_only=True)
class RecoveryAssuranceArgs:
    """Inputs of :class:`RecoveryAssurance`."""

    definition: RecoveryDefinition
    """Restore testing, notifications, framework and report plans."""
    table_arn: pulumi.Input[str]
    """The table restore testing restores."""
    vault_arn: pulumi.Input[str]
    """The primary vault: its recovery points are tested and its events notified."""
    vault_name: pulumi.Input[str]
    role_arn: pulumi.Input[str]
    """The AWS Backup service role (it has the restore policy and the keys)."""
    topic_arn: pulumi.Input[str]
    """The encrypted alert topic."""
    report_bucket_name: pulumi.Input[str] | None
    """The audit bucket; required when the definition has report plans."""


class RecoveryAssurance(pulumi.ComponentResource):
    """Restore testing plan and selection, vault notifications, framework, report plans."""

    restore_testing_plan: aws.backup.RestoreTestingPlan | None
    framework: aws.backup.Framework | None
    report_plans: dict[str, aws.backup.ReportPlan]

    def __init__(
        self, name: str, args: RecoveryAssuranceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medeez:data:RecoveryAssurance", name, None, opts)
        definition = args.definition
        tags = definition.tags
        child = pulumi.ResourceOptions(parent=self)

        aws.backup.VaultNotifications(
            f"{name}-vault-notifications",
            backup_vault_name=args.vault_name,
            sns_topic_arn=args.topic_arn,
            backup_vault_events=list(definition.notification_events),
            opts=child,
        )
        self.restore_testing_plan = None
        testing = definition.restore_testing
        if testing is not None:
            self.restore_testing_plan = aws.backup.RestoreTestingPlan(
                f"{name}-restore-testing-plan",
                name=testing.plan_name,
                schedule_expression=testing.schedule,
                start_window_hours=testing.start_window_hours,
                recovery_point_selection=aws.backup.RestoreTestingPlanRecoveryPointSelectionArgs(
                    algorithm=testing.algorithm,
                    include_vaults=[args.vault_arn],
                    recovery_point_types=list(testing.recovery_point_types),
                    selection_window_days=testing.selection_window_days,
                ),
                tags=dict(tags),
                opts=child,
            )
            aws.backup.RestoreTestingSelection(
                f"{name}-restore-testing-selection",
                name=testing.selection_name,
                restore_testing_plan_name=self.restore_testing_plan.name,
                protected_resource_type=testing.protected_resource_type,
                protected_resource_arns=[args.table_arn],
                iam_role_arn=args.role_arn,
                validation_window_hours=testing.validation_window_hours,
                opts=child,
            )
        self.framework = None
        if definition.framework is not None:
            self.framework = aws.backup.Framework(
                f"{name}-framework",
                name=definition.framework.name,
                description=definition.framework.description,
                controls=[
                    aws.backup.FrameworkControlArgs(
                        name=control.name,
                        input_parameters=[
                            aws.backup.FrameworkControlInputParameterArgs(name=key, value=value)
                            for key, value in control.parameters
                        ]
                        or None,
                        scope=(
                            aws.backup.FrameworkControlScopeArgs(
                                compliance_resource_types=list(control.resource_types)
                            )
                            if control.resource_types
                            else None
                        ),
                    )
                    for control in definition.framework.controls
                ],
                tags=dict(tags),
                opts=child,
            )
        self.report_plans = {}
        bucket = args.report_bucket_name
        if definition.report_plans and bucket is None:
            raise ValueError("report plans need the audit bucket (report_bucket_name)")
        for plan in definition.report_plans:
            assert bucket is not None  # checked above; narrows the type
            framework_arns = (
                [self.framework.arn] if plan.covers_framework and self.framework else None
            )
            self.report_plans[plan.key] = aws.backup.ReportPlan(
                f"{name}-report-{plan.key}",
                name=plan.name,
                description=plan.description,
                report_delivery_channel=aws.backup.ReportPlanReportDeliveryChannelArgs(
                    s3_bucket_name=bucket,
                    s3_key_prefix=plan.key_prefix,
                    formats=list(plan.formats),
                ),
                report_setting=aws.backup.ReportPlanReportSettingArgs(
                    report_template=plan.template,
                    framework_arns=framework_arns,
                    number_of_frameworks=len(framework_arns) if framework_arns else None,
                ),
                tags=dict(tags),
                opts=child,
            )
        self.register_outputs({"frameworkArn": self.framework.arn if self.framework else None})
