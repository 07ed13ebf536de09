"""AWS Backup on the local endpoint: vaults on their keys, vault locks, the region settings, the
service role (trust, managed policies, key grants), the plan's rule with its copy, the selection.

moto implements neither the region settings update nor any backup-selection call: those steps are
reported as skipped locally, and their create paths are tested with botocore's Stubber.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from scripts.aws_target import error_code, not_emulated
from scripts.services.base import (
    CheckContext,
    Outcome,
    SetupContext,
    SetupResult,
    Skipped,
    policy_document,
    tag_list,
)
from stackspec.definitions.backup import (
    BACKUP_SERVICE,
    BackupDefinition,
    BackupRuleDefinition,
    VaultDefinition,
)

NAME = "backup"


def rule_request(
    rule: BackupRuleDefinition, dr_vault_arn: str | None, tags: dict[str, str]
) -> dict[str, Any]:
    """The plan's one rule (``BackupPlan.Rules[0]``), copying to ``dr_vault_arn`` when the
    definition has a copy."""
    lifecycle: dict[str, Any] = {"DeleteAfterDays": rule.retention_days}
    if rule.cold_storage_after_days is not None:
        lifecycle["MoveToColdStorageAfterDays"] = rule.cold_storage_after_days
    request: dict[str, Any] = {
        "RuleName": rule.name,
        "TargetBackupVaultName": rule.target_vault,
        "ScheduleExpression": rule.schedule,
        "StartWindowMinutes": rule.start_window_minutes,
        "CompletionWindowMinutes": rule.completion_window_minutes,
        "Lifecycle": lifecycle,
        "RecoveryPointTags": dict(tags),
    }
    if rule.copy is not None:
        if dr_vault_arn is None:
            raise ValueError("cross-region copy is on but no DR vault ARN was given")
        request["CopyActions"] = [
            {
                "DestinationBackupVaultArn": dr_vault_arn,
                "Lifecycle": {"DeleteAfterDays": rule.copy.retention_days},
            }
        ]
    return request


def rule_differences(expected: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """Differences in schedule, windows and lifecycle (copy actions are checked on their own)."""
    problems = []
    for name in (
        "RuleName",
        "TargetBackupVaultName",
        "ScheduleExpression",
        "StartWindowMinutes",
        "CompletionWindowMinutes",
    ):
        if expected.get(name) != live.get(name):
            problems.append(f"{name}: expected {expected.get(name)}, found {live.get(name)}")
    want = {k: v for k, v in expected.get("Lifecycle", {}).items() if v is not None}
    have = {
        k: v
        for k, v in (live.get("Lifecycle") or {}).items()
        if k in ("DeleteAfterDays", "MoveToColdStorageAfterDays") and v is not None
    }
    if want != have:
        problems.append(f"Lifecycle: expected {want}, found {have}")
    return problems


def copy_actions_summary(rule: dict[str, Any]) -> list[tuple[str, int | None]]:
    return sorted(
        (
            str(action.get("DestinationBackupVaultArn")),
            (action.get("Lifecycle") or {}).get("DeleteAfterDays"),
        )
        for action in rule.get("CopyActions") or []
    )


def find_backup_plan(backup: Any, name: str) -> dict[str, Any] | None:
    for page in backup.get_paginator("list_backup_plans").paginate():
        for plan in page.get("BackupPlansList", []):
            if plan.get("BackupPlanName") == name:
                return dict(plan)
    return None


def _vault_arn(ctx: SetupContext | CheckContext, vault: VaultDefinition) -> str:
    return (
        f"arn:{ctx.identity.partition}:backup:{vault.region}:{ctx.identity.account}:"
        f"backup-vault:{vault.name}"
    )


# --- setup ---------------------------------------------------------------------------------------


def ensure(ctx: SetupContext) -> None:
    definition = ctx.stack.backup
    vault_arns = {vault.name: _ensure_vault(ctx, definition, vault) for vault in definition.vaults}
    _ensure_region_settings(ctx, definition)
    role_arn = _ensure_role(ctx, definition)
    dr_arn = vault_arns.get(definition.dr_vault.name) if definition.dr_vault else None
    plan_id = _ensure_plan(ctx, definition, dr_arn)
    ensure_backup_selection(
        ctx.clients("backup"),
        plan_id=plan_id,
        selection_name=definition.selection_name,
        role_arn=role_arn,
        table_arn=str(ctx.table_arn),
        result=ctx.result,
        emulator=ctx.clients.emulator,
        database_arns=(
            f"arn:{ctx.identity.partition}:rds:{ctx.stack.config.region}:{ctx.identity.account}:"
            f"db:{ctx.stack.audit_database.identifier}",
        ),
    )


def _ensure_vault(ctx: SetupContext, definition: BackupDefinition, vault: VaultDefinition) -> str:
    backup = ctx.clients("backup", vault.region)
    where = f"{vault.name} ({vault.region})"
    try:
        described = backup.describe_backup_vault(BackupVaultName=vault.name)
        arn = str(described["BackupVaultArn"])
        ctx.result.add("backup vault", where, "unchanged")
    except ClientError as exc:
        if error_code(exc) not in ("ResourceNotFoundException", "AccessDeniedException"):
            raise
        arn = str(
            backup.create_backup_vault(
                BackupVaultName=vault.name,
                EncryptionKeyArn=ctx.key_arns[vault.key_purpose],
                BackupVaultTags=definition.tags,
            )["BackupVaultArn"]
        )
        ctx.result.add("backup vault", where, "created")
        described = {}
    lock = definition.lock
    if lock is not None:
        if described.get("Locked"):
            ctx.result.add("vault lock", vault.name, "unchanged")
        else:
            request: dict[str, Any] = {
                "BackupVaultName": vault.name,
                "MinRetentionDays": lock.min_retention_days,
                "MaxRetentionDays": lock.max_retention_days,
            }
            if lock.changeable_for_days is not None:
                request["ChangeableForDays"] = lock.changeable_for_days
            backup.put_backup_vault_lock_configuration(**request)
            ctx.result.add("vault lock", vault.name, "created")
    return arn


def _ensure_region_settings(ctx: SetupContext, definition: BackupDefinition) -> None:
    for region in definition.region_settings_regions:
        backup = ctx.clients("backup", region)
        try:
            if _advanced_dynamodb_backup(ctx, backup):
                ctx.result.add("backup region settings", region, "unchanged")
                continue
            backup.update_region_settings(
                ResourceTypeOptInPreference=dict.fromkeys(definition.opted_in_resource_types, True),
                ResourceTypeManagementPreference={"DynamoDB": True},
            )
            ctx.result.add("backup region settings", region, "updated", "DynamoDB advanced backup")
        except (ClientError, NotImplementedError) as exc:
            if not not_emulated(exc, emulator=ctx.clients.emulator):
                raise
            ctx.result.add("backup region settings", region, "skipped", "not emulated locally")


def _advanced_dynamodb_backup(ctx: SetupContext, backup: Any) -> bool:
    """Whether the region already opts DynamoDB in with advanced backup (False where the endpoint
    cannot say, so setup asks anyway)."""
    try:
        settings = backup.describe_region_settings()
    except (ClientError, NotImplementedError) as exc:
        if not not_emulated(exc, emulator=ctx.clients.emulator):
            raise
        return False
    return bool(
        settings.get("ResourceTypeOptInPreference", {}).get("DynamoDB")
        and settings.get("ResourceTypeManagementPreference", {}).get("DynamoDB")
    )


def _ensure_role(ctx: SetupContext, definition: BackupDefinition) -> str:
    iam = ctx.clients("iam")
    name = definition.role_name
    trust = definition.trust_policy(account_id=ctx.identity.account)
    changes: list[str] = []
    try:
        role = iam.get_role(RoleName=name)["Role"]
        arn = str(role["Arn"])
        outcome: Outcome = "unchanged"
        if policy_document(role.get("AssumeRolePolicyDocument")) != trust:
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
            changes.append("trust policy")
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        arn = str(
            iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(trust),
                Description=definition.role_description,
                Tags=tag_list(definition.tags),
            )["Role"]["Arn"]
        )
        outcome = "created"
    attached = _attached_policies(iam, name)
    keys_policy_arn = _ensure_keys_policy(ctx, definition)
    wanted = [*definition.managed_policy_arns(ctx.identity.partition).values(), keys_policy_arn]
    missing_policies = []
    for policy_arn in wanted:
        if policy_arn in attached:
            continue
        try:
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
            changes.append(policy_arn.rsplit("/", 1)[-1])
        except ClientError as exc:
            # moto knows AWS managed policies only with MOTO_IAM_LOAD_MANAGED_POLICIES=true
            # (start-local.sh sets it).
            if error_code(exc) != "NoSuchEntity" or not ctx.clients.emulator:
                raise
            missing_policies.append(policy_arn.rsplit("/", 1)[-1])
    if changes and outcome != "created":
        outcome = "updated"
    detail = (
        f"managed policies not known to the emulator: {', '.join(missing_policies)}"
        if missing_policies
        else f"{', '.join(p.rsplit('/', 1)[-1] for p in wanted)}"
    )
    ctx.result.add("iam role", name, outcome, detail)
    return arn


def _attached_policies(iam: Any, role_name: str) -> set[str]:
    return {
        p["PolicyArn"]
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name)
        for p in page.get("AttachedPolicies", [])
    }


def _keys_policy_arn(ctx: SetupContext | CheckContext, definition: BackupDefinition) -> str:
    return (
        f"arn:{ctx.identity.partition}:iam::{ctx.identity.account}:policy/"
        f"{definition.keys_policy_name}"
    )


def _key_arns_used(ctx: SetupContext | CheckContext, definition: BackupDefinition) -> list[str]:
    return [str(ctx.key_arns.get(purpose)) for purpose in definition.key_purposes_used]


def _ensure_keys_policy(ctx: SetupContext, definition: BackupDefinition) -> str:
    """The role's grant on the table and vault keys, as a customer-managed policy."""
    iam = ctx.clients("iam")
    arn = _keys_policy_arn(ctx, definition)
    document = definition.keys_policy(_key_arns_used(ctx, definition))
    try:
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
        version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
        if policy_document(version["PolicyVersion"]["Document"]) != json.loads(document):
            iam.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)
            ctx.result.add("iam policy", definition.keys_policy_name, "updated")
        else:
            ctx.result.add("iam policy", definition.keys_policy_name, "unchanged")
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        iam.create_policy(
            PolicyName=definition.keys_policy_name,
            PolicyDocument=document,
            Description=definition.keys_policy_description,
            Tags=tag_list(definition.tags),
        )
        ctx.result.add("iam policy", definition.keys_policy_name, "created")
    return arn


