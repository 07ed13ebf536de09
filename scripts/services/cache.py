"""The cache's AWS side on the local endpoint: log groups, user secrets, ElastiCache users, the
subnet group, the replication group and its alarms, as far as the emulator implements them.

moto implements users, subnet groups and replication groups (with the encryption flags, the user
group ids and log delivery); it does not implement parameter groups or user groups, so those are
attempted and reported as skipped, never faked. The real local Valkey server and its ACL file are
``scripts/servers`` (they read the same definition's users).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from scripts.aws_target import error_code, not_emulated
from scripts.servers.valkey_check import check_local_server
from scripts.services.base import (
    NOT_EMULATED,
    CheckContext,
    Outcome,
    SetupContext,
    Skipped,
    tag_list,
)
from scripts.services.monitoring import alarm_differences, alarm_request
from stackspec.definitions.cache import CacheDefinition, CacheLogDelivery, CacheUser
from stackspec.naming import KeyPurpose

NAME = "cache"


def _unimplemented_over_http(operation: str, call: Any, *, emulator: bool) -> Any:
    """``call()``; moto_server answers an unimplemented query-protocol call (ElastiCache) with an
    HTML 500 page that botocore cannot parse: on an emulator that is "not implemented", said the
    way moto says it in process."""
    try:
        return call()
    except ResponseParserError as exc:
        if emulator and "500 Internal Server Error" in str(exc):
            raise NotImplementedError(f"The {operation} action has not been implemented") from exc
        raise


# --- requests, shared by setup, validate and the parity test ------------------------------------


def log_group_request(delivery: CacheLogDelivery, key_arn: str | None) -> dict[str, Any]:
    request: dict[str, Any] = {"logGroupName": delivery.log_group_name}
    if key_arn:
        request["kmsKeyId"] = key_arn
    return request


def password_request(definition: CacheDefinition) -> dict[str, Any]:
    """GetRandomPassword as the component calls it: letters and digits, every type included."""
    return {
        "PasswordLength": definition.password_length,
        "ExcludePunctuation": True,
        "IncludeSpace": False,
        "RequireEachIncludedType": True,
    }


def secret_request(
    definition: CacheDefinition, user: CacheUser, key_arn: str, password: str
) -> dict[str, Any]:
    return {
        "Name": user.secret_name,
        "Description": user.secret_description,
        "KmsKeyId": key_arn,
        "SecretString": json.dumps(
            {"username": user.user_name, "password": password}, sort_keys=True
        ),
        "Tags": tag_list(definition.tags),
    }


def user_request(definition: CacheDefinition, user: CacheUser, password: str) -> dict[str, Any]:
    return {
        "UserId": user.user_id,
        "UserName": user.user_name,
        "Engine": definition.engine,
        "AccessString": user.access_string,
        "AuthenticationMode": {"Type": "password", "Passwords": [password]},
        "NoPasswordRequired": False,
        "Tags": tag_list(definition.tags),
    }


def user_summary(user: dict[str, Any]) -> dict[str, Any]:
    """What DescribeUsers reports of a user, as setup asked for it."""
    return {
        "Status": user.get("Status"),
        "UserName": user.get("UserName"),
        "Engine": str(user.get("Engine", "")).lower(),
        "AccessString": user.get("AccessString"),
        "Authentication": (user.get("Authentication") or {}).get("Type"),
    }


def expected_user_summary(definition: CacheDefinition, user: CacheUser) -> dict[str, Any]:
    return {
        "Status": "active",
        "UserName": user.user_name,
        "Engine": definition.engine,
        "AccessString": user.access_string,
        "Authentication": "password",
    }


def replication_group_request(
    definition: CacheDefinition,
    *,
    key_arn: str,
    subnet_group: str | None,
    security_group_id: str | None,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "ReplicationGroupId": definition.replication_group_id,
        "ReplicationGroupDescription": definition.description,
        "Engine": definition.engine,
        "EngineVersion": definition.engine_version,
        "CacheNodeType": definition.node_type,
        "NumCacheClusters": definition.num_cache_clusters,
        "Port": definition.port,
        "CacheParameterGroupName": definition.parameter_group_name,
        "AtRestEncryptionEnabled": True,
        "KmsKeyId": key_arn,
        "TransitEncryptionEnabled": True,
        "TransitEncryptionMode": definition.transit_encryption_mode,
        "UserGroupIds": [definition.user_group_id],
        "AutomaticFailoverEnabled": definition.automatic_failover,
        "MultiAZEnabled": definition.multi_az,
        "SnapshotRetentionLimit": definition.snapshot_retention_days,
        "SnapshotWindow": definition.snapshot_window,
        "PreferredMaintenanceWindow": definition.maintenance_window,
        "AutoMinorVersionUpgrade": definition.auto_minor_version_upgrade,
        "LogDeliveryConfigurations": [
            {
                "LogType": delivery.log_type,
                "DestinationType": "cloudwatch-logs",
                "DestinationDetails": {
                    "CloudWatchLogsDetails": {"LogGroup": delivery.log_group_name}
                },
                "LogFormat": delivery.log_format,
            }
            for delivery in definition.log_deliveries
        ],
        "Tags": tag_list(definition.tags),
    }
    if subnet_group:
        request["CacheSubnetGroupName"] = subnet_group
    if security_group_id:
        request["SecurityGroupIds"] = [security_group_id]
    return request


def group_summary(group: dict[str, Any]) -> dict[str, Any]:
    """What DescribeReplicationGroups reports, in the request's terms."""
    deliveries = [
        (
            d.get("LogType"),
            d.get("DestinationType"),
            ((d.get("DestinationDetails") or {}).get("CloudWatchLogsDetails") or {}).get(
                "LogGroup"
            ),
            d.get("LogFormat"),
        )
        for d in group.get("LogDeliveryConfigurations", [])
    ]
    return {
        "Description": group.get("Description"),
        "Engine": group.get("Engine"),
        "CacheNodeType": group.get("CacheNodeType"),
        "AtRestEncryptionEnabled": group.get("AtRestEncryptionEnabled"),
        "KmsKeyId": group.get("KmsKeyId"),
        "TransitEncryptionEnabled": group.get("TransitEncryptionEnabled"),
        "TransitEncryptionMode": group.get("TransitEncryptionMode"),
        "AuthTokenEnabled": group.get("AuthTokenEnabled"),
        "UserGroupIds": list(group.get("UserGroupIds", [])),
        "AutomaticFailover": group.get("AutomaticFailover"),
        "MultiAZ": group.get("MultiAZ"),
        "SnapshotRetentionLimit": group.get("SnapshotRetentionLimit"),
        "SnapshotWindow": group.get("SnapshotWindow"),
        "AutoMinorVersionUpgrade": group.get("AutoMinorVersionUpgrade"),
        "LogDeliveryConfigurations": deliveries,
    }


