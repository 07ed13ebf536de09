"""RDS instances and parameter groups: one mutation of a compliant baseline per case."""

from __future__ import annotations

import pytest
from hipaa_guardrails import resource_types as t

from tests.policies.fixtures import DB_INSTANCE, DB_PARAMETER_GROUP, compliant_stack
from tests.policies.support import (
    DELETE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_STRING_VALUE,
    Node,
    mutate,
    run_resource,
    run_stack,
)
from tests.policies.test_plans import analyze

DB, PG = t.RDS_INSTANCE, t.RDS_PARAMETER_GROUP
ENCRYPTED = "hipaa-rds-storage-encrypted-with-cmk"
BACKUPS = "hipaa-rds-backups-retained"
LOGS = "hipaa-rds-logs-exported"
IAM = "hipaa-rds-iam-auth-enabled"
MULTI_AZ = "hipaa-rds-multi-az"
MINOR = "hipaa-rds-auto-minor-version-upgrade"
MONITORING = "hipaa-rds-enhanced-monitoring"
INSIGHTS = "hipaa-rds-performance-insights-encrypted-with-cmk"
TAGS = "hipaa-rds-copy-tags-to-snapshot"
PASSWORD = "hipaa-rds-managed-master-password"
TLS = "hipaa-rds-parameter-group-tls"
AUDIT_LOG = "hipaa-rds-parameter-group-audit-logging"

#: (rule, path, value, expected substring of the one violation; None: passes)
INSTANCE_CASES = [
    (ENCRYPTED, "storageEncrypted", DELETE, "is not set"),
    (ENCRYPTED, "storageEncrypted", False, "is false"),
    (ENCRYPTED, "storageEncrypted", UNKNOWN_BOOLEAN_VALUE, "fails closed"),
    (ENCRYPTED, "kmsKeyId", DELETE, "aws/rds"),
    (ENCRYPTED, "kmsKeyId", UNKNOWN_STRING_VALUE, None),
    ("hipaa-rds-not-public", "publiclyAccessible", True, "public address"),
    ("hipaa-rds-not-public", "publiclyAccessible", UNKNOWN_BOOLEAN_VALUE, "fails"),
    ("hipaa-rds-not-public", "publiclyAccessible", DELETE, None),
    (BACKUPS, "backupRetentionPeriod", DELETE, "default 1"),
    (BACKUPS, "backupRetentionPeriod", 3, "is 3"),
    (BACKUPS, "backupRetentionPeriod", UNKNOWN_NUMBER_VALUE, "fails closed"),
    ("hipaa-rds-deletion-protection-enabled", "deletionProtection", DELETE, "not set"),
    ("hipaa-rds-deletion-protection-enabled", "deletionProtection", False, "false"),
    (LOGS, "enabledCloudwatchLogsExports", ["upgrade"], "lacks postgresql"),
    (LOGS, "enabledCloudwatchLogsExports", ["postgresql"], "lacks upgrade"),
    (LOGS, "enabledCloudwatchLogsExports", UNKNOWN_ARRAY_VALUE, "fails closed"),
    (LOGS, "engine", UNKNOWN_STRING_VALUE, "fails closed"),
    (IAM, "iamDatabaseAuthenticationEnabled", False, "is false"),
    (IAM, "iamDatabaseAuthenticationEnabled", DELETE, "is not set"),
    (IAM, "iamDatabaseAuthenticationEnabled", UNKNOWN_BOOLEAN_VALUE, "fails closed"),
    (MULTI_AZ, "multiAz", False, "is false"),
    (MULTI_AZ, "multiAz", DELETE, "is not set"),
    (MINOR, "autoMinorVersionUpgrade", False, "never applied"),
    (MINOR, "autoMinorVersionUpgrade", DELETE, None),
    (MINOR, "autoMinorVersionUpgrade", UNKNOWN_BOOLEAN_VALUE, "fails closed"),
    (MONITORING, "monitoringInterval", 0, "is 0"),
    (MONITORING, "monitoringInterval", DELETE, "not set"),
    (MONITORING, "monitoringInterval", UNKNOWN_NUMBER_VALUE, "fails closed"),
    (MONITORING, "monitoringRoleArn", DELETE, "cannot publish"),
    (MONITORING, "monitoringRoleArn", UNKNOWN_STRING_VALUE, None),
    (INSIGHTS, "performanceInsightsEnabled", False, "DBLoad"),
    (INSIGHTS, "performanceInsightsKmsKeyId", DELETE, "aws/rds"),
    (INSIGHTS, "performanceInsightsKmsKeyId", "alias/aws/rds", "AWS managed key"),
    (INSIGHTS, "performanceInsightsKmsKeyId", UNKNOWN_STRING_VALUE, None),
    (TAGS, "copyTagsToSnapshot", DELETE, "is not set"),
    (TAGS, "copyTagsToSnapshot", False, "is false"),
    (PASSWORD, "password", "not-a-real-password", "password is set"),
    (PASSWORD, "password", UNKNOWN_STRING_VALUE, "password is set"),
    (PASSWORD, "manageMasterUserPassword", DELETE, "manageMasterUserPassword is not set"),
    (PASSWORD, "manageMasterUserPassword", UNKNOWN_BOOLEAN_VALUE, "fails closed"),
    (PASSWORD, "masterUserSecretKmsKeyId", DELETE, "aws/secretsmanager"),
]