def _ensure_plan(ctx: SetupContext, definition: BackupDefinition, dr_vault_arn: str | None) -> str:
    backup = ctx.clients("backup")
    rule = rule_request(definition.rule, dr_vault_arn, definition.tags)
    plan = {"BackupPlanName": definition.plan_name, "Rules": [rule]}
    found = find_backup_plan(backup, definition.plan_name)
    if found is None:
        plan_id = str(
            backup.create_backup_plan(BackupPlan=plan, BackupPlanTags=definition.tags)[
                "BackupPlanId"
            ]
        )
        ctx.result.add("backup plan", definition.plan_name, "created", rule["ScheduleExpression"])
        return plan_id
    plan_id = str(found["BackupPlanId"])
    live_rules = backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"].get("Rules", [])
    matches = len(live_rules) == 1 and (
        not rule_differences(rule, live_rules[0])
        and copy_actions_summary(rule) == copy_actions_summary(live_rules[0])
    )
    if matches:
        ctx.result.add("backup plan", definition.plan_name, "unchanged")
        return plan_id
    try:
        backup.update_backup_plan(BackupPlanId=plan_id, BackupPlan=plan)
        ctx.result.add("backup plan", definition.plan_name, "updated")
    except (ClientError, NotImplementedError) as exc:
        if not not_emulated(exc, emulator=ctx.clients.emulator):
            raise
        ctx.result.add(
            "backup plan",
            definition.plan_name,
            "drifted",
            "differs from the config, and the emulator cannot update backup plans",
        )
    return plan_id


