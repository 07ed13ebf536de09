"""DynamoDB rules (D1, D2, D4, D5, D7, D8 per resource; D3 over the stack)."""

from __future__ import annotations

import pytest
from hipaa_guardrails import resource_types as t

from tests.policies.fixtures import TABLE, compliant_stack, replace, without
from tests.policies.support import (
    DELETE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_STRING_VALUE,
    mutate,
    run_resource,
    run_stack,
)

PITR = "hipaa-dynamodb-pitr-enabled"
CMK = "hipaa-dynamodb-encrypted-with-cmk"
CAPACITY = "hipaa-dynamodb-on-demand-or-autoscaled"
DELETION = "hipaa-dynamodb-deletion-protection-enabled"
STREAM = "hipaa-dynamodb-stream-view-allowed"
TTL = "hipaa-dynamodb-ttl-spares-retained-attributes"
IN_PLAN = "hipaa-dynamodb-in-backup-plan"

CASES = [
    # D1: PITR
    (PITR, "pointInTimeRecovery", DELETE, "pointInTimeRecovery.enabled is not set"),
    (PITR, "pointInTimeRecovery.enabled", False, "pointInTimeRecovery.enabled is false"),
    (PITR, "pointInTimeRecovery.enabled", UNKNOWN_BOOLEAN_VALUE, "unknown during preview"),
    (PITR, "pointInTimeRecovery.recoveryPeriodInDays", 7, "recoveryPeriodInDays is 7"),
    (PITR, "pointInTimeRecovery.recoveryPeriodInDays", UNKNOWN_NUMBER_VALUE, "fails closed"),
    (PITR, "pointInTimeRecovery.recoveryPeriodInDays", DELETE, None),  # AWS default is 35
    # D2: customer-managed key
    (CMK, "serverSideEncryption", DELETE, "AWS owned key"),
    (CMK, "serverSideEncryption.enabled", False, "AWS owned key"),
    (CMK, "serverSideEncryption.enabled", UNKNOWN_BOOLEAN_VALUE, "unknown during preview"),
    (CMK, "serverSideEncryption.kmsKeyArn", DELETE, "AWS managed key aws/dynamodb"),
    (CMK, "serverSideEncryption.kmsKeyArn", "", "kmsKeyArn is not set"),
    (CMK, "serverSideEncryption.kmsKeyArn", "alias/aws/dynamodb", "is the AWS managed key"),
    (CMK, "serverSideEncryption.kmsKeyArn", UNKNOWN_STRING_VALUE, None),  # a new key's ARN
    # D4: capacity
    (CAPACITY, "billingMode", DELETE, "not set (AWS default PROVISIONED)"),
    (CAPACITY, "billingMode", "PROVISIONED", "billingMode is PROVISIONED"),
    (CAPACITY, "billingMode", UNKNOWN_STRING_VALUE, "fails closed"),
    # D5: deletion protection
    (DELETION, "deletionProtectionEnabled", DELETE, "not set (AWS default false)"),
    (DELETION, "deletionProtectionEnabled", False, "deletionProtectionEnabled is false"),
    (DELETION, "deletionProtectionEnabled", UNKNOWN_BOOLEAN_VALUE, "fails closed"),
    # D7: stream view type (default allows KEYS_ONLY only)
    (STREAM, "streamViewType", "NEW_AND_OLD_IMAGES", "streamViewType is NEW_AND_OLD_IMAGES"),
    (STREAM, "streamViewType", DELETE, "streamViewType is not set"),
    (STREAM, "streamViewType", UNKNOWN_STRING_VALUE, "fails closed"),
    (STREAM, "streamEnabled", UNKNOWN_BOOLEAN_VALUE, "fails closed"),
    # D8: TTL attribute
    (TTL, "ttl.attributeName", "createdAt", "ttl.attributeName is createdAt"),
    (TTL, "ttl.attributeName", DELETE, "attributeName is not set"),
    (TTL, "ttl.attributeName", UNKNOWN_STRING_VALUE, "fails closed"),
]


@pytest.mark.parametrize(("rule", "path", "value", "expected"), CASES)
def test_table_mutation(rule, path, value, expected):
    outcome = run_resource(rule, t.TABLE, mutate(TABLE, path, value))
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