@pytest.mark.parametrize(("rule", "path", "value", "expected"), INSTANCE_CASES)
def test_instance_mutation(rule, path, value, expected):
    outcome = run_resource(rule, DB, mutate(DB_INSTANCE, path, value))
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


#: Parameters by index in DB_PARAMETER_GROUP: 0 rds.force_ssl, 1 ssl_min_protocol_version,
#: 2 shared_preload_libraries, 3 pgaudit.log, 4 log_connections, 5 log_disconnections.
GROUP_CASES = [
    (TLS, "parameters.0.value", "0", "rds.force_ssl is 0"),
    (TLS, "parameters.0", DELETE, "rds.force_ssl is not set"),
    (TLS, "parameters.1.value", "TLSv1.1", "ssl_min_protocol_version is TLSv1.1"),
    (TLS, "parameters.1.value", "TLSv1.3", None),
    (TLS, "parameters.0.value", UNKNOWN_STRING_VALUE, "rds.force_ssl is"),
    (TLS, "parameters", UNKNOWN_ARRAY_VALUE, "fails closed"),
    (TLS, "family", UNKNOWN_STRING_VALUE, "fails closed"),
    (AUDIT_LOG, "parameters.2.value", "pg_stat_statements", "does not load pgaudit"),
    (AUDIT_LOG, "parameters.3.value", "ddl", "does not log role"),
    (AUDIT_LOG, "parameters.3.value", "all", None),
    (AUDIT_LOG, "parameters.3", DELETE, "does not log ddl, role"),
    (AUDIT_LOG, "parameters.4.value", "0", "log_connections is 0"),
    (AUDIT_LOG, "parameters.5", DELETE, "log_disconnections is not set"),
    (AUDIT_LOG, "parameters", UNKNOWN_ARRAY_VALUE, "fails closed"),
]


@pytest.mark.parametrize(("rule", "path", "value", "expected"), GROUP_CASES)
def test_parameter_group_mutation(rule, path, value, expected):
    outcome = run_resource(rule, PG, mutate(DB_PARAMETER_GROUP, path, value))
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


@pytest.mark.parametrize(
    ("rule", "type_", "props"),
    [
        (LOGS, DB, {**DB_INSTANCE, "engine": "mysql"}),
        (TLS, PG, {**DB_PARAMETER_GROUP, "family": "mysql8.0"}),
        (AUDIT_LOG, PG, {**DB_PARAMETER_GROUP, "family": "mysql8.0"}),
        (PASSWORD, DB, {**DB_INSTANCE, "replicateSourceDb": "medeez-prod-audit"}),
    ],
)
def test_not_applicable_variants(rule, type_, props):
    assert run_resource(rule, type_, props).not_applicable


def test_multi_az_is_not_required_where_the_stack_config_says_so():
    single_az = mutate(DB_INSTANCE, "multiAz", False)
    assert run_resource(MULTI_AZ, DB, single_az, {"required": False}).not_applicable
    assert len(run_resource(MULTI_AZ, DB, single_az, {"required": True}).violations) == 1


def test_backups_retained_reads_the_minimum_from_config():
    fortnight = mutate(DB_INSTANCE, "backupRetentionPeriod", 14)
    outcome = run_resource(BACKUPS, DB, fortnight)  # the secure default: 35 days
    assert len(outcome.violations) == 1
    assert "is 14" in outcome.violations[0]
    assert run_resource(BACKUPS, DB, fortnight, {"minRetentionDays": 7}).passed


# --- stack rules: in a backup plan, the recommended alarm set ------------------------------------

