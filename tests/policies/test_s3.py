"""S3 rules over the v7 side-by-side resources (and the deprecated ``…V2`` names): ACLs disabled,
server access logging, lifecycle on buckets that keep versions, the TLS 1.2 floor, compliance-mode
object lock, and SSE-S3 allowed only on a server access log target. Each case is the compliant
stack with one change."""

from __future__ import annotations

import pytest
from hipaa_guardrails import resource_types as t

from tests.policies import fixtures as f
from tests.policies.support import (
    DELETE,
    UNKNOWN_STRING_VALUE,
    Node,
    as_json,
    mutate,
    run_resource,
    run_stack,
)

ACLS = "hipaa-s3-bucket-acls-disabled"
LOGGING = "hipaa-s3-bucket-access-logging"
LIFECYCLE = "hipaa-s3-bucket-lifecycle"
TLS12 = "hipaa-s3-bucket-tls-minimum-version"
KMS = "hipaa-s3-bucket-encrypted-with-kms"
MODE = "hipaa-s3-object-lock-compliance-mode"
NEW_STACK_RULES = [ACLS, LOGGING, LIFECYCLE, TLS12, KMS]


def _only(rule, nodes):
    outcome = run_stack(rule, nodes)
    assert len(outcome.violations) == 1, outcome
    return outcome.violations[0]


@pytest.mark.parametrize("rule", NEW_STACK_RULES)
def test_the_compliant_stack_passes(rule):
    assert run_stack(rule, f.compliant_stack()).passed


# --- ACLs disabled -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ownership", ["ObjectWriter", "BucketOwnerPreferred", UNKNOWN_STRING_VALUE]
)
def test_ownership_other_than_enforced_keeps_acls(ownership):
    node = next(n for n in f.compliant_stack() if n.name == "exports-ownership")
    nodes = f.replace(
        f.compliant_stack(),
        "exports-ownership",
        props=mutate(node.props, "rule.objectOwnership", ownership),
    )
    assert _only(ACLS, nodes).startswith("bucket exports does not disable ACLs")


def test_no_ownership_controls_keeps_acls():
    message = _only(ACLS, f.without(f.compliant_stack(), "exports-ownership"))
    assert "no ownership controls" in message


# --- server access logging -----------------------------------------------------------------------


def test_logging_without_a_target_is_no_logging():
    nodes = f.replace(
        f.compliant_stack(),
        "exports-logging",
        props=mutate(f.LOGGING, "targetBucket", DELETE),
        deps={"bucket": ["exports"]},
    )
    # exports-logs is no longer a log target, so it must log too: two findings, both named.
    outcome = run_stack(LOGGING, nodes)
    assert sorted(m.split(" has ")[0] for m in outcome.violations) == [
        "bucket exports",
        "bucket exports-logs",
    ]


def test_logging_v2_counts():
    nodes = [
        Node(t.S3_LOGGING_V2, n.name, n.props, n.deps) if n.name == "exports-logging" else n
        for n in f.compliant_stack()
    ]
    assert run_stack(LOGGING, nodes).passed


# --- lifecycle -----------------------------------------------------------------------------------


def test_a_disabled_rule_or_one_without_noncurrent_expiry_is_no_lifecycle():
    disabled = mutate(f.LIFECYCLE, "rules.0.status", "Disabled")
    assert "keeps versions" in _only(
        LIFECYCLE, f.replace(f.compliant_stack(), "exports-lifecycle", props=disabled)
    )
    forever = mutate(f.LIFECYCLE, "rules.0.noncurrentVersionExpiration", DELETE)
    assert "keeps versions" in _only(
        LIFECYCLE, f.replace(f.compliant_stack(), "exports-lifecycle", props=forever)
    )


def test_an_unversioned_unlocked_bucket_needs_no_lifecycle():
    nodes = f.without(
        f.compliant_stack(), "exports-lifecycle", "exports-versioning", "exports-lock"
    )
    assert run_stack(LIFECYCLE, nodes).passed


