"""The monthly cost budget: limit, tag filter, notifications to the topic and emails."""

from __future__ import annotations

from tools.plan import Plan

BUDGET = "aws:budgets/budget:Budget"


def test_dev_budget_covers_the_data_layer_the_network_and_the_audit_database(
    dev_plan: Plan,
) -> None:
    [budget] = dev_plan.of_type(BUDGET)
    inputs = budget.inputs
    assert inputs["name"] == "medeez-dev-monthly-cost"
    assert (inputs["budgetType"], inputs["timeUnit"]) == ("COST", "MONTHLY")
    assert (inputs["limitAmount"], inputs["limitUnit"]) == ("100.00", "USD")
    assert inputs["costFilters"] == [{"name": "TagKeyValue", "values": ["user:Environment$dev"]}]


def test_notifications_at_80_and_100_actual_and_100_forecast(prod_plan: Plan) -> None:
    [budget] = prod_plan.of_type(BUDGET)
    topic_arn = prod_plan.named("monitoring-topic").state["arn"]
    assert budget.inputs["limitAmount"] == "1550.00"
    assert budget.inputs["notifications"] == [
        {
            "comparisonOperator": "GREATER_THAN",
            "notificationType": kind,
            "threshold": percent,
            "thresholdType": "PERCENTAGE",
            "subscriberSnsTopicArns": [topic_arn],
            "subscriberEmailAddresses": ["platform-team@medeez.example", "finance@medeez.example"],
        }
        for kind, percent in (("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100))
    ]
    assert budget.property_dependencies["notifications"] == [
        prod_plan.named("monitoring-topic").urn
    ]
