"""``make setup STACK=<stack>``: make the data layer of a stack usable from this machine.

Against the local emulator (a loopback ``AWS_ENDPOINT_URL``, see ``make local-up``) it creates
what Pulumi creates in AWS, from the same validated stack config: the KMS keys with the stack's
aliases and rotation, the table exactly as :func:`components.table_spec.create_table_request`
declares it (then PITR with its recovery period, TTL, tags), the encrypted alert topic and its
subscriptions, the CloudWatch alarms, the backup vault, role, plan and selection, and the budget.
Each step first reads what exists, so a second run changes nothing and says so.

Against AWS it creates nothing: Pulumi owns that infrastructure. It waits (boto3 waiters) until
the table and every GSI are ACTIVE, so a deploy pipeline can run it right after ``pulumi up``.
It writes no bootstrap data, by decision: every item of the table is tenant-scoped (its PK begins
with the clinic), a platform-owned item would break that invariant, and the application owns the
schema version of its items. Creating anything requires the emulator's dummy credentials, which
AWS rejects, so no flag or endpoint can make this script build infrastructure in a real account.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from components.alarm_specs import alarm_specs
from components.config import (
    OFFLINE_SECRET_PLACEHOLDER,
    ConfigError,
    StackConfig,
    load_stack_config,
)
from components.table_spec import TableSpec, create_table_request, table_spec
from scripts.aws_target import (
    Clients,
    UsageError,
    add_target_arguments,
    announce_target,
    describe_call_failure,
    error_code,
    not_emulated,
    resolve_target,
    uses_dummy_credentials,
)
from scripts.expected import (
    BACKUP_ASSUME_ROLE_POLICY,
    BACKUP_ROLE_POLICIES,
    KEY_DESCRIPTIONS,
    alarm_differences,
    alarm_request,
    backup_rule,
    backup_rule_differences,
    budget_notifications,
    budget_request,
    budget_subscribers,
    copy_actions_summary,
    key_purposes,
    notification_key,
    tag_list,
)

#: ``drifted``: exists, differs from the config, and cannot be changed in place (a GSI's
#: projection, the stream view, a plan the emulator cannot update): rebuild the local environment.
Outcome = Literal["created", "updated", "unchanged", "skipped", "drifted", "ready"]

REBUILD_HINT = "rebuild: make local-down local-up, then make setup"


class SetupError(Exception):
    """The environment cannot be set up; the message says what to do."""


@dataclass(frozen=True)
class Action:
    """One thing setup looked at, and what it did."""

    resource: str
    name: str
    outcome: Outcome
    detail: str = ""


@dataclass
class SetupResult:
    stack: str
    target: str
    mode: Literal["local", "aws"]
    actions: list[Action] = field(default_factory=list)

    def add(self, resource: str, name: str, outcome: Outcome, detail: str = "") -> None:
        self.actions.append(Action(resource, name, outcome, detail))

    def count(self, outcome: Outcome) -> int:
        return sum(1 for a in self.actions if a.outcome == outcome)

    @property
    def drifted(self) -> bool:
        return self.count("drifted") > 0

    @property
    def changed(self) -> bool:
        return any(a.outcome in ("created", "updated") for a in self.actions)

    def summary(self) -> str:
        if self.mode == "aws":
            return f"{self.target}: nothing created (Pulumi owns AWS resources); table is ready"
        counts = ", ".join(
            f"{self.count(o)} {o}"
            for o in ("created", "updated", "unchanged", "skipped", "drifted")
            if o != "drifted" or self.drifted
        )
        if self.drifted:
            return (
                f"{self.target} differs from stack {self.stack} in what setup cannot change in "
                f"place ({counts}); {REBUILD_HINT}"
            )
        if not self.changed:
            return f"nothing to change: {self.target} already matches stack {self.stack} ({counts})"
        return f"{self.target} set up for stack {self.stack}: {counts}"


# --- local: create what Pulumi would create ------------------------------------------------------


def setup_local(
    cfg: StackConfig, clients: Clients, *, target: str = "local endpoint"
) -> SetupResult:
    """Create (or leave as is) every resource of ``cfg`` on the local emulator behind ``clients``.

    Refuses unless the session carries the emulator's dummy credentials: the guarantee that this
    never builds anything in a real AWS account.
    """
    if not uses_dummy_credentials(clients.session):
        raise SetupError(
            "refusing to create resources: the session does not use the local emulator's dummy "
            "credentials (AWS_ACCESS_KEY_ID=testing). Local setup is only for a loopback "
            "AWS_ENDPOINT_URL; in AWS, Pulumi creates these resources."
        )
    result = SetupResult(cfg.environment, target, "local")
    keys = {
        purpose: _ensure_key(cfg, clients, purpose, region, result)
        for purpose, region in key_purposes(cfg)
    }
    table_arn = _ensure_table(cfg, clients, keys["table"], result)
    topic_arn = _ensure_topic(cfg, clients, keys["alerts"], result)
    _ensure_alarms(cfg, clients, topic_arn, result)
    _ensure_backup(cfg, clients, keys, table_arn, result)
    _ensure_budget(cfg, clients, topic_arn, result)
    return result


def _ensure_key(
    cfg: StackConfig, clients: Clients, purpose: str, region: str, result: SetupResult
) -> str:
    kms = clients("kms", region)
    alias = cfg.key_alias(purpose)
    try:
        arn = str(kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"])
        outcome: Outcome = "unchanged"
    except ClientError as exc:
        if error_code(exc) != "NotFoundException":
            raise
        arn = str(
            kms.create_key(
                Description=f"{cfg.prefix}: {KEY_DESCRIPTIONS[purpose]}",
                KeyUsage="ENCRYPT_DECRYPT",
                KeySpec="SYMMETRIC_DEFAULT",
                Tags=tag_list(cfg.tags.as_dict(), "TagKey", "TagValue"),
            )["KeyMetadata"]["Arn"]
        )
        kms.create_alias(AliasName=alias, TargetKeyId=arn)
        outcome = "created"
    rotation = cfg.keys.rotation
    if rotation.enabled and not kms.get_key_rotation_status(KeyId=arn)["KeyRotationEnabled"]:
        kms.enable_key_rotation(KeyId=arn, RotationPeriodInDays=rotation.period_days)
        outcome = "created" if outcome == "created" else "updated"
    detail = f"rotation every {rotation.period_days} days" if rotation.enabled else "no rotation"
    result.add("kms key", f"{alias} ({region})", outcome, detail)
    return arn


def _ensure_table(
    cfg: StackConfig, clients: Clients, table_key_arn: str, result: SetupResult
) -> str:
    ddb = clients("dynamodb")
    spec = table_spec(cfg)
    try:
        table = ddb.describe_table(TableName=spec.name)["Table"]
        created = False
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        request = create_table_request(spec, cfg.tags.as_dict(), table_key_arn)
        table = ddb.create_table(**request)["TableDescription"]
        created = True
    ddb.get_waiter("table_exists").wait(
        TableName=spec.name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    table_arn = str(table["TableArn"])
    updates: list[str] = []

    backups = ddb.describe_continuous_backups(TableName=spec.name)["ContinuousBackupsDescription"]
    pitr = backups.get("PointInTimeRecoveryDescription", {})
    pitr_on = pitr.get("PointInTimeRecoveryStatus") == "ENABLED"
    if pitr_on != spec.point_in_time_recovery or (
        spec.point_in_time_recovery
        and pitr.get("RecoveryPeriodInDays") != spec.recovery_period_days
    ):
        pitr_spec: dict[str, Any] = {"PointInTimeRecoveryEnabled": spec.point_in_time_recovery}
        if spec.point_in_time_recovery:
            pitr_spec["RecoveryPeriodInDays"] = spec.recovery_period_days
        ddb.update_continuous_backups(
            TableName=spec.name, PointInTimeRecoverySpecification=pitr_spec
        )
        updates.append("PITR")

    ttl = ddb.describe_time_to_live(TableName=spec.name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING") or (
        ttl.get("AttributeName") != spec.ttl_attribute
    ):
        ddb.update_time_to_live(
            TableName=spec.name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
        )
        updates.append("TTL")

    if not created and table.get("DeletionProtectionEnabled", False) != spec.deletion_protection:
        ddb.update_table(TableName=spec.name, DeletionProtectionEnabled=spec.deletion_protection)
        updates.append("deletion protection")

    live_tags = _table_tags(ddb, table_arn)
    wanted = cfg.tags.as_dict()
    if any(live_tags.get(k) != v for k, v in wanted.items()):
        ddb.tag_resource(ResourceArn=table_arn, Tags=tag_list(wanted))
        updates.append("tags")

    fixed = [] if created else table_shape_differences(spec, table, table_key_arn)
    if created:
        outcome: Outcome = "created"
    elif fixed:
        outcome = "drifted"
    elif updates:
        outcome = "updated"
    else:
        outcome = "unchanged"
    detail = (
        f"{len(spec.indexes)} GSIs, PITR {spec.recovery_period_days} days, TTL {spec.ttl_attribute}"
    )
    if updates and not created:
        detail += f"; set {', '.join(updates)}"
    if fixed:
        detail = f"cannot change in place: {'; '.join(fixed)}"
    result.add("dynamodb table", spec.name, outcome, detail)

    if spec.contributor_insights:
        try:
            status = ddb.describe_contributor_insights(TableName=spec.name)
            if status.get("ContributorInsightsStatus") in ("ENABLED", "ENABLING"):
                result.add("contributor insights", spec.name, "unchanged")
            else:
                ddb.update_contributor_insights(
                    TableName=spec.name, ContributorInsightsAction="ENABLE"
                )
                result.add("contributor insights", spec.name, "created")
        except (ClientError, NotImplementedError) as exc:
            if not not_emulated(exc, emulator=clients.emulator):
                raise
            result.add("contributor insights", spec.name, "skipped", "not emulated locally")
    return table_arn


def table_shape_differences(spec: TableSpec, table: dict[str, Any], key_arn: str) -> list[str]:
    """What differs between an existing table and ``spec`` that only re-creating it can fix."""
    problems = []
    want_keys = [(spec.partition_key, "HASH"), (spec.sort_key, "RANGE")]
    if [(k["AttributeName"], k["KeyType"]) for k in table.get("KeySchema", [])] != want_keys:
        problems.append("key schema")
    live = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    for index in spec.indexes:
        found = live.get(index.name)
        if found is None:
            problems.append(f"index {index.name} missing")
            continue
        keys = [(k["AttributeName"], k["KeyType"]) for k in found.get("KeySchema", [])]
        if keys != [(index.partition_key, "HASH"), (index.sort_key, "RANGE")]:
            problems.append(f"index {index.name} keys")
        projection = found.get("Projection", {})
        if projection.get("ProjectionType") != index.projection_type or sorted(
            projection.get("NonKeyAttributes", [])
        ) != sorted(index.non_key_attributes):
            problems.append(f"index {index.name} projection")
    stream = table.get("StreamSpecification") or {}
    if not stream.get("StreamEnabled") or stream.get("StreamViewType") != spec.stream_view_type:
        problems.append("stream")
    if (table.get("SSEDescription") or {}).get("KMSMasterKeyArn") != key_arn:
        problems.append("encryption key")
    return problems


def _table_tags(ddb: Any, table_arn: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    kwargs: dict[str, str] = {"ResourceArn": table_arn}
    while True:
        page = ddb.list_tags_of_resource(**kwargs)
        tags.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
        if not page.get("NextToken"):
            return tags
        kwargs["NextToken"] = page["NextToken"]


def find_topic_arn(sns: Any, name: str) -> str | None:
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page.get("Topics", []):
            if str(topic["TopicArn"]).rsplit(":", 1)[-1] == name:
                return str(topic["TopicArn"])
    return None


def _ensure_topic(
    cfg: StackConfig, clients: Clients, alerts_key_arn: str, result: SetupResult
) -> str:
    sns = clients("sns")
    topic_arn = find_topic_arn(sns, cfg.topic_name)
    if topic_arn is None:
        topic_arn = str(
            sns.create_topic(
                Name=cfg.topic_name,
                Attributes={"KmsMasterKeyId": alerts_key_arn},
                Tags=tag_list(cfg.tags.as_dict()),
            )["TopicArn"]
        )
        outcome: Outcome = "created"
    else:
        attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
        if attributes.get("KmsMasterKeyId") != alerts_key_arn:
            sns.set_topic_attributes(
                TopicArn=topic_arn, AttributeName="KmsMasterKeyId", AttributeValue=alerts_key_arn
            )
            outcome = "updated"
        else:
            outcome = "unchanged"
    result.add("sns topic", cfg.topic_name, outcome, f"encrypted with {cfg.key_alias('alerts')}")

    existing = {
        (s["Protocol"], s["Endpoint"])
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
        for s in page.get("Subscriptions", [])
    }
    for subscriber in cfg.alarms.subscribers:
        name = f"{subscriber.protocol}:{subscriber.endpoint}"
        if subscriber.endpoint == OFFLINE_SECRET_PLACEHOLDER:
            result.add("sns subscription", name, "skipped", "endpoint is a Pulumi secret")
        elif (subscriber.protocol, subscriber.endpoint) in existing:
            result.add("sns subscription", name, "unchanged")
        else:
            sns.subscribe(
                TopicArn=topic_arn, Protocol=subscriber.protocol, Endpoint=subscriber.endpoint
            )
            result.add("sns subscription", name, "created")
    return topic_arn


def _ensure_alarms(cfg: StackConfig, clients: Clients, topic_arn: str, result: SetupResult) -> None:
    cloudwatch = clients("cloudwatch")
    specs = alarm_specs(cfg)
    live = {
        alarm["AlarmName"]: alarm
        for page in cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=f"{cfg.prefix}-", AlarmTypes=["MetricAlarm"]
        )
        for alarm in page.get("MetricAlarms", [])
    }
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for spec in specs:
        request = alarm_request(spec, topic_arn, cfg.tags.as_dict())
        current = live.get(spec.name)
        if current is not None and not alarm_differences(request, current):
            counts["unchanged"] += 1
            continue
        cloudwatch.put_metric_alarm(**request)
        counts["created" if current is None else "updated"] += 1
    for outcome in ("created", "updated", "unchanged"):
        if counts[outcome]:
            result.add(
                "cloudwatch alarms",
                f"{counts[outcome]} of {len(specs)}",
                outcome,
                f"actions to {cfg.topic_name}",
            )


def _ensure_vault(
    backup: Any, name: str, key_arn: str, tags: dict[str, str], result: SetupResult, where: str
) -> str:
    try:
        arn = str(backup.describe_backup_vault(BackupVaultName=name)["BackupVaultArn"])
        result.add("backup vault", f"{name} ({where})", "unchanged")
    except ClientError as exc:
        if error_code(exc) not in ("ResourceNotFoundException", "AccessDeniedException"):
            raise
        arn = str(
            backup.create_backup_vault(
                BackupVaultName=name, EncryptionKeyArn=key_arn, BackupVaultTags=tags
            )["BackupVaultArn"]
        )
        result.add("backup vault", f"{name} ({where})", "created")
    return arn


def _ensure_backup(
    cfg: StackConfig,
    clients: Clients,
    keys: dict[str, str],
    table_arn: str,
    result: SetupResult,
) -> None:
    tags = cfg.tags.as_dict()
    backup = clients("backup")
    _ensure_vault(backup, cfg.vault_name, keys["backup"], tags, result, cfg.region)
    lock = cfg.backup.vault_lock
    if lock.enabled:
        vault = backup.describe_backup_vault(BackupVaultName=cfg.vault_name)
        if vault.get("Locked"):
            result.add("vault lock", cfg.vault_name, "unchanged")
        else:
            request: dict[str, Any] = {
                "BackupVaultName": cfg.vault_name,
                "MinRetentionDays": lock.min_retention_days,
                "MaxRetentionDays": lock.max_retention_days,
            }
            if lock.changeable_for_days is not None:
                request["ChangeableForDays"] = lock.changeable_for_days
            backup.put_backup_vault_lock_configuration(**request)
            result.add("vault lock", cfg.vault_name, "created")
    dr_vault_arn = None
    if cfg.backup.cross_region_copy.enabled:
        dr_vault_arn = _ensure_vault(
            clients("backup", cfg.dr_region),
            cfg.dr_vault_name,
            keys["backup-dr"],
            tags,
            result,
            cfg.dr_region,
        )
    role_arn = _ensure_backup_role(cfg, clients, result)
    plan_id = _ensure_backup_plan(cfg, backup, dr_vault_arn, result, emulator=clients.emulator)
    ensure_backup_selection(
        backup,
        plan_id=plan_id,
        selection_name=f"{cfg.backup_plan_name}-table",  # as the Pulumi component names it
        role_arn=role_arn,
        table_arn=table_arn,
        result=result,
        emulator=clients.emulator,
    )


def _ensure_backup_role(cfg: StackConfig, clients: Clients, result: SetupResult) -> str:
    iam = clients("iam")
    name = cfg.backup_role_name
    try:
        arn = str(iam.get_role(RoleName=name)["Role"]["Arn"])
        outcome: Outcome = "unchanged"
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        arn = str(
            iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(BACKUP_ASSUME_ROLE_POLICY),
                Description=f"AWS Backup of {cfg.table_name}",
                Tags=tag_list(cfg.tags.as_dict()),
            )["Role"]["Arn"]
        )
        outcome = "created"
    attached = {
        p["PolicyArn"]
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name)
        for p in page.get("AttachedPolicies", [])
    }
    missing_policies = []
    for policy_arn in BACKUP_ROLE_POLICIES:
        if policy_arn in attached:
            continue
        try:
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
            outcome = "created" if outcome == "created" else "updated"
        except ClientError as exc:
            # moto knows AWS managed policies only with MOTO_IAM_LOAD_MANAGED_POLICIES=true
            # (start-local.sh sets it).
            if error_code(exc) != "NoSuchEntity" or not clients.emulator:
                raise
            missing_policies.append(policy_arn.rsplit("/", 1)[-1])
    detail = (
        f"managed policies not known to the emulator: {', '.join(missing_policies)}"
        if missing_policies
        else "AWSBackupServiceRolePolicyForBackup, ...ForRestores"
    )
    result.add("iam role", name, outcome, detail)
    return arn


def find_backup_plan(backup: Any, name: str) -> dict[str, Any] | None:
    for page in backup.get_paginator("list_backup_plans").paginate():
        for plan in page.get("BackupPlansList", []):
            if plan.get("BackupPlanName") == name:
                return dict(plan)
    return None


def _ensure_backup_plan(
    cfg: StackConfig, backup: Any, dr_vault_arn: str | None, result: SetupResult, *, emulator: bool
) -> str:
    rule = backup_rule(cfg, dr_vault_arn)
    plan = {"BackupPlanName": cfg.backup_plan_name, "Rules": [rule]}
    found = find_backup_plan(backup, cfg.backup_plan_name)
    if found is None:
        plan_id = str(
            backup.create_backup_plan(BackupPlan=plan, BackupPlanTags=cfg.tags.as_dict())[
                "BackupPlanId"
            ]
        )
        result.add("backup plan", cfg.backup_plan_name, "created", rule["ScheduleExpression"])
        return plan_id
    plan_id = str(found["BackupPlanId"])
    live_rules = backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"].get("Rules", [])
    matches = len(live_rules) == 1 and (
        not backup_rule_differences(rule, live_rules[0])
        and copy_actions_summary(rule) == copy_actions_summary(live_rules[0])
    )
    if matches:
        result.add("backup plan", cfg.backup_plan_name, "unchanged")
        return plan_id
    try:
        backup.update_backup_plan(BackupPlanId=plan_id, BackupPlan=plan)
        result.add("backup plan", cfg.backup_plan_name, "updated")
    except (ClientError, NotImplementedError) as exc:
        if not not_emulated(exc, emulator=emulator):
            raise
        result.add(
            "backup plan",
            cfg.backup_plan_name,
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
) -> None:
    """Assign the table to the backup plan unless a selection already covers it.

    moto 5.2.5 implements no backup-selection call, so locally this is reported as skipped; the
    create path is exercised with botocore's Stubber.
    """
    try:
        for page in backup.get_paginator("list_backup_selections").paginate(BackupPlanId=plan_id):
            for selection in page.get("BackupSelectionsList", []):
                if selection.get("SelectionName") == selection_name:
                    result.add("backup selection", selection_name, "unchanged")
                    return
        backup.create_backup_selection(
            BackupPlanId=plan_id,
            BackupSelection={
                "SelectionName": selection_name,
                "IamRoleArn": role_arn,
                "Resources": [table_arn],
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


def _ensure_budget(cfg: StackConfig, clients: Clients, topic_arn: str, result: SetupResult) -> None:
    # AWS Budgets is a global service served from us-east-1.
    budgets = clients("budgets", "us-east-1")
    account = str(clients("sts").get_caller_identity()["Account"])
    subscribers = budget_subscribers(cfg, topic_arn)
    try:
        budgets.describe_budget(AccountId=account, BudgetName=cfg.budget_name)
    except ClientError as exc:
        if error_code(exc) != "NotFoundException":
            raise
        budgets.create_budget(
            AccountId=account,
            Budget=budget_request(cfg),
            NotificationsWithSubscribers=[
                {"Notification": n, "Subscribers": subscribers} for n in budget_notifications(cfg)
            ],
        )
        result.add("budget", cfg.budget_name, "created", f"${cfg.budget.monthly_limit_usd:g}/month")
        return
    live = {
        notification_key(n)
        for page in budgets.get_paginator("describe_notifications_for_budget").paginate(
            AccountId=account, BudgetName=cfg.budget_name
        )
        for n in page.get("Notifications", [])
    }
    added = 0
    for notification in budget_notifications(cfg):
        if notification_key(notification) not in live:
            budgets.create_notification(
                AccountId=account,
                BudgetName=cfg.budget_name,
                Notification=notification,
                Subscribers=subscribers,
            )
            added += 1
    if added:
        result.add("budget", cfg.budget_name, "updated", f"{added} notification(s) added")
    else:
        result.add("budget", cfg.budget_name, "unchanged")


# --- AWS: create nothing, wait until usable ------------------------------------------------------


def wait_until_ready(
    cfg: StackConfig,
    clients: Clients,
    *,
    target: str = "AWS",
    timeout_seconds: int = 600,
    sleep: Callable[[float], None] = time.sleep,
) -> SetupResult:
    """Wait until the stack's table and every GSI are ACTIVE; create and write nothing."""
    result = SetupResult(cfg.environment, target, "aws")
    ddb = clients("dynamodb")
    name = cfg.table_name
    delay = 5
    try:
        ddb.get_waiter("table_exists").wait(
            TableName=name,
            WaiterConfig={"Delay": delay, "MaxAttempts": max(1, timeout_seconds // delay)},
        )
    except WaiterError as exc:
        raise SetupError(
            f"table {name} is not ACTIVE after {timeout_seconds}s ({exc}); has `pulumi up` for "
            f"stack {cfg.environment} run in {clients.region}?"
        ) from None
    deadline = time.monotonic() + timeout_seconds
    while True:
        table = ddb.describe_table(TableName=name)["Table"]
        pending = sorted(
            f"{index['IndexName']} ({index.get('IndexStatus')})"
            for index in table.get("GlobalSecondaryIndexes", [])
            if index.get("IndexStatus") != "ACTIVE"
        )
        if not pending:
            break
        if time.monotonic() > deadline:
            raise SetupError(
                f"GSIs of {name} not ACTIVE after {timeout_seconds}s: {', '.join(pending)}"
            )
        sleep(delay)
    indexes = len(table.get("GlobalSecondaryIndexes", []))
    result.add("dynamodb table", name, "ready", f"ACTIVE with {indexes} ACTIVE GSIs")
    return result


# --- command line --------------------------------------------------------------------------------


def render_text(result: SetupResult) -> str:
    width = max((len(a.resource) + len(a.name) for a in result.actions), default=20) + 3
    lines = [f"setup stack {result.stack} on {result.target}"]
    for action in result.actions:
        what = f"{action.resource}: {action.name}"
        detail = f"  {action.detail}" if action.detail else ""
        lines.append(f"  {action.outcome:<9}  {what:<{width}}{detail}".rstrip())
    lines.append(result.summary())
    return "\n".join(lines)


def render_json(result: SetupResult) -> str:
    payload = asdict(result)
    payload["changed"] = result.changed
    payload["drifted"] = result.drifted
    payload["summary"] = result.summary()
    return json.dumps(payload, indent=2)


def connection_info(cfg: StackConfig, endpoint_url: str) -> str:
    """How to point an application at the local environment of ``cfg``."""
    return "\n".join(
        [
            f"Local data layer of stack {cfg.environment} is ready. Point an app at it with:",
            f"  export AWS_ENDPOINT_URL={endpoint_url}",
            f"  export AWS_REGION={cfg.region} AWS_DEFAULT_REGION={cfg.region}",
            "  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing"
            "  # dummy: local emulator only",
            f"  export MEDEEZ_TABLE_NAME={cfg.table_name}",
            f"  export MEDEEZ_PHI_KEY_ID={cfg.key_alias('phi')}",
            "Stop it with `make local-down` (the emulator keeps data in memory only).",
        ]
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.setup_database",
        description=(
            "Local endpoint: create the stack's keys, table, topic, alarms, backup and budget. "
            "AWS: create nothing; wait until the table and its GSIs are ACTIVE."
        ),
    )
    parser.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    add_target_arguments(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--connection-info",
        action="store_true",
        help="only print how to point an app at the local endpoint, then exit",
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=600,
        help="AWS only: seconds to wait for the table and GSIs to become ACTIVE (default 600)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.timeout < 1:
            raise UsageError(f"--timeout must be a positive number of seconds, got {args.timeout}")
        cfg = load_stack_config(args.stack)
        target = resolve_target(args.endpoint_url, target=args.target)
        clients = Clients.for_target(target, cfg.region)
        if args.connection_info and not target.is_local:
            raise UsageError(
                f"--connection-info describes the local emulator, not {target.describe()}"
            )
    except (ConfigError, UsageError) as exc:
        print(f"setup: {exc}", file=sys.stderr)
        return 2
    if args.connection_info:
        print(connection_info(cfg, str(target.endpoint_url)))
        return 0
    try:
        announce_target(clients, target, "setup", sys.stderr)
        if target.is_local:
            result = setup_local(cfg, clients, target=target.describe())
        else:
            result = wait_until_ready(
                cfg, clients, target=target.describe(), timeout_seconds=args.timeout
            )
    except SetupError as exc:
        print(f"setup: {exc}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as exc:
        print(f"setup: {describe_call_failure(target, exc)}", file=sys.stderr)
        return 1
    print(render_json(result) if args.format == "json" else render_text(result))
    return 1 if result.drifted else 0


if __name__ == "__main__":
    sys.exit(main())