def ensure_backup_selection(
    backup: Any,
    *,
    plan_id: str,
    selection_name: str,
    role_arn: str,
    table_arn: str,
    result: SetupResult,
    emulator: bool,
    database_arns: tuple[str, ...] = (),
) -> None:
    """Assign the table (and the audit database) to the backup plan unless a selection already
    covers them.

    moto 5.2.5 implements no backup-selection call, so locally this is reported as skipped; the
    create path is exercised with botocore's Stubber.
    """
    try:
        if selection_name in _selection_names(backup, plan_id, emulator=emulator):
            result.add("backup selection", selection_name, "unchanged")
            return
        backup.create_backup_selection(
            BackupPlanId=plan_id,
            BackupSelection={
                "SelectionName": selection_name,
                "IamRoleArn": role_arn,
                "Resources": [table_arn, *database_arns],
            },
        )
        result.add("backup selection", selection_name, "created", table_arn)
    except (ClientError, NotImplementedError) as exc:
        if not not_emulated(exc, emulator=emulator):
            raise
        result.add(
            "backup selection",
            selection_name,
            "skipped",
            "not emulated locally (moto implements no backup-selection API)",
        )


def _selection_names(backup: Any, plan_id: str, *, emulator: bool) -> set[str]:
    """The plan's selections by name (none where the endpoint cannot list them: setup then asks
    to create, and the endpoint's answer decides)."""
    try:
        return {
            str(selection.get("SelectionName"))
            for page in backup.get_paginator("list_backup_selections").paginate(
                BackupPlanId=plan_id
            )
            for selection in page.get("BackupSelectionsList", [])
        }
    except (ClientError, NotImplementedError) as exc:
        if not not_emulated(exc, emulator=emulator):
            raise
        return set()


