"""Config of the app table: ``medeez-platform:table``."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator

from stackspec.config.base import ConfigModel, PositiveInt
from stackspec.key_schema import GLOBAL_INDEX_NAMES


class Projection(ConfigModel):
    """How a GSI projects item attributes."""

    type: Literal["ALL", "KEYS_ONLY", "INCLUDE"] = "ALL"
    """ALL, KEYS_ONLY or INCLUDE."""
    non_key_attributes: tuple[Annotated[str, Field(min_length=1, max_length=255)], ...] = ()
    """Attributes projected with INCLUDE (required then, refused otherwise)."""

    @model_validator(mode="after")
    def _include_needs_attributes(self) -> Self:
        if self.type == "INCLUDE" and not self.non_key_attributes:
            raise ValueError("INCLUDE needs nonKeyAttributes: the attributes to project")
        if self.type != "INCLUDE" and self.non_key_attributes:
            raise ValueError(f"nonKeyAttributes is only allowed with INCLUDE, not {self.type}")
        if len(set(self.non_key_attributes)) != len(self.non_key_attributes):
            raise ValueError("nonKeyAttributes lists an attribute twice")
        # DynamoDB: at most 100 projected non-key attributes over all of a table's indexes.
        if len(self.non_key_attributes) > 100:
            raise ValueError("DynamoDB allows at most 100 nonKeyAttributes")
        return self


class PointInTimeRecovery(ConfigModel):
    enabled: bool = True
    """Continuous backups for restores to any second in the period."""
    recovery_period_days: Annotated[int, Field(ge=1, le=35)] = 35
    """1-35 days; the price is the same for any period."""


class OnDemandThroughput(ConfigModel):
    """A ceiling on request units per second: a cost circuit breaker for on-demand tables."""

    max_read_request_units: PositiveInt
    """Most read request units per second the table may serve."""
    max_write_request_units: PositiveInt
    """Most write request units per second the table may serve."""


class Billing(ConfigModel):
    mode: Literal["PAY_PER_REQUEST"] = "PAY_PER_REQUEST"
    """PAY_PER_REQUEST (on-demand), as the design says."""
    max_throughput: OnDemandThroughput | None = None
    """Optional cost circuit breaker; requests above it are throttled and alarmed on."""


class TableConfig(ConfigModel):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$")] | None = None
    """Table name; default medeez-<env>-app. Changing it replaces the table."""
    billing: Billing = Billing()
    """Billing mode and optional maximum throughput."""
    projections: dict[str, Projection] = Field(default_factory=dict)
    """Per-GSI projection by index name; an index not listed projects ALL."""
    ttl_attribute: Annotated[str, Field(min_length=1, max_length=255)] = "expiresAt"
    """Epoch-seconds attribute after which DynamoDB deletes an item."""
    stream_view_type: Literal["NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY"] = (
        "NEW_AND_OLD_IMAGES"
    )
    """What the stream (the audit trail's source) carries per change."""
    point_in_time_recovery: PointInTimeRecovery = PointInTimeRecovery()
    """PITR on/off and its period."""
    deletion_protection: bool = True
    """DynamoDB refuses DeleteTable while on; prod must keep it on."""
    contributor_insights: bool = False
    """Contributor Insights on the table and every GSI (hot keys)."""

    @field_validator("projections")
    @classmethod
    def _projections_name_real_indexes(cls, value: dict[str, Projection]) -> dict[str, Projection]:
        unknown = sorted(set(value) - set(GLOBAL_INDEX_NAMES))
        if unknown:
            raise ValueError(
                f"unknown index {', '.join(unknown)}; "
                f"the indexes are {', '.join(GLOBAL_INDEX_NAMES)}"
            )
        total = sum(len(p.non_key_attributes) for p in value.values())
        if total > 100:
            raise ValueError(
                f"the indexes project {total} nonKeyAttributes in all; DynamoDB allows 100"
            )
        return value

    def projection(self, index_name: str) -> Projection:
        return self.projections.get(index_name, Projection())
