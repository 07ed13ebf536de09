"""What the live environment should look like, as AWS API shapes derived from the stack config.

``setup_database`` sends these requests to the local endpoint and ``validate_setup`` compares the
live environment with the same shapes, so the two cannot disagree about what "right" means. The
table itself comes from :mod:`components.table_spec`, which the Pulumi component also uses.
"""

from __future__ import annotations

from typing import Any

from components.alarm_specs import AlarmSpec, MetricQuerySpec
from components.config import StackConfig

#: The key purposes the stack's primary region holds (``cfg.key_alias(purpose)``).
PRIMARY_KEY_PURPOSES: tuple[str, ...] = ("table", "phi", "alerts", "backup")
#: The DR vault's key, in ``cfg.dr_region``, when cross-region copy is on.
DR_KEY_PURPOSE = "backup-dr"

KEY_DESCRIPTIONS = {
    "table": "DynamoDB table encryption at rest",
    "phi": "Envelope encryption of PHI fields (AWS Encryption SDK data keys)",
    "alerts": "Alert topic encryption",
    "backup": "Backup vault encryption",
    "backup-dr": "DR backup vault encryption",
}

#: AWS managed policies the backup role needs for DynamoDB backups and restores.
BACKUP_ROLE_POLICIES: tuple[str, ...] = (
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
)

BACKUP_ASSUME_ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "backup.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def key_purposes(cfg: StackConfig) -> list[tuple[str, str]]:
    """(purpose, region) of every key the stack needs."""
    purposes = [(purpose, cfg.region) for purpose in PRIMARY_KEY_PURPOSES]
    if cfg.backup.cross_region_copy.enabled:
        purposes.append((DR_KEY_PURPOSE, cfg.dr_region))
    return purposes


def tag_list(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in sorted(tags.items())]


# --- alarms -------------------------------------------------------------------------------------


def _dimensions(dimensions: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in dimensions]


def _metric_query(query: MetricQuerySpec, spec: AlarmSpec) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": query.id, "ReturnData": query.return_data}
    if query.expression is not None:
        entry["Expression"] = query.expression
        if query.label:
            entry["Label"] = query.label
    else:
        entry["MetricStat"] = {
            "Metric": {
                "Namespace": spec.namespace,
                "MetricName": query.metric_name,
                "Dimensions": _dimensions(query.dimensions),
            },
            "Period": spec.period_seconds,
            "Stat": query.stat,
        }
    return entry


def alarm_request(spec: AlarmSpec, topic_arn: str, tags: dict[str, str]) -> dict[str, Any]:
    """``PutMetricAlarm`` arguments for ``spec``, notifying ``topic_arn`` on the states it names."""
    request: dict[str, Any] = {
        "AlarmName": spec.name,
        "AlarmDescription": spec.description,
        "ActionsEnabled": True,
        "AlarmActions": [topic_arn] if "ALARM" in spec.notify_on else [],
        "OKActions": [topic_arn] if "OK" in spec.notify_on else [],
        "InsufficientDataActions": [topic_arn] if "INSUFFICIENT_DATA" in spec.notify_on else [],
        "EvaluationPeriods": spec.evaluation_periods,
        "DatapointsToAlarm": spec.datapoints_to_alarm,
        "Threshold": spec.threshold,
        "ComparisonOperator": spec.comparison_operator,
        "TreatMissingData": spec.treat_missing_data,
        "Tags": tag_list(tags),
    }
    if spec.metric_queries:
        request["Metrics"] = [_metric_query(q, spec) for q in spec.metric_queries]
    else:
        request.update(
            Namespace=spec.namespace,
            MetricName=spec.metric_name,
            Dimensions=_dimensions(spec.dimensions),
            Period=spec.period_seconds,
        )
        if spec.extended_statistic:
            request["ExtendedStatistic"] = spec.extended_statistic
        else:
            request["Statistic"] = spec.statistic
    return request


#: The alarm fields compared with the live alarm (tags are not returned by DescribeAlarms).
ALARM_FIELDS = (
    "Namespace",
    "MetricName",
    "Dimensions",
    "Statistic",
    "ExtendedStatistic",
    "Period",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "Metrics",
    "ActionsEnabled",
    "AlarmActions",
    "OKActions",
    "InsufficientDataActions",
)


def _normalise_alarm_value(name: str, value: Any) -> Any:
    if value in (None, [], ""):
        return None
    if name == "Threshold":
        return float(value)
    if name in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        return sorted(value)
    if name == "Dimensions":
        return sorted((d["Name"], d["Value"]) for d in value)
    if name == "Metrics":
        return [
            {k: v for k, v in entry.items() if v not in (None, "", [])}
            for entry in sorted(value, key=lambda e: str(e["Id"]))
        ]
    return value


