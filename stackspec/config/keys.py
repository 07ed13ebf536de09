"""Config of the stack's KMS keys: ``medeez-platform:keys``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from stackspec.config.base import ConfigModel


class Rotation(ConfigModel):
    enabled: bool = True
    """Automatic rotation of every key's material; prod must keep it on."""
    period_days: Annotated[int, Field(ge=90, le=2560)] = 365
    """Days between rotations, 90-2560."""


class KeysConfig(ConfigModel):
    rotation: Rotation = Rotation()
    """Automatic rotation of every CMK of the stack."""
    deletion_window_days: Annotated[int, Field(ge=7, le=30)] = 30
    """Days a scheduled key deletion waits, 7-30; prod must use 30."""
