"""The audit database: RDS for PostgreSQL holding the audit trail (``auditlog/``).

PostgreSQL 16 like the local server; storage, snapshots, Performance Insights and the
RDS-managed master secret on the database's own CMK; private, TLS 1.2+ only, IAM database
authentication for the application roles; pgaudit for DDL and role changes, connections logged,
the ``postgresql`` and ``upgrade`` logs exported to encrypted log groups created ahead of the
instance; enhanced monitoring; deletion protection, a final snapshot, AWS's recommended alarm set.
The ``AuditDatabase`` component builds exactly this; the local setup builds the parameter group
and subnet group in moto and checks the real local PostgreSQL against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stackspec.config.alarms import AlarmThreshold
from stackspec.config.stack import StackConfig
from stackspec.definitions.monitoring import GREATER_OR_EQUAL, LESS_THAN, AlarmDefinition
from stackspec.definitions.network import DATABASE_PORT
from stackspec.naming import KeyPurpose, StackNames

ENGINE = "postgres"
PORT = DATABASE_PORT
STORAGE_TYPE = "gp3"
CA_CERT_IDENTIFIER = "rds-ca-rsa2048-g1"
#: The logs RDS for PostgreSQL can export; HIPAA's rds-logging-enabled wants both.
LOG_EXPORTS = ("postgresql", "upgrade")
MASTER_USERNAME = "medeez_admin"
#: The roles of ``auditlog.schema`` (a test keeps them equal): owner runs migrations, ingest is
#: the stream consumer's and the PHI read auditor's, reader the auditors'.
OWNER_USER, INGEST_USER, READER_USER = "audit_owner", "audit_ingest", "audit_reader"
IAM_AUTH_USERS = (OWNER_USER, INGEST_USER, READER_USER)
MONITORING_SERVICE = "monitoring.rds.amazonaws.com"
MONITORING_POLICY = "AmazonRDSEnhancedMonitoringRole"
RDS = "AWS/RDS"
MIB = 1024 * 1024
GIB = 1024 * MIB


@dataclass(frozen=True, kw_only=True)
class DbParameter:
    name: str
    value: str
    apply_method: str
    """``immediate`` for dynamic parameters, ``pending-reboot`` for static ones (RDS refuses
    ``immediate`` on a static parameter such as shared_preload_libraries)."""


@dataclass(frozen=True, kw_only=True)
class AuditDatabaseDefinition:
    names: StackNames
    identifier: str
    database_name: str
    master_username: str
    ingest_user: str
    reader_user: str
    owner_user: str
    engine: str
    engine_version: str
    engine_major: str
    parameter_group_family: str
    parameter_group_name: str
    parameters: tuple[DbParameter, ...]
    subnet_group_name: str
    instance_class: str
    storage_type: str
    allocated_storage_gib: int
    max_allocated_storage_gib: int
    multi_az: bool
    port: int
    backup_retention_days: int
    backup_window: str
    maintenance_window: str
    performance_insights_retention_days: int
    monitoring_interval_seconds: int
    monitoring_role_name: str
    log_exports: tuple[str, ...]
    log_groups: dict[str, str]
    """Export name -> the log group RDS writes it to (created ahead, encrypted, retained)."""
    log_retention_days: int
    deletion_protection: bool
    final_snapshot_identifier: str
    ca_cert_identifier: str
    key_purpose: KeyPurpose
    alarms: tuple[AlarmDefinition, ...]
    tags: dict[str, str]

    def parameter(self, name: str) -> str:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter.value
        raise KeyError(name)

    @staticmethod
    def monitoring_trust_policy(*, account_id: str) -> dict[str, Any]:
        """Only RDS enhanced monitoring, for this account, may assume the monitoring role."""
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "RdsEnhancedMonitoringOfThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": MONITORING_SERVICE},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                }
            ],
        }

    @staticmethod
    def monitoring_policy_arn(partition: str) -> str:
        return f"arn:{partition}:iam::aws:policy/service-role/{MONITORING_POLICY}"

    @staticmethod
    def rds_db_connect_arn(
        *, partition: str, region: str, account_id: str, resource_id: str, user: str
    ) -> str:
        """What ``rds-db:connect`` names to let a principal log in as ``user`` with IAM auth."""
        return f"arn:{partition}:rds-db:{region}:{account_id}:dbuser:{resource_id}/{user}"


def _alarms(cfg: StackConfig) -> tuple[AlarmDefinition, ...]:
    settings = cfg.audit_database
    alarms = settings.alarms
    names = cfg.names
    identifier = names.audit_database
    dims = (("DBInstanceIdentifier", identifier),)

    def alarm(
        key: str,
        description: str,
        threshold: AlarmThreshold,
        metric: str,
        *,
        value: float | None = None,
        statistic: str | None = "Average",
        extended: str | None = None,
        comparison: str = GREATER_OR_EQUAL,
    ) -> AlarmDefinition:
        return AlarmDefinition(
            key=f"audit-db-{key}",
            name=names.alarm(f"audit-db-{key}"),
            description=description,
            namespace=RDS,
            metric_name=metric,
            dimensions=dims,
            statistic=statistic,
            extended_statistic=extended,
            period_seconds=threshold.period_seconds,
            evaluation_periods=threshold.evaluation_periods,
            datapoints_to_alarm=threshold.datapoints,
            threshold=threshold.threshold if value is None else value,
            comparison_operator=comparison,
            # As every metric alarm of the stack but the backup heartbeat: a metric that stops
            # reporting is noticed through the insufficient-data action, not as a breach.
            treat_missing_data="notBreaching",
        )

    free_storage = settings.allocated_storage_gib * GIB * alarms.free_storage_percent.threshold
    return (
        alarm(
            "cpu",
            f"CPU of {identifier} at or above {alarms.cpu_percent.threshold:g} %.",
            alarms.cpu_percent,
            "CPUUtilization",
        ),
        alarm(
            "connections",
            f"{identifier} has {alarms.connections.threshold:g} or more connections.",
            alarms.connections,
            "DatabaseConnections",
        ),
        alarm(
            "free-storage",
            f"Free storage of {identifier} below {alarms.free_storage_percent.threshold:g} % of "
            f"its {settings.allocated_storage_gib} GiB.",
            alarms.free_storage_percent,
            "FreeStorageSpace",
            value=free_storage / 100,
            statistic="Minimum",
            comparison=LESS_THAN,
        ),
        alarm(
            "freeable-memory",
            f"Freeable memory of {identifier} below {alarms.freeable_memory_mib.threshold:g} MiB.",
            alarms.freeable_memory_mib,
            "FreeableMemory",
            value=alarms.freeable_memory_mib.threshold * MIB,
            comparison=LESS_THAN,
        ),
        alarm(
            "transaction-ids",
            f"{identifier} used {alarms.maximum_used_transaction_ids.threshold:g} or more "
            "transaction ids: vacuum before wraparound (2^31) stops writes.",
            alarms.maximum_used_transaction_ids,
            "MaximumUsedTransactionIDs",
        ),
        alarm(
            "read-latency",
            f"p90 read latency of {identifier} at or above "
            f"{alarms.read_latency_ms.threshold:g} ms.",
            alarms.read_latency_ms,
            "ReadLatency",
            value=alarms.read_latency_ms.threshold / 1000,
            statistic=None,
            extended="p90",
        ),
        alarm(
            "write-latency",
            f"p90 write latency of {identifier} at or above "
            f"{alarms.write_latency_ms.threshold:g} ms.",
            alarms.write_latency_ms,
            "WriteLatency",
            value=alarms.write_latency_ms.threshold / 1000,
            statistic=None,
            extended="p90",
        ),
        alarm(
            "db-load",
            f"{identifier} averages {alarms.db_load.threshold:g} or more active sessions "
            "(DBLoad, from Performance Insights).",
            alarms.db_load,
            "DBLoad",
        ),
    )


def audit_database_definition(cfg: StackConfig) -> AuditDatabaseDefinition:
    settings = cfg.audit_database
    names = cfg.names
    family = f"{ENGINE}{settings.engine_major}"
    return AuditDatabaseDefinition(
        names=names,
        identifier=names.audit_database,
        database_name=names.audit_database_name,
        master_username=MASTER_USERNAME,
        ingest_user=INGEST_USER,
        reader_user=READER_USER,
        owner_user=OWNER_USER,
        engine=ENGINE,
        engine_version=settings.engine_version,
        engine_major=settings.engine_major,
        parameter_group_family=family,
        parameter_group_name=names.audit_database_parameter_group(family),
        parameters=(
            DbParameter(name="rds.force_ssl", value="1", apply_method="immediate"),
            DbParameter(name="ssl_min_protocol_version", value="TLSv1.2", apply_method="immediate"),
            DbParameter(
                name="shared_preload_libraries",
                value="pgaudit,pg_stat_statements",
                apply_method="pending-reboot",
            ),
            DbParameter(name="pgaudit.log", value="ddl,role", apply_method="immediate"),
            DbParameter(name="log_connections", value="1", apply_method="immediate"),
            DbParameter(name="log_disconnections", value="1", apply_method="immediate"),
        ),
        subnet_group_name=names.audit_database_subnet_group,
        instance_class=settings.instance_class,
        storage_type=STORAGE_TYPE,
        allocated_storage_gib=settings.allocated_storage_gib,
        max_allocated_storage_gib=settings.max_allocated_storage_gib,
        multi_az=settings.multi_az,
        port=PORT,
        backup_retention_days=settings.backup_retention_days,
        backup_window=settings.backup_window,
        maintenance_window=settings.maintenance_window,
        performance_insights_retention_days=settings.performance_insights_retention_days,
        monitoring_interval_seconds=settings.monitoring_interval_seconds,
        monitoring_role_name=names.audit_database_monitoring_role,
        log_exports=LOG_EXPORTS,
        log_groups={log: names.audit_database_log_group(log) for log in LOG_EXPORTS},
        log_retention_days=settings.log_retention_days,
        deletion_protection=settings.deletion_protection,
        final_snapshot_identifier=names.audit_database_final_snapshot,
        ca_cert_identifier=CA_CERT_IDENTIFIER,
        key_purpose=KeyPurpose.AUDIT_DATABASE,
        alarms=_alarms(cfg),
        tags=cfg.tags.as_dict(),
    )
