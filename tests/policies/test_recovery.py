"""Restore testing, restore-result routing, the Audit Manager framework and object lock: each
rule from the compliant stack (or baseline), one mutation at a time."""

from __future__ import annotations

import pytest
from hipaa_guardrails import resource_types as t

from tests.policies import fixtures as f
from tests.policies.support import (
    DELETE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_STRING_VALUE,
    mutate,
    run_resource,
    run_stack,
)

TESTED = "hipaa-backup-restore-tested"
COPY_DELETED = "hipaa-backup-restore-copy-deleted"
ROUTED = "hipaa-backup-restore-results-routed"
FRAMEWORK = "hipaa-backup-audit-framework"
OBJECT_LOCK = "hipaa-s3-object-lock-retention"


@pytest.mark.parametrize("rule", [TESTED, ROUTED, FRAMEWORK])
def test_the_compliant_stack_passes(rule: str) -> None:
    assert run_stack(rule, f.compliant_stack()).passed


# --- restore tested ------------------------------------------------------------------------------


def test_a_backed_up_table_without_restore_testing_is_flagged() -> None:
    outcome = run_stack(TESTED, f.without(f.compliant_stack(), "restore-testing-table"))
    assert len(outcome.violations) == 1
    assert "table app-table is backed up but no restore testing selection" in outcome.violations[0]
    assert "164.308(a)(7)(ii)(D)" in outcome.violations[0]


def test_a_selection_of_another_table_does_not_count() -> None:
    other = mutate(
        f.RESTORE_TESTING_SELECTION,
        "protectedResourceArns",
        ["arn:aws:dynamodb:us-east-1:111122223333:table/other"],
    )
    stack = f.replace(
        f.compliant_stack(),
        "restore-testing-table",
        props=other,
        deps={"restoreTestingPlanName": ["restore-testing"]},
    )
    assert len(run_stack(TESTED, stack).violations) == 1


def test_a_selection_without_a_plan_of_the_stack_does_not_count() -> None:
    stack = f.without(f.compliant_stack(), "restore-testing")
    assert len(run_stack(TESTED, stack).violations) == 1


def test_a_table_matched_by_arn_counts_without_dependencies() -> None:
    stack = f.replace(f.compliant_stack(), "restore-testing-table", deps={})
    assert run_stack(TESTED, stack).passed


def test_a_table_in_no_backup_plan_needs_no_restore_test() -> None:
    stack = f.without(f.compliant_stack(), "selection", "restore-testing-table")
    assert run_stack(TESTED, stack).passed


def test_restore_testing_can_be_relaxed_by_config() -> None:
    stack = f.without(f.compliant_stack(), "restore-testing-table")
    outcome = run_stack(TESTED, stack, {"required": False})
    assert outcome.violations == []
    assert outcome.not_applicable


# --- the restored copy is deleted ----------------------------------------------------------------

COPY_CASES = [
    ("validationWindowHours", DELETE, "is not set"),
    ("validationWindowHours", 25, "must be deleted within 24 hours"),
    ("validationWindowHours", UNKNOWN_NUMBER_VALUE, "fails closed"),
    ("validationWindowHours", 24, None),
    ("validationWindowHours", 0, None),
]


@pytest.mark.parametrize(("path", "value", "expected"), COPY_CASES)
def test_restore_copy_mutation(path: str, value: object, expected: str | None) -> None:
    props = mutate(f.RESTORE_TESTING_SELECTION, path, value)
    outcome = run_resource(COPY_DELETED, t.BACKUP_RESTORE_TESTING_SELECTION, props)
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


def test_the_validation_window_limit_is_config() -> None:
    props = mutate(f.RESTORE_TESTING_SELECTION, "validationWindowHours", 4)
    outcome = run_resource(
        COPY_DELETED,
        t.BACKUP_RESTORE_TESTING_SELECTION,
        props,
        config={"maxValidationWindowHours": 2},
    )
    assert "must be deleted within 2 hours" in outcome.violations[0]


# --- restore results routed ----------------------------------------------------------------------


def _notifications(**changes: object) -> list:
    props = dict(f.VAULT_NOTIFICATIONS)
    deps = {"backupVaultName": ["vault"], "snsTopicArn": ["alerts"]}
    for key, value in changes.items():
        if key == "deps":
            deps = value  # type: ignore[assignment]
        else:
            props = mutate(props, key, value)
    return f.replace(f.compliant_stack(), "vault-notifications", props=props, deps=deps)


ROUTED_CASES = [
    ({"backupVaultEvents": ["RESTORE_JOB_STARTED"]}, "lacks RESTORE_JOB_COMPLETED"),
    ({"backupVaultEvents": ["RESTORE_JOB_FAILED"]}, "lacks RESTORE_JOB_COMPLETED"),
    (
        {"snsTopicArn": "arn:aws:sns:us-east-1:999999999999:elsewhere", "deps": {}},
        "not an SNS topic of this stack",
    ),
    ({"backupVaultName": "other-vault", "deps": {}}, "has no vault notifications"),
    ({"backupVaultEvents": UNKNOWN_STRING_VALUE}, None),
]


