"""The monthly cost budget on the local endpoint: limit, tag filter, notifications, subscribers."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from scripts.aws_target import error_code
from scripts.services.base import CheckContext, SetupContext, Skipped, fmt
from stackspec.definitions.budget import BudgetDefinition

NAME = "budget"
#: AWS Budgets is a global service served from us-east-1.
BUDGETS_REGION = "us-east-1"


def budget_request(definition: BudgetDefinition) -> dict[str, Any]:
    """The ``Budget`` of ``CreateBudget``."""
    filter_name, filter_value = definition.cost_filter
    return {
        "BudgetName": definition.name,
        "BudgetLimit": {"Amount": definition.limit_amount, "Unit": definition.unit},
        "TimeUnit": definition.time_unit,
        "BudgetType": definition.budget_type,
        "CostFilters": {filter_name: [filter_value]},
    }


def budget_notifications(definition: BudgetDefinition) -> list[dict[str, Any]]:
    return [
        {
            "NotificationType": n.type,
            "ComparisonOperator": n.comparison,
            "Threshold": float(n.percent),
            "ThresholdType": n.threshold_type,
        }
        for n in definition.notifications
    ]


def budget_subscribers(definition: BudgetDefinition, topic_arn: str) -> list[dict[str, str]]:
    """Each notification's subscribers: the alert topic plus the configured emails."""
    return [
        {"SubscriptionType": "SNS", "Address": topic_arn},
        *({"SubscriptionType": "EMAIL", "Address": email} for email in definition.emails),
    ]


def notification_key(notification: dict[str, Any]) -> tuple[str, str, float, str]:
    return (
        str(notification.get("NotificationType")),
        str(notification.get("ComparisonOperator")),
        float(notification.get("Threshold", 0)),
        str(notification.get("ThresholdType", "PERCENTAGE")),
    )


def ensure(ctx: SetupContext) -> None:
    definition = ctx.stack.budget
    budgets = ctx.clients("budgets", BUDGETS_REGION)
    account = ctx.identity.account
    subscribers = budget_subscribers(definition, str(ctx.topic_arn))
    try:
        live = budgets.describe_budget(AccountId=account, BudgetName=definition.name)["Budget"]
    except ClientError as exc:
        if error_code(exc) != "NotFoundException":
            raise
        budgets.create_budget(
            AccountId=account,
            Budget=budget_request(definition),
            NotificationsWithSubscribers=[
                {"Notification": n, "Subscribers": subscribers}
                for n in budget_notifications(definition)
            ],
        )
        ctx.result.add("budget", definition.name, "created", f"${definition.limit_usd:g}/month")
        return
    changes: list[str] = []
    if _budget_summary(live) != _budget_summary(budget_request(definition)):
        budgets.update_budget(AccountId=account, NewBudget=budget_request(definition))
        changes.append("limit and filter")
    present = {
        notification_key(n)
        for page in budgets.get_paginator("describe_notifications_for_budget").paginate(
            AccountId=account, BudgetName=definition.name
        )
        for n in page.get("Notifications", [])
    }
    added = 0
    for notification in budget_notifications(definition):
        if notification_key(notification) not in present:
            budgets.create_notification(
                AccountId=account,
                BudgetName=definition.name,
                Notification=notification,
                Subscribers=subscribers,
            )
            added += 1
    if added:
        changes.append(f"{added} notification(s) added")
    if changes:
        ctx.result.add("budget", definition.name, "updated", "; ".join(changes))
    else:
        ctx.result.add("budget", definition.name, "unchanged")


def _budget_summary(budget: dict[str, Any]) -> dict[str, Any]:
    limit = budget.get("BudgetLimit", {})
    return {
        "limit": f"{float(limit.get('Amount', 0)):g} {limit.get('Unit')}",
        "period": budget.get("TimeUnit"),
        "type": budget.get("BudgetType"),
        "filter": (budget.get("CostFilters") or {}).get("TagKeyValue", []),
    }


def check(ctx: CheckContext) -> None:
    definition = ctx.stack.budget
    budgets = ctx.clients("budgets", BUDGETS_REGION)
    present: list[bool] = []

    def budget_row() -> None:
        expected = _budget_summary(budget_request(definition))
        try:
            live = budgets.describe_budget(
                AccountId=ctx.identity.account, BudgetName=definition.name
            )
        except ClientError as exc:
            if error_code(exc) != "NotFoundException":
                raise
            ctx.fail("budget", {"name": definition.name, **expected}, "not found")
            return
        present.append(True)
        ctx.add("budget", expected, _budget_summary(live["Budget"]))

    ctx.guard("budget", budget_row, definition.name)
    wanted = budget_notifications(definition)

    def notifications_row() -> None:
        if not present:
            raise Skipped(f"budget {definition.name} not found")
        live = sorted(
            notification_key(n)
            for page in budgets.get_paginator("describe_notifications_for_budget").paginate(
                AccountId=ctx.identity.account, BudgetName=definition.name
            )
            for n in page.get("Notifications", [])
        )
        describe = [
            f"{t} {op} {p:g}% ({kind})" for t, op, p, kind in sorted(map(notification_key, wanted))
        ]
        ctx.add(
            "budget.notifications",
            describe,
            [f"{t} {op} {p:g}% ({kind})" for t, op, p, kind in live],
        )

    ctx.guard("budget.notifications", notifications_row)

    def subscribers_row() -> None:
        if not present:
            raise Skipped(f"budget {definition.name} not found")
        expected = sorted(
            f"{s['SubscriptionType']}:{s['Address']}"
            for s in budget_subscribers(definition, ctx.topic_arn_or_built())
        )
        missing: list[str] = []
        for notification in wanted:
            live = {
                f"{s['SubscriptionType']}:{s['Address']}"
                for page in budgets.get_paginator("describe_subscribers_for_notification").paginate(
                    AccountId=ctx.identity.account,
                    BudgetName=definition.name,
                    Notification=notification,
                )
                for s in page.get("Subscribers", [])
            }
            label = f"{notification['NotificationType']} {notification['Threshold']:g}%"
            missing.extend(f"{label}: {e}" for e in expected if e not in live)
        if missing:
            ctx.fail("budget.subscribers", expected, f"missing {fmt(missing)}")
        else:
            ctx.add("budget.subscribers", expected, expected)

    ctx.guard("budget.subscribers", subscribers_row)
