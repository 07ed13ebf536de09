"""SQS queues and queue policies: from a compliant baseline, one wrong property (or a missing
policy) fails exactly one rule with one finding."""

from __future__ import annotations

import json

import pytest
from hipaa_guardrails import resource_types as t

from tests.policies.fixtures import QUEUE, QUEUE_ARN, QUEUE_POLICY, compliant_stack, without
from tests.policies.support import (
    DELETE,
    UNKNOWN_STRING_VALUE,
    Node,
    mutate,
    run_resource,
    run_stack,
)

Q, QP = t.SQS_QUEUE, t.SQS_QUEUE_POLICY
CMK = "hipaa-sqs-queue-encrypted-with-cmk"
PUBLIC = "hipaa-sqs-queue-policy-not-public"
TLS = "hipaa-sqs-queue-tls-only"


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


OPEN_SEND = {"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage"}
TLS_DENY = json.loads(QUEUE_POLICY["policy"])["Statement"][0]

CASES = [
    (CMK, Q, QUEUE, "kmsMasterKeyId", DELETE, "not encrypted with a KMS key"),
    (CMK, Q, {**QUEUE, "sqsManagedSseEnabled": True}, "kmsMasterKeyId", DELETE, "SQS-managed"),
    (CMK, Q, QUEUE, "kmsMasterKeyId", "alias/aws/sqs", "AWS managed key alias/aws/sqs"),
    (CMK, Q, QUEUE, "kmsMasterKeyId", UNKNOWN_STRING_VALUE, None),
    (PUBLIC, QP, QUEUE_POLICY, "policy", policy(TLS_DENY, OPEN_SEND), "'Anyone' allows any"),
    (
        PUBLIC,
        QP,
        QUEUE_POLICY,
        "policy",
        policy({**OPEN_SEND, "Principal": {"AWS": "*"}}),
        "without a condition",
    ),
    (PUBLIC, QP, QUEUE_POLICY, "policy", "not json", "policy is not valid JSON"),
    (PUBLIC, Q, {**QUEUE, "policy": policy(OPEN_SEND)}, "name", QUEUE["name"], "any principal"),
]


@pytest.mark.parametrize(("rule", "type_", "base", "path", "value", "expected"), CASES)
def test_mutation(rule, type_, base, path, value, expected):
    outcome = run_resource(rule, type_, mutate(base, path, value))
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


def test_a_condition_keeps_a_star_grant_from_being_public():
    scoped = {**OPEN_SEND, "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:x"}}}
    props = mutate(QUEUE_POLICY, "policy", policy(TLS_DENY, scoped))
    assert run_resource(PUBLIC, QP, props).passed


def test_the_baseline_passes():
    assert run_resource(CMK, Q, QUEUE).passed
    assert run_resource(PUBLIC, QP, QUEUE_POLICY).passed
    assert run_stack(TLS, compliant_stack()).passed


def test_a_queue_without_its_policy_is_flagged():
    outcome = run_stack(TLS, without(compliant_stack(), "failures-policy"))
    assert len(outcome.violations) == 1
    assert "queue failures has no policy statement denying" in outcome.violations[0]


def test_a_policy_without_the_tls_deny_is_flagged():
    nodes = [
        Node(n.type, n.name, mutate(n.props, "policy", policy()), n.deps, protect=n.protect)
        if n.name == "failures-policy"
        else n
        for n in compliant_stack()
    ]
    assert len(run_stack(TLS, nodes).violations) == 1


def test_an_inline_tls_policy_counts_when_no_queue_policy_exists():
    nodes = [
        Node(n.type, n.name, {**n.props, "policy": QUEUE_POLICY["policy"]}, n.deps, n.protect)
        if n.name == "failures"
        else n
        for n in without(compliant_stack(), "failures-policy")
    ]
    assert run_stack(TLS, nodes).passed


def test_a_policy_of_another_queue_does_not_count():
    other = {**QUEUE_POLICY, "queueUrl": QUEUE_ARN.replace("failures", "other")}
    nodes = [
        Node(n.type, n.name, other, {}, n.protect) if n.name == "failures-policy" else n
        for n in compliant_stack()
    ]
    assert len(run_stack(TLS, nodes).violations) == 1
