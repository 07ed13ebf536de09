"""A stack's whole configuration: the services' models composed, the cross-service invariants,
and the one way to read and validate ``Pulumi.<stack>.yaml``.

Every setting of a stack lives in ``Pulumi.<stack>.yaml`` under the ``medeez-platform:`` namespace
(plus ``aws:region`` for the provider). :func:`parse_stack_config` turns that mapping into a
frozen, validated :class:`StackConfig`; a bad config raises :class:`ConfigError` with one message
that names the stack file, the key path and what is allowed. Nothing here imports Pulumi or boto3.

Environment differences live in the YAML only. The invariants below are the floor every stack of
that kind must meet (for example, ``prod`` must keep deletion protection on); components never
branch on the environment name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_pascal

from stackspec.config.access import AccessConfig
from stackspec.config.alarms import AlarmsConfig
from stackspec.config.audit_database import AuditDatabaseConfig
from stackspec.config.backup import BackupConfig
from stackspec.config.base import AwsRegion, ConfigModel
from stackspec.config.budget import BudgetConfig
from stackspec.config.cache import CacheConfig
from stackspec.config.cache_invalidator import CacheInvalidatorConfig
from stackspec.config.keys import KeysConfig
from stackspec.config.network import NetworkConfig
from stackspec.config.recovery import RecoveryConfig
from stackspec.config.stream_consumer import StreamConsumerConfig
from stackspec.config.table import TableConfig
from stackspec.config.trail import TrailConfig
from stackspec.errors import ConfigError, describe_validation_error
from stackspec.naming import StackNames
from stackspec.stack_file import PROJECT, PROJECT_DIR, read_stack

#: Environments that hold production PHI and must meet the production invariants.
PRODUCTION_ENVIRONMENTS = frozenset({"prod"})


class DataClassification(StrEnum):
    PHI = "phi"
    CONFIDENTIAL = "confidential"
    INTERNAL = "internal"
    PUBLIC = "public"


class Tags(ConfigModel):
    """The tags every taggable resource carries (AWS tag keys, so PascalCase in YAML)."""

    model_config = ConfigDict(alias_generator=to_pascal)

    environment: str
    """Must equal the stack's environment; the budget filters cost on it."""
    project: Literal["medeez-platform"]
    """Always medeez-platform."""
    owner: Annotated[str, Field(min_length=1, max_length=256)]
    """Team accountable for the resources."""
    cost_center: Annotated[str, Field(min_length=1, max_length=256)]
    """Where the spend is booked."""
    data_classification: DataClassification
    """phi, confidential, internal or public; prod must be phi."""
    managed_by: Literal["pulumi"]
    """Always pulumi: hand-made changes are drift."""

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.model_dump(by_alias=True).items()}


class Protection(ConfigModel):
    """Pulumi resource options for data-bearing resources (table, keys, vaults)."""

    protect: bool = True
    """Pulumi refuses to delete the data-bearing resources (table, keys, vaults)."""
    retain_on_delete: bool = True
    """Removing them from the program leaves them in AWS."""


