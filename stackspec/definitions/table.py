"""The app table: its key schema, indexes, billing, streams, TTL, PITR and protection, from the
stack config. The Pulumi ``AppTable`` and the local setup both build the table from this."""

from __future__ import annotations

from dataclasses import dataclass

from stackspec.config.stack import StackConfig
from stackspec.key_schema import GLOBAL_INDEXES, KEY_ATTRIBUTES, PARTITION_KEY, SORT_KEY

#: Contributor Insights mode: both accessed and throttled keys, to find hot partitions.
CONTRIBUTOR_INSIGHTS_MODE = "ACCESSED_AND_THROTTLED_KEYS"


@dataclass(frozen=True, kw_only=True)
class IndexDefinition:
    name: str
    partition_key: str
    sort_key: str
    projection_type: str
    non_key_attributes: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class TableDefinition:
    name: str
    partition_key: str
    sort_key: str
    attributes: tuple[str, ...]
    """Every key attribute of the table and its indexes; all strings ("S")."""
    indexes: tuple[IndexDefinition, ...]
    billing_mode: str
    max_read_request_units: int | None
    max_write_request_units: int | None
    ttl_attribute: str
    stream_view_type: str
    point_in_time_recovery: bool
    recovery_period_days: int
    deletion_protection: bool
    contributor_insights: bool
    tags: dict[str, str]

    @property
    def index_names(self) -> tuple[str, ...]:
        return tuple(index.name for index in self.indexes)


def table_definition(cfg: StackConfig) -> TableDefinition:
    table = cfg.table
    throughput = table.billing.max_throughput
    return TableDefinition(
        name=cfg.names.table,
        partition_key=PARTITION_KEY,
        sort_key=SORT_KEY,
        attributes=KEY_ATTRIBUTES,
        indexes=tuple(
            IndexDefinition(
                name=index.name,
                partition_key=index.partition_key,
                sort_key=index.sort_key,
                projection_type=table.projection(index.name).type,
                non_key_attributes=table.projection(index.name).non_key_attributes,
            )
            for index in GLOBAL_INDEXES
        ),
        billing_mode=table.billing.mode,
        max_read_request_units=throughput.max_read_request_units if throughput else None,
        max_write_request_units=throughput.max_write_request_units if throughput else None,
        ttl_attribute=table.ttl_attribute,
        stream_view_type=table.stream_view_type,
        point_in_time_recovery=table.point_in_time_recovery.enabled,
        recovery_period_days=table.point_in_time_recovery.recovery_period_days,
        deletion_protection=table.deletion_protection,
        contributor_insights=table.contributor_insights,
        tags=cfg.tags.as_dict(),
    )
