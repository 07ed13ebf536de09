"""AWS Backup rules (B1 schedule and retention, B2 vault key, B5 copy retention per resource;
B3 vault lock and B4 cross-region copy over the stack)."""

from __future__ import annotations

import pytest
from hipaa_guardrails import resource_types as t
from hipaa_guardrails.rules.backup.schedule import runs_daily

from tests.policies.fixtures import PLAN, VAULT, compliant_stack, replace, without
from tests.policies.support import (
    DELETE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_STRING_VALUE,
    Node,
    as_json,
    mutate,
    run_resource,
    run_stack,
)

DAILY = "hipaa-backup-plan-daily-with-retention"
VAULT_KEY = "hipaa-backup-vault-encrypted-with-cmk"
COPY_RETENTION = "hipaa-backup-copy-retention"
LOCKED = "hipaa-backup-vault-locked"
CROSS_REGION = "hipaa-backup-cross-region-copy"

PLAN_CASES = [
    (DAILY, "rules", [], "the plan has no rules"),
    (DAILY, "rules.0.schedule", "cron(0 5 ? * MON *)", "runs less often than daily"),
    (DAILY, "rules.0.schedule", DELETE, "has no schedule"),
    (DAILY, "rules.0.schedule", UNKNOWN_STRING_VALUE, "fails closed"),
    (DAILY, "rules.0.lifecycle.deleteAfter", 7, "keeps recovery points 7 days"),
    (DAILY, "rules.0.lifecycle.deleteAfter", UNKNOWN_NUMBER_VALUE, "fails closed"),
    (DAILY, "rules.0.lifecycle", DELETE, None),  # kept until deleted
    (COPY_RETENTION, "rules.0.copyActions.0.lifecycle.deleteAfter", 14, "keeps copies 14 days"),
    (COPY_RETENTION, "rules.0.copyActions.0.lifecycle.deleteAfter", UNKNOWN_NUMBER_VALUE, "fails"),
    (COPY_RETENTION, "rules.0.copyActions.0.lifecycle", DELETE, None),
]


@pytest.mark.parametrize(("rule", "path", "value", "expected"), PLAN_CASES)
def test_plan_mutation(rule, path, value, expected):
    outcome = run_resource(rule, t.BACKUP_PLAN, mutate(PLAN, path, value))
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) >= 1, outcome
        assert expected in outcome.violations[0]


def test_copy_shorter_than_its_source_is_flagged():
    plan = mutate(PLAN, "rules.0.lifecycle.deleteAfter", 90)
    outcome = run_resource(COPY_RETENTION, t.BACKUP_PLAN, plan)
    assert outcome.violations == [
        "rules[0].copyActions[0] keeps copies 35 days, less than the source's 90 "
        "[45 CFR 164.308(a)(7)(ii)(A), 164.308(a)(7)(ii)(B)]"
    ]


def test_copy_retention_not_applicable_without_copies():
    plan = mutate(PLAN, "rules.0.copyActions", DELETE)
    assert run_resource(COPY_RETENTION, t.BACKUP_PLAN, plan).not_applicable


def test_retention_minimum_follows_pack_config():
    plan = mutate(PLAN, "rules.0.lifecycle.deleteAfter", 7)
    assert run_resource(DAILY, t.BACKUP_PLAN, plan, {"minRetentionDays": 7}).passed


@pytest.mark.parametrize(
    ("expression", "daily"),
    [
        ("cron(0 5 * * ? *)", True),
        ("cron(0 */6 ? * * *)", True),
        ("rate(12 hours)", True),
        ("rate(1 day)", True),
        ("rate(2 days)", False),
        ("cron(0 5 ? * MON-FRI *)", False),
        ("cron(0 5 1 * ? *)", False),
        ("cron(0 5 * * ?)", False),
        ("every day", False),
    ],
)
def test_schedule_parsing(expression, daily):
    assert runs_daily(expression) is daily


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (DELETE, "kmsKeyArn is not set"),
        ("", "kmsKeyArn is not set"),
        ("alias/aws/backup", "is the AWS managed key alias/aws/backup"),
        (UNKNOWN_STRING_VALUE, None),
    ],
)
def test_vault_key(value, expected):
    outcome = run_resource(VAULT_KEY, t.BACKUP_VAULT, mutate(VAULT, "kmsKeyArn", value))
    if expected is None:
        assert outcome.passed
    else:
        assert expected in outcome.violations[0]


# B3: vault lock


def test_every_vault_locked():
    assert run_stack(LOCKED, compliant_stack()).passed