class StackConfig(ConfigModel):
    """A stack's whole configuration."""

    environment: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,11}$")]
    """Short lower-case name (dev, staging, prod); prod gets the production invariants."""
    region: AwsRegion
    """Primary AWS region; must equal aws:region."""
    dr_region: AwsRegion
    """Disaster-recovery region for backup copies; must differ from region."""
    tags: Tags
    """Tags on every taggable resource."""
    protection: Protection = Protection()
    """Resource options for data-bearing resources."""
    table: TableConfig = TableConfig()
    """The app table."""
    keys: KeysConfig = KeysConfig()
    """The stack's KMS keys."""
    backup: BackupConfig = BackupConfig()
    """AWS Backup plan, copy and lock."""
    alarms: AlarmsConfig = AlarmsConfig()
    """CloudWatch alarm thresholds and alert subscribers."""
    budget: BudgetConfig
    """AWS Budgets monthly cost budget."""
    recovery: RecoveryConfig = RecoveryConfig()
    """Recovery targets, restore testing and the audit evidence of backups and restores."""
    access: AccessConfig = AccessConfig()
    """IAM roles around the data: tenant, operations, deploy, stream consumer."""
    trail: TrailConfig = TrailConfig()
    """CloudTrail (management and the table's data events) and the audit bucket."""
    cache: CacheConfig = CacheConfig()
    """The ElastiCache for Valkey cache in front of the table."""
    audit_database: AuditDatabaseConfig = AuditDatabaseConfig()
    """The audit trail's RDS for PostgreSQL instance."""
    network: NetworkConfig = NetworkConfig()
    """The private VPC (or a landing zone's) of the database, the consumer and the cache."""
    stream_consumer: StreamConsumerConfig = StreamConsumerConfig()
    """The Lambda function that writes the table's stream into the audit database."""
    cache_invalidator: CacheInvalidatorConfig = CacheInvalidatorConfig()
    """The Lambda function that invalidates the cache from the table's stream."""

    @model_validator(mode="after")
    def _invariants(self) -> Self:
        # Each failure is "<key path>: <what is required>", so the message names the key.
        failures = []
        if self.tags.environment != self.environment:
            failures.append(
                f"tags.Environment: must equal environment ({self.environment}), "
                f"got {self.tags.environment}; the budget filters cost on it"
            )
        if self.budget.cost_allocation_tag not in self.tags.as_dict():
            failures.append(
                f"budget.costAllocationTag: must be one of the stack's tags "
                f"({', '.join(self.tags.as_dict())}), got {self.budget.cost_allocation_tag}"
            )
        if self.dr_region == self.region:
            failures.append(f"drRegion: must differ from region ({self.region})")
        if self.environment in PRODUCTION_ENVIRONMENTS:
            failures.extend(
                f"{path}: must be {required} in {self.environment} (production PHI)"
                for path, ok, required in self._production_requirements()
                if not ok
            )
        if failures:
            raise ValueError("\n".join(failures))
        return self

    def _production_requirements(self) -> list[tuple[str, bool, str]]:
        return [
            ("table.deletionProtection", self.table.deletion_protection, "true"),
            (
                "table.pointInTimeRecovery.enabled",
                self.table.point_in_time_recovery.enabled,
                "true",
            ),
            ("backup.crossRegionCopy.enabled", self.backup.cross_region_copy.enabled, "true"),
            ("backup.vaultLock.enabled", self.backup.vault_lock.enabled, "true"),
            (
                "recovery.restoreTesting.enabled",
                self.recovery.restore_testing.enabled,
                "true",
            ),
            ("recovery.audit.enabled", self.recovery.audit.enabled, "true"),
            (
                "trail.enabled",
                self.trail.enabled or self.trail.organization_trail,
                "true (or trail.organizationTrail)",
            ),
            (
                "trail.bucket.objectLockMode",
                self.trail.bucket.object_lock_mode == "COMPLIANCE",
                "COMPLIANCE",
            ),
            ("cache.numCacheClusters", self.cache.num_cache_clusters >= 2, "at least 2"),
            ("cache.automaticFailover", self.cache.automatic_failover, "true"),
            ("cache.multiAz", self.cache.multi_az, "true"),
            ("keys.deletionWindowDays", self.keys.deletion_window_days == 30, "30"),
            ("keys.rotation.enabled", self.keys.rotation.enabled, "true"),
            ("auditDatabase.multiAz", self.audit_database.multi_az, "true"),
            (
                "auditDatabase.backupRetentionDays",
                self.audit_database.backup_retention_days == 35,
                "35",
            ),
            ("auditDatabase.deletionProtection", self.audit_database.deletion_protection, "true"),
            ("protection.protect", self.protection.protect, "true"),
            ("protection.retainOnDelete", self.protection.retain_on_delete, "true"),
            (
                "network.availabilityZones",
                self.network.availability_zones >= 3,
                "at least 3",
            ),
            (
                "tags.DataClassification",
                self.tags.data_classification == DataClassification.PHI,
                "phi",
            ),
        ]

    @property
    def names(self) -> StackNames:
        """Every physical name of this stack's resources."""
        return StackNames(self.environment, self.table.name)

    @property
    def is_production(self) -> bool:
        return self.environment in PRODUCTION_ENVIRONMENTS


# Top-level keys of the project namespace, as written in YAML.
TOP_LEVEL_KEYS: tuple[str, ...] = tuple(
    field.alias or name for name, field in StackConfig.model_fields.items()
)


def parse_stack_config(stack: str, config: Mapping[str, Any], *, source: str = "") -> StackConfig:
    """Validate a stack's config mapping (``"medeez-platform:table": {...}``, ``"aws:region"``).

    Values may be decoded objects (from YAML) or the JSON strings the Pulumi CLI passes to the
    program. ``source`` names where the config came from in messages (default
    ``Pulumi.<stack>.yaml``).
    """
    where = source or f"Pulumi.{stack}.yaml"
    raw: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in config.items():
        namespace, _, name = key.partition(":")
        if namespace == PROJECT and name:
            raw[name] = _decode(value)
        elif namespace not in ("aws", "pulumi") or not name:
            problems.append(
                f"{key}: unknown key; this project reads {PROJECT}:<key> "
                f"({', '.join(TOP_LEVEL_KEYS)}), the aws provider's aws:<key> and pulumi:<key>"
            )
    provider_region = config.get("aws:region")
    if provider_region is None:
        problems.append("aws:region: missing; set it to the same value as medeez-platform:region")
    elif "region" in raw and str(provider_region) != str(raw["region"]):
        problems.append(
            f"aws:region: {provider_region} must equal {PROJECT}:region ({raw['region']}); "
            "the provider creates the primary-region resources there"
        )
    try:
        model = StackConfig.model_validate(raw)
    except ValidationError as exc:
        problems.extend(describe_validation_error(error, StackConfig) for error in exc.errors())
        model = None
    if problems or model is None:
        details = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"stack {stack}: invalid config in {where}:\n{details}")
    return model


def load_stack_config(stack: str, project_dir: Path = PROJECT_DIR) -> StackConfig:
    """Read and validate ``Pulumi.<stack>.yaml``: the entry point for scripts and tests."""
    return parse_stack_config(stack, read_stack(stack, project_dir).config)


def _decode(value: Any) -> Any:
    """The CLI hands structured config to the program as JSON text; YAML gives objects."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value
