"""Config of the CloudTrail trail and the audit bucket it delivers to: ``medeez-platform:trail``.

The audit bucket holds every kind of audit evidence of the stack: the trail's log files under
``cloudtrail/``, the audit chain's digests under ``audit-chain/`` and the AWS Backup Audit Manager
reports under ``backup-audit/``. Its object lock, retention and lifecycle are set here, once, for
all of them.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from stackspec.config.base import ConfigModel

#: Six years (45 CFR 164.316(b)(2)(i)) counted in days with the leap days they contain.
SIX_YEARS_DAYS = 2192

StorageClass = Literal[
    "STANDARD_IA", "INTELLIGENT_TIERING", "ONEZONE_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"
]
#: S3's lifecycle "waterfall": an object only ever moves to a class later in this order.
STORAGE_CLASS_ORDER: tuple[str, ...] = (
    "STANDARD_IA",
    "INTELLIGENT_TIERING",
    "ONEZONE_IA",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
)
#: Classes S3 only transitions into after 30 days in S3 Standard, and out of after 30 more.
INFREQUENT_ACCESS = frozenset({"STANDARD_IA", "ONEZONE_IA"})


class Transition(ConfigModel):
    """One lifecycle transition of the audit bucket's current objects."""

    days: Annotated[int, Field(ge=0, le=36500)]
    """Days after an object is written."""
    storage_class: StorageClass
    """The S3 storage class it moves to."""


def _default_transitions() -> tuple[Transition, ...]:
    return (
        Transition.model_validate({"days": 30, "storageClass": "STANDARD_IA"}),
        Transition.model_validate({"days": 90, "storageClass": "GLACIER_IR"}),
        Transition.model_validate({"days": 365, "storageClass": "DEEP_ARCHIVE"}),
    )


class AuditBucketConfig(ConfigModel):
    """The audit bucket: object lock, retention, lifecycle and its access-log bucket."""

    object_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = "COMPLIANCE"
    """Default object lock mode of every object: COMPLIANCE (nobody, not even root, can shorten
    or remove it; prod must) or GOVERNANCE (principals with s3:BypassGovernanceRetention can)."""
    retention_days: Annotated[int, Field(ge=1, le=36500)] = SIX_YEARS_DAYS
    """Object lock default retention, in days (six years: 2192 with leap days)."""
    transitions: tuple[Transition, ...] = Field(default_factory=_default_transitions)
    """Lifecycle transitions of current objects to archive tiers, in S3's order."""
    expiration_days: Annotated[int, Field(ge=1, le=36500)] = SIX_YEARS_DAYS
    """Days after which current objects expire (a delete marker); at least retentionDays."""
    noncurrent_expiration_days: Annotated[int, Field(ge=1, le=36500)] = SIX_YEARS_DAYS
    """Days a noncurrent version is kept before lifecycle deletes it (never before its lock)."""
    abort_incomplete_upload_days: Annotated[int, Field(ge=1, le=365)] = 7
    """Days after which an unfinished multipart upload is aborted."""
    access_log_retention_days: Annotated[int, Field(ge=1, le=36500)] = SIX_YEARS_DAYS
    """Days the access-log bucket keeps server access logs of the audit bucket."""

    @model_validator(mode="after")
    def _lifecycle(self) -> Self:
        problems: list[str] = []
        previous: Transition | None = None
        for index, step in enumerate(self.transitions):
            where = f"transitions[{index}]"
            if step.storage_class in INFREQUENT_ACCESS and step.days < 30:
                problems.append(
                    f"{where}.days: S3 moves objects to {step.storage_class} after 30 days at "
                    f"the earliest, got {step.days}"
                )
            if previous is not None:
                if STORAGE_CLASS_ORDER.index(step.storage_class) <= STORAGE_CLASS_ORDER.index(
                    previous.storage_class
                ):
                    problems.append(
                        f"{where}.storageClass: {step.storage_class} must come after "
                        f"{previous.storage_class} in S3's order ({', '.join(STORAGE_CLASS_ORDER)})"
                    )
                gap = 30 if previous.storage_class in INFREQUENT_ACCESS else 1
                if step.days < previous.days + gap:
                    why = (
                        f"S3 keeps objects 30 days in {previous.storage_class} first"
                        if gap == 30
                        else "a day after the previous transition at the earliest"
                    )
                    problems.append(
                        f"{where}.days: must be at least {previous.days + gap} ({why}), "
                        f"got {step.days}"
                    )
            if step.days >= self.expiration_days:
                problems.append(
                    f"{where}.days: must be below expirationDays ({self.expiration_days}), "
                    f"got {step.days}"
                )
            previous = step
        if self.expiration_days < self.retention_days:
            problems.append(
                f"expirationDays: must be at least retentionDays ({self.retention_days}), "
                f"got {self.expiration_days}"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class TrailConfig(ConfigModel):
    """The stack's CloudTrail trail: who touched the table, including operators and break-glass
    roles the application never sees."""

    enabled: bool = True
    """Record management events and the table's data events; prod must (or use an
    organization trail)."""
    organization_trail: bool = False
    """An organization trail already records this account: create no trail here. It must then
    still log this table's data events, validate log files, encrypt with KMS, cover every region
    and deliver to a locked bucket (README, "CloudTrail"); the pack config's
    hipaa-cloudtrail-table-data-events organizationTrail must say the same."""
    management_events: bool = True
    """Record management (control-plane) events, read and write."""
    stream_data_events: bool = False
    """Also record data events on the table's stream (GetRecords, GetShardIterator...); every
    poll of the consumer is an event, so it is off by default."""
    bucket: AuditBucketConfig = AuditBucketConfig()
    """The audit bucket every kind of audit evidence goes to."""
