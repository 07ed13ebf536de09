"""Config of the audit database (RDS for PostgreSQL): ``medeez-platform:auditDatabase``."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, model_validator

from stackspec.config.alarms import AlarmThreshold
from stackspec.config.base import ConfigModel, default

#: The local audit database is pgserver's PostgreSQL 16; the cloud runs the same major.
POSTGRES_MAJOR = 16
#: RDS allocated storage for gp3 on PostgreSQL: 20 to 65,536 GiB.
GP3_MIN_GIB, GP3_MAX_GIB = 20, 65536
#: Retention CloudWatch Logs accepts (PutRetentionPolicy), in days.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_BACKUP_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_MAINTENANCE_WINDOW = re.compile(
    r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-"
    r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$"
)
_WEEK = 7 * 1440


def _check_engine_version(value: str) -> str:
    major, _, minor = value.partition(".")
    if major != str(POSTGRES_MAJOR) or not minor.isdigit():
        raise ValueError(
            f"'{value}' is not a PostgreSQL {POSTGRES_MAJOR} minor version such as "
            f"{POSTGRES_MAJOR}.11; the cloud runs the local PostgreSQL's major ({POSTGRES_MAJOR})"
        )
    return value


def _check_log_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(
            f"{value} is not a CloudWatch Logs retention; use one of "
            f"{', '.join(map(str, LOG_RETENTION_DAYS))}"
        )
    return value


def _check_insights_retention(value: int) -> int:
    # Performance Insights keeps 7 days (free) or 1-23 months (31 x months) or 731 days.
    if value == 7 or value == 731 or (value % 31 == 0 and 1 <= value // 31 <= 23):
        return value
    raise ValueError(f"{value} is not a Performance Insights retention; use 7, 31 x 1..23, or 731")


def backup_window_minutes(window: str) -> tuple[int, int]:
    """Start and end of the daily backup window in minutes after midnight UTC (end may pass
    midnight: then it is above 1440)."""
    m = _BACKUP_WINDOW.match(window)
    if m is None:
        raise ValueError(f"'{window}' is not hh24:mi-hh24:mi")
    start = int(m[1]) * 60 + int(m[2])
    end = int(m[3]) * 60 + int(m[4])
    return start, end if end > start else end + 1440


def maintenance_window_minutes(window: str) -> tuple[int, int]:
    """Start and end of the weekly maintenance window in minutes after Monday 00:00 UTC (end may
    pass the week's end: then it is above one week)."""
    m = _MAINTENANCE_WINDOW.match(window)
    if m is None:
        raise ValueError(f"'{window}' is not ddd:hh24:mi-ddd:hh24:mi")
    start = _DAYS.index(m[1]) * 1440 + int(m[2]) * 60 + int(m[3])
    end = _DAYS.index(m[4]) * 1440 + int(m[5]) * 60 + int(m[6])
    return start, end if end > start else end + _WEEK


def _check_backup_window(value: str) -> str:
    start, end = backup_window_minutes(value)
    if end - start < 30:
        raise ValueError(f"'{value}' is shorter than the 30 minutes RDS requires")
    return value


def _check_maintenance_window(value: str) -> str:
    start, end = maintenance_window_minutes(value)
    if end - start < 30:
        raise ValueError(f"'{value}' is shorter than the 30 minutes RDS requires")
    if end - start > 24 * 60:
        raise ValueError(f"'{value}' is longer than the 24 hours RDS allows")
    return value


class AuditDatabaseAlarms(ConfigModel):
    """AWS's recommended RDS alarms; periods and datapoints as AWS recommends them."""

    cpu_percent: AlarmThreshold = default(AlarmThreshold, threshold=90, evaluationPeriods=5)
    """CPUUtilization (percent) at or above the threshold."""
    connections: AlarmThreshold = default(AlarmThreshold, threshold=80, evaluationPeriods=5)
    """DatabaseConnections at or above the threshold (the consumer's reserved concurrency plus
    tooling, below max_connections)."""
    free_storage_percent: AlarmThreshold = default(
        AlarmThreshold, threshold=10, evaluationPeriods=5
    )
    """FreeStorageSpace below this percent of the allocated storage."""
    freeable_memory_mib: AlarmThreshold = default(
        AlarmThreshold, threshold=128, evaluationPeriods=15
    )
    """FreeableMemory below this many MiB (AWS suggests about 25 % of the class's memory)."""
    maximum_used_transaction_ids: AlarmThreshold = default(
        AlarmThreshold, threshold=1_000_000_000, evaluationPeriods=1
    )
    """MaximumUsedTransactionIDs at or above the threshold (wraparound protection at 2^31)."""
    read_latency_ms: AlarmThreshold = default(AlarmThreshold, threshold=20, evaluationPeriods=5)
    """ReadLatency (p90, milliseconds) at or above the threshold."""
    write_latency_ms: AlarmThreshold = default(AlarmThreshold, threshold=20, evaluationPeriods=5)
    """WriteLatency (p90, milliseconds) at or above the threshold."""
    db_load: AlarmThreshold = default(AlarmThreshold, threshold=2, evaluationPeriods=15)
    """DBLoad (average active sessions) at or above the threshold (AWS: the class's vCPUs)."""


class AuditDatabaseConfig(ConfigModel):
    """The audit trail's RDS for PostgreSQL instance."""

    engine_version: Annotated[str, AfterValidator(_check_engine_version)] = "16.11"
    """PostgreSQL 16 minor version (the local server's major); minor upgrades then come
    automatically in the maintenance window."""
    instance_class: Annotated[str, Field(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")] = "db.t4g.micro"
    """RDS DB instance class, e.g. db.t4g.micro or db.r6g.large."""
    allocated_storage_gib: Annotated[int, Field(ge=GP3_MIN_GIB, le=GP3_MAX_GIB)] = 20
    """gp3 storage allocated at creation, 20-65536 GiB."""
    max_allocated_storage_gib: Annotated[int, Field(ge=GP3_MIN_GIB, le=GP3_MAX_GIB)] = 100
    """Storage autoscaling ceiling, at least allocatedStorageGib."""
    multi_az: bool = True
    """A synchronous standby in a second AZ; prod must."""
    backup_retention_days: Annotated[int, Field(ge=1, le=35)] = 35
    """Days of automated backups (point-in-time restore), 1-35; prod must keep 35."""
    backup_window: Annotated[str, AfterValidator(_check_backup_window)] = "03:00-03:30"
    """Daily automated-backup window (UTC, hh24:mi-hh24:mi, at least 30 minutes)."""
    maintenance_window: Annotated[str, AfterValidator(_check_maintenance_window)] = (
        "sun:04:00-sun:04:30"
    )
    """Weekly maintenance window for minor upgrades (UTC, ddd:hh24:mi-ddd:hh24:mi); must not
    overlap the backup window."""
    performance_insights_retention_days: Annotated[
        int, AfterValidator(_check_insights_retention)
    ] = 7
    """Performance Insights retention: 7 (free), 31 x 1..23 months, or 731."""
    monitoring_interval_seconds: Literal[1, 5, 10, 15, 30, 60] = 60
    """Enhanced monitoring granularity (always on)."""
    log_retention_days: Annotated[int, AfterValidator(_check_log_retention)] = 365
    """Retention of the exported postgresql and upgrade logs (a CloudWatch Logs value)."""
    deletion_protection: bool = True
    """RDS refuses to delete the instance; prod must keep it on."""
    alarms: AuditDatabaseAlarms = AuditDatabaseAlarms()
    """CloudWatch alarms on the instance, to the alert topic."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.max_allocated_storage_gib < self.allocated_storage_gib:
            raise ValueError(
                f"maxAllocatedStorageGib ({self.max_allocated_storage_gib}) must be at least "
                f"allocatedStorageGib ({self.allocated_storage_gib})"
            )
        b_start, b_end = backup_window_minutes(self.backup_window)
        m_start, m_end = maintenance_window_minutes(self.maintenance_window)
        for day in range(-1, 8):  # the daily window on every day, and across the week's edge
            if b_start + day * 1440 < m_end and m_start < b_end + day * 1440:
                raise ValueError(
                    f"maintenanceWindow ({self.maintenance_window}) overlaps backupWindow "
                    f"({self.backup_window}); RDS requires them apart"
                )
        return self

    @property
    def engine_major(self) -> str:
        return self.engine_version.split(".")[0]
