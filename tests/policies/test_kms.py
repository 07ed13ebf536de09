"""KMS rules (K1 rotation, K2 deletion window, K3 key policy)."""

from __future__ import annotations

import pytest
from hipaa_guardrails import resource_types as t

from tests.policies.fixtures import KEY, KEY_POLICY
from tests.policies.support import (
    DELETE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_STRING_VALUE,
    as_json,
    mutate,
    run_resource,
)

ROTATION = "hipaa-kms-key-rotation-enabled"
DELETION = "hipaa-kms-key-deletion-guarded"
KEY_POLICY_RULE = "hipaa-kms-key-policy-safe"

OPEN_STATEMENT = {"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt"}

CASES = [
    (ROTATION, "enableKeyRotation", DELETE, "enableKeyRotation is not set"),
    (ROTATION, "enableKeyRotation", False, "enableKeyRotation is false"),
    (ROTATION, "enableKeyRotation", UNKNOWN_BOOLEAN_VALUE, "unknown during preview"),
    (ROTATION, "rotationPeriodInDays", 730, "rotationPeriodInDays is 730"),
    (ROTATION, "rotationPeriodInDays", UNKNOWN_NUMBER_VALUE, "fails closed"),
    (ROTATION, "rotationPeriodInDays", DELETE, None),  # AWS default 365
    (ROTATION, "customerMasterKeySpec", UNKNOWN_STRING_VALUE, "fails closed"),
    (DELETION, "deletionWindowInDays", 7, "deletionWindowInDays is 7"),
    (DELETION, "deletionWindowInDays", UNKNOWN_NUMBER_VALUE, "fails closed"),
    (DELETION, "deletionWindowInDays", DELETE, None),  # AWS default 30
    (DELETION, "isEnabled", False, "isEnabled is false"),
    (DELETION, "isEnabled", UNKNOWN_BOOLEAN_VALUE, "fails closed"),
    (KEY_POLICY_RULE, "bypassPolicyLockoutSafetyCheck", True, "lock everyone out"),
    (KEY_POLICY_RULE, "bypassPolicyLockoutSafetyCheck", UNKNOWN_BOOLEAN_VALUE, "fails closed"),
    (KEY_POLICY_RULE, "policy", "{not json", "policy is not valid JSON"),
    (KEY_POLICY_RULE, "policy", DELETE, None),  # AWS default key policy: account root only
    (
        KEY_POLICY_RULE,
        "policy",
        as_json({**KEY_POLICY, "Statement": [*KEY_POLICY["Statement"], OPEN_STATEMENT]}),
        "statement 'Anyone' allows any principal (*) without a condition",
    ),
]


@pytest.mark.parametrize(("rule", "path", "value", "expected"), CASES)
def test_key_mutation(rule, path, value, expected):
    outcome = run_resource(rule, t.KMS_KEY, mutate(KEY, path, value))
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


@pytest.mark.parametrize(
    ("spec", "usage"),
    [("RSA_2048", "SIGN_VERIFY"), ("HMAC_256", "GENERATE_VERIFY_MAC")],
)
def test_rotation_not_applicable_to_keys_aws_cannot_rotate(spec, usage):
    key = {**KEY, "customerMasterKeySpec": spec, "keyUsage": usage, "enableKeyRotation": False}
    outcome = run_resource(ROTATION, t.KMS_KEY, key)
    assert outcome.not_applicable is not None
    assert spec in outcome.not_applicable


def test_deletion_window_follows_pack_config():
    short = mutate(KEY, "deletionWindowInDays", 7)
    assert run_resource(DELETION, t.KMS_KEY, short, {"minDeletionWindowDays": 7}).passed


def test_open_principal_with_a_condition_is_allowed():
    conditioned = {**OPEN_STATEMENT, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}
    policy = as_json({**KEY_POLICY, "Statement": [conditioned]})
    assert run_resource(KEY_POLICY_RULE, t.KMS_KEY, mutate(KEY, "policy", policy)).passed


def test_unknown_key_policy_defers_to_the_update():
    # The SDK turns this into its advisory "can't run policy ... during preview" note.
    outcome = run_resource(KEY_POLICY_RULE, t.KMS_KEY, mutate(KEY, "policy", UNKNOWN_STRING_VALUE))
    assert outcome.violations == []
    assert outcome.deferred == "string value at .policy can't be known during preview"


EXPLICIT = "hipaa-kms-key-policy-explicit"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (DELETE, "policy is not set, so AWS applies its default key policy"),
        ("", "policy is not set"),
        (UNKNOWN_STRING_VALUE, None),  # built from new ARNs at preview: set; K3 reads it later
    ],
)
def test_key_policy_must_be_explicit(value, expected):
    outcome = run_resource(EXPLICIT, t.KMS_KEY, mutate(KEY, "policy", value))
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


def test_checkov_key_without_policy_fails_both_ways():
    # CKV2_AWS_64's failing example: a key with rotation on and no policy at all. K3 accepts
    # AWS's default policy (account root only); the explicit-policy rule does not.
    key = {"description": "no policy", "enableKeyRotation": True}
    assert run_resource(KEY_POLICY_RULE, t.KMS_KEY, key).passed
    assert run_resource(EXPLICIT, t.KMS_KEY, key).violations


@pytest.mark.parametrize(
    "principal", ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::111122223333:root", "*"]}]
)
def test_kms_star_to_a_wildcard_principal_without_condition_is_flagged_once(principal):
    # Already K3's job (no duplicate rule): kms:* for anyone, with no condition.
    statement = {"Sid": "Everyone", "Effect": "Allow", "Principal": principal, "Action": "kms:*"}
    policy = as_json({**KEY_POLICY, "Statement": [*KEY_POLICY["Statement"], statement]})
    key = mutate(KEY, "policy", policy)
    [violation] = run_resource(KEY_POLICY_RULE, t.KMS_KEY, key).violations
    assert "statement 'Everyone' allows any principal (*) without a condition" in violation
    assert run_resource(EXPLICIT, t.KMS_KEY, key).passed
