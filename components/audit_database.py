"""The audit database (``stackspec.definitions.audit_database``): RDS for PostgreSQL on its own
key, private, TLS-only, IAM database authentication, pgaudit, logs exported to encrypted log
groups, enhanced monitoring, the master password managed by RDS in Secrets Manager, and AWS's
recommended alarms."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.encryption_key import EncryptionKey, EncryptionKeyArgs
from stackspec.config.stack import Protection
from stackspec.definitions.audit_database import AuditDatabaseDefinition
from stackspec.definitions.keys import KeyDefinition
from stackspec.definitions.monitoring import AlarmDefinition


@dataclass(frozen=True, kw_only=True)
class AuditDatabaseArgs:
    """Inputs of :class:`AuditDatabase`."""

    definition: AuditDatabaseDefinition
    key: KeyDefinition
    """The database's own key (purpose ``audit-db``)."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private subnets in at least two AZs (the network's)."""
    security_group_id: pulumi.Input[str]
    """The database tier's security group (ingress only from the tiers that use it)."""
    logs_key_arn: pulumi.Input[str]
    """The CMK of the stack's log groups."""
    topic_arn: pulumi.Input[str]
    """The alert topic every alarm notifies."""
    protection: Protection
    """``protect`` / ``retainOnDelete`` for the instance and its key."""


class AuditDatabase(pulumi.ComponentResource):
    instance: aws.rds.Instance
    address: pulumi.Output[str]
    port: pulumi.Output[int]
    resource_id: pulumi.Output[str]
    arn: pulumi.Output[str]
    master_secret_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]
    database_name: str

    def __init__(
        self, name: str, args: AuditDatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medeez:data:AuditDatabase", name, None, opts)
        definition = args.definition
        tags = definition.tags
        child = pulumi.ResourceOptions(parent=self)
        data = pulumi.ResourceOptions(
            parent=self,
            protect=args.protection.protect,
            retain_on_delete=args.protection.retain_on_delete,
        )
        invoke = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)

        key = EncryptionKey(f"{name}-key", EncryptionKeyArgs(definition=args.key), opts=data)
        parameters = aws.rds.ParameterGroup(
            f"{name}-parameters",
            name=definition.parameter_group_name,
            family=definition.parameter_group_family,
            description=f"{definition.identifier}: TLS 1.2+, pgaudit, connection logging",
            parameters=[
                aws.rds.ParameterGroupParameterArgs(
                    name=p.name, value=p.value, apply_method=p.apply_method
                )
                for p in definition.parameters
            ],
            tags=dict(tags),
            opts=child,
        )
        subnets = aws.rds.SubnetGroup(
            f"{name}-subnets",
            name=definition.subnet_group_name,
            description=f"Private subnets of {definition.identifier}",
            subnet_ids=args.subnet_ids,
            tags=dict(tags),
            opts=child,
        )
        monitoring_role = aws.iam.Role(
            f"{name}-monitoring-role",
            name=definition.monitoring_role_name,
            description=f"RDS enhanced monitoring of {definition.identifier}",
            assume_role_policy=identity.account_id.apply(
                lambda account_id: json.dumps(
                    definition.monitoring_trust_policy(account_id=account_id), sort_keys=True
                )
            ),
            tags=dict(tags),
            opts=child,
        )
        monitoring_policy = aws.iam.RolePolicyAttachment(
            f"{name}-monitoring-policy",
            role=monitoring_role.name,
            policy_arn=partition.partition.apply(definition.monitoring_policy_arn),
            opts=child,
        )
        # Created ahead of the instance, so RDS writes into encrypted, retained groups rather than
        # creating unencrypted ones that never expire; they keep audit evidence, so protected.
        log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-log-{log}",
                name=group,
                kms_key_id=args.logs_key_arn,
                retention_in_days=definition.log_retention_days,
                tags=dict(tags),
                opts=data,
            )
            for log, group in definition.log_groups.items()
        ]
        self.instance = aws.rds.Instance(
            f"{name}-instance",
            identifier=definition.identifier,
            engine=definition.engine,
            engine_version=definition.engine_version,
            instance_class=definition.instance_class,
            db_name=definition.database_name,
            username=definition.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=key.arn,
            port=definition.port,
            storage_type=definition.storage_type,
            allocated_storage=definition.allocated_storage_gib,
            max_allocated_storage=definition.max_allocated_storage_gib,
            storage_encrypted=True,
            kms_key_id=key.arn,
            multi_az=definition.multi_az,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[args.security_group_id],
            publicly_accessible=False,
            parameter_group_name=parameters.name,
            iam_database_authentication_enabled=True,
            ca_cert_identifier=definition.ca_cert_identifier,
            backup_retention_period=definition.backup_retention_days,
            backup_window=definition.backup_window,
            maintenance_window=definition.maintenance_window,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            copy_tags_to_snapshot=True,
            deletion_protection=definition.deletion_protection,
            skip_final_snapshot=False,
            final_snapshot_identifier=definition.final_snapshot_identifier,
            delete_automated_backups=False,
            enabled_cloudwatch_logs_exports=list(definition.log_exports),
            performance_insights_enabled=True,
            performance_insights_kms_key_id=key.arn,
            performance_insights_retention_period=definition.performance_insights_retention_days,
            monitoring_interval=definition.monitoring_interval_seconds,
            monitoring_role_arn=monitoring_role.arn,
            tags=dict(tags),
            opts=pulumi.ResourceOptions.merge(
                data, pulumi.ResourceOptions(depends_on=[*log_groups, monitoring_policy])
            ),
        )
        for alarm in definition.alarms:
            self._alarm(f"{name}-{alarm.key.removeprefix('audit-db-')}", alarm, args, child)

        self.address = self.instance.address
        self.port = self.instance.port
        self.resource_id = self.instance.resource_id
        self.arn = self.instance.arn
        self.master_secret_arn = self.instance.master_user_secrets.apply(
            lambda secrets: (secrets[0].secret_arn or "") if secrets else ""
        )
        self.key_arn = key.arn
        self.database_name = definition.database_name
        self.register_outputs(
            {
                "address": self.address,
                "port": self.port,
                "resourceId": self.resource_id,
                "arn": self.arn,
                "masterSecretArn": self.master_secret_arn,
                "keyArn": self.key_arn,
            }
        )

    @staticmethod
    def _alarm(
        logical_name: str,
        alarm: AlarmDefinition,
        args: AuditDatabaseArgs,
        opts: pulumi.ResourceOptions,
    ) -> aws.cloudwatch.MetricAlarm:
        topic = [args.topic_arn]
        return aws.cloudwatch.MetricAlarm(
            logical_name,
            name=alarm.name,
            alarm_description=alarm.description,
            namespace=alarm.namespace,
            metric_name=alarm.metric_name,
            dimensions=dict(alarm.dimensions),
            statistic=alarm.statistic,
            extended_statistic=alarm.extended_statistic,
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
            tags=dict(args.definition.tags),
            opts=opts,
        )
