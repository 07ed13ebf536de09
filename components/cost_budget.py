"""A monthly AWS Budgets cost budget for one environment, routed to the alert topic."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.config import BudgetNotification


@dataclass(frozen=True, kw_only=True)
class CostBudgetArgs:
    """Inputs of :class:`CostBudget`."""

    budget_name: str
    monthly_limit_usd: float
    notifications: Sequence[BudgetNotification]
    """Percent-of-limit thresholds on ACTUAL or FORECASTED spend."""
    topic_arn: pulumi.Input[str]
    """The alert topic; its policy must allow ``budgets.amazonaws.com`` to publish."""
    emails: Sequence[str] = ()
    cost_allocation_tag: str
    """Tag key the budget filters on; it must be activated as a cost allocation tag in Billing
    (activation takes about a day), or the budget sees no spend."""
    cost_allocation_value: str
    tags: Mapping[str, str] = field(default_factory=dict)


class CostBudget(pulumi.ComponentResource):
    """``<name>-budget``: COST, MONTHLY, USD, filtered to ``user:<tag>$<value>``; each
    notification goes to the alert topic and the configured emails. Budgets update a few times a
    day: fast cost signals come from the table's max-throughput alarms instead."""

    budget: aws.budgets.Budget
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: CostBudgetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medeez:data:CostBudget", name, None, opts)
        self.budget = aws.budgets.Budget(
            f"{name}-budget",
            name=args.budget_name,
            budget_type="COST",
            limit_amount=f"{args.monthly_limit_usd:.2f}",
            limit_unit="USD",
            time_unit="MONTHLY",
            cost_filters=[
                aws.budgets.BudgetCostFilterArgs(
                    name="TagKeyValue",
                    values=[f"user:{args.cost_allocation_tag}${args.cost_allocation_value}"],
                )
            ],
            notifications=[
                aws.budgets.BudgetNotificationArgs(
                    comparison_operator="GREATER_THAN",
                    notification_type=notification.type,
                    threshold=notification.percent,
                    threshold_type="PERCENTAGE",
                    subscriber_sns_topic_arns=[args.topic_arn],
                    subscriber_email_addresses=list(args.emails) or None,
                )
                for notification in args.notifications
            ],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.budget.arn
        self.register_outputs({"arn": self.arn})
