"""The audit database locally: its AWS shape in the emulator, its data in the real PostgreSQL.

Setup builds, from the definition, the parameter group (with its parameters), the enhanced
monitoring role, the log groups, the subnet group (when the network gives subnets), the DB
instance with an RDS-managed master secret on the database key (moto keeps RDS as metadata and
creates the ``rds!db-...`` secret), and the alarms. The audit trail itself lives in the local
PostgreSQL (``make local-up``), which validate checks against the same definition: major version,
connection logging, the roles. What only RDS has (TLS enforcement, pgaudit, ``rds_iam``) is
reported as SKIP with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from scripts.aws_target import error_code, local_state_dir, read_env_file
from scripts.services.base import (
    CheckContext,
    Outcome,
    SetupContext,
    Skipped,
    policy_document,
    tag_list,
)
from scripts.services.monitoring import alarm_differences, alarm_request
from stackspec.definitions.audit_database import MONITORING_SERVICE, AuditDatabaseDefinition
from stackspec.naming import KeyPurpose

NAME = "audit-database"
#: The key of the stack's log groups.
LOGS_KEY = KeyPurpose.LOGS
#: Why the subnet group is not built locally.
NO_SUBNETS = "the local environment builds no VPC (no local network service yet), so no subnets"
#: The local PostgreSQL's auditor URL (read-only), recorded by ``make local-up``.
LOCAL_URL_KEY = "AUDIT_DATABASE_URL"


def parameters_request(definition: AuditDatabaseDefinition) -> list[dict[str, str]]:
    """``Parameters`` of ModifyDBParameterGroup."""
    return [
        {"ParameterName": p.name, "ParameterValue": p.value, "ApplyMethod": p.apply_method}
        for p in definition.parameters
    ]


def instance_request(
    definition: AuditDatabaseDefinition,
    *,
    key_arn: str,
    monitoring_role_arn: str,
    subnet_group: str | None,
    security_group_ids: list[str],
) -> dict[str, Any]:
    """CreateDBInstance, as the component declares the instance (no password: RDS manages it)."""
    request: dict[str, Any] = {
        "DBInstanceIdentifier": definition.identifier,
        "Engine": definition.engine,
        "EngineVersion": definition.engine_version,
        "DBInstanceClass": definition.instance_class,
        "DBName": definition.database_name,
        "MasterUsername": definition.master_username,
        "ManageMasterUserPassword": True,
        "MasterUserSecretKmsKeyId": key_arn,
        "Port": definition.port,
        "StorageType": definition.storage_type,
        "AllocatedStorage": definition.allocated_storage_gib,
        "MaxAllocatedStorage": definition.max_allocated_storage_gib,
        "StorageEncrypted": True,
        "KmsKeyId": key_arn,
        "MultiAZ": definition.multi_az,
        "PubliclyAccessible": False,
        "DBParameterGroupName": definition.parameter_group_name,
        "EnableIAMDatabaseAuthentication": True,
        "CACertificateIdentifier": definition.ca_cert_identifier,
        "BackupRetentionPeriod": definition.backup_retention_days,
        "PreferredBackupWindow": definition.backup_window,
        "PreferredMaintenanceWindow": definition.maintenance_window,
        "AutoMinorVersionUpgrade": True,
        "CopyTagsToSnapshot": True,
        "DeletionProtection": definition.deletion_protection,
        "EnableCloudwatchLogsExports": list(definition.log_exports),
        "EnablePerformanceInsights": True,
        "PerformanceInsightsKMSKeyId": key_arn,
        "PerformanceInsightsRetentionPeriod": definition.performance_insights_retention_days,
        "MonitoringInterval": definition.monitoring_interval_seconds,
        "MonitoringRoleArn": monitoring_role_arn,
        "Tags": tag_list(definition.tags),
    }
    if subnet_group is not None:
        request["DBSubnetGroupName"] = subnet_group
    if security_group_ids:
        request["VpcSecurityGroupIds"] = security_group_ids
    return request


#: DescribeDBInstances field -> CreateDBInstance field, for what moto reports back.
DESCRIBED = {
    "Engine": "Engine",
    "EngineVersion": "EngineVersion",
    "DBInstanceClass": "DBInstanceClass",
    "DBName": "DBName",
    "MasterUsername": "MasterUsername",
    "StorageType": "StorageType",
    "AllocatedStorage": "AllocatedStorage",
    "MaxAllocatedStorage": "MaxAllocatedStorage",
    "StorageEncrypted": "StorageEncrypted",
    "KmsKeyId": "KmsKeyId",
    "MultiAZ": "MultiAZ",
    "PubliclyAccessible": "PubliclyAccessible",
    "IAMDatabaseAuthenticationEnabled": "EnableIAMDatabaseAuthentication",
    "CACertificateIdentifier": "CACertificateIdentifier",
    "BackupRetentionPeriod": "BackupRetentionPeriod",
    "PreferredBackupWindow": "PreferredBackupWindow",
    "PreferredMaintenanceWindow": "PreferredMaintenanceWindow",
    "AutoMinorVersionUpgrade": "AutoMinorVersionUpgrade",
    "CopyTagsToSnapshot": "CopyTagsToSnapshot",
    "DeletionProtection": "DeletionProtection",
    "EnabledCloudwatchLogsExports": "EnableCloudwatchLogsExports",
    "MonitoringInterval": "MonitoringInterval",
    "MonitoringRoleArn": "MonitoringRoleArn",
    "PerformanceInsightsEnabled": "EnablePerformanceInsights",
    "PerformanceInsightsKMSKeyId": "PerformanceInsightsKMSKeyId",
    "PerformanceInsightsRetentionPeriod": "PerformanceInsightsRetentionPeriod",
}


def described_settings(instance: dict[str, Any]) -> dict[str, Any]:
    """An instance as DescribeDBInstances reports it, keyed like CreateDBInstance."""
    settings = {
        request: instance[described]
        for described, request in DESCRIBED.items()
        if described in instance
    }
    groups = instance.get("DBParameterGroups") or []
    if groups:
        settings["DBParameterGroupName"] = groups[0].get("DBParameterGroupName")
    secret = instance.get("MasterUserSecret") or {}
    settings["ManageMasterUserPassword"] = bool(secret.get("SecretArn"))
    settings["MasterUserSecretKmsKeyId"] = secret.get("KmsKeyId")
    return settings


def instance_differences(request: dict[str, Any], instance: dict[str, Any]) -> list[str]:
    """What the described instance has other than the request (fields the emulator reports)."""
    have = described_settings(instance)
    names = (
        *DESCRIBED.values(),
        "DBParameterGroupName",
        "ManageMasterUserPassword",
        "MasterUserSecretKmsKeyId",
    )
    return [
        f"{name}: expected {request[name]}, found {have[name]}"
        for name in names
        if name in request and name in have and have[name] != request[name]
    ]


def _role_arn(ctx: SetupContext | CheckContext, definition: AuditDatabaseDefinition) -> str:
    return (
        f"arn:{ctx.identity.partition}:iam::{ctx.identity.account}:role/"
        f"{definition.monitoring_role_name}"
    )


# --- setup ---------------------------------------------------------------------------------------


def ensure(ctx: SetupContext) -> None:
    definition = ctx.stack.audit_database
    key_arn = ctx.key_arns[definition.key_purpose]
    _ensure_parameter_group(ctx, definition)
    role_arn = _ensure_monitoring_role(ctx, definition)
    _ensure_log_groups(ctx, definition, ctx.key_arns[LOGS_KEY])
    subnet_group = _ensure_subnet_group(ctx, definition)
    _ensure_instance(ctx, definition, key_arn, role_arn, subnet_group)
    _ensure_alarms(ctx, definition)


def _ensure_parameter_group(ctx: SetupContext, definition: AuditDatabaseDefinition) -> None:
    rds = ctx.clients("rds")
    name = definition.parameter_group_name
    outcome: Outcome = "unchanged"
    if _parameter_group(rds, name) is None:
        rds.create_db_parameter_group(
            DBParameterGroupName=name,
            DBParameterGroupFamily=definition.parameter_group_family,
            Description=f"{definition.identifier}: TLS 1.2+, pgaudit, connection logging",
            Tags=tag_list(definition.tags),
        )
        outcome = "created"
    live = _user_parameters(rds, name)
    wanted = {p.name: p.value for p in definition.parameters}
    if any(live.get(k) != v for k, v in wanted.items()):
        rds.modify_db_parameter_group(
            DBParameterGroupName=name, Parameters=parameters_request(definition)
        )
        outcome = "updated" if outcome == "unchanged" else outcome
    ctx.result.add(
        "db parameter group", name, outcome, ", ".join(f"{k}={v}" for k, v in wanted.items())
    )


def _parameter_group(rds: Any, name: str) -> dict[str, Any] | None:
    """The group called ``name``; None when absent (AWS raises, moto answers an empty list)."""
    try:
        groups = rds.describe_db_parameter_groups(DBParameterGroupName=name)["DBParameterGroups"]
    except ClientError as exc:
        if error_code(exc) != "DBParameterGroupNotFound":
            raise
        return None
    return next((dict(g) for g in groups if g.get("DBParameterGroupName") == name), None)


def _user_parameters(rds: Any, name: str) -> dict[str, str]:
    return {
        p["ParameterName"]: str(p.get("ParameterValue"))
        for page in rds.get_paginator("describe_db_parameters").paginate(
            DBParameterGroupName=name, Source="user"
        )
        for p in page.get("Parameters", [])
    }


def _ensure_monitoring_role(ctx: SetupContext, definition: AuditDatabaseDefinition) -> str:
    iam = ctx.clients("iam")
    name = definition.monitoring_role_name
    trust = definition.monitoring_trust_policy(account_id=ctx.identity.account)
    outcome: Outcome = "unchanged"
    try:
        role = iam.get_role(RoleName=name)["Role"]
        if policy_document(role.get("AssumeRolePolicyDocument")) != trust:
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
            outcome = "updated"
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description=f"RDS enhanced monitoring of {definition.identifier}",
            Tags=tag_list(definition.tags),
        )
        outcome = "created"
    policy_arn = definition.monitoring_policy_arn(ctx.identity.partition)
    detail = policy_arn.rsplit("/", 1)[-1]
    attached = {
        p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    }
    if policy_arn not in attached:
        try:
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
            outcome = "updated" if outcome == "unchanged" else outcome
        except ClientError as exc:
            # moto knows AWS managed policies only with MOTO_IAM_LOAD_MANAGED_POLICIES=true.
            if error_code(exc) != "NoSuchEntity" or not ctx.clients.emulator:
                raise
            detail = f"managed policy not known to the emulator: {detail}"
    ctx.result.add("rds monitoring role", name, outcome, detail)
    return _role_arn(ctx, definition)


def _ensure_log_groups(
    ctx: SetupContext, definition: AuditDatabaseDefinition, key_arn: str
) -> None:
    logs = ctx.clients("logs")
    for group in definition.log_groups.values():
        found = _log_group(logs, group)
        outcome: Outcome = "unchanged"
        if found is None:
            logs.create_log_group(logGroupName=group, kmsKeyId=key_arn, tags=definition.tags)
            outcome = "created"
        elif found.get("kmsKeyId") != key_arn:
            logs.associate_kms_key(logGroupName=group, kmsKeyId=key_arn)
            outcome = "updated"
        if found is None or found.get("retentionInDays") != definition.log_retention_days:
            logs.put_retention_policy(
                logGroupName=group, retentionInDays=definition.log_retention_days
            )
            outcome = "updated" if outcome == "unchanged" else outcome
        ctx.result.add(
            "log group", group, outcome, f"{definition.log_retention_days} days, KMS-encrypted"
        )


def _log_group(logs: Any, name: str) -> dict[str, Any] | None:
    for group in logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", []):
        if group.get("logGroupName") == name:
            return dict(group)
    return None


def _ensure_subnet_group(ctx: SetupContext, definition: AuditDatabaseDefinition) -> str | None:
    subnet_ids: list[str] = list(getattr(ctx, "subnet_ids", None) or [])
    if not subnet_ids:
        ctx.result.add(
            "db subnet group",
            definition.subnet_group_name,
            "skipped",
            NO_SUBNETS,
        )
        return None
    rds = ctx.clients("rds")
    try:
        rds.describe_db_subnet_groups(DBSubnetGroupName=definition.subnet_group_name)
        ctx.result.add("db subnet group", definition.subnet_group_name, "unchanged")
    except ClientError as exc:
        if error_code(exc) != "DBSubnetGroupNotFoundFault":
            raise
        rds.create_db_subnet_group(
            DBSubnetGroupName=definition.subnet_group_name,
            DBSubnetGroupDescription=f"Private subnets of {definition.identifier}",
            SubnetIds=subnet_ids,
            Tags=tag_list(definition.tags),
        )
        ctx.result.add("db subnet group", definition.subnet_group_name, "created")
    return definition.subnet_group_name


def _ensure_instance(
    ctx: SetupContext,
    definition: AuditDatabaseDefinition,
    key_arn: str,
    role_arn: str,
    subnet_group: str | None,
) -> None:
    rds = ctx.clients("rds")
    request = instance_request(
        definition,
        key_arn=key_arn,
        monitoring_role_arn=role_arn,
        subnet_group=subnet_group,
        security_group_ids=list(getattr(ctx, "database_security_group_ids", None) or []),
    )
    detail = "metadata only: the audit trail lives in the local PostgreSQL"
    try:
        (instance,) = rds.describe_db_instances(DBInstanceIdentifier=definition.identifier)[
            "DBInstances"
        ]
    except ClientError as exc:
        if error_code(exc) != "DBInstanceNotFound":
            raise
        rds.create_db_instance(**request)
        ctx.result.add("db instance", definition.identifier, "created", detail)
        return
    problems = instance_differences(request, instance)
    if problems:
        ctx.result.add(
            "db instance",
            definition.identifier,
            "drifted",
            "; ".join(problems) + " (rebuild: make local-down local-up, then make setup)",
        )
    else:
        ctx.result.add("db instance", definition.identifier, "unchanged", detail)


def _ensure_alarms(ctx: SetupContext, definition: AuditDatabaseDefinition) -> None:
    cloudwatch = ctx.clients("cloudwatch")
    live = _live_alarms(cloudwatch, definition)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for alarm in definition.alarms:
        request = alarm_request(alarm, str(ctx.topic_arn), definition.tags)
        current = live.get(alarm.name)
        if current is not None and not alarm_differences(request, current):
            counts["unchanged"] += 1
            continue
        cloudwatch.put_metric_alarm(**request)
        counts["created" if current is None else "updated"] += 1
    for outcome in ("created", "updated", "unchanged"):
        if counts[outcome]:
            ctx.result.add(
                "cloudwatch alarms",
                f"{counts[outcome]} of {len(definition.alarms)} ({definition.identifier})",
                outcome,
            )


def _live_alarms(cloudwatch: Any, definition: AuditDatabaseDefinition) -> dict[str, Any]:
    names = {alarm.name for alarm in definition.alarms}
    return {
        alarm["AlarmName"]: alarm
        for page in cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=f"{definition.names.prefix}-audit-db-", AlarmTypes=["MetricAlarm"]
        )
        for alarm in page.get("MetricAlarms", [])
        if alarm["AlarmName"] in names
    }


# --- validate ------------------------------------------------------------------------------------


def check(ctx: CheckContext) -> None:
    definition = ctx.stack.audit_database
    ctx.guard("audit-db.parameter-group", lambda: _check_parameters(ctx, definition))
    ctx.guard("audit-db.monitoring-role", lambda: _check_monitoring_role(ctx, definition))
    for log, group in definition.log_groups.items():
        ctx.guard(f"audit-db.log-group.{log}", _log_group_check(ctx, definition, log, group))
    ctx.guard("audit-db.subnet-group", lambda: _check_subnet_group(ctx, definition))
    ctx.guard("audit-db.instance", lambda: _check_instance(ctx, definition))
    ctx.guard("audit-db.alarms", lambda: _check_alarms(ctx, definition))
    _check_postgres(ctx, definition)


def _check_parameters(ctx: CheckContext, definition: AuditDatabaseDefinition) -> None:
    rds = ctx.clients("rds")
    name = definition.parameter_group_name
    group = _parameter_group(rds, name)
    if group is None:
        ctx.fail(
            "audit-db.parameter-group", f"{name} ({definition.parameter_group_family})", "not found"
        )
        return
    ctx.add(
        "audit-db.parameter-group",
        f"{name} ({definition.parameter_group_family})",
        f"{group['DBParameterGroupName']} ({group['DBParameterGroupFamily']})",
    )
    live = _user_parameters(rds, name)
    for parameter in definition.parameters:
        ctx.add(
            f"audit-db.parameter.{parameter.name}",
            parameter.value,
            live.get(parameter.name, "not set"),
        )


def _check_monitoring_role(ctx: CheckContext, definition: AuditDatabaseDefinition) -> None:
    iam = ctx.clients("iam")
    name = definition.monitoring_role_name
    expected = f"{name}: trusted by {MONITORING_SERVICE} of this account only"
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        ctx.fail("audit-db.monitoring-role", expected, "not found")
        return
    trust = definition.monitoring_trust_policy(account_id=ctx.identity.account)
    ok = policy_document(role.get("AssumeRolePolicyDocument")) == trust
    ctx.add(
        "audit-db.monitoring-role", expected, expected if ok else "a different trust policy", ok=ok
    )


def _log_group_check(
    ctx: CheckContext, definition: AuditDatabaseDefinition, log: str, name: str
) -> Callable[[], None]:
    return lambda: _check_log_group(ctx, definition, log, name)


def _check_log_group(
    ctx: CheckContext, definition: AuditDatabaseDefinition, log: str, name: str
) -> None:
    key_arn = ctx.key_arns.get(LOGS_KEY)
    expected = f"{name}: {definition.log_retention_days} days, key {ctx.stack.keys[LOGS_KEY].alias}"
    found = _log_group(ctx.clients("logs"), name)
    if found is None:
        ctx.fail(f"audit-db.log-group.{log}", expected, "not found")
        return
    ok = found.get("retentionInDays") == definition.log_retention_days and (
        key_arn is not None and found.get("kmsKeyId") == key_arn
    )
    ctx.add(
        f"audit-db.log-group.{log}",
        expected,
        expected if ok else f"{found.get('retentionInDays')} days, key {found.get('kmsKeyId')}",
        ok=ok,
    )


def _check_subnet_group(ctx: CheckContext, definition: AuditDatabaseDefinition) -> None:
    if not getattr(ctx, "subnet_ids", None):
        raise Skipped(NO_SUBNETS)
    (group,) = ctx.clients("rds").describe_db_subnet_groups(
        DBSubnetGroupName=definition.subnet_group_name
    )["DBSubnetGroups"]
    found = sorted(s["SubnetIdentifier"] for s in group.get("Subnets", []))
    ctx.add("audit-db.subnet-group", sorted(ctx.subnet_ids), found)  # type: ignore[attr-defined]


def _check_instance(ctx: CheckContext, definition: AuditDatabaseDefinition) -> None:
    rds = ctx.clients("rds")
    key_arn = ctx.key_arns.get(definition.key_purpose)
    if key_arn is None:
        raise Skipped(f"the {definition.key_purpose} key is missing (its own row fails)")
    try:
        (instance,) = rds.describe_db_instances(DBInstanceIdentifier=definition.identifier)[
            "DBInstances"
        ]
    except ClientError as exc:
        if error_code(exc) != "DBInstanceNotFound":
            raise
        ctx.fail("audit-db.instance", definition.identifier, "not found")
        return
    request = instance_request(
        definition,
        key_arn=key_arn,
        monitoring_role_arn=_role_arn(ctx, definition),
        subnet_group=None,
        security_group_ids=[],
    )
    have = described_settings(instance)
    for name in (*DESCRIBED.values(), "DBParameterGroupName", "ManageMasterUserPassword"):
        check_id = f"audit-db.instance.{name}"
        if name not in have:
            ctx.skip(check_id, f"the emulator does not report {name}", request[name])
        else:
            ctx.add(check_id, request[name], have[name])
    ctx.add(
        "audit-db.instance.MasterUserSecretKmsKeyId",
        ctx.stack.keys[definition.key_purpose].alias,
        ctx.stack.keys[definition.key_purpose].alias
        if have["MasterUserSecretKmsKeyId"] == key_arn
        else have["MasterUserSecretKmsKeyId"],
    )


def _check_alarms(ctx: CheckContext, definition: AuditDatabaseDefinition) -> None:
    live = _live_alarms(ctx.clients("cloudwatch"), definition)
    topic_arn = ctx.topic_arn_or_built()
    for alarm in definition.alarms:
        check_id = f"alarm.{alarm.key}"
        current = live.get(alarm.name)
        expected = f"{alarm.name} -> {ctx.stack.monitoring.topic_name}"
        if current is None:
            ctx.fail(check_id, expected, "not found")
            continue
        problems = alarm_differences(alarm_request(alarm, topic_arn, {}), current)
        ctx.add(check_id, expected, "; ".join(problems) if problems else expected)


def _roles(definition: AuditDatabaseDefinition) -> list[str]:
    return sorted((definition.owner_user, definition.ingest_user, definition.reader_user))


def local_database_url() -> str | None:
    """The auditor's URL of the PostgreSQL ``make local-up`` runs, if it recorded one."""
    return read_env_file(local_state_dir() / "env").get(LOCAL_URL_KEY) or None


