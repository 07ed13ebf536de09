"""The shapes setup creates locally and validate checks are the ones the Pulumi program deploys:
each is compared with the inputs of the offline plan (what AWS is asked to create), so a stack
deployed by ``pulumi up`` passes validate-setup and the local environment matches the cloud."""

from __future__ import annotations

from typing import Any

import pytest

from components.alarm_specs import alarm_specs
from components.config import load_stack_config
from scripts.expected import (
    alarm_differences,
    alarm_request,
    backup_rule,
    backup_rule_differences,
    budget_notifications,
    budget_request,
    copy_actions_summary,
    key_purposes,
    notification_key,
)


def _dimensions(value: dict[str, str] | None) -> list[dict[str, str]]:
    return [{"Name": k, "Value": v} for k, v in (value or {}).items()]


def as_described_alarm(inputs: dict[str, Any]) -> dict[str, Any]:
    """A MetricAlarm's plan inputs in the shape CloudWatch DescribeAlarms returns."""
    alarm: dict[str, Any] = {
        "AlarmName": inputs["name"],
        "ActionsEnabled": inputs.get("actionsEnabled"),
        "AlarmActions": inputs.get("alarmActions", []),
        "OKActions": inputs.get("okActions", []),
        "InsufficientDataActions": inputs.get("insufficientDataActions", []),
        "EvaluationPeriods": int(inputs["evaluationPeriods"]),
        "DatapointsToAlarm": int(inputs["datapointsToAlarm"]),
        "Threshold": inputs["threshold"],
        "ComparisonOperator": inputs["comparisonOperator"],
        "TreatMissingData": inputs["treatMissingData"],
        "Namespace": inputs.get("namespace"),
        "MetricName": inputs.get("metricName"),
        "Dimensions": _dimensions(inputs.get("dimensions")),
        "Statistic": inputs.get("statistic"),
        "ExtendedStatistic": inputs.get("extendedStatistic"),
        "Period": int(inputs["period"]) if "period" in inputs else None,
        "Metrics": [],
    }
    for query in inputs.get("metricQueries", []):
        entry: dict[str, Any] = {"Id": query["id"], "ReturnData": query["returnData"]}
        if "expression" in query:
            entry.update(Expression=query["expression"], Label=query.get("label"))
        else:
            metric = query["metric"]
            entry["MetricStat"] = {
                "Metric": {
                    "Namespace": metric["namespace"],
                    "MetricName": metric["metricName"],
                    "Dimensions": _dimensions(metric.get("dimensions")),
                },
                "Period": int(metric["period"]),
                "Stat": metric["stat"],
            }
        alarm["Metrics"].append(entry)
    return alarm


@pytest.fixture(params=["dev", "prod"])
def stack(request: pytest.FixtureRequest) -> tuple[Any, Any]:
    plan = request.getfixturevalue(f"{request.param}_plan")
    return load_stack_config(request.param), plan


def test_every_alarm_validate_expects_is_the_one_pulumi_deploys(stack):
    cfg, plan = stack
    (topic,) = plan.of_type("aws:sns/topic:Topic")
    topic_arn = f"arn:aws:sns:{cfg.region}:111122223333:{topic.inputs['name']}"
    deployed = {
        r.inputs["name"]: r.inputs for r in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    }
    specs = alarm_specs(cfg)
    assert set(deployed) == {spec.name for spec in specs}
    for spec in specs:
        live = as_described_alarm(deployed[spec.name])
        assert alarm_differences(alarm_request(spec, topic_arn, {}), live) == [], spec.name


def test_the_backup_rule_and_copy_action_match_the_deployed_plan(stack):
    cfg, plan = stack
    (deployed,) = plan.of_type("aws:backup/plan:Plan")
    assert deployed.inputs["name"] == cfg.backup_plan_name
    (rule_inputs,) = deployed.inputs["rules"]
    copy = rule_inputs.get("copyActions") or []
    live = {
        "RuleName": rule_inputs["ruleName"],
        "TargetBackupVaultName": rule_inputs["targetVaultName"],
        "ScheduleExpression": rule_inputs["schedule"],
        "StartWindowMinutes": int(rule_inputs["startWindow"]),
        "CompletionWindowMinutes": int(rule_inputs["completionWindow"]),
        "Lifecycle": {"DeleteAfterDays": int(rule_inputs["lifecycle"]["deleteAfter"])},
        "CopyActions": [
            {
                "DestinationBackupVaultArn": c["destinationVaultArn"],
                "Lifecycle": {"DeleteAfterDays": int(c["lifecycle"]["deleteAfter"])},
            }
            for c in copy
        ],
    }
    dr_vault_arn = copy[0]["destinationVaultArn"] if copy else None
    want = backup_rule(cfg, dr_vault_arn)
    assert want["RuleName"] == live["RuleName"]
    assert backup_rule_differences(want, live) == []
    assert copy_actions_summary(want) == copy_actions_summary(live)
    assert bool(copy) == cfg.backup.cross_region_copy.enabled


def test_the_budget_matches_the_deployed_budget(stack):
    cfg, plan = stack
    (deployed,) = plan.of_type("aws:budgets/budget:Budget")
    inputs = deployed.inputs
    want = budget_request(cfg)
    assert inputs["name"] == want["BudgetName"]
    assert float(inputs["limitAmount"]) == float(want["BudgetLimit"]["Amount"])
    assert (inputs["timeUnit"], inputs["budgetType"]) == (want["TimeUnit"], want["BudgetType"])
    assert {f["name"]: f["values"] for f in inputs["costFilters"]} == want["CostFilters"]
    assert sorted(
        notification_key(
            {
                "NotificationType": n["notificationType"],
                "ComparisonOperator": n["comparisonOperator"],
                "Threshold": n["threshold"],
                "ThresholdType": n["thresholdType"],
            }
        )
        for n in inputs["notifications"]
    ) == sorted(notification_key(n) for n in budget_notifications(cfg))


def test_the_key_aliases_validate_expects_are_the_deployed_ones(stack):
    cfg, plan = stack
    deployed = {r.inputs["name"] for r in plan.of_type("aws:kms/alias:Alias")}
    assert deployed == {cfg.key_alias(purpose) for purpose, _ in key_purposes(cfg)}
