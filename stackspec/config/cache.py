"""Config of the ElastiCache for Valkey cache: ``medeez-platform:cache``.

The engine and its version are not config: they are pinned in ``stackspec.definitions.cache`` to
the local server's major (the local Valkey and the cloud's must behave alike). Everything an
environment may choose is here, with defaults a production stack could run with as they are.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from stackspec.config.alarms import AlarmThreshold
from stackspec.config.base import ConfigModel, default

#: ElastiCache for Valkey with cluster mode disabled: one primary and up to five replicas.
MAX_CACHE_CLUSTERS = 6
#: ElastiCache keeps automatic snapshots at most 35 days.
MAX_SNAPSHOT_RETENTION_DAYS = 35
#: The retention values CloudWatch Logs accepts (PutRetentionPolicy).
LogRetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
]  # fmt: skip
#: ``maxmemory-policy`` values Valkey 8 accepts.
MaxmemoryPolicy = Literal[
    "volatile-lru",
    "allkeys-lru",
    "volatile-lfu",
    "allkeys-lfu",
    "volatile-random",
    "allkeys-random",
    "volatile-ttl",
    "noeviction",
]

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_HHMM = r"([01][0-9]|2[0-3]):[0-5][0-9]"
_SNAPSHOT_WINDOW = re.compile(rf"^{_HHMM}-{_HHMM}$")
_MAINTENANCE_WINDOW = re.compile(rf"^(?:{'|'.join(_DAYS)}):{_HHMM}-(?:{'|'.join(_DAYS)}):{_HHMM}$")
_WEEK_MINUTES = 7 * 1440


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _span(start: int, end: int, modulo: int) -> int:
    return (end - start) % modulo


def window_minutes_of_week(window: str) -> list[tuple[int, int]]:
    """A maintenance window ``ddd:hh:mm-ddd:hh:mm`` as [start, end) minute ranges of the week."""
    start_text, end_text = window[:9], window[10:]
    start = _DAYS.index(start_text[:3]) * 1440 + _minutes(start_text[4:])
    end = _DAYS.index(end_text[:3]) * 1440 + _minutes(end_text[4:])
    if end > start:
        return [(start, end)]
    return [(start, _WEEK_MINUTES), (0, end)]


def daily_window_minutes_of_week(window: str) -> list[tuple[int, int]]:
    """A daily window ``hh:mm-hh:mm`` repeated on each day, as minute ranges of the week."""
    start, end = _minutes(window[:5]), _minutes(window[6:])
    ranges: list[tuple[int, int]] = []
    for day in range(7):
        first = day * 1440 + start
        last = day * 1440 + start + _span(start, end, 1440)
        ranges.extend(
            [(first, last)]
            if last <= _WEEK_MINUTES
            else [(first, _WEEK_MINUTES), (0, last - _WEEK_MINUTES)]
        )
    return ranges


class CacheAlarmsConfig(ConfigModel):
    """AWS's recommended ElastiCache alarms, one per cache node (replication lag on replicas)."""

    cpu_utilization: AlarmThreshold = default(AlarmThreshold, threshold=80, evaluationPeriods=5)
    """Host CPUUtilization, percent: the signal for nodes with two vCPUs or fewer."""
    engine_cpu_utilization: AlarmThreshold = default(
        AlarmThreshold, threshold=90, evaluationPeriods=5
    )
    """EngineCPUUtilization, percent: the single Valkey main thread is saturated."""
    database_memory_usage_percentage: AlarmThreshold = default(
        AlarmThreshold, threshold=80, evaluationPeriods=5
    )
    """DatabaseMemoryUsagePercentage: share of maxmemory used; evictions follow."""
    curr_connections: AlarmThreshold = default(AlarmThreshold, threshold=1000, evaluationPeriods=5)
    """CurrConnections per node: far above the application's pools means a connection leak."""
    replication_lag: AlarmThreshold = default(AlarmThreshold, threshold=5, evaluationPeriods=5)
    """ReplicationLag of a replica, seconds (only with more than one node)."""
    evictions: AlarmThreshold = default(
        AlarmThreshold, threshold=100, periodSeconds=300, evaluationPeriods=3
    )
    """Evictions per period: keys dropped for memory before their TTL, the cache is too small."""


class CacheConfig(ConfigModel):
    """The ElastiCache for Valkey replication group (cluster mode disabled)."""

    node_type: Annotated[str, Field(pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")] = "cache.m7g.large"
    """ElastiCache node type, e.g. cache.t4g.micro or cache.m7g.large."""
    num_cache_clusters: Annotated[int, Field(ge=1, le=MAX_CACHE_CLUSTERS)] = 2
    """Nodes: one primary plus replicas, 1-6; Multi-AZ needs at least 2; prod must have 2+."""
    automatic_failover: bool = True
    """Promote a replica when the primary fails; needs 2+ nodes; prod must."""
    multi_az: bool = True
    """Place replicas in other AZs than the primary; needs automatic failover; prod must."""
    ttl_seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    """Every cached entry expires after this many seconds: the staleness bound, 1-3600."""
    maxmemory_policy: MaxmemoryPolicy = "volatile-lru"
    """What Valkey evicts when full; every app key has a TTL, so volatile-* covers them all."""
    snapshot_retention_days: Annotated[int, Field(ge=1, le=MAX_SNAPSHOT_RETENTION_DAYS)] = 1
    """Days automatic snapshots are kept, 1-35 (the cache rebuilds from the table; see README)."""
    snapshot_window: Annotated[str, Field(pattern=_SNAPSHOT_WINDOW.pattern)] = "03:00-04:00"
    """Daily snapshot window, hh:mm-hh:mm UTC, at least 60 minutes."""
    maintenance_window: Annotated[str, Field(pattern=_MAINTENANCE_WINDOW.pattern)] = (
        "sun:06:00-sun:07:00"
    )
    """Weekly maintenance window, ddd:hh:mm-ddd:hh:mm UTC, at least 60 minutes."""
    auto_minor_version_upgrade: bool = True
    """Apply the pinned major's minor and patch releases in the maintenance window."""
    log_retention_days: LogRetentionDays = 365
    """Days the slow-log and engine-log groups keep events (a CloudWatch retention value)."""
    engine_log: bool = True
    """Deliver the engine log too (the slow log is always delivered)."""
    alarms: CacheAlarmsConfig = CacheAlarmsConfig()
    """Thresholds of the cache's CloudWatch alarms."""

    @model_validator(mode="after")
    def _topology(self) -> Self:
        if self.automatic_failover and self.num_cache_clusters < 2:
            raise ValueError("automaticFailover needs numCacheClusters >= 2 (a replica to promote)")
        if self.multi_az and not self.automatic_failover:
            raise ValueError("multiAz needs automaticFailover (ElastiCache requires both)")
        if _span(_minutes(self.snapshot_window[:5]), _minutes(self.snapshot_window[6:]), 1440) < 60:
            raise ValueError("snapshotWindow must be at least 60 minutes long")
        maintenance = window_minutes_of_week(self.maintenance_window)
        if sum(end - start for start, end in maintenance) < 60:
            raise ValueError("maintenanceWindow must be at least 60 minutes long")
        if sum(end - start for start, end in maintenance) > 24 * 60:
            raise ValueError("maintenanceWindow must be at most 24 hours long")
        snapshots = daily_window_minutes_of_week(self.snapshot_window)
        if any(a < d and c < b for a, b in maintenance for c, d in snapshots):
            raise ValueError(
                f"maintenanceWindow ({self.maintenance_window}) overlaps snapshotWindow "
                f"({self.snapshot_window}); ElastiCache refuses overlapping windows"
            )
        return self