@pytest.mark.parametrize(("changes", "expected"), ROUTED_CASES)
def test_routing_mutation(changes: dict[str, object], expected: str | None) -> None:
    outcome = run_stack(ROUTED, _notifications(**changes))
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


def test_results_to_an_unencrypted_topic_are_flagged() -> None:
    topic = mutate(f.TOPIC, "kmsMasterKeyId", DELETE)
    stack = f.replace(_notifications(), "alerts", props=topic, deps={})
    outcome = run_stack(ROUTED, stack)
    assert any("not encrypted with a customer-managed key" in v for v in outcome.violations)


def test_missing_notifications_are_flagged_on_the_tested_vault_only() -> None:
    outcome = run_stack(ROUTED, f.without(f.compliant_stack(), "vault-notifications"))
    assert len(outcome.violations) == 1
    assert "vault vault" in outcome.violations[0]


def test_a_stack_that_restore_tests_nothing_needs_no_routing() -> None:
    stack = f.without(f.compliant_stack(), "vault-notifications", "restore-testing-table")
    outcome = run_stack(ROUTED, stack)
    assert outcome.violations == []
    assert outcome.not_applicable == "the stack restore-tests nothing"


# --- audit framework -----------------------------------------------------------------------------


def test_no_framework_is_flagged() -> None:
    outcome = run_stack(FRAMEWORK, f.without(f.compliant_stack(), "framework"))
    assert len(outcome.violations) == 1
    assert "no AWS Backup Audit Manager framework" in outcome.violations[0]


def test_a_framework_missing_a_control_names_it() -> None:
    controls = [
        c for c in f.FRAMEWORK["controls"] if c["name"] != "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET"
    ]
    stack = f.replace(f.compliant_stack(), "framework", props={**f.FRAMEWORK, "controls": controls})
    outcome = run_stack(FRAMEWORK, stack)
    assert len(outcome.violations) == 1
    assert "lacks the controls RESTORE_TIME_FOR_RESOURCES_MEET_TARGET" in outcome.violations[0]


def test_unknown_controls_defer_to_the_update() -> None:
    stack = f.replace(
        f.compliant_stack(), "framework", props={**f.FRAMEWORK, "controls": UNKNOWN_STRING_VALUE}
    )
    assert run_stack(FRAMEWORK, stack).passed


def test_reports_to_a_bucket_outside_the_stack_are_flagged() -> None:
    plan = mutate(f.REPORT_PLAN, "reportDeliveryChannel.s3BucketName", "someone-elses-bucket")
    stack = f.replace(f.compliant_stack(), "restore-report", props=plan, deps={})
    outcome = run_stack(FRAMEWORK, stack)
    assert len(outcome.violations) == 1
    assert "no AWS Backup report plan delivers" in outcome.violations[0]


def test_reports_matched_by_bucket_name_count() -> None:
    stack = f.replace(f.compliant_stack(), "restore-report", deps={})
    assert run_stack(FRAMEWORK, stack).passed


def test_the_framework_can_be_relaxed_by_config() -> None:
    stack = f.without(f.compliant_stack(), "framework", "restore-report")
    outcome = run_stack(FRAMEWORK, stack, {"required": False})
    assert outcome.violations == []
    assert outcome.not_applicable


# --- object lock ---------------------------------------------------------------------------------

LOCK_CASES = [
    ("objectLockEnabled", "Disabled", "must be Enabled"),
    ("rule", DELETE, "sets no mode"),
    ("rule.defaultRetention.mode", DELETE, "sets no mode"),
    ("rule.defaultRetention.mode", UNKNOWN_STRING_VALUE, "fails closed"),
    ("rule.defaultRetention.days", 30, "keeps objects 30 days"),
    ("rule.defaultRetention.days", UNKNOWN_NUMBER_VALUE, "fails closed"),
    ("rule.defaultRetention.days", DELETE, "keeps objects 0 days"),
    ("rule.defaultRetention.mode", "COMPLIANCE", None),
]


@pytest.mark.parametrize(("path", "value", "expected"), LOCK_CASES)
def test_object_lock_mutation(path: str, value: object, expected: str | None) -> None:
    outcome = run_resource(OBJECT_LOCK, t.S3_OBJECT_LOCK, mutate(f.OBJECT_LOCK, path, value))
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) >= 1, outcome
        assert expected in outcome.violations[0]


def test_retention_in_years_counts() -> None:
    props = mutate(
        mutate(f.OBJECT_LOCK, "rule.defaultRetention.days", DELETE),
        "rule.defaultRetention.years",
        6,
    )
    assert run_resource(OBJECT_LOCK, t.S3_OBJECT_LOCK, props).passed