def expected_group_summary(definition: CacheDefinition, key_arn: str) -> dict[str, Any]:
    request = replication_group_request(
        definition, key_arn=key_arn, subnet_group=None, security_group_id=None
    )
    return {
        "Description": definition.description,
        "Engine": definition.engine,
        "CacheNodeType": definition.node_type,
        "AtRestEncryptionEnabled": True,
        "KmsKeyId": key_arn,
        "TransitEncryptionEnabled": True,
        "TransitEncryptionMode": definition.transit_encryption_mode,
        "AuthTokenEnabled": False,
        "UserGroupIds": [definition.user_group_id],
        "AutomaticFailover": "enabled" if definition.automatic_failover else "disabled",
        "MultiAZ": "enabled" if definition.multi_az else "disabled",
        "SnapshotRetentionLimit": definition.snapshot_retention_days,
        "SnapshotWindow": definition.snapshot_window,
        "AutoMinorVersionUpgrade": definition.auto_minor_version_upgrade,
        "LogDeliveryConfigurations": group_summary(request)["LogDeliveryConfigurations"],
    }


def network_placement(ctx: SetupContext | CheckContext) -> tuple[list[str], str | None]:
    """The network's private subnets and cache-tier group, if the local network has them."""
    network = ctx.stack.network
    names = [subnet.name for subnet in network.subnets]
    ec2 = ctx.clients("ec2")
    subnets = (
        [
            s["SubnetId"]
            for s in ec2.describe_subnets(Filters=[{"Name": "tag:Name", "Values": names}])[
                "Subnets"
            ]
        ]
        if names
        else list(network.existing_subnet_ids)
    )
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [ctx.stack.config.names.security_group("cache")]}]
    )["SecurityGroups"]
    return sorted(subnets), (groups[0]["GroupId"] if groups else None)


