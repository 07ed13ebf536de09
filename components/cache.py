"""The cache in front of the app table: ElastiCache for Valkey with TLS required, at-rest
encryption under its own key, role-based users whose passwords live in Secrets Manager, slow-log
and engine-log delivery to encrypted log groups, and AWS's recommended alarms."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stackspec.definitions.cache import CacheDefinition, CacheUser, CacheUserRole
from stackspec.definitions.monitoring import AlarmDefinition


@dataclass(frozen=True, kw_only=True)
class CacheArgs:
    """Inputs of :class:`Cache`."""

    definition: CacheDefinition
    """Engine, users, topology, windows, logs and alarms (``stackspec.definitions.cache``)."""
    cache_key_arn: pulumi.Input[str]
    """The cache's own CMK: the nodes and snapshots at rest, and the users' password secrets."""
    logs_key_arn: pulumi.Input[str]
    """The CMK of the stack's CloudWatch log groups (the slow log carries keys and arguments)."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """The network's private subnets (one per AZ the nodes may use)."""
    security_group_id: pulumi.Input[str]
    """The network's cache-tier group: ingress on the cache port from the app tiers only."""
    alert_topic_arn: pulumi.Input[str]
    """Where the cache's alarms notify."""


class Cache(pulumi.ComponentResource):
    """A replication group (cluster mode disabled) in the private subnets behind the cache
    security group, its parameter group, subnet group, log groups, users and user group, one
    secret per user, and one alarm per alarm definition."""

    replication_group: aws.elasticache.ReplicationGroup
    users: dict[CacheUserRole, aws.elasticache.User]
    secrets: dict[CacheUserRole, aws.secretsmanager.Secret]
    user_group: aws.elasticache.UserGroup
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    primary_endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    arn: pulumi.Output[str]
    user_secret_arns: dict[CacheUserRole, pulumi.Output[str]]

    def __init__(
        self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medeez:data:Cache", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        definition = args.definition
        tags = definition.tags

        parameter_group = aws.elasticache.ParameterGroup(
            f"{name}-parameters",
            name=definition.parameter_group_name,
            family=definition.parameter_group_family,
            description=definition.parameter_group_description,
            parameters=[
                aws.elasticache.ParameterGroupParameterArgs(name=key, value=value)
                for key, value in definition.parameters
            ],
            tags=dict(tags),
            opts=child,
        )
        subnet_group = aws.elasticache.SubnetGroup(
            f"{name}-subnets",
            name=definition.subnet_group_name,
            description=definition.subnet_group_description,
            subnet_ids=args.subnet_ids,
            tags=dict(tags),
            opts=child,
        )
        log_groups = {
            delivery.log_type: aws.cloudwatch.LogGroup(
                f"{name}-{delivery.log_type}",
                name=delivery.log_group_name,
                retention_in_days=delivery.retention_days,
                kms_key_id=args.logs_key_arn,
                tags=dict(tags),
                opts=child,
            )
            for delivery in definition.log_deliveries
        }

        self.secrets = {}
        self.users = {}
        for user in definition.users:
            self.secrets[user.role], self.users[user.role] = self._user(
                name, user, definition, args.cache_key_arn, tags, child
            )
        self.user_group = aws.elasticache.UserGroup(
            f"{name}-users",
            user_group_id=definition.user_group_id,
            engine=definition.engine,
            user_ids=[self.users[user.role].user_id for user in definition.users],
            tags=dict(tags),
            opts=child,
        )

        self.replication_group = aws.elasticache.ReplicationGroup(
            f"{name}-group",
            replication_group_id=definition.replication_group_id,
            description=definition.description,
            engine=definition.engine,
            engine_version=definition.engine_version,
            node_type=definition.node_type,
            num_cache_clusters=definition.num_cache_clusters,
            port=definition.port,
            parameter_group_name=parameter_group.name,
            subnet_group_name=subnet_group.name,
            security_group_ids=[args.security_group_id],
            at_rest_encryption_enabled=True,
            kms_key_id=args.cache_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode=definition.transit_encryption_mode,
            user_group_ids=[self.user_group.user_group_id],
            automatic_failover_enabled=definition.automatic_failover,
            multi_az_enabled=definition.multi_az,
            snapshot_retention_limit=definition.snapshot_retention_days,
            snapshot_window=definition.snapshot_window,
            maintenance_window=definition.maintenance_window,
            auto_minor_version_upgrade=definition.auto_minor_version_upgrade,
            log_delivery_configurations=[
                aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
                    destination=log_groups[delivery.log_type].name,
                    destination_type="cloudwatch-logs",
                    log_format=delivery.log_format,
                    log_type=delivery.log_type,
                )
                for delivery in definition.log_deliveries
            ],
            tags=dict(tags),
            opts=child,
        )
        self.alarms = {
            alarm.key: _alarm(f"{name}-{alarm.key}", alarm, tags, args.alert_topic_arn, child)
            for alarm in definition.alarms
        }
        self.primary_endpoint = self.replication_group.primary_endpoint_address
        self.reader_endpoint = self.replication_group.reader_endpoint_address
        self.arn = self.replication_group.arn
        self.user_secret_arns = {role: secret.arn for role, secret in self.secrets.items()}
        self.register_outputs(
            {
                "primaryEndpoint": self.primary_endpoint,
                "readerEndpoint": self.reader_endpoint,
                "arn": self.arn,
                "userSecretArns": {str(r): arn for r, arn in self.user_secret_arns.items()},
            }
        )

    @staticmethod
    def _user(
        name: str,
        user: CacheUser,
        definition: CacheDefinition,
        key_arn: pulumi.Input[str],
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions,
    ) -> tuple[aws.secretsmanager.Secret, aws.elasticache.User]:
        """A user's secret (under the cache key) and the ElastiCache user with that password.

        The password comes from Secrets Manager's GetRandomPassword, which returns a new value on
        every run: the secret's value and the user's passwords are set at creation and then
        ignored, so a deployment never rotates them by accident. Both values are Pulumi
        secrets (encrypted in the state by the backend's secrets provider).
        """
        invoke = pulumi.InvokeOutputOptions(parent=opts.parent)
        generated: pulumi.Output[str] = aws.secretsmanager.get_random_password_output(
            password_length=definition.password_length,
            exclude_punctuation=True,
            include_space=False,
            require_each_included_type=True,
            opts=invoke,
        ).random_password.apply(lambda value: str(value))
        password: pulumi.Output[str] = pulumi.Output.secret(generated)
        secret = aws.secretsmanager.Secret(
            f"{name}-{user.role}-secret",
            name=user.secret_name,
            description=user.secret_description,
            kms_key_id=key_arn,
            tags=dict(tags),
            opts=opts,
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-{user.role}-secret-value",
            secret_id=secret.id,
            secret_string=password.apply(
                lambda value: json.dumps(
                    {"username": user.user_name, "password": value}, sort_keys=True
                )
            ),
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(ignore_changes=["secretString"])
            ),
        )
        elasticache_user = aws.elasticache.User(
            f"{name}-{user.role}",
            user_id=user.user_id,
            user_name=user.user_name,
            engine=definition.engine,
            access_string=user.access_string,
            authentication_mode=aws.elasticache.UserAuthenticationModeArgs(
                type="password", passwords=[password]
            ),
            no_password_required=False,
            tags=dict(tags),
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(ignore_changes=["authenticationMode.passwords"])
            ),
        )
        return secret, elasticache_user


def _alarm(
    logical_name: str,
    alarm: AlarmDefinition,
    tags: Mapping[str, str],
    topic_arn: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> aws.cloudwatch.MetricAlarm:
    topic = [topic_arn]
    return aws.cloudwatch.MetricAlarm(
        logical_name,
        name=alarm.name,
        alarm_description=alarm.description,
        namespace=alarm.namespace,
        metric_name=alarm.metric_name,
        dimensions=dict(alarm.dimensions),
        statistic=alarm.statistic,
        period=alarm.period_seconds,
        evaluation_periods=alarm.evaluation_periods,
        datapoints_to_alarm=alarm.datapoints_to_alarm,
        threshold=alarm.threshold,
        comparison_operator=alarm.comparison_operator,
        treat_missing_data=alarm.treat_missing_data,
        actions_enabled=True,
        alarm_actions=topic if "ALARM" in alarm.notify_on else None,
        ok_actions=topic if "OK" in alarm.notify_on else None,
        insufficient_data_actions=topic if "INSUFFICIENT_DATA" in alarm.notify_on else None,
        tags=dict(tags),
        opts=opts,
    )
