"""One definition per service, built from the validated stack config.

Each module turns the config into plain data (names, policies, alarms, rules, filters) with no
Pulumi and no boto3: the Pulumi components and the local setup/validate adapters consume these
and never re-derive them. :func:`stack_definition` builds them all for one stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackspec.config.stack import StackConfig
from stackspec.definitions.access import AccessDefinition, access_definition
from stackspec.definitions.audit_bucket import AuditBucketDefinition, audit_bucket_definition
from stackspec.definitions.audit_database import (
    AuditDatabaseDefinition,
    audit_database_definition,
)
from stackspec.definitions.backup import BackupDefinition, backup_definition
from stackspec.definitions.budget import BudgetDefinition, budget_definition
from stackspec.definitions.cache import CacheDefinition, cache_definition
from stackspec.definitions.cache_invalidator import (
    CacheInvalidatorDefinition,
    cache_invalidator_definition,
)
from stackspec.definitions.keys import KeyDefinition, key_definitions
from stackspec.definitions.monitoring import MonitoringDefinition, monitoring_definition
from stackspec.definitions.network import NetworkDefinition, network_definition
from stackspec.definitions.recovery import RecoveryDefinition, recovery_definition
from stackspec.definitions.stream_consumer import (
    StreamConsumerDefinition,
    stream_consumer_definition,
)
from stackspec.definitions.table import TableDefinition, table_definition
from stackspec.definitions.trail import TrailDefinition, trail_definition
from stackspec.naming import KeyPurpose


@dataclass(frozen=True, kw_only=True)
class StackDefinition:
    """Every service of one stack."""

    config: StackConfig
    keys: dict[KeyPurpose, KeyDefinition]
    table: TableDefinition
    monitoring: MonitoringDefinition
    backup: BackupDefinition
    budget: BudgetDefinition
    recovery: RecoveryDefinition
    audit_bucket: AuditBucketDefinition
    trail: TrailDefinition | None
    """None when the stack creates no trail (off, or an organization trail records it)."""
    access: AccessDefinition
    cache: CacheDefinition
    audit_database: AuditDatabaseDefinition
    network: NetworkDefinition
    stream_consumer: StreamConsumerDefinition
    cache_invalidator: CacheInvalidatorDefinition


def stack_definition(cfg: StackConfig) -> StackDefinition:
    return StackDefinition(
        config=cfg,
        keys=key_definitions(cfg),
        table=table_definition(cfg),
        monitoring=monitoring_definition(cfg),
        backup=backup_definition(cfg),
        budget=budget_definition(cfg),
        recovery=recovery_definition(cfg),
        audit_bucket=audit_bucket_definition(cfg),
        trail=trail_definition(cfg),
        access=access_definition(cfg),
        cache=cache_definition(cfg),
        audit_database=audit_database_definition(cfg),
        network=network_definition(cfg),
        stream_consumer=stream_consumer_definition(cfg),
        cache_invalidator=cache_invalidator_definition(cfg),
    )