def alarm_differences(request: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """``field: expected X, found Y`` for every compared field where ``live`` differs."""
    problems = []
    for name in ALARM_FIELDS:
        want = _normalise_alarm_value(name, request.get(name))
        have = _normalise_alarm_value(name, live.get(name))
        if want != have:
            problems.append(f"{name}: expected {want}, found {have}")
    return problems


# --- backup -------------------------------------------------------------------------------------


def backup_rule(cfg: StackConfig, dr_vault_arn: str | None) -> dict[str, Any]:
    """The backup plan's one rule (``BackupPlan.Rules[0]``), copying to ``dr_vault_arn`` when
    cross-region copy is on."""
    backup = cfg.backup
    lifecycle: dict[str, Any] = {"DeleteAfterDays": backup.retention_days}
    if backup.cold_storage_after_days is not None:
        lifecycle["MoveToColdStorageAfterDays"] = backup.cold_storage_after_days
    rule: dict[str, Any] = {
        "RuleName": "daily",  # the name the Pulumi CrossRegionBackup component gives it
        "TargetBackupVaultName": cfg.vault_name,
        "ScheduleExpression": backup.schedule,
        "StartWindowMinutes": backup.start_window_minutes,
        "CompletionWindowMinutes": backup.completion_window_minutes,
        "Lifecycle": lifecycle,
    }
    if backup.cross_region_copy.enabled:
        if dr_vault_arn is None:
            raise ValueError("cross-region copy is on but no DR vault ARN was given")
        rule["CopyActions"] = [
            {
                "DestinationBackupVaultArn": dr_vault_arn,
                "Lifecycle": {"DeleteAfterDays": backup.cross_region_copy.retention_days},
            }
        ]
    return rule


def backup_rule_differences(expected: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """Differences in schedule, windows and lifecycle (copy actions are checked on their own)."""
    problems = []
    for name in (
        "TargetBackupVaultName",
        "ScheduleExpression",
        "StartWindowMinutes",
        "CompletionWindowMinutes",
    ):
        if expected.get(name) != live.get(name):
            problems.append(f"{name}: expected {expected.get(name)}, found {live.get(name)}")
    want = {k: v for k, v in expected.get("Lifecycle", {}).items() if v is not None}
    have = {
        k: v
        for k, v in (live.get("Lifecycle") or {}).items()
        if k in ("DeleteAfterDays", "MoveToColdStorageAfterDays") and v is not None
    }
    if want != have:
        problems.append(f"Lifecycle: expected {want}, found {have}")
    return problems


def copy_actions_summary(rule: dict[str, Any]) -> list[tuple[str, int | None]]:
    return sorted(
        (
            str(action.get("DestinationBackupVaultArn")),
            (action.get("Lifecycle") or {}).get("DeleteAfterDays"),
        )
        for action in rule.get("CopyActions") or []
    )


# --- budget -------------------------------------------------------------------------------------


def budget_request(cfg: StackConfig) -> dict[str, Any]:
    """The ``Budget`` of ``CreateBudget``: monthly cost, filtered on the cost-allocation tag."""
    budget = cfg.budget
    return {
        "BudgetName": cfg.budget_name,
        "BudgetLimit": {"Amount": f"{budget.monthly_limit_usd:g}", "Unit": "USD"},
        "TimeUnit": "MONTHLY",
        "BudgetType": "COST",
        "CostFilters": {"TagKeyValue": [f"user:{budget.cost_allocation_tag}${cfg.environment}"]},
    }


def budget_notifications(cfg: StackConfig) -> list[dict[str, Any]]:
    return [
        {
            "NotificationType": n.type,
            "ComparisonOperator": "GREATER_THAN",
            "Threshold": float(n.percent),
            "ThresholdType": "PERCENTAGE",
        }
        for n in cfg.budget.notifications
    ]


def budget_subscribers(cfg: StackConfig, topic_arn: str) -> list[dict[str, str]]:
    """Each notification's subscribers: the alert topic plus the configured emails."""
    return [
        {"SubscriptionType": "SNS", "Address": topic_arn},
        *({"SubscriptionType": "EMAIL", "Address": email} for email in cfg.budget.emails),
    ]


def notification_key(notification: dict[str, Any]) -> tuple[str, str, float, str]:
    return (
        str(notification.get("NotificationType")),
        str(notification.get("ComparisonOperator")),
        float(notification.get("Threshold", 0)),
        str(notification.get("ThresholdType", "PERCENTAGE")),
    )
