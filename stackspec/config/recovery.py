"""Config of recovery: targets, AWS Backup restore testing and the audit evidence
(``medeez-platform:recovery``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import Field, model_validator

from stackspec.config.base import ConfigModel


class RecoveryTargets(ConfigModel):
    """What a restore must achieve; the drill and AWS Backup Audit Manager measure against them."""

    rto_minutes: Annotated[int, Field(ge=1, le=10080)] = 240
    """Recovery time objective: minutes from asking for a restore to a usable copy."""
    rpo_minutes: Annotated[int, Field(ge=1, le=10080)] = 15
    """Recovery point objective for point-in-time recovery: the most data (in minutes) a
    restore of the latest restorable time may lose."""
    backup_rpo_hours: Annotated[int, Field(ge=1, le=744)] = 25
    """Recovery point objective when restoring from the daily backup: the oldest a recovery
    point may be (a day plus the start window)."""


class RestoreTesting(ConfigModel):
    """AWS Backup restore testing: a scheduled restore of a recent recovery point of the table,
    deleted after the validation window."""

    enabled: bool = True
    """Restore-test the table's recovery points on a schedule; prod must."""
    schedule: Annotated[str, Field(pattern=r"^cron\(.+\)$|^rate\(.+\)$")] = "cron(0 9 ? * SUN *)"
    """Restore testing schedule expression (UTC); weekly by default."""
    start_window_hours: Annotated[int, Field(ge=1, le=168)] = 24
    """Hours a restore test may wait to start (AWS: 1-168)."""
    selection_window_days: Annotated[int, Field(ge=1, le=365)] = 7
    """Recovery points created within this many days are candidates (AWS: 1-365)."""
    algorithm: Literal["LATEST_WITHIN_WINDOW", "RANDOM_WITHIN_WINDOW"] = "LATEST_WITHIN_WINDOW"
    """Which candidate recovery point is restored."""
    validation_window_hours: Annotated[int, Field(ge=0, le=24)] = 4
    """Hours the restored copy (real PHI) is kept for validation before AWS Backup deletes it;
    bounded to a day here (AWS allows 168) so restored PHI never lingers."""


class Audit(ConfigModel):
    """AWS Backup Audit Manager: a framework of controls and report plans delivering to the
    stack's audit bucket (whose object lock and retention are ``trail.bucket``'s)."""

    enabled: bool = True
    """Deploy the framework and the report plans; prod must."""
    report_formats: tuple[Literal["CSV", "JSON"], ...] = ("CSV", "JSON")
    """Formats of the reports."""

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, data: Any) -> Any:
        if isinstance(data, dict):
            moved = {"reportRetentionDays": "retentionDays", "objectLockMode": "objectLockMode"}
            for key, now in moved.items():
                if key in data:
                    raise ValueError(
                        f"{key}: moved to trail.bucket.{now} (one object lock for all the "
                        "audit bucket's evidence); set it there"
                    )
        return data

    @model_validator(mode="after")
    def _formats(self) -> Self:
        if not self.report_formats or len(set(self.report_formats)) != len(self.report_formats):
            raise ValueError("reportFormats must list CSV and/or JSON, each once")
        return self


class RecoveryConfig(ConfigModel):
    targets: RecoveryTargets = RecoveryTargets()
    """RTO and RPO the drill and the audit framework measure against."""
    restore_testing: RestoreTesting = RestoreTesting()
    """AWS Backup restore testing of the table."""
    audit: Audit = Audit()
    """AWS Backup Audit Manager framework, reports and their bucket."""
