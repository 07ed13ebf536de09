"""The environment's monthly AWS Budgets cost budget, routed to the alert topic and emails."""

from __future__ import annotations

from dataclasses import dataclass

from stackspec.config.stack import StackConfig


@dataclass(frozen=True, kw_only=True)
class BudgetNotificationDefinition:
    type: str
    """ACTUAL or FORECASTED spend."""
    percent: float
    comparison: str = "GREATER_THAN"
    threshold_type: str = "PERCENTAGE"


@dataclass(frozen=True, kw_only=True)
class BudgetDefinition:
    """COST, MONTHLY, USD, filtered on one cost-allocation tag's value.

    The tag must be activated as a cost allocation tag in Billing (activation takes about a day),
    or the budget sees no spend. Budgets update a few times a day: fast cost signals come from the
    table's max-throughput alarms instead.
    """

    name: str
    limit_usd: float
    budget_type: str
    time_unit: str
    unit: str
    cost_allocation_tag: str
    cost_allocation_value: str
    notifications: tuple[BudgetNotificationDefinition, ...]
    emails: tuple[str, ...]
    tags: dict[str, str]

    @property
    def cost_filter(self) -> tuple[str, str]:
        """(filter name, value) as AWS Budgets spells a tag filter."""
        return "TagKeyValue", f"user:{self.cost_allocation_tag}${self.cost_allocation_value}"

    @property
    def limit_amount(self) -> str:
        return f"{self.limit_usd:.2f}"


def budget_definition(cfg: StackConfig) -> BudgetDefinition:
    budget = cfg.budget
    tags = cfg.tags.as_dict()
    return BudgetDefinition(
        name=cfg.names.budget,
        limit_usd=budget.monthly_limit_usd,
        budget_type="COST",
        time_unit="MONTHLY",
        unit="USD",
        cost_allocation_tag=budget.cost_allocation_tag,
        # The tag's value on this stack's resources: what the spend is actually tagged with.
        cost_allocation_value=tags[budget.cost_allocation_tag],
        notifications=tuple(
            BudgetNotificationDefinition(type=n.type, percent=n.percent)
            for n in budget.notifications
        ),
        emails=budget.emails,
        tags=tags,
    )
