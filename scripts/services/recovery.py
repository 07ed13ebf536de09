"""Recovery assurance on the local endpoint: the audit bucket (moto holds all of it: object
lock, versioning, SSE-KMS, public access block, ownership, policy, tags) and the report plans;
restore testing, vault notifications and the Audit Manager framework are attempted and reported
as skipped, because moto 5.2.5 implements none of their calls.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from scripts.aws_target import error_code, not_emulated
from scripts.services.base import (
    CheckContext,
    Outcome,
    SetupContext,
    Skipped,
    policy_document,
    tag_list,
)
from stackspec.definitions.audit_bucket import AuditBucketDefinition
from stackspec.definitions.recovery import RecoveryDefinition, ReportPlanDefinition
from stackspec.naming import KeyPurpose

NAME = "recovery"


# --- requests, from the definitions (setup sends them; parity compares them) ---------------------


def bucket_settings(
    definition: AuditBucketDefinition, *, key_arn: str, bucket: str, partition: str, account: str
) -> dict[str, dict[str, Any]]:
    """Each side setting of the audit bucket as its Put request (without ``Bucket``)."""
    return {
        "ownership": {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}},
        "public-access-block": {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            }
        },
        "versioning": {"VersioningConfiguration": {"Status": "Enabled"}},
        "encryption": {
            "ServerSideEncryptionConfiguration": {
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": key_arn,
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            }
        },
        "object-lock": {
            "ObjectLockConfiguration": {
                "ObjectLockEnabled": "Enabled",
                "Rule": {
                    "DefaultRetention": {
                        "Mode": definition.object_lock_mode,
                        "Days": definition.retention_days,
                    }
                },
            }
        },
        "policy": {
            "Policy": definition.policy(
                bucket_arn=f"arn:{partition}:s3:::{bucket}", partition=partition, account_id=account
            )
        },
        "tags": {"Tagging": {"TagSet": tag_list(definition.tags)}},
    }


#: Setting -> (Put call, Get call, what of the Get answer is compared with the request).
_S3_CALLS: dict[str, tuple[str, str, Callable[[dict[str, Any]], Any]]] = {
    "ownership": (
        "put_bucket_ownership_controls",
        "get_bucket_ownership_controls",
        lambda r: {"OwnershipControls": r.get("OwnershipControls")},
    ),
    "public-access-block": (
        "put_public_access_block",
        "get_public_access_block",
        lambda r: {"PublicAccessBlockConfiguration": r.get("PublicAccessBlockConfiguration")},
    ),
    "versioning": (
        "put_bucket_versioning",
        "get_bucket_versioning",
        lambda r: {"VersioningConfiguration": {"Status": r.get("Status")}},
    ),
    "encryption": (
        "put_bucket_encryption",
        "get_bucket_encryption",
        lambda r: {
            "ServerSideEncryptionConfiguration": {
                "Rules": r.get("ServerSideEncryptionConfiguration", {}).get("Rules")
            }
        },
    ),
    "object-lock": (
        "put_object_lock_configuration",
        "get_object_lock_configuration",
        lambda r: {
            "ObjectLockConfiguration": _without_zero_period(r.get("ObjectLockConfiguration"))
        },
    ),
    "policy": ("put_bucket_policy", "get_bucket_policy", lambda r: {"Policy": r.get("Policy")}),
    "tags": (
        "put_bucket_tagging",
        "get_bucket_tagging",
        lambda r: {"Tagging": {"TagSet": sorted(r.get("TagSet", []), key=lambda t: t["Key"])}},
    ),
}


def _without_zero_period(config: Any) -> Any:
    """A default retention names days or years; an emulator may report the other as 0."""
    retention = (config or {}).get("Rule", {}).get("DefaultRetention")
    if isinstance(retention, dict):
        for unit in ("Days", "Years"):
            if not retention.get(unit):
                retention.pop(unit, None)
    return config


def _same(setting: str, want: dict[str, Any], have: dict[str, Any]) -> bool:
    if setting == "policy":
        return bool(policy_document(have.get("Policy") or "{}") == json.loads(want["Policy"]))
    return bool(have == want)


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
    bucket = _ensure_bucket(ctx, ctx.stack.audit_bucket) if ctx.stack.audit_bucket else None
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


def _ensure_bucket(ctx: SetupContext, definition: AuditBucketDefinition) -> str:
    s3 = ctx.clients("s3")
    name = definition.bucket_name(ctx.identity.account)
    try:
        s3.get_bucket_location(Bucket=name)
        ctx.result.add("audit bucket", name, "unchanged")
    except ClientError as exc:
        if error_code(exc) != "NoSuchBucket":
            raise
        request: dict[str, Any] = {"Bucket": name, "ObjectLockEnabledForBucket": True}
        if ctx.stack.config.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": ctx.stack.config.region}
        s3.create_bucket(**request)
        ctx.result.add("audit bucket", name, "created")
    settings = bucket_settings(
        definition,
        key_arn=ctx.key_arns[KeyPurpose.AUDIT],
        bucket=name,
        partition=ctx.identity.partition,
        account=ctx.identity.account,
    )
    for setting, want in settings.items():
        put, get, read = _S3_CALLS[setting]
        try:
            same = _same(setting, want, read(getattr(s3, get)(Bucket=name)))
        except ClientError:
            same = False  # not set yet
        if same:
            ctx.result.add(f"audit bucket {setting}", name, "unchanged")
            continue
        getattr(s3, put)(Bucket=name, **want)
        ctx.result.add(f"audit bucket {setting}", name, "updated")
    return name


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
    bucket = ctx.stack.audit_bucket
    bucket_name = bucket.bucket_name(ctx.identity.account) if bucket else None
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
    if bucket is not None and bucket_name is not None:
        _check_bucket(ctx, bucket, bucket_name)


def _check_bucket(ctx: CheckContext, definition: AuditBucketDefinition, name: str) -> None:
    s3 = ctx.clients("s3")
    present = {"ok": False}

    def exists() -> None:
        s3.get_bucket_location(Bucket=name)
        present["ok"] = True
        ctx.add("audit.bucket", name, name)

    ctx.guard("audit.bucket", exists, name)
    key_arn = ctx.key_arns.get(KeyPurpose.AUDIT)
    settings = bucket_settings(
        definition,
        key_arn=str(key_arn),
        bucket=name,
        partition=ctx.identity.partition,
        account=ctx.identity.account,
    )
    for setting, want in settings.items():
        _, get, read = _S3_CALLS[setting]

        def one(
            setting: str = setting,
            want: dict[str, Any] = want,
            get: str = get,
            read: Callable[[dict[str, Any]], Any] = read,
        ) -> None:
            if not present["ok"]:
                raise Skipped("the audit bucket is missing (its own row fails)")
            if setting == "encryption" and key_arn is None:
                raise Skipped(f"the {KeyPurpose.AUDIT} key is missing (its own row fails)")
            try:
                have = read(getattr(s3, get)(Bucket=name))
            except ClientError as exc:
                ctx.fail(f"audit.bucket.{setting}", "set", "not set", error_code(exc))
                return
            same = _same(setting, want, have)
            ctx.add(
                f"audit.bucket.{setting}",
                "as defined" if same else want,
                "as defined" if same else have,
                same,
            )

        ctx.guard(f"audit.bucket.{setting}", one)