def test_vault_without_lock_is_flagged():
    outcome = run_stack(LOCKED, without(compliant_stack(), "dr-vault-lock"))
    assert len(outcome.violations) == 1
    assert "vault dr-vault has no vault lock" in outcome.violations[0]
    assert outcome.urns == ["urn:pulumi:dev::medeez-platform::aws:backup/vault:Vault::dr-vault"]


def test_lock_without_min_retention_is_flagged():
    nodes = replace(compliant_stack(), "vault-lock", props={"backupVaultName": "medeez-dev-vault"})
    assert "sets no minRetentionDays" in run_stack(LOCKED, nodes).violations[0]


def test_lock_with_unknown_min_retention_fails_closed():
    props = {"backupVaultName": "medeez-dev-vault", "minRetentionDays": UNKNOWN_NUMBER_VALUE}
    nodes = replace(compliant_stack(), "vault-lock", props=props)
    assert "fails closed" in run_stack(LOCKED, nodes).violations[0]


def test_vault_policy_denying_deletion_counts_as_locked():
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "backup:DeleteRecoveryPoint",
                "Resource": "*",
            }
        ],
    }
    policy = Node(
        t.BACKUP_VAULT_POLICY,
        "dr-vault-policy",
        {"backupVaultName": "medeez-dev-vault-dr", "policy": as_json(deny)},
        {"backupVaultName": ["dr-vault"]},
    )
    nodes = [*without(compliant_stack(), "dr-vault-lock"), policy]
    assert run_stack(LOCKED, nodes).passed


def test_vault_lock_not_required_by_pack_config():
    outcome = run_stack(LOCKED, without(compliant_stack(), "vault-lock"), {"required": False})
    assert outcome.not_applicable == "vault lock is not required by this stack's pack config"


# B4: cross-region copy


def test_copy_to_vault_in_another_region():
    assert run_stack(CROSS_REGION, compliant_stack()).passed


def test_plan_without_copy_action_is_flagged():
    nodes = replace(compliant_stack(), "plan", props=mutate(PLAN, "rules.0.copyActions", DELETE))
    assert run_stack(CROSS_REGION, nodes).violations == [
        "backup plan plan has no copy action [45 CFR 164.308(a)(7)(ii)(B), 164.312(a)(2)(ii)]"
    ]


def test_copy_within_the_same_region_is_flagged():
    same = "arn:aws:backup:us-east-1:111122223333:backup-vault:medeez-dev-vault-2"
    plan = mutate(PLAN, "rules.0.copyActions.0.destinationVaultArn", same)
    nodes = replace(compliant_stack(), "plan", props=plan, deps={"rules": ["vault"]})
    outcome = run_stack(CROSS_REGION, nodes)
    assert "copies only to vaults in its own region" in outcome.violations[0]


def test_unknown_destination_arn_counts_through_the_dr_vault_dependency():
    plan = mutate(PLAN, "rules.0.copyActions.0.destinationVaultArn", UNKNOWN_STRING_VALUE)
    nodes = replace(compliant_stack(), "plan", props=plan)
    assert run_stack(CROSS_REGION, nodes).passed


def test_unknown_destination_without_a_stack_vault_is_flagged():
    plan = mutate(PLAN, "rules.0.copyActions.0.destinationVaultArn", UNKNOWN_STRING_VALUE)
    nodes = replace(compliant_stack(), "plan", props=plan, deps={})
    assert "region cannot be shown during preview" in run_stack(CROSS_REGION, nodes).violations[0]


def test_stack_without_backup_plan_is_flagged():
    outcome = run_stack(CROSS_REGION, without(compliant_stack(), "plan", "selection"))
    assert outcome.urns == [None]
    assert "no AWS Backup plan" in outcome.violations[0]


def test_cross_region_copy_not_required_by_pack_config():
    outcome = run_stack(CROSS_REGION, without(compliant_stack(), "plan"), {"required": False})
    assert outcome.not_applicable is not None


@pytest.mark.parametrize(
    ("destination", "copies_away"),
    [
        ("arn:aws:backup:us-west-2:111122223333:backup-vault:dr", True),
        ("arn:aws:backup:us-east-1:111122223333:backup-vault:other", False),
    ],
)
def test_known_home_region_is_compared_with_the_destination_arn(destination, copies_away):
    plan = mutate(PLAN, "rules.0.copyActions.0.destinationVaultArn", destination)
    plan["region"] = "us-east-1"
    nodes = replace(compliant_stack(), "plan", props=plan, deps={})
    assert run_stack(CROSS_REGION, nodes).passed is copies_away