# --- setup ----------------------------------------------------------------------------------------


def ensure(ctx: SetupContext) -> None:
    definition = ctx.stack.cache
    key_arn = ctx.key_arns[KeyPurpose.CACHE]
    _ensure_log_groups(ctx, definition)
    _attempt(
        ctx,
        "cache parameter group",
        definition.parameter_group_name,
        lambda ec: ec.create_cache_parameter_group(
            CacheParameterGroupName=definition.parameter_group_name,
            CacheParameterGroupFamily=definition.parameter_group_family,
            Description=definition.parameter_group_description,
        ),
        "CacheParameterGroupAlreadyExists",
    )
    _attempt(
        ctx,
        "cache parameters",
        definition.parameter_group_name,
        lambda ec: ec.modify_cache_parameter_group(
            CacheParameterGroupName=definition.parameter_group_name,
            ParameterNameValues=[
                {"ParameterName": key, "ParameterValue": value}
                for key, value in definition.parameters
            ],
        ),
        "",
        done="updated",
    )
    for user in definition.users:
        _ensure_user(ctx, definition, user, key_arn)
    _attempt(
        ctx,
        "cache user group",
        definition.user_group_id,
        lambda ec: ec.create_user_group(
            UserGroupId=definition.user_group_id,
            Engine=definition.engine,
            UserIds=[user.user_id for user in definition.users],
            Tags=tag_list(definition.tags),
        ),
        "UserGroupAlreadyExists",
    )
    subnets, security_group = network_placement(ctx)
    subnet_group = _ensure_subnet_group(ctx, definition, subnets)
    _ensure_group(ctx, definition, key_arn, subnet_group, security_group)
    _ensure_alarms(ctx, definition)


def _attempt(
    ctx: SetupContext,
    resource: str,
    name: str,
    call: Any,
    exists_code: str,
    *,
    done: Outcome = "created",
) -> None:
    """Make what the emulator may not implement: done, unchanged, or skipped (with why)."""
    elasticache = ctx.clients("elasticache")
    try:
        _unimplemented_over_http(resource, lambda: call(elasticache), emulator=ctx.clients.emulator)
    except (ClientError, NotImplementedError) as exc:
        if isinstance(exc, ClientError) and exists_code and error_code(exc) == exists_code:
            ctx.result.add(resource, name, "unchanged")
            return
        if not_emulated(exc, emulator=ctx.clients.emulator):
            ctx.result.add(resource, name, "skipped", NOT_EMULATED)
            return
        raise
    ctx.result.add(resource, name, done)


def _ensure_log_groups(ctx: SetupContext, definition: CacheDefinition) -> None:
    logs = ctx.clients("logs")
    key_arn = ctx.key_arns.get(KeyPurpose.LOGS)
    for delivery in definition.log_deliveries:
        name = delivery.log_group_name
        found = [
            g
            for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
            if g["logGroupName"] == name
        ]
        if not found:
            logs.create_log_group(**log_group_request(delivery, key_arn), tags=definition.tags)
            outcome: Outcome = "created"
        elif found[0].get("retentionInDays") != delivery.retention_days:
            outcome = "updated"
        else:
            ctx.result.add("log group", name, "unchanged")
            continue
        logs.put_retention_policy(logGroupName=name, retentionInDays=delivery.retention_days)
        ctx.result.add("log group", name, outcome, f"{delivery.retention_days} days")


