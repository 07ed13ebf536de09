"""Monitoring: the encrypted alert topic and its policy, subscriptions, every alarm's metric,
dimensions and actions, and the dashboard."""

from __future__ import annotations

import json

import pytest

from stackspec.definitions.monitoring import SYSTEM_ERROR_OPERATIONS
from stackspec.key_schema import GLOBAL_INDEX_NAMES
from tools.plan import Plan

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"


def alarms(plan: Plan) -> dict[str, dict]:
    """The Monitoring component's alarms (the audit database builds its own set)."""
    return {
        r.inputs["name"]: r.inputs for r in plan.of_type(ALARM) if r.name.startswith("monitoring-")
    }


def test_topic_is_encrypted_with_the_alerts_key(prod_plan: Plan) -> None:
    [topic] = prod_plan.of_type(TOPIC)
    assert topic.inputs["name"] == "medeez-prod-alerts"
    assert topic.inputs["kmsMasterKeyId"] == prod_plan.named("alerts-key-key").state["arn"]


def test_topic_policy_lets_only_this_accounts_services_publish_over_tls(prod_plan: Plan) -> None:
    policy = prod_plan.named("monitoring-topic-policy")
    topic_arn = prod_plan.named("monitoring-topic").state["arn"]
    assert policy.inputs["arn"] == topic_arn
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert statements["AllowCloudwatchPublish"] == {
        "Sid": "AllowCloudwatchPublish",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {
            "StringEquals": {"aws:SourceAccount": "111122223333"},
            "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:111122223333:alarm:*"},
        },
    }
    assert statements["AllowBudgetsPublish"]["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert statements["AllowBackupPublish"]["Principal"] == {"Service": "backup.amazonaws.com"}
    assert statements["DenyPublishWithoutTls"] == {
        "Sid": "DenyPublishWithoutTls",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    assert len(statements) == 4


def test_subscriptions_come_from_config(dev_plan: Plan, prod_plan: Plan) -> None:
    [dev] = dev_plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert (dev.inputs["protocol"], dev.inputs["endpoint"]) == (
        "email",
        "platform-alerts-dev@medeez.example",
    )
    assert dev.inputs["topic"] == dev_plan.named("monitoring-topic").state["arn"]
    [prod] = prod_plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert prod.inputs["endpoint"] == "platform-oncall@medeez.example"


def test_the_recommended_alarm_set(dev_plan: Plan, prod_plan: Plan) -> None:
    throttles = {"medeez-prod-table-read-throttles", "medeez-prod-table-write-throttles"} | {
        f"medeez-prod-gsi-{index}-{kind}-throttles"
        for index in GLOBAL_INDEX_NAMES
        for kind in ("read", "write")
    }
    expected = throttles | {
        "medeez-prod-system-errors",
        "medeez-prod-latency-GetItem",
        "medeez-prod-latency-Query",
        "medeez-prod-latency-PutItem",
        "medeez-prod-latency-UpdateItem",
        "medeez-prod-user-errors",
        "medeez-prod-table-read-max-throughput-throttles",
        "medeez-prod-table-write-max-throughput-throttles",
        "medeez-prod-backup-job-failures",
        "medeez-prod-copy-job-failures",
        "medeez-prod-restore-job-failures",
        "medeez-prod-backup-missing",
    }
    assert set(alarms(prod_plan)) == expected
    # No copy job in dev, so no copy-failure alarm.
    assert set(alarms(dev_plan)) == {
        name.replace("medeez-prod-", "medeez-dev-") for name in expected
    } - {"medeez-dev-copy-job-failures"}


@pytest.mark.parametrize("plan_name", ["dev_plan", "prod_plan"])
def test_every_alarm_notifies_the_topic_on_every_state_change(
    plan_name: str, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(plan_name)
    topic_arn = plan.named("monitoring-topic").state["arn"]
    for name, inputs in alarms(plan).items():
        assert inputs["alarmActions"] == [topic_arn], name
        assert inputs["okActions"] == [topic_arn], name
        assert inputs["insufficientDataActions"] == [topic_arn], name
        assert inputs["actionsEnabled"] is True, name
        expected_missing = "breaching" if name.endswith("backup-missing") else "notBreaching"
        assert inputs["treatMissingData"] == expected_missing, name


def test_gsi_throttle_alarm_has_table_and_index_dimensions(prod_plan: Plan) -> None:
    alarm = alarms(prod_plan)["medeez-prod-gsi-ByPatient-write-throttles"]
    assert alarm["namespace"] == "AWS/DynamoDB"
    assert alarm["metricName"] == "WriteThrottleEvents"
    assert alarm["dimensions"] == {
        "TableName": "medeez-prod-app",
        "GlobalSecondaryIndexName": "ByPatient",
    }
    assert (alarm["statistic"], alarm["period"], alarm["evaluationPeriods"]) == ("Sum", 60, 5)
    assert (alarm["threshold"], alarm["comparisonOperator"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
    )


def test_thresholds_follow_the_stack_config(dev_plan: Plan) -> None:
    assert alarms(dev_plan)["medeez-dev-table-read-throttles"]["threshold"] == 10
    latency = alarms(dev_plan)["medeez-dev-latency-Query"]
    assert latency["extendedStatistic"] == "p99"
    assert "statistic" not in latency
    assert latency["dimensions"] == {"TableName": "medeez-dev-app", "Operation": "Query"}
    assert (latency["threshold"], latency["evaluationPeriods"], latency["datapointsToAlarm"]) == (
        50,
        10,
        8,
    )


def test_system_errors_sum_every_operation_with_metric_math(prod_plan: Plan) -> None:
    alarm = alarms(prod_plan)["medeez-prod-system-errors"]
    for top_level in ("metricName", "namespace", "dimensions", "statistic", "period"):
        assert top_level not in alarm
    queries = alarm["metricQueries"]
    metrics = [q for q in queries if "metric" in q]
    assert [q["metric"]["dimensions"]["Operation"] for q in metrics] == list(
        SYSTEM_ERROR_OPERATIONS
    )
    for query in metrics:
        assert query["metric"]["metricName"] == "SystemErrors"
        assert query["metric"]["dimensions"]["TableName"] == "medeez-prod-app"
        assert query["returnData"] is False
    [expression] = [q for q in queries if "expression" in q]
    assert expression["expression"] == "SUM(METRICS())"
    assert expression["returnData"] is True


def test_user_errors_is_account_wide(prod_plan: Plan) -> None:
    alarm = alarms(prod_plan)["medeez-prod-user-errors"]
    assert alarm["metricName"] == "UserErrors"
    assert "dimensions" not in alarm


def test_backup_alarms_watch_the_primary_vault(prod_plan: Plan) -> None:
    by_name = alarms(prod_plan)
    for name, metric in (
        ("medeez-prod-backup-job-failures", "NumberOfBackupJobsFailed"),
        ("medeez-prod-copy-job-failures", "NumberOfCopyJobsFailed"),
    ):
        assert by_name[name]["namespace"] == "AWS/Backup"
        assert by_name[name]["metricName"] == metric
        assert by_name[name]["dimensions"] == {"BackupVaultName": "medeez-prod-backup"}
        assert by_name[name]["period"] == 3600
    heartbeat = by_name["medeez-prod-backup-missing"]
    assert heartbeat["metricName"] == "NumberOfBackupJobsCompleted"
    assert (heartbeat["comparisonOperator"], heartbeat["threshold"], heartbeat["period"]) == (
        "LessThanThreshold",
        1,
        86400,
    )


def test_dashboard_shows_alarms_and_table_metrics(prod_plan: Plan) -> None:
    dashboard = prod_plan.named("monitoring-dashboard")
    assert dashboard.inputs["dashboardName"] == "medeez-prod-data"
    body = json.loads(dashboard.inputs["dashboardBody"])
    [alarm_widget] = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert sorted(alarm_widget["properties"]["alarms"]) == sorted(
        r.state["arn"] for r in prod_plan.of_type(ALARM) if r.name.startswith("monitoring-")
    )
    metric_rows = [
        row for w in body["widgets"] if w["type"] == "metric" for row in w["properties"]["metrics"]
    ]
    assert ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", "medeez-prod-app"] in metric_rows
    assert all(
        w["properties"]["region"] == "us-east-1" for w in body["widgets"] if w["type"] == "metric"
    )
