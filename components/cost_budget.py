"""A monthly AWS Budgets cost budget for one environment, routed to the alert topic."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stackspec.definitions.budget import BudgetDefinition


@dataclass(frozen=True, kw_only=True)
class CostBudgetArgs:
    """Inputs of :class:`CostBudget`."""

    definition: BudgetDefinition
    """Name, limit, tag filter, notifications and emails (``stackspec.definitions.budget``)."""
    topic_arn: pulumi.Input[str]
    """The alert topic; its policy must allow ``budgets.amazonaws.com`` to publish."""


class CostBudget(pulumi.ComponentResource):
    """``<name>-budget``: the definition's budget; each notification goes to the alert topic and
    the configured emails."""

    budget: aws.budgets.Budget
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: CostBudgetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medeez:data:CostBudget", name, None, opts)
        definition = args.definition
        filter_name, filter_value = definition.cost_filter
        self.budget = aws.budgets.Budget(
            f"{name}-budget",
            name=definition.name,
            budget_type=definition.budget_type,
            limit_amount=definition.limit_amount,
            limit_unit=definition.unit,
            time_unit=definition.time_unit,
            cost_filters=[
                aws.budgets.BudgetCostFilterArgs(name=filter_name, values=[filter_value])
            ],
            notifications=[
                aws.budgets.BudgetNotificationArgs(
                    comparison_operator=notification.comparison,
                    notification_type=notification.type,
                    threshold=notification.percent,
                    threshold_type=notification.threshold_type,
                    subscriber_sns_topic_arns=[args.topic_arn],
                    subscriber_email_addresses=list(definition.emails) or None,
                )
                for notification in definition.notifications
            ],
            tags=dict(definition.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.budget.arn
        self.register_outputs({"arn": self.arn})