# --- validate ------------------------------------------------------------------------------------


def check(ctx: CheckContext) -> None:
    definition = ctx.stack.backup
    vault_arns: dict[str, str | None] = {}
    for vault in definition.vaults:
        check_id = "backup.vault" if vault.primary_region else "backup.dr-vault"
        ctx.guard(
            check_id,
            lambda v=vault, c=check_id: _vault_rows(ctx, definition, v, c, vault_arns),  # type: ignore[misc]
        )
    for index, region in enumerate(definition.region_settings_regions):
        check_id = "backup.region-settings" + (".dr" if index else "")
        ctx.guard(check_id, lambda c=check_id, r=region: region_settings_row(ctx, c, r))  # type: ignore[misc]
    plan: dict[str, Any] = {}
    ctx.guard(
        "backup.plan", lambda: _plan_row(ctx, definition, vault_arns, plan), definition.plan_name
    )
    ctx.guard("backup.copy-rule", lambda: _copy_row(ctx, definition, plan))
    ctx.guard(
        "backup.selection",
        lambda: check_backup_selection(ctx, ctx.clients("backup"), plan.get("BackupPlanId")),
    )
    ctx.guard("backup.role", lambda: _role_row(ctx, definition))


def _vault_rows(
    ctx: CheckContext,
    definition: BackupDefinition,
    vault: VaultDefinition,
    check_id: str,
    vault_arns: dict[str, str | None],
) -> None:
    client = ctx.clients("backup", vault.region)
    alias = ctx.stack.keys[vault.key_purpose].alias
    key_arn = ctx.key_arns.get(vault.key_purpose)
    expected = f"{vault.name} encrypted with {alias}"
    try:
        described = client.describe_backup_vault(BackupVaultName=vault.name)
    except ClientError as exc:
        if error_code(exc) not in ("ResourceNotFoundException", "AccessDeniedException"):
            raise
        vault_arns[vault.name] = None
        ctx.fail(check_id, expected, "not found")
        return
    vault_arns[vault.name] = str(described["BackupVaultArn"])
    found_key = described.get("EncryptionKeyArn")
    if key_arn is None:  # the missing alias is its own FAIL row
        ctx.skip(check_id, f"key {alias} not found", expected)
    else:
        ctx.add(
            check_id,
            f"{expected} ({key_arn})",
            f"{vault.name} encrypted with {found_key}",
            ok=found_key == key_arn,
        )
    lock = definition.lock
    if lock is not None:
        ctx.add(
            f"{check_id}-lock",
            f"locked {lock.min_retention_days}..{lock.max_retention_days} days",
            f"locked {described.get('MinRetentionDays')}..{described.get('MaxRetentionDays')} days"
            if described.get("Locked")
            else "not locked",
        )


def region_settings_row(ctx: CheckContext, check_id: str, region: str) -> None:
    settings = ctx.clients("backup", region).describe_region_settings()
    opted_in = settings.get("ResourceTypeOptInPreference", {}).get("DynamoDB")
    advanced = settings.get("ResourceTypeManagementPreference", {}).get("DynamoDB")
    ctx.add(
        check_id,
        "DynamoDB opted in, advanced backup on",
        f"DynamoDB opted in={opted_in}, advanced backup={advanced}",
        ok=bool(opted_in) and bool(advanced),
    )