def test_messages_carry_the_cfr_citation():
    outcome = run_resource(PITR, t.TABLE, mutate(TABLE, "pointInTimeRecovery.enabled", False))
    assert outcome.violations == [
        "pointInTimeRecovery.enabled is false; continuous backups must be on "
        "[45 CFR 164.308(a)(7)(i), 164.308(a)(7)(ii)(A), 164.308(a)(7)(ii)(B)]"
    ]


def test_pitr_window_follows_pack_config():
    short = mutate(TABLE, "pointInTimeRecovery.recoveryPeriodInDays", 7)
    assert run_resource(PITR, t.TABLE, short, {"minRecoveryPeriodDays": 7}).passed
    # Config crosses the wire as doubles; 7.0 must behave as 7.
    assert run_resource(PITR, t.TABLE, short, {"minRecoveryPeriodDays": 7.0}).passed


def test_stream_view_type_allowed_by_pack_config():
    full = mutate(TABLE, "streamViewType", "NEW_AND_OLD_IMAGES")
    allowed = {"allowedViewTypes": ["NEW_AND_OLD_IMAGES"]}
    assert run_resource(STREAM, t.TABLE, full, allowed).passed
    outcome = run_resource(STREAM, t.TABLE, mutate(TABLE, "streamViewType", "OLD_IMAGE"), allowed)
    assert "this stack allows NEW_AND_OLD_IMAGES" in outcome.violations[0]


@pytest.mark.parametrize(
    ("rule", "path", "value", "reason"),
    [
        (STREAM, "streamEnabled", False, "the table has no stream"),
        (STREAM, "streamEnabled", DELETE, "the table has no stream"),
        (TTL, "ttl.enabled", False, "TTL is off"),
        (TTL, "ttl", DELETE, "TTL is off"),
    ],
)
def test_rule_not_applicable_when_feature_off(rule, path, value, reason):
    assert run_resource(rule, t.TABLE, mutate(TABLE, path, value)).not_applicable == reason


# D3: the table is in a backup plan (stack rule)


def test_table_in_backup_plan_via_property_dependency():
    assert run_stack(IN_PLAN, compliant_stack()).passed


def test_table_not_in_any_selection():
    outcome = run_stack(IN_PLAN, without(compliant_stack(), "selection"))
    assert len(outcome.violations) == 1
    assert "table app-table is not selected by any AWS Backup selection" in outcome.violations[0]
    assert outcome.urns == ["urn:pulumi:dev::medeez-platform::aws:dynamodb/table:Table::app-table"]


def test_selection_of_other_resources_does_not_cover_the_table():
    nodes = replace(
        compliant_stack(),
        "selection",
        props={"name": "x", "planId": "p", "iamRoleArn": "r", "resources": ["arn:aws:s3:::b"]},
        deps={"planId": ["plan"], "resources": []},
    )
    assert len(run_stack(IN_PLAN, nodes).violations) == 1


def test_selection_by_literal_table_arn_or_tag_covers_the_table():
    by_arn = replace(
        compliant_stack(),
        "selection",
        props={
            "name": "x",
            "planId": "p",
            "iamRoleArn": "r",
            "resources": ["arn:aws:dynamodb:us-east-1:111122223333:table/medeez-dev-app"],
        },
        deps={"planId": ["plan"]},
    )
    assert run_stack(IN_PLAN, by_arn).passed
    by_tag = replace(
        compliant_stack(),
        "selection",
        props={
            "name": "x",
            "planId": "p",
            "iamRoleArn": "r",
            "selectionTags": [
                {"type": "STRINGEQUALS", "key": "DataClassification", "value": "phi"}
            ],
        },
        deps={"planId": ["plan"]},
    )
    assert run_stack(IN_PLAN, by_tag).passed


def test_table_listed_in_not_resources_is_not_covered():
    nodes = replace(
        compliant_stack(),
        "selection",
        props={"name": "x", "planId": "p", "iamRoleArn": "r", "resources": ["*"]},
        deps={"planId": ["plan"], "notResources": ["app-table"]},
    )
    assert len(run_stack(IN_PLAN, nodes).violations) == 1


def test_selection_with_unknown_table_arn_counts_through_dependency():
    nodes = replace(
        compliant_stack(),
        "selection",
        props={
            "name": "t",
            "planId": UNKNOWN_STRING_VALUE,
            "iamRoleArn": UNKNOWN_STRING_VALUE,
            "resources": [UNKNOWN_STRING_VALUE],
        },
    )
    assert run_stack(IN_PLAN, nodes).passed