def _check_postgres(ctx: CheckContext, definition: AuditDatabaseDefinition) -> None:
    """The real local PostgreSQL against the definition (read-only queries as the auditor)."""
    rows = ("major", "log_connections", "log_disconnections", "roles")
    url = local_database_url() if ctx.clients.emulator else None
    if url is None:
        reason = (
            "TARGET=aws: the RDS instance is checked by its own rows; connect with make "
            "audit-verify TARGET=aws"
            if not ctx.clients.emulator
            else "the local PostgreSQL is not running (make local-up records it in .local/env)"
        )
        for row in rows:
            ctx.skip(f"audit-db.postgres.{row}", reason)
        return
    import psycopg

    try:
        conn: psycopg.Connection[Any]
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
            version = int(str(conn.execute("SHOW server_version_num").fetchone()[0]))  # type: ignore[index]
            settings = {
                name: str(conn.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
                for name in ("log_connections", "log_disconnections", "ssl")
            }
            roles = sorted(
                r[0]
                for r in conn.execute(
                    "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)",
                    (_roles(definition),),
                ).fetchall()
            )
            pgaudit = conn.execute(
                "SELECT 1 FROM pg_available_extensions WHERE name = 'pgaudit'"
            ).fetchone()
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        for row in rows:
            ctx.fail(f"audit-db.postgres.{row}", "reachable", "unreachable", first)
        return
    ctx.add("audit-db.postgres.major", definition.engine_major, str(version // 10000))
    for name in ("log_connections", "log_disconnections"):
        ctx.add(f"audit-db.postgres.{name}", "on", settings[name])
    ctx.add(
        "audit-db.postgres.roles",
        _roles(definition),
        roles,
    )
    ctx.skip(
        "audit-db.postgres.tls",
        f"the local server listens on 127.0.0.1 without TLS (ssl={settings['ssl']}); RDS "
        "enforces rds.force_ssl and ssl_min_protocol_version=TLSv1.2 (rows above)",
        "TLS 1.2+ required",
    )
    ctx.skip(
        "audit-db.postgres.pgaudit",
        "the pgserver wheel ships no pgaudit"
        if pgaudit is None
        else "pgaudit is available but not preloaded locally",
        "pgaudit: ddl, role",
    )
    ctx.skip(
        "audit-db.postgres.rds_iam",
        "rds_iam exists only on RDS; locally the roles log in with SCRAM passwords",
        f"rds_iam granted to {', '.join(_roles(definition))}",
    )
