"""Config of the monthly cost budget: ``medeez-platform:budget``."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from stackspec.config.base import ConfigModel, Email, PositiveFloat, default


class BudgetNotification(ConfigModel):
    type: Literal["ACTUAL", "FORECASTED"]
    """ACTUAL or FORECASTED spend."""
    percent: Annotated[float, Field(gt=0, le=1000)]
    """Percent of the monthly limit that triggers it."""


class BudgetConfig(ConfigModel):
    monthly_limit_usd: PositiveFloat
    """Monthly cost budget in USD."""
    notifications: tuple[BudgetNotification, ...] = (
        default(BudgetNotification, type="ACTUAL", percent=80),
        default(BudgetNotification, type="ACTUAL", percent=100),
        default(BudgetNotification, type="FORECASTED", percent=100),
    )
    """Thresholds; each goes to the alert topic and the emails."""
    emails: tuple[Email, ...] = ()
    """Up to 10 addresses notified directly by AWS Budgets."""
    cost_allocation_tag: Annotated[str, Field(min_length=1)] = "Environment"
    """Tag key (one of tags) the budget filters on; activate it as a cost allocation tag."""

    @model_validator(mode="after")
    def _limits(self) -> Self:
        if not self.notifications:
            raise ValueError("notifications must hold at least one threshold")
        if len(self.notifications) > 10:
            raise ValueError("AWS Budgets allows at most 10 notifications per budget")
        if len(self.emails) > 10:
            raise ValueError("AWS Budgets allows at most 10 email subscribers per notification")
        keys = [(n.type, n.percent) for n in self.notifications]
        if len(set(keys)) != len(keys):
            raise ValueError("notifications lists the same type and percent twice")
        return self
