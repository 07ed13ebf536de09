"""``make validate STACK=<stack> [FORMAT=json]``: does the live environment match the stack config?

Read-only. Reads AWS (or the local endpoint in ``AWS_ENDPOINT_URL``) with boto3 paginators and
waiters and compares it with what the stack config declares: the table (status, key schema,
attribute definitions, every GSI and its projection, billing, SSE key, PITR and its period,
streams, TTL, deletion protection, tags, contributor insights), the KMS keys (aliases, rotation),
the backup vault, lock, plan, copy rule and selection, the alarms and their actions, the alert
topic's encryption and subscriptions, and the budget with its notifications.

One row per check: PASS, FAIL with what was expected and what was found, or SKIP with the reason
(for example a call the local emulator does not implement). Exit 0 when nothing FAILs, 1 when
something does, 2 for usage errors (unknown stack, bad arguments).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterable, Sequence
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
from components.table_spec import TableSpec, table_spec
from scripts.aws_target import (
    Clients,
    UsageError,
    add_target_arguments,
    announce_target,
    describe_call_failure,
    error_code,
    not_emulated,
    resolve_target,
)
from scripts.expected import (
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
)
from scripts.setup_database import find_backup_plan, find_topic_arn

Status = Literal["PASS", "FAIL", "SKIP"]
NOT_EMULATED = "not emulated locally"


@dataclass(frozen=True)
class Row:
    """One check: its stable id, the verdict, and what was expected and found."""

    check: str
    status: Status
    expected: str = ""
    found: str = ""
    detail: str = ""


@dataclass
class Report:
    stack: str
    target: str
    rows: list[Row] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def failed(self) -> bool:
        return self.count("FAIL") > 0

    def row(self, check: str) -> Row:
        for row in self.rows:
            if row.check == check:
                return row
        raise KeyError(check)

    def summary(self) -> str:
        return (
            f"{len(self.rows)} checks of stack {self.stack} on {self.target}: "
            f"{self.count('PASS')} PASS, {self.count('FAIL')} FAIL, {self.count('SKIP')} SKIP"
        )


def _fmt(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_fmt(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items()) if value else "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Skipped(Exception):
    """A prerequisite is missing; the dependent check is skipped with this reason."""


class Validator:
    """Runs every check of ``cfg`` against ``clients``; read-only."""

    def __init__(self, cfg: StackConfig, clients: Clients, *, wait_seconds: int = 60) -> None:
        self.cfg = cfg
        self.clients = clients
        self.wait_seconds = wait_seconds
        self.rows: list[Row] = []
        self.key_arns: dict[str, str | None] = {}
        self.table: dict[str, Any] | None = None
        self.topic_arn: str | None = None
        self._account: str | None = None
        self._partition: str | None = None

    # -- plumbing --------------------------------------------------------------------------------

    def add(self, check: str, expected: Any, found: Any, ok: bool | None = None) -> None:
        passed = (expected == found) if ok is None else ok
        self.rows.append(Row(check, "PASS" if passed else "FAIL", _fmt(expected), _fmt(found)))

    def fail(self, check: str, expected: Any, found: Any, detail: str = "") -> None:
        self.rows.append(Row(check, "FAIL", _fmt(expected), _fmt(found), detail))

    def skip(self, check: str, reason: str, expected: Any = "") -> None:
        self.rows.append(Row(check, "SKIP", _fmt(expected), "", reason))

    def guard(self, check: str, run: Callable[[], None], expected: Any = "") -> None:
        """Run one check; a missing prerequisite skips it, an unemulated call skips it with the
        reason, any other API error fails it with the error (never a traceback)."""
        try:
            run()
        except _Skipped as exc:
            self.skip(check, str(exc), expected)
        except (ClientError, NotImplementedError) as exc:
            if not_emulated(exc, emulator=self.clients.emulator):
                operation = (
                    getattr(exc, "operation_name", "")
                    or (str(exc).removeprefix("The ").split(" action")[0])
                )
                self.skip(check, f"{NOT_EMULATED}: the endpoint does not implement {operation}")
            else:
                self.fail(check, expected, "could not read", f"{error_code(exc)}: {exc}")

    @property
    def account(self) -> str:
        if self._account is None:
            identity = self.clients("sts").get_caller_identity()
            self._account = str(identity["Account"])
            self._partition = str(identity["Arn"]).split(":")[1]
        return self._account

    @property
    def partition(self) -> str:
        """``aws``, ``aws-us-gov``...: from the caller's ARN, for ARNs validate has to build."""
        if self._partition is None:
            _ = self.account
        return self._partition or "aws"

    def run(self) -> list[Row]:
        for purpose, region in key_purposes(self.cfg):
            self.check_key(purpose, region)
        self.check_table()
        self.check_topic()
        self.check_alarms()
        self.check_backup()
        self.check_budget()
        return self.rows

    # -- KMS -------------------------------------------------------------------------------------

    def check_key(self, purpose: str, region: str) -> None:
        alias = self.cfg.key_alias(purpose)
        kms = self.clients("kms", region)
        self.key_arns[purpose] = None
        expected = f"{alias} -> enabled customer-managed symmetric key"

        def alias_row() -> None:
            target = None
            for page in kms.get_paginator("list_aliases").paginate():
                for entry in page.get("Aliases", []):
                    if entry.get("AliasName") == alias:
                        target = entry.get("TargetKeyId")
            if target is None:
                self.fail(f"kms.{purpose}.alias", expected, f"no alias {alias} in {region}")
                return
            meta = kms.describe_key(KeyId=target)["KeyMetadata"]
            self.key_arns[purpose] = str(meta["Arn"])
            found = f"{meta.get('KeyState')} {meta.get('KeyManager')} {meta.get('KeySpec')}"
            ok = (
                meta.get("KeyState") == "Enabled"
                and meta.get("KeyManager") == "CUSTOMER"
                and meta.get("KeySpec") == "SYMMETRIC_DEFAULT"
            )
            self.add(f"kms.{purpose}.alias", "Enabled CUSTOMER SYMMETRIC_DEFAULT", found, ok)

        self.guard(f"kms.{purpose}.alias", alias_row, expected)
        rotation = self.cfg.keys.rotation

        def rotation_rows() -> None:
            arn = self.key_arns[purpose]
            if arn is None:
                raise _Skipped(f"key {alias} not found")
            status = kms.get_key_rotation_status(KeyId=arn)
            enabled = bool(status.get("KeyRotationEnabled"))
            self.add(
                f"kms.{purpose}.rotation",
                "enabled" if rotation.enabled else "disabled",
                "enabled" if enabled else "disabled",
            )
            period = status.get("RotationPeriodInDays")
            check = f"kms.{purpose}.rotation-period"
            if not (rotation.enabled and enabled):
                self.skip(check, "rotation is off", f"{rotation.period_days} days")
            elif period is None:
                self.skip(
                    check,
                    f"{NOT_EMULATED}: the endpoint does not report RotationPeriodInDays",
                    f"{rotation.period_days} days",
                )
            else:
                self.add(check, f"{rotation.period_days} days", f"{period} days")

        self.guard(f"kms.{purpose}.rotation", rotation_rows)

    # -- DynamoDB --------------------------------------------------------------------------------

    def _describe_table(self, spec: TableSpec) -> dict[str, Any] | None:
        ddb = self.clients("dynamodb")
        try:
            table = ddb.describe_table(TableName=spec.name)["Table"]
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise
        if table.get("TableStatus") != "ACTIVE" and self.wait_seconds > 0:
            # A table still not ACTIVE after the wait is reported with the status found below.
            with contextlib.suppress(WaiterError):
                ddb.get_waiter("table_exists").wait(
                    TableName=spec.name,
                    WaiterConfig={"Delay": 5, "MaxAttempts": max(1, self.wait_seconds // 5)},
                )
            table = ddb.describe_table(TableName=spec.name)["Table"]
        return dict(table)

    def check_table(self) -> None:
        spec = table_spec(self.cfg)

        def status_row() -> None:
            self.table = self._describe_table(spec)
            found = "not found" if self.table is None else self.table.get("TableStatus")
            self.add("table.status", f"{spec.name} ACTIVE", f"{spec.name} {found}")

        self.guard("table.status", status_row, f"{spec.name} ACTIVE")
        checks: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
            ("table.key-schema", lambda t: self._key_schema(spec, t)),
            ("table.attributes", lambda t: self._attributes(spec, t)),
            *(
                (f"table.gsi.{index.name}", lambda t, i=index: self._gsi(i, t))
                for index in spec.indexes
            ),
            *(
                (f"table.gsi.{index.name}.projection", lambda t, i=index: self._projection(i, t))
                for index in spec.indexes
            ),
            ("table.billing", lambda t: self._billing(spec, t)),
            ("table.max-throughput", lambda t: self._max_throughput(spec, t)),
            ("table.sse", lambda t: self._sse(t)),
            ("table.pitr", lambda t: self._pitr(spec)),
            ("table.stream", lambda t: self._stream(spec, t)),
            ("table.ttl", lambda t: self._ttl(spec)),
            ("table.deletion-protection", lambda t: self._deletion_protection(spec, t)),
            ("table.tags", lambda t: self._tags(t)),
            ("table.contributor-insights", lambda t: self._contributor_insights(spec)),
        ]
        for check, run in checks:
            self.guard(check, lambda run=run: run(self._require_table(spec)))  # type: ignore[misc]

    def _require_table(self, spec: TableSpec) -> dict[str, Any]:
        if self.table is None:
            raise _Skipped(f"table {spec.name} not found")
        return self.table

    @staticmethod
    def _schema(entries: Iterable[dict[str, Any]]) -> list[str]:
        return [f"{e['AttributeName']} {e['KeyType']}" for e in entries]

    def _key_schema(self, spec: TableSpec, table: dict[str, Any]) -> None:
        expected = [f"{spec.partition_key} HASH", f"{spec.sort_key} RANGE"]
        self.add("table.key-schema", expected, self._schema(table.get("KeySchema", [])))

    def _attributes(self, spec: TableSpec, table: dict[str, Any]) -> None:
        expected = sorted(f"{name} S" for name in spec.attributes)
        found = sorted(
            f"{a['AttributeName']} {a['AttributeType']}"
            for a in table.get("AttributeDefinitions", [])
        )
        self.add("table.attributes", expected, found)

    def _live_index(self, table: dict[str, Any], name: str) -> dict[str, Any] | None:
        for index in table.get("GlobalSecondaryIndexes", []):
            if index.get("IndexName") == name:
                return dict(index)
        return None

    def _gsi(self, index: Any, table: dict[str, Any]) -> None:
        check = f"table.gsi.{index.name}"
        expected = [f"{index.partition_key} HASH", f"{index.sort_key} RANGE", "ACTIVE"]
        live = self._live_index(table, index.name)
        if live is None:
            self.fail(check, expected, "index not found")
            return
        found = [*self._schema(live.get("KeySchema", [])), str(live.get("IndexStatus"))]
        self.add(check, expected, found)

    def _projection(self, index: Any, table: dict[str, Any]) -> None:
        check = f"table.gsi.{index.name}.projection"
        live = self._live_index(table, index.name)
        if live is None:
            raise _Skipped(f"index {index.name} not found")
        projection = live.get("Projection", {})
        expected = [index.projection_type, *sorted(index.non_key_attributes)]
        found = [
            str(projection.get("ProjectionType")),
            *sorted(projection.get("NonKeyAttributes", [])),
        ]
        self.add(check, expected, found)

    def _billing(self, spec: TableSpec, table: dict[str, Any]) -> None:
        mode = table.get("BillingModeSummary", {}).get("BillingMode")
        if mode is None and "ProvisionedThroughput" in table:
            # DescribeTable omits the summary for tables created as PROVISIONED.
            mode = "PROVISIONED"
        self.add("table.billing", spec.billing_mode, mode)

    def _max_throughput(self, spec: TableSpec, table: dict[str, Any]) -> None:
        check = "table.max-throughput"
        want = (
            f"read {spec.max_read_request_units}/s, write {spec.max_write_request_units}/s"
            if spec.max_read_request_units and spec.max_write_request_units
            else "no maximum"
        )
        live = table.get("OnDemandThroughput")
        if live is None and self.clients.emulator:
            self.skip(check, f"{NOT_EMULATED}: the endpoint does not report OnDemandThroughput")
            return
        live = live or {}
        read, write = live.get("MaxReadRequestUnits"), live.get("MaxWriteRequestUnits")
        # AWS reports -1 for "no maximum".
        found = (
            f"read {read}/s, write {write}/s"
            if read not in (None, -1) and write not in (None, -1)
            else "no maximum"
        )
        self.add(check, want, found)

    def _sse(self, table: dict[str, Any]) -> None:
        alias = self.cfg.key_alias("table")
        key_arn = self.key_arns.get("table")
        if key_arn is None:
            raise _Skipped(f"key {alias} not found")
        sse = table.get("SSEDescription") or {}
        found_arn = sse.get("KMSMasterKeyArn")
        found = f"{sse.get('Status', 'DISABLED')} {sse.get('SSEType', 'AWS_OWNED')} {found_arn}"
        self.add(
            "table.sse",
            f"ENABLED KMS {alias} ({key_arn})",
            found,
            ok=sse.get("Status") == "ENABLED"
            and sse.get("SSEType") == "KMS"
            and found_arn == key_arn,
        )

    def _pitr(self, spec: TableSpec) -> None:
        ddb = self.clients("dynamodb")
        described = ddb.describe_continuous_backups(TableName=spec.name)
        pitr = described["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
        status = pitr.get("PointInTimeRecoveryStatus", "DISABLED")
        if spec.point_in_time_recovery:
            expected = f"ENABLED, {spec.recovery_period_days} days"
            found = f"{status}, {pitr.get('RecoveryPeriodInDays', 35)} days"
        else:
            expected, found = "DISABLED", status
        self.add("table.pitr", expected, found)

    def _stream(self, spec: TableSpec, table: dict[str, Any]) -> None:
        stream = table.get("StreamSpecification") or {}
        found = stream.get("StreamViewType") if stream.get("StreamEnabled") else "disabled"
        self.add("table.stream", spec.stream_view_type, found)

    def _ttl(self, spec: TableSpec) -> None:
        ddb = self.clients("dynamodb")
        ttl = ddb.describe_time_to_live(TableName=spec.name)["TimeToLiveDescription"]
        status = ttl.get("TimeToLiveStatus")
        found = f"{status} on {ttl.get('AttributeName')}" if ttl.get("AttributeName") else status
        self.add(
            "table.ttl",
            f"ENABLED on {spec.ttl_attribute}",
            found,
            ok=status in ("ENABLED", "ENABLING") and ttl.get("AttributeName") == spec.ttl_attribute,
        )

    def _deletion_protection(self, spec: TableSpec, table: dict[str, Any]) -> None:
        found = bool(table.get("DeletionProtectionEnabled", False))
        self.add("table.deletion-protection", spec.deletion_protection, found)

    def _tags(self, table: dict[str, Any]) -> None:
        ddb = self.clients("dynamodb")
        live: dict[str, str] = {}
        kwargs: dict[str, str] = {"ResourceArn": str(table["TableArn"])}
        while True:  # ListTagsOfResource has no paginator
            page = ddb.list_tags_of_resource(**kwargs)
            live.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
        wanted = self.cfg.tags.as_dict()
        wrong = {k: live.get(k, "(missing)") for k, v in wanted.items() if live.get(k) != v}
        if wrong:
            self.fail("table.tags", {k: wanted[k] for k in wrong}, wrong)
        else:
            self.add("table.tags", wanted, {k: live[k] for k in wanted})

    def _contributor_insights(self, spec: TableSpec) -> None:
        status = self.clients("dynamodb").describe_contributor_insights(TableName=spec.name)
        found = status.get("ContributorInsightsStatus", "DISABLED")
        self.add(
            "table.contributor-insights",
            "ENABLED" if spec.contributor_insights else "DISABLED",
            "ENABLED" if found in ("ENABLED", "ENABLING") else found,
        )

    # -- SNS and CloudWatch ----------------------------------------------------------------------

    def check_topic(self) -> None:
        sns = self.clients("sns")
        name = self.cfg.topic_name

        def topic_row() -> None:
            self.topic_arn = find_topic_arn(sns, name)
            self.add("sns.topic", name, name if self.topic_arn else "not found")

        self.guard("sns.topic", topic_row, name)
        alias = self.cfg.key_alias("alerts")

        def encryption_row() -> None:
            if self.topic_arn is None:
                raise _Skipped(f"topic {name} not found")
            key_arn = self.key_arns.get("alerts")
            if key_arn is None:
                raise _Skipped(f"key {alias} not found")
            attributes = sns.get_topic_attributes(TopicArn=self.topic_arn)["Attributes"]
            key_id = attributes.get("KmsMasterKeyId") or ""
            if not key_id:
                self.fail("sns.topic-encryption", f"{alias} ({key_arn})", "not encrypted")
                return
            kms = self.clients("kms")
            resolved = str(kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"])
            self.add(
                "sns.topic-encryption",
                f"{alias} ({key_arn})",
                key_id if key_id == resolved else f"{key_id} ({resolved})",
                ok=resolved == key_arn,
            )

        self.guard("sns.topic-encryption", encryption_row, alias)

        def subscriptions_row() -> None:
            if self.topic_arn is None:
                raise _Skipped(f"topic {name} not found")
            wanted = sorted(
                f"{s.protocol}:{s.endpoint}"
                for s in self.cfg.alarms.subscribers
                if s.endpoint != OFFLINE_SECRET_PLACEHOLDER
            )
            live = sorted(
                f"{s['Protocol']}:{s['Endpoint']}"
                for page in sns.get_paginator("list_subscriptions_by_topic").paginate(
                    TopicArn=self.topic_arn
                )
                for s in page.get("Subscriptions", [])
            )
            missing = [w for w in wanted if w not in live]
            self.add("sns.subscriptions", wanted, live, ok=not missing)

        self.guard("sns.subscriptions", subscriptions_row)

    def check_alarms(self) -> None:
        specs = alarm_specs(self.cfg)
        cloudwatch = self.clients("cloudwatch")
        live: dict[str, dict[str, Any]] = {}

        def read() -> None:
            for page in cloudwatch.get_paginator("describe_alarms").paginate(
                AlarmNamePrefix=f"{self.cfg.prefix}-", AlarmTypes=["MetricAlarm"]
            ):
                live.update({a["AlarmName"]: a for a in page.get("MetricAlarms", [])})

        try:
            read()
        except ClientError as exc:
            for spec in specs:
                self.fail(f"alarm.{spec.key}", spec.name, "could not read", str(exc))
            return
        topic_arn = self.topic_arn or (
            f"arn:{self.partition}:sns:{self.cfg.region}:{self.account}:{self.cfg.topic_name}"
        )
        for spec in specs:
            check = f"alarm.{spec.key}"
            current = live.get(spec.name)
            expected = f"{spec.name} -> {self.cfg.topic_name}"
            if current is None:
                self.fail(check, expected, "not found")
                continue
            problems = alarm_differences(alarm_request(spec, topic_arn, {}), current)
            if problems:
                self.fail(check, expected, "; ".join(problems))
            else:
                self.add(check, expected, expected)

    # -- AWS Backup ------------------------------------------------------------------------------

    def check_backup(self) -> None:
        cfg = self.cfg
        backup = self.clients("backup")
        vaults: dict[str, str | None] = {}

        def vault_row(check: str, client: Any, name: str, purpose: str) -> None:
            key_arn = self.key_arns.get(purpose)
            expected = f"{name} encrypted with {cfg.key_alias(purpose)}"
            try:
                vault = client.describe_backup_vault(BackupVaultName=name)
            except ClientError as exc:
                if error_code(exc) not in ("ResourceNotFoundException", "AccessDeniedException"):
                    raise
                vaults[name] = None
                self.fail(check, expected, "not found")
                return
            vaults[name] = str(vault["BackupVaultArn"])
            found_key = vault.get("EncryptionKeyArn")
            if key_arn is None:  # the missing alias is its own FAIL row
                self.skip(check, f"key {cfg.key_alias(purpose)} not found", expected)
            else:
                self.add(
                    check,
                    f"{expected} ({key_arn})",
                    f"{name} encrypted with {found_key}",
                    ok=found_key == key_arn,
                )
            if check == "backup.vault" and cfg.backup.vault_lock.enabled:
                lock = cfg.backup.vault_lock
                self.add(
                    "backup.vault-lock",
                    f"locked {lock.min_retention_days}..{lock.max_retention_days} days",
                    f"locked {vault.get('MinRetentionDays')}..{vault.get('MaxRetentionDays')} days"
                    if vault.get("Locked")
                    else "not locked",
                )

        self.guard(
            "backup.vault", lambda: vault_row("backup.vault", backup, cfg.vault_name, "backup")
        )
        copy = cfg.backup.cross_region_copy
        if copy.enabled:
            self.guard(
                "backup.dr-vault",
                lambda: vault_row(
                    "backup.dr-vault",
                    self.clients("backup", cfg.dr_region),
                    cfg.dr_vault_name,
                    "backup-dr",
                ),
            )
        regions = [("backup.region-settings", cfg.region)]
        if copy.enabled:
            regions.append(("backup.region-settings.dr", cfg.dr_region))
        for check, region in regions:
            self.guard(check, lambda c=check, r=region: self._region_settings(c, r))  # type: ignore[misc]

        plan: dict[str, Any] = {}

        def plan_row() -> None:
            found = find_backup_plan(backup, cfg.backup_plan_name)
            if found is None:
                self.fail("backup.plan", cfg.backup_plan_name, "not found")
                return
            plan.update(found)
            rules = backup.get_backup_plan(BackupPlanId=found["BackupPlanId"])["BackupPlan"].get(
                "Rules", []
            )
            want = backup_rule(cfg, vaults.get(cfg.dr_vault_name) or self._dr_vault_arn())
            plan["rule"] = next(
                (r for r in rules if r.get("TargetBackupVaultName") == cfg.vault_name), None
            )
            if plan["rule"] is None:
                self.fail("backup.plan", f"a rule into {cfg.vault_name}", "no such rule")
                return
            plan["want"] = want
            problems = backup_rule_differences(want, plan["rule"])
            summary = (
                f"{want['ScheduleExpression']}, window {want['StartWindowMinutes']}/"
                f"{want['CompletionWindowMinutes']} min, keep {cfg.backup.retention_days} days"
            )
            if problems:
                self.fail("backup.plan", summary, "; ".join(problems))
            else:
                self.add("backup.plan", summary, summary)

        self.guard("backup.plan", plan_row, cfg.backup_plan_name)

        def copy_row() -> None:
            if "rule" not in plan or plan["rule"] is None:
                raise _Skipped(f"backup plan {cfg.backup_plan_name} not found")
            want = copy_actions_summary(plan["want"])
            found = copy_actions_summary(plan["rule"])
            self.add(
                "backup.copy-rule",
                [f"{arn} keep {days} days" for arn, days in want] or "no copy (disabled)",
                [f"{arn} keep {days} days" for arn, days in found] or "no copy (disabled)",
            )

        self.guard("backup.copy-rule", copy_row)
        self.guard(
            "backup.selection",
            lambda: check_backup_selection(self, backup, plan.get("BackupPlanId")),
        )

    def _dr_vault_arn(self) -> str | None:
        if not self.cfg.backup.cross_region_copy.enabled:
            return None
        return (
            f"arn:{self.partition}:backup:{self.cfg.dr_region}:{self.account}:backup-vault:"
            f"{self.cfg.dr_vault_name}"
        )

    def _region_settings(self, check: str, region: str) -> None:
        settings = self.clients("backup", region).describe_region_settings()
        opted_in = settings.get("ResourceTypeOptInPreference", {}).get("DynamoDB")
        advanced = settings.get("ResourceTypeManagementPreference", {}).get("DynamoDB")
        self.add(
            check,
            "DynamoDB opted in, advanced backup on",
            f"DynamoDB opted in={opted_in}, advanced backup={advanced}",
            ok=bool(opted_in) and bool(advanced),
        )

    # -- Budgets ---------------------------------------------------------------------------------

    def check_budget(self) -> None:
        cfg = self.cfg
        budgets = self.clients("budgets", "us-east-1")  # a global service, served from us-east-1
        present: list[bool] = []

        def budget_row() -> None:
            want = budget_request(cfg)
            expected = {
                "limit": f"{float(want['BudgetLimit']['Amount']):g} USD",
                "period": want["TimeUnit"],
                "type": want["BudgetType"],
                "filter": want["CostFilters"]["TagKeyValue"],
            }
            try:
                live = budgets.describe_budget(AccountId=self.account, BudgetName=cfg.budget_name)
            except ClientError as exc:
                if error_code(exc) != "NotFoundException":
                    raise
                self.fail("budget", {"name": cfg.budget_name, **expected}, "not found")
                return
            present.append(True)
            budget = live["Budget"]
            limit = budget.get("BudgetLimit", {})
            found = {
                "limit": f"{float(limit.get('Amount', 0)):g} {limit.get('Unit')}",
                "period": budget.get("TimeUnit"),
                "type": budget.get("BudgetType"),
                "filter": (budget.get("CostFilters") or {}).get("TagKeyValue", []),
            }
            self.add("budget", expected, found)

        self.guard("budget", budget_row, cfg.budget_name)
        wanted = budget_notifications(cfg)

        def notifications_row() -> None:
            if not present:
                raise _Skipped(f"budget {cfg.budget_name} not found")
            live = sorted(
                notification_key(n)
                for page in budgets.get_paginator("describe_notifications_for_budget").paginate(
                    AccountId=self.account, BudgetName=cfg.budget_name
                )
                for n in page.get("Notifications", [])
            )
            describe = [
                f"{t} {op} {p:g}% ({kind})"
                for t, op, p, kind in sorted(map(notification_key, wanted))
            ]
            self.add(
                "budget.notifications",
                describe,
                [f"{t} {op} {p:g}% ({kind})" for t, op, p, kind in live],
            )

        self.guard("budget.notifications", notifications_row)

        def subscribers_row() -> None:
            if not present:
                raise _Skipped(f"budget {cfg.budget_name} not found")
            topic_arn = self.topic_arn or (
                f"arn:{self.partition}:sns:{cfg.region}:{self.account}:{cfg.topic_name}"
            )
            expected = sorted(
                f"{s['SubscriptionType']}:{s['Address']}"
                for s in budget_subscribers(cfg, topic_arn)
            )
            missing: list[str] = []
            for notification in wanted:
                live = {
                    f"{s['SubscriptionType']}:{s['Address']}"
                    for page in budgets.get_paginator(
                        "describe_subscribers_for_notification"
                    ).paginate(
                        AccountId=self.account,
                        BudgetName=cfg.budget_name,
                        Notification=notification,
                    )
                    for s in page.get("Subscribers", [])
                }
                label = f"{notification['NotificationType']} {notification['Threshold']:g}%"
                missing.extend(f"{label}: {e}" for e in expected if e not in live)
            if missing:
                self.fail("budget.subscribers", expected, f"missing {_fmt(missing)}")
            else:
                self.add("budget.subscribers", expected, expected)

        self.guard("budget.subscribers", subscribers_row)


def check_backup_selection(validator: Validator, backup: Any, plan_id: str | None) -> None:
    """PASS when a selection of the plan covers the table with the stack's backup role."""
    cfg = validator.cfg
    check = "backup.selection"
    if plan_id is None:
        raise _Skipped(f"backup plan {cfg.backup_plan_name} not found")
    table_arn = (validator.table or {}).get("TableArn") or (
        f"arn:{validator.partition}:dynamodb:{cfg.region}:{validator.account}:table/"
        f"{cfg.table_name}"
    )
    expected = f"{table_arn} via role {cfg.backup_role_name}"
    found: list[str] = []
    for page in backup.get_paginator("list_backup_selections").paginate(BackupPlanId=plan_id):
        for entry in page.get("BackupSelectionsList", []):
            selection = backup.get_backup_selection(
                BackupPlanId=plan_id, SelectionId=entry["SelectionId"]
            )["BackupSelection"]
            role = str(selection.get("IamRoleArn", "")).rsplit("/", 1)[-1]
            found.extend(f"{arn} via role {role}" for arn in selection.get("Resources", []))
    validator.add(check, expected, found or "no selection", ok=expected in found)


def validate(cfg: StackConfig, clients: Clients, *, target: str, wait_seconds: int = 60) -> Report:
    """Every check of ``cfg`` against the environment behind ``clients``."""
    rows = Validator(cfg, clients, wait_seconds=wait_seconds).run()
    return Report(cfg.environment, target, rows)


# --- output --------------------------------------------------------------------------------------


def render_text(report: Report) -> str:
    width = max((len(row.check) for row in report.rows), default=10) + 2
    lines = []
    for row in report.rows:
        if row.status == "PASS":
            text = row.found
        elif row.status == "FAIL":
            text = f"expected {row.expected}; found {row.found}"
            if row.detail:
                text += f" ({row.detail})"
        else:
            text = row.detail
        lines.append(f"{row.status:<5} {row.check:<{width}}{text}")
    lines.append(report.summary())
    return "\n".join(lines)


def render_json(report: Report) -> str:
    return json.dumps(
        {
            "stack": report.stack,
            "target": report.target,
            "counts": {s: report.count(s) for s in ("PASS", "FAIL", "SKIP")},
            "checks": [asdict(row) for row in report.rows],
        },
        indent=2,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.validate_setup",
        description="Compare the live environment with the stack config (read-only).",
    )
    parser.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    add_target_arguments(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--wait",
        type=int,
        default=60,
        metavar="SECONDS",
        help="how long to wait for a table that is still CREATING or UPDATING (default 60)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.wait < 0:
            raise UsageError(f"--wait must be 0 or more seconds, got {args.wait}")
        cfg = load_stack_config(args.stack)
        target = resolve_target(args.endpoint_url, target=args.target)
    except (ConfigError, UsageError) as exc:
        print(f"validate: {exc}", file=sys.stderr)
        return 2
    clients = Clients.for_target(target, cfg.region)
    try:
        announce_target(clients, target, "validate", sys.stderr)
        report = validate(cfg, clients, target=target.describe(), wait_seconds=args.wait)
    except (ClientError, BotoCoreError) as exc:
        print(f"validate: {describe_call_failure(target, exc)}", file=sys.stderr)
        return 1
    print(render_json(report) if args.format == "json" else render_text(report))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