ALARM_METRICS = (
    "CPUUtilization",
    "DatabaseConnections",
    "FreeStorageSpace",
    "FreeableMemory",
    "MaximumUsedTransactionIDs",
    "ReadLatency",
    "WriteLatency",
    "DBLoad",
)


def _alarm(metric: str, identifier: str = "medeez-dev-audit") -> dict:
    return {
        "namespace": "AWS/RDS",
        "metricName": metric,
        "dimensions": {"DBInstanceIdentifier": identifier},
        "comparisonOperator": "GreaterThanOrEqualToThreshold",
        "evaluationPeriods": 5,
        "threshold": 1,
        "actionsEnabled": True,
        "alarmActions": ["arn:aws:sns:us-east-1:111122223333:medeez-dev-alerts"],
    }


def database_stack() -> list[Node]:
    """The compliant stack plus a database its plan selects and its eight alarms."""
    nodes = compliant_stack()
    selection = next(n for n in nodes if n.name == "selection")
    selection.deps["resources"] = [*selection.deps["resources"], "audit-db"]
    nodes.append(Node(DB, "audit-db", DB_INSTANCE, protect=True))
    nodes.extend(
        Node(t.METRIC_ALARM, f"audit-db-{metric}", _alarm(metric), {"alarmActions": ["alerts"]})
        for metric in ALARM_METRICS
    )
    return nodes


@pytest.mark.parametrize("rule", ["hipaa-rds-in-backup-plan", "hipaa-rds-alarm-set"])
def test_database_stack_passes(rule):
    assert run_stack(rule, database_stack()).passed


def test_database_outside_every_selection_is_flagged():
    nodes = database_stack()
    selection = next(n for n in nodes if n.name == "selection")
    selection.deps["resources"] = ["app-table"]
    outcome = run_stack("hipaa-rds-in-backup-plan", nodes)
    assert len(outcome.violations) == 1
    assert "RDS instance audit-db is not selected" in outcome.violations[0]


def test_database_selected_by_its_arn_passes():
    nodes = database_stack()
    selection = next(n for n in nodes if n.name == "selection")
    selection.deps["resources"] = ["app-table"]
    selection.props = {
        **selection.props,
        "resources": ["arn", "arn:aws:rds:us-east-1:111122223333:db:medeez-dev-audit"],
    }
    assert run_stack("hipaa-rds-in-backup-plan", nodes).passed


@pytest.mark.parametrize("metric", ALARM_METRICS)
def test_each_missing_recommended_alarm_is_named(metric):
    nodes = [n for n in database_stack() if n.name != f"audit-db-{metric}"]
    outcome = run_stack("hipaa-rds-alarm-set", nodes)
    assert len(outcome.violations) == 1
    expected = f"RDS instance audit-db has no alarm with actions on {metric}"
    assert outcome.violations[0].startswith(expected)


def test_an_alarm_without_actions_or_on_another_instance_does_not_count():
    nodes = database_stack()
    cpu = next(n for n in nodes if n.name == "audit-db-CPUUtilization")
    cpu.props = mutate(cpu.props, "alarmActions", [])
    memory = next(n for n in nodes if n.name == "audit-db-FreeableMemory")
    memory.props = _alarm("FreeableMemory", identifier="someone-elses-db")
    outcome = run_stack("hipaa-rds-alarm-set", nodes)
    assert len(outcome.violations) == 1
    assert "on CPUUtilization, FreeableMemory" in outcome.violations[0]


# --- over the real prod plan ---------------------------------------------------------------------


def test_the_prod_plan_with_a_weakened_database_is_caught(prod_plan):
    plan = prod_plan.to_json()
    for resource in plan["resources"]:
        if resource["name"] == "audit-db-instance":
            resource["inputs"]["multiAz"] = False
            resource["inputs"]["password"] = "in-state"
        if resource["name"] == "audit-db-parameters":
            resource["inputs"]["parameters"] = [
                p for p in resource["inputs"]["parameters"] if p["name"] != "rds.force_ssl"
            ]
        if resource["name"] == "audit-db-cpu":
            resource["inputs"]["alarmActions"] = []
    found = {d.policy for d in analyze(plan, "prod") if d.mandatory}
    assert {
        "hipaa-rds-multi-az",
        "hipaa-rds-managed-master-password",
        "hipaa-rds-parameter-group-tls",
    } <= found
    assert "hipaa-rds-alarm-set" in {d.policy for d in analyze(plan, "prod")}
