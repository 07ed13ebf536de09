"""Recovery assurance on the local endpoint: the report plans (delivering to the audit bucket,
which ``scripts.services.audit_trail`` builds); restore testing, vault notifications and the
Audit Manager framework are attempted and reported as skipped, because moto 5.2.5 implements
none of their calls.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from scripts.aws_target import error_code, not_emulated
from scripts.services.base import (
    CheckContext,
    Outcome,
    SetupContext,
)
from stackspec.definitions.recovery import RecoveryDefinition, ReportPlanDefinition

NAME = "recovery"


# --- requests, from the definitions (setup sends them; parity compares them) ---------------------


def report_plan_request(
    plan: ReportPlanDefinition, *, bucket: str, framework_arn: str | None, tags: dict[str, str]
) -> dict[str, Any]:
    setting: dict[str, Any] = {"ReportTemplate": plan.template}
    if plan.covers_framework and framework_arn:
        setting.update(FrameworkArns=[framework_arn], NumberOfFrameworks=1)
    return {
        "ReportPlanName": plan.name,
        "ReportPlanDescription": plan.description,
        "ReportDeliveryChannel": {
            "S3BucketName": bucket,
            "S3KeyPrefix": plan.key_prefix,
            "Formats": list(plan.formats),
        },
        "ReportSetting": setting,
        "ReportPlanTags": dict(tags),
    }


def restore_testing_requests(
    definition: RecoveryDefinition, *, vault_arn: str, table_arn: str, role_arn: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    testing = definition.restore_testing
    if testing is None:
        return None
    plan = {
        "RestoreTestingPlan": {
            "RestoreTestingPlanName": testing.plan_name,
            "ScheduleExpression": testing.schedule,
            "StartWindowHours": testing.start_window_hours,
            "RecoveryPointSelection": {
                "Algorithm": testing.algorithm,
                "IncludeVaults": [vault_arn],
                "RecoveryPointTypes": list(testing.recovery_point_types),
                "SelectionWindowDays": testing.selection_window_days,
            },
        },
        "Tags": dict(definition.tags),
    }
    selection = {
        "RestoreTestingPlanName": testing.plan_name,
        "RestoreTestingSelection": {
            "RestoreTestingSelectionName": testing.selection_name,
            "ProtectedResourceType": testing.protected_resource_type,
            "ProtectedResourceArns": [table_arn],
            "IamRoleArn": role_arn,
            "ValidationWindowHours": testing.validation_window_hours,
        },
    }
    return plan, selection


def framework_request(definition: RecoveryDefinition) -> dict[str, Any] | None:
    framework = definition.framework
    if framework is None:
        return None
    controls = []
    for control in framework.controls:
        entry: dict[str, Any] = {"ControlName": control.name}
        if control.parameters:
            entry["ControlInputParameters"] = [
                {"ParameterName": k, "ParameterValue": v} for k, v in control.parameters
            ]
        if control.resource_types:
            entry["ControlScope"] = {"ComplianceResourceTypes": list(control.resource_types)}
        controls.append(entry)
    return {
        "FrameworkName": framework.name,
        "FrameworkDescription": framework.description,
        "FrameworkControls": controls,
        "FrameworkTags": dict(definition.tags),
    }


# --- setup ---------------------------------------------------------------------------------------


def _arns(ctx: SetupContext | CheckContext) -> dict[str, str]:
    names = ctx.stack.config.names
    region, account, partition = (
        ctx.stack.config.region,
        ctx.identity.account,
        ctx.identity.partition,
    )
    return {
        "vault": f"arn:{partition}:backup:{region}:{account}:backup-vault:{names.vault}",
        "table": f"arn:{partition}:dynamodb:{region}:{account}:table/{names.table}",
        "role": f"arn:{partition}:iam::{account}:role/{names.backup_role}",
        "topic": f"arn:{partition}:sns:{region}:{account}:{names.topic}",
    }


def ensure(ctx: SetupContext) -> None:
    definition = ctx.stack.recovery
    arns = _arns(ctx)
    bucket = ctx.stack.audit_bucket.bucket_name(ctx.identity.account)
    backup = ctx.clients("backup")

    def attempt(resource: str, name: str, call: Callable[[], Outcome]) -> None:
        try:
            ctx.result.add(resource, name, call())
        except (ClientError, NotImplementedError) as exc:
            if not not_emulated(exc, emulator=ctx.clients.emulator):
                raise
            ctx.result.add(resource, name, "skipped", "not emulated locally")

    attempt(
        "vault notifications",
        definition.vault_name,
        lambda: _put(
            backup.put_backup_vault_notifications,
            BackupVaultName=definition.vault_name,
            SNSTopicArn=ctx.topic_arn or arns["topic"],
            BackupVaultEvents=list(definition.notification_events),
        ),
    )
    requests = restore_testing_requests(
        definition,
        vault_arn=arns["vault"],
        table_arn=ctx.table_arn or arns["table"],
        role_arn=arns["role"],
    )
    if requests is not None:
        plan, selection = requests
        attempt(
            "restore testing plan",
            plan["RestoreTestingPlan"]["RestoreTestingPlanName"],
            lambda: _put(backup.create_restore_testing_plan, **plan),
        )
        attempt(
            "restore testing selection",
            selection["RestoreTestingSelection"]["RestoreTestingSelectionName"],
            lambda: _put(backup.create_restore_testing_selection, **selection),
        )
    framework = framework_request(definition)
    framework_arn: str | None = None
    if framework is not None:

        def create_framework() -> Outcome:
            nonlocal framework_arn
            framework_arn = str(backup.create_framework(**framework)["FrameworkArn"])
            return "created"

        attempt("audit framework", framework["FrameworkName"], create_framework)
    for plan_definition in definition.report_plans:
        request = report_plan_request(
            plan_definition, bucket=str(bucket), framework_arn=framework_arn, tags=definition.tags
        )
        attempt("report plan", plan_definition.name, partial(_ensure_report_plan, backup, request))


def _put(call: Callable[..., Any], **request: Any) -> Outcome:
    call(**request)
    return "created"


def _ensure_report_plan(backup: Any, request: dict[str, Any]) -> Outcome:
    try:
        backup.describe_report_plan(ReportPlanName=request["ReportPlanName"])
        return "unchanged"
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
    backup.create_report_plan(**request)
    return "created"


# --- validate ------------------------------------------------------------------------------------


def check(ctx: CheckContext) -> None:
    definition = ctx.stack.recovery
    backup = ctx.clients("backup")
    arns = _arns(ctx)

    def notifications() -> None:
        have = backup.get_backup_vault_notifications(BackupVaultName=definition.vault_name)
        ctx.add(
            "recovery.vault-notifications",
            (arns["topic"], sorted(definition.notification_events)),
            (have.get("SNSTopicArn"), sorted(have.get("BackupVaultEvents", []))),
        )

    ctx.guard("recovery.vault-notifications", notifications)
    requests = restore_testing_requests(
        definition, vault_arn=arns["vault"], table_arn=arns["table"], role_arn=arns["role"]
    )
    if requests is not None:
        plan, selection = requests

        def testing_plan() -> None:
            name = plan["RestoreTestingPlan"]["RestoreTestingPlanName"]
            have = backup.get_restore_testing_plan(RestoreTestingPlanName=name)
            live = have["RestoreTestingPlan"]
            wanted = plan["RestoreTestingPlan"]
            keys = ("ScheduleExpression", "StartWindowHours", "RecoveryPointSelection")
            ctx.add(
                "recovery.restore-testing-plan",
                {k: wanted[k] for k in keys},
                {k: live.get(k) for k in keys},
            )

        def testing_selection() -> None:
            wanted = selection["RestoreTestingSelection"]
            have = backup.get_restore_testing_selection(
                RestoreTestingPlanName=selection["RestoreTestingPlanName"],
                RestoreTestingSelectionName=wanted["RestoreTestingSelectionName"],
            )["RestoreTestingSelection"]
            keys = ("ProtectedResourceArns", "IamRoleArn", "ValidationWindowHours")
            ctx.add(
                "recovery.restore-testing-selection",
                {k: wanted[k] for k in keys},
                {k: have.get(k) for k in keys},
            )

        ctx.guard("recovery.restore-testing-plan", testing_plan)
        ctx.guard("recovery.restore-testing-selection", testing_selection)
    framework = framework_request(definition)
    if framework is not None:

        def describe_framework() -> None:
            have = backup.describe_framework(FrameworkName=framework["FrameworkName"])
            ctx.add(
                "recovery.framework",
                sorted(c["ControlName"] for c in framework["FrameworkControls"]),
                sorted(c["ControlName"] for c in have.get("FrameworkControls", [])),
            )

        ctx.guard("recovery.framework", describe_framework)
    bucket_name = ctx.stack.audit_bucket.bucket_name(ctx.identity.account)
    for plan_definition in definition.report_plans:

        def report_plan(p: ReportPlanDefinition = plan_definition) -> None:
            have = backup.describe_report_plan(ReportPlanName=p.name)["ReportPlan"]
            channel = have.get("ReportDeliveryChannel", {})
            ctx.add(
                f"recovery.report-plan.{p.key}",
                (p.template, bucket_name, p.key_prefix, sorted(p.formats)),
                (
                    have.get("ReportSetting", {}).get("ReportTemplate"),
                    channel.get("S3BucketName"),
                    channel.get("S3KeyPrefix"),
                    sorted(channel.get("Formats", [])),
                ),
            )

        ctx.guard(f"recovery.report-plan.{plan_definition.key}", report_plan)
