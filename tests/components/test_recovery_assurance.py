"""Restore testing, vault notifications, the Audit Manager framework and the report plans."""

from __future__ import annotations

import pytest

from tools.plan import Plan

PLAN = "aws:backup/restoreTestingPlan:RestoreTestingPlan"
SELECTION = "aws:backup/restoreTestingSelection:RestoreTestingSelection"
NOTIFICATIONS = "aws:backup/vaultNotifications:VaultNotifications"
FRAMEWORK = "aws:backup/framework:Framework"
REPORT = "aws:backup/reportPlan:ReportPlan"


@pytest.mark.parametrize("plan_name", ["dev_plan", "prod_plan"])
def test_every_stack_restore_tests_the_table_from_its_primary_vault(
    plan_name: str, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(plan_name)
    env = plan.stack
    (testing,) = plan.of_type(PLAN)
    assert testing.inputs["name"] == f"medeez_{env}_restore_testing"
    assert testing.inputs["scheduleExpression"] == "cron(0 9 ? * SUN *)"
    assert testing.inputs["startWindowHours"] == 24
    assert testing.inputs["recoveryPointSelection"] == {
        "algorithm": "LATEST_WITHIN_WINDOW",
        "includeVaults": [plan.named("backup-vault").state["arn"]],
        "recoveryPointTypes": ["SNAPSHOT"],
        "selectionWindowDays": 7,
    }
    (selection,) = plan.of_type(SELECTION)
    assert selection.inputs == {
        "name": f"medeez_{env}_table",
        "restoreTestingPlanName": f"medeez_{env}_restore_testing",
        "protectedResourceType": "DynamoDB",
        "protectedResourceArns": [plan.named("app-table").state["arn"]],
        "iamRoleArn": plan.named("backup-role").state["arn"],
        "validationWindowHours": 4,
    }


@pytest.mark.parametrize("plan_name", ["dev_plan", "prod_plan"])
def test_restore_results_reach_the_alert_topic(
    plan_name: str, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(plan_name)
    (notifications,) = plan.of_type(NOTIFICATIONS)
    assert notifications.inputs == {
        "backupVaultName": f"medeez-{plan.stack}-backup",
        "snsTopicArn": plan.named("monitoring-topic").state["arn"],
        "backupVaultEvents": ["RESTORE_JOB_STARTED", "RESTORE_JOB_COMPLETED", "COPY_JOB_FAILED"],
    }
    alarm = plan.named("monitoring-restore-job-failures").inputs
    assert (alarm["namespace"], alarm["metricName"], alarm["dimensions"]) == (
        "AWS/Backup",
        "NumberOfRestoreJobsFailed",
        {"ResourceType": "DynamoDB"},
    )
    assert alarm["alarmActions"] == [plan.named("monitoring-topic").state["arn"]]


def test_prod_framework_carries_the_stack_promises(prod_plan: Plan) -> None:
    (framework,) = prod_plan.of_type(FRAMEWORK)
    controls = {
        c["name"]: {p["name"]: p["value"] for p in c.get("inputParameters", [])}
        for c in framework.inputs["controls"]
    }
    assert controls == {
        "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN": {},
        "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK": {
            "requiredFrequencyUnit": "hours",
            "requiredFrequencyValue": "24",
            "requiredRetentionDays": "35",
        },
        "BACKUP_RECOVERY_POINT_ENCRYPTED": {},
        "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK": {"requiredRetentionDays": "35"},
        "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED": {},
        "BACKUP_LAST_RECOVERY_POINT_CREATED": {
            "recoveryPointAgeUnit": "hours",
            "recoveryPointAgeValue": "25",
        },
        "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET": {"maxRestoreTime": "240"},
        "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK": {
            "minRetentionDays": "7",
            "maxRetentionDays": "400",
        },
        "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION": {"crossRegionList": "us-west-2"},
    }
    scoped = {c["name"] for c in framework.inputs["controls"] if c.get("scope")}
    assert "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN" in scoped
    for control in framework.inputs["controls"]:
        if control.get("scope"):
            assert control["scope"] == {"complianceResourceTypes": ["DynamoDB"]}


def test_prod_reports_go_to_the_audit_bucket(prod_plan: Plan) -> None:
    bucket = prod_plan.named("audit-bucket").inputs["bucket"]
    reports = {r.inputs["name"]: r.inputs for r in prod_plan.of_type(REPORT)}
    assert set(reports) == {
        "medeez_prod_restore_jobs",
        "medeez_prod_backup_jobs",
        "medeez_prod_control_compliance",
    }
    for inputs in reports.values():
        channel = inputs["reportDeliveryChannel"]
        assert channel["s3BucketName"] == bucket
        assert channel["formats"] == ["CSV", "JSON"]
        assert channel["s3KeyPrefix"].startswith("backup-audit/")
    compliance = reports["medeez_prod_control_compliance"]["reportSetting"]
    assert compliance == {
        "reportTemplate": "CONTROL_COMPLIANCE_REPORT",
        "frameworkArns": [prod_plan.named("recovery-framework").state["arn"]],
        "numberOfFrameworks": 1,
    }
    assert reports["medeez_prod_restore_jobs"]["reportSetting"] == {
        "reportTemplate": "RESTORE_JOB_REPORT"
    }


def test_dev_has_no_audit_manager_evidence(dev_plan: Plan) -> None:
    assert dev_plan.of_type(FRAMEWORK) == []
    assert dev_plan.of_type(REPORT) == []
    # The audit bucket is in every stack (trail logs, digests); dev's lets no reports role write.
    policy = dev_plan.named("audit-policy").inputs["policy"]
    assert "BackupReportsWrite" not in policy