def _ensure_user(
    ctx: SetupContext, definition: CacheDefinition, user: CacheUser, key_arn: str
) -> None:
    secrets = ctx.clients("secretsmanager")
    try:
        value = json.loads(secrets.get_secret_value(SecretId=user.secret_name)["SecretString"])
        password = str(value["password"])
        ctx.result.add("secret", user.secret_name, "unchanged")
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        password = secrets.get_random_password(**password_request(definition))["RandomPassword"]
        secrets.create_secret(**secret_request(definition, user, key_arn, password))
        ctx.result.add("secret", user.secret_name, "created", "password set once, never logged")
    elasticache = ctx.clients("elasticache")
    try:
        (live,) = elasticache.describe_users(UserId=user.user_id)["Users"]
    except ClientError as exc:
        if error_code(exc) != "UserNotFound":
            raise
        elasticache.create_user(**user_request(definition, user, password))
        ctx.result.add("cache user", user.user_id, "created", user.access_string)
        return
    if user_summary(live) == expected_user_summary(definition, user):
        ctx.result.add("cache user", user.user_id, "unchanged")
    else:
        # moto has no ModifyUser; a changed access string means rebuilding the local side.
        ctx.result.add("cache user", user.user_id, "drifted", f"access {live.get('AccessString')}")


def _ensure_subnet_group(
    ctx: SetupContext, definition: CacheDefinition, subnets: list[str]
) -> str | None:
    name = definition.subnet_group_name
    if not subnets:
        ctx.result.add(
            "cache subnet group", name, "skipped", "the network's subnets are not built locally"
        )
        return None
    elasticache = ctx.clients("elasticache")
    try:
        elasticache.create_cache_subnet_group(
            CacheSubnetGroupName=name,
            CacheSubnetGroupDescription=definition.subnet_group_description,
            SubnetIds=subnets,
            Tags=tag_list(definition.tags),
        )
        ctx.result.add("cache subnet group", name, "created", f"{len(subnets)} subnets")
    except ClientError as exc:
        if error_code(exc) != "CacheSubnetGroupAlreadyExists":
            raise
        ctx.result.add("cache subnet group", name, "unchanged")
    return name


def _ensure_group(
    ctx: SetupContext,
    definition: CacheDefinition,
    key_arn: str,
    subnet_group: str | None,
    security_group: str | None,
) -> None:
    elasticache = ctx.clients("elasticache")
    name = definition.replication_group_id
    try:
        (live,) = elasticache.describe_replication_groups(ReplicationGroupId=name)[
            "ReplicationGroups"
        ]
    except ClientError as exc:
        if error_code(exc) != "ReplicationGroupNotFoundFault":
            raise
        elasticache.create_replication_group(
            **replication_group_request(
                definition,
                key_arn=key_arn,
                subnet_group=subnet_group,
                security_group_id=security_group,
            )
        )
        ctx.result.add(
            "cache replication group",
            name,
            "created",
            f"{definition.engine} {definition.engine_version}, {definition.num_cache_clusters} "
            f"x {definition.node_type}, TLS {definition.transit_encryption_mode}",
        )
        return
    if group_summary(live) == expected_group_summary(definition, key_arn):
        ctx.result.add("cache replication group", name, "unchanged")
    else:
        ctx.result.add("cache replication group", name, "drifted", "differs from the definition")


def _ensure_alarms(ctx: SetupContext, definition: CacheDefinition) -> None:
    cloudwatch = ctx.clients("cloudwatch")
    topic = str(ctx.topic_arn)
    names = [alarm.name for alarm in definition.alarms]
    live = {
        a["AlarmName"]: a
        for a in cloudwatch.describe_alarms(AlarmNames=names).get("MetricAlarms", [])
    }
    changed = 0
    for alarm in definition.alarms:
        request = alarm_request(alarm, topic, definition.tags)
        current = live.get(alarm.name)
        if current is None or alarm_differences(request, current):
            cloudwatch.put_metric_alarm(**request)
            changed += 1
    ctx.result.add(
        "cache alarms",
        f"{len(definition.alarms)} alarms",
        "unchanged" if not changed else ("created" if not live else "updated"),
        "actions to the alert topic",
    )


# --- validate ---------------------------------------------------------------------------------


