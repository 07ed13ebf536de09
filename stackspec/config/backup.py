"""Config of AWS Backup: ``medeez-platform:backup``."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from stackspec.config.base import AWS_LONG_MAX, ConfigModel, PositiveInt

#: AWS Backup Vault Lock accepts retention periods up to 36,500 days (100 years).
VAULT_LOCK_MAX_DAYS = 36500


class CrossRegionCopy(ConfigModel):
    enabled: bool = False
    """Copy every recovery point to the DR region's vault; prod must."""
    retention_days: PositiveInt = 35
    """Days the DR copies are kept."""


class VaultLock(ConfigModel):
    """AWS Backup Vault Lock. Without changeableForDays it is governance mode (removable by
    privileged IAM); with it, compliance mode, immutable once that grace period ends."""

    enabled: bool = False
    """Lock the vaults' retention; prod must."""
    min_retention_days: Annotated[int, Field(ge=1, le=VAULT_LOCK_MAX_DAYS)] = 7
    """Shortest retention the lock allows."""
    max_retention_days: Annotated[int, Field(ge=1, le=VAULT_LOCK_MAX_DAYS)] = 365
    """Longest retention the lock allows."""
    changeable_for_days: Annotated[int, Field(ge=3, le=VAULT_LOCK_MAX_DAYS)] | None = None
    """Set (>= 3) for compliance mode, immutable after that many days; unset is governance mode."""

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.min_retention_days > self.max_retention_days:
            raise ValueError("minRetentionDays must not exceed maxRetentionDays")
        return self


class BackupConfig(ConfigModel):
    schedule: Annotated[str, Field(pattern=r"^cron\(.+\)$|^rate\(.+\)$")] = "cron(0 5 * * ? *)"
    """AWS Backup schedule expression (UTC)."""
    start_window_minutes: Annotated[int, Field(ge=60, le=AWS_LONG_MAX)] = 60
    """Minutes a job may wait to start (>= 60)."""
    completion_window_minutes: Annotated[int, Field(ge=120, le=AWS_LONG_MAX)] = 360
    """Minutes a job may run before it is cancelled."""
    retention_days: PositiveInt = 35
    """Days recovery points in the primary vault are kept."""
    cold_storage_after_days: PositiveInt | None = None
    """Move recovery points to cold storage after this many days (retention must be 90 more)."""
    cross_region_copy: CrossRegionCopy = CrossRegionCopy()
    """The copy rule to the DR region."""
    vault_lock: VaultLock = VaultLock()
    """AWS Backup Vault Lock for every vault."""

    @model_validator(mode="after")
    def _lifecycle(self) -> Self:
        if self.completion_window_minutes <= self.start_window_minutes:
            raise ValueError("completionWindowMinutes must be greater than startWindowMinutes")
        cold = self.cold_storage_after_days
        if cold is not None and self.retention_days < cold + 90:
            raise ValueError(
                "retentionDays must be at least coldStorageAfterDays + 90 "
                "(AWS keeps cold recovery points at least 90 days)"
            )
        lock = self.vault_lock
        if lock.enabled:
            for key, days in (
                ("retentionDays", self.retention_days),
                ("crossRegionCopy.retentionDays", self.cross_region_copy.retention_days),
            ):
                if not lock.min_retention_days <= days <= lock.max_retention_days:
                    raise ValueError(
                        f"{key} ({days}) must lie within the vault lock's "
                        f"{lock.min_retention_days}..{lock.max_retention_days} days"
                    )
        return self