def test_an_object_locked_bucket_needs_one_even_without_versioning_resource():
    nodes = f.without(f.compliant_stack(), "exports-lifecycle", "exports-versioning")
    assert "bucket exports keeps versions" in _only(LIFECYCLE, nodes)


def test_lifecycle_v2_counts():
    nodes = [
        Node(t.S3_LIFECYCLE_V2, n.name, n.props, n.deps) if n.name == "exports-lifecycle" else n
        for n in f.compliant_stack()
    ]
    assert run_stack(LIFECYCLE, nodes).passed


# --- TLS 1.2 floor -------------------------------------------------------------------------------


def _policy_without(sid):
    document = {
        **f.BUCKET_POLICY_DOCUMENT,
        "Statement": [s for s in f.BUCKET_POLICY_DOCUMENT["Statement"] if s["Sid"] != sid],
    }
    return {"bucket": "medeez-dev-exports", "policy": as_json(document)}


def _with_policy(props):
    return f.replace(f.compliant_stack(), "exports-policy", props=props)


def test_a_policy_without_the_tls_version_deny_is_flagged():
    message = _only(TLS12, _with_policy(_policy_without("DenyTlsBelow12")))
    assert "NumericLessThan 1.2" in message
    # ...while the plain-HTTP rule is still satisfied: they are two rules.
    assert run_stack(
        "hipaa-s3-bucket-tls-only", _with_policy(_policy_without("DenyTlsBelow12"))
    ).passed


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ("Condition", {"NumericLessThan": {"s3:TlsVersion": "1.0"}}),
        ("Effect", "Allow"),
        ("Principal", {"AWS": "arn:aws:iam::111122223333:root"}),
        ("Action", "s3:GetObject"),
    ],
)
def test_a_weaker_tls_version_statement_is_flagged(change, value):
    statements = [
        {**s, change: value} if s["Sid"] == "DenyTlsBelow12" else s
        for s in f.BUCKET_POLICY_DOCUMENT["Statement"]
    ]
    props = {
        "bucket": "medeez-dev-exports",
        "policy": as_json({**f.BUCKET_POLICY_DOCUMENT, "Statement": statements}),
    }
    assert "s3:TlsVersion" in _only(TLS12, _with_policy(props))


def test_tls_13_floor_by_pack_config_refuses_a_12_policy():
    outcome = run_stack(TLS12, f.compliant_stack(), {"minTlsVersion": "1.3"})
    assert len(outcome.violations) == 2  # exports and exports-logs


# --- encryption: SSE-S3 only on a server access log target ---------------------------------------


def test_the_log_target_may_use_sse_s3_but_not_nothing():
    nodes = f.without(f.compliant_stack(), "exports-logs-sse")
    message = _only(KMS, nodes)
    assert message.startswith("bucket exports-logs receives server access logs but has no default")


def test_sse_s3_is_not_enough_once_the_bucket_receives_no_logs():
    nodes = f.without(f.compliant_stack(), "exports-logging")
    message = _only(KMS, nodes)
    assert message.startswith("bucket exports-logs has no default encryption with a KMS key")


# --- object lock mode ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "config", "expected"),
    [
        ("COMPLIANCE", None, None),
        ("GOVERNANCE", None, "mode is GOVERNANCE; this stack requires COMPLIANCE"),
        (UNKNOWN_STRING_VALUE, None, "unknown during preview (fails closed)"),
        (DELETE, None, "mode is not set"),
        ("GOVERNANCE", {"requiredMode": "GOVERNANCE"}, None),
        ("COMPLIANCE", {"requiredMode": "GOVERNANCE"}, None),
    ],
)
def test_object_lock_mode(mode, config, expected):
    props = mutate(f.OBJECT_LOCK, "rule.defaultRetention.mode", mode)
    for type_ in (t.S3_OBJECT_LOCK, t.S3_OBJECT_LOCK_V2):
        outcome = run_resource(MODE, type_, props, config)
        if expected is None:
            assert outcome.passed, outcome
        else:
            (message,) = outcome.violations
            assert expected in message