def check(ctx: CheckContext) -> None:
    definition = ctx.stack.cache
    key_arn = ctx.key_arns.get(KeyPurpose.CACHE)
    elasticache = ctx.clients("elasticache")

    def key() -> str:
        if not key_arn:
            raise Skipped(f"the {KeyPurpose.CACHE} key is missing (its own row fails)")
        return key_arn

    def group_row() -> None:
        (live,) = elasticache.describe_replication_groups(
            ReplicationGroupId=definition.replication_group_id
        )["ReplicationGroups"]
        ctx.add(
            "cache.replication_group",
            expected_group_summary(definition, key()),
            group_summary(live),
        )

    ctx.guard("cache.replication_group", group_row, definition.replication_group_id)

    for user in definition.users:

        def user_row(user: CacheUser = user) -> None:
            (live,) = elasticache.describe_users(UserId=user.user_id)["Users"]
            ctx.add(
                f"cache.user.{user.role}",
                expected_user_summary(definition, user),
                user_summary(live),
            )

        ctx.guard(f"cache.user.{user.role}", user_row, user.user_id)

        def secret_row(user: CacheUser = user) -> None:
            secrets = ctx.clients("secretsmanager")
            described = secrets.describe_secret(SecretId=user.secret_name)
            value = json.loads(secrets.get_secret_value(SecretId=user.secret_name)["SecretString"])
            ctx.add(
                f"cache.secret.{user.role}",
                {
                    "KmsKeyId": key(),
                    "username": user.user_name,
                    "password length": definition.password_length,
                },
                {
                    "KmsKeyId": described.get("KmsKeyId"),
                    "username": value.get("username"),
                    "password length": len(str(value.get("password", ""))),
                },
            )

        ctx.guard(f"cache.secret.{user.role}", secret_row, user.secret_name)

    def user_group_row() -> None:
        (live,) = _unimplemented_over_http(
            "describe_user_groups",
            lambda: elasticache.describe_user_groups(UserGroupId=definition.user_group_id),
            emulator=ctx.clients.emulator,
        )["UserGroups"]
        ctx.add(
            "cache.user_group",
            sorted(u.user_id for u in definition.users),
            sorted(live.get("UserIds", [])),
        )

    ctx.guard("cache.user_group", user_group_row, definition.user_group_id)

    def parameter_group_row() -> None:
        (live,) = _unimplemented_over_http(
            "describe_cache_parameter_groups",
            lambda: elasticache.describe_cache_parameter_groups(
                CacheParameterGroupName=definition.parameter_group_name
            ),
            emulator=ctx.clients.emulator,
        )["CacheParameterGroups"]
        ctx.add(
            "cache.parameter_group",
            definition.parameter_group_family,
            live.get("CacheParameterGroupFamily"),
        )

    ctx.guard("cache.parameter_group", parameter_group_row, definition.parameter_group_name)

    def log_groups_row() -> None:
        logs = ctx.clients("logs")
        logs_key = ctx.key_arns.get(KeyPurpose.LOGS)
        if not logs_key:
            raise Skipped(f"the {KeyPurpose.LOGS} key is missing (its own row fails)")
        found = {}
        for delivery in definition.log_deliveries:
            groups = logs.describe_log_groups(logGroupNamePrefix=delivery.log_group_name)
            for group in groups["logGroups"]:
                if group["logGroupName"] == delivery.log_group_name:
                    found[delivery.log_group_name] = (
                        group.get("retentionInDays"),
                        group.get("kmsKeyId"),
                    )
        ctx.add(
            "cache.log_groups",
            {d.log_group_name: (d.retention_days, logs_key) for d in definition.log_deliveries},
            found,
        )

    ctx.guard("cache.log_groups", log_groups_row)

    def alarms_row() -> None:
        live = {
            a["AlarmName"]: a
            for a in ctx.clients("cloudwatch")
            .describe_alarms(AlarmNames=[a.name for a in definition.alarms])
            .get("MetricAlarms", [])
        }
        topic = ctx.topic_arn_or_built()
        problems = [
            f"{alarm.name}: {'; '.join(diff)}" if alarm.name in live else f"{alarm.name}: missing"
            for alarm in definition.alarms
            for diff in [
                alarm_differences(alarm_request(alarm, topic, {}), live[alarm.name])
                if alarm.name in live
                else ["missing"]
            ]
            if diff
        ]
        expected = f"{len(definition.alarms)} alarms to the alert topic"
        ctx.add("cache.alarms", expected, "; ".join(problems) or expected)

    ctx.guard("cache.alarms", alarms_row)

    # The local Valkey that make local-up started, against the same definition (CACHELOCAL).
    check_local_server(ctx)