def _plan_row(
    ctx: CheckContext,
    definition: BackupDefinition,
    vault_arns: dict[str, str | None],
    plan: dict[str, Any],
) -> None:
    backup = ctx.clients("backup")
    found = find_backup_plan(backup, definition.plan_name)
    if found is None:
        ctx.fail("backup.plan", definition.plan_name, "not found")
        return
    plan.update(found)
    rules = backup.get_backup_plan(BackupPlanId=found["BackupPlanId"])["BackupPlan"].get(
        "Rules", []
    )
    dr = definition.dr_vault
    dr_arn = (vault_arns.get(dr.name) or _vault_arn(ctx, dr)) if dr else None
    want = rule_request(definition.rule, dr_arn, definition.tags)
    plan["rule"] = next(
        (r for r in rules if r.get("TargetBackupVaultName") == definition.rule.target_vault), None
    )
    if plan["rule"] is None:
        ctx.fail("backup.plan", f"a rule into {definition.rule.target_vault}", "no such rule")
        return
    plan["want"] = want
    problems = rule_differences(want, plan["rule"])
    summary = (
        f"{want['ScheduleExpression']}, window {want['StartWindowMinutes']}/"
        f"{want['CompletionWindowMinutes']} min, keep {definition.rule.retention_days} days"
    )
    if problems:
        ctx.fail("backup.plan", summary, "; ".join(problems))
    else:
        ctx.add("backup.plan", summary, summary)


def _copy_row(ctx: CheckContext, definition: BackupDefinition, plan: dict[str, Any]) -> None:
    if plan.get("rule") is None:
        raise Skipped(f"backup plan {definition.plan_name} not found")
    want = copy_actions_summary(plan["want"])
    found = copy_actions_summary(plan["rule"])
    ctx.add(
        "backup.copy-rule",
        [f"{arn} keep {days} days" for arn, days in want] or "no copy (disabled)",
        [f"{arn} keep {days} days" for arn, days in found] or "no copy (disabled)",
    )


def check_backup_selection(ctx: CheckContext, backup: Any, plan_id: str | None) -> None:
    """PASS when a selection of the plan covers the table with the stack's backup role."""
    definition = ctx.stack.backup
    if plan_id is None:
        raise Skipped(f"backup plan {definition.plan_name} not found")
    table_arn = (ctx.table or {}).get("TableArn") or (
        f"arn:{ctx.identity.partition}:dynamodb:{ctx.cfg.region}:{ctx.identity.account}:table/"
        f"{ctx.stack.table.name}"
    )
    expected = f"{table_arn} via role {definition.role_name}"
    found: list[str] = []
    for page in backup.get_paginator("list_backup_selections").paginate(BackupPlanId=plan_id):
        for entry in page.get("BackupSelectionsList", []):
            selection = backup.get_backup_selection(
                BackupPlanId=plan_id, SelectionId=entry["SelectionId"]
            )["BackupSelection"]
            role = str(selection.get("IamRoleArn", "")).rsplit("/", 1)[-1]
            found.extend(f"{arn} via role {role}" for arn in selection.get("Resources", []))
    ctx.add("backup.selection", expected, found or "no selection", ok=expected in found)


def _role_row(ctx: CheckContext, definition: BackupDefinition) -> None:
    """The role exists, only AWS Backup of this account may assume it, and it holds the managed
    policies and the key grant the definition lists."""
    iam = ctx.clients("iam")
    check_id = "backup.role"
    managed = definition.managed_policy_arns(ctx.identity.partition)
    keys_policy = _keys_policy_arn(ctx, definition)
    wanted = sorted(a.rsplit("/", 1)[-1] for a in (*managed.values(), keys_policy))
    trusted = f"trusts {BACKUP_SERVICE} of {ctx.identity.account}"
    expected = [trusted, *wanted]
    try:
        role = iam.get_role(RoleName=definition.role_name)["Role"]
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        ctx.fail(check_id, expected, f"no role {definition.role_name}")
        return
    problems: list[str] = []
    trust = policy_document(role.get("AssumeRolePolicyDocument"))
    if trust != definition.trust_policy(account_id=ctx.identity.account):
        problems.append("trust policy differs from the stack's")
    attached = sorted(a.rsplit("/", 1)[-1] for a in _attached_policies(iam, definition.role_name))
    if ctx.key_arns and all(ctx.key_arns.get(p) for p in definition.key_purposes_used):
        try:
            policy = iam.get_policy(PolicyArn=keys_policy)["Policy"]
            version = iam.get_policy_version(
                PolicyArn=keys_policy, VersionId=policy["DefaultVersionId"]
            )["PolicyVersion"]
            document = policy_document(version["Document"])
            if document != json.loads(definition.keys_policy(_key_arns_used(ctx, definition))):
                problems.append(f"{definition.keys_policy_name} grants other keys")
        except ClientError as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
    found = [trusted if not problems else "; ".join(problems), *attached]
    ctx.add(check_id, expected, found, ok=not problems and set(wanted) <= set(attached))
