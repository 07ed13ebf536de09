"""SNS topic policy: no publishing from other accounts (CKV_AWS_385).

Each case starts from the stack's alert-topic policy (this account's CloudWatch, pinned by
aws:SourceAccount, and a TLS-only deny) and changes one thing.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hipaa_guardrails import resource_types as t

from tests.policies.fixtures import ACCOUNT, TOPIC, TOPIC_ARN, TOPIC_POLICY, TOPIC_POLICY_DOCUMENT
from tests.policies.support import UNKNOWN_STRING_VALUE, as_json, run_resource
from tools.plan import Plan

RULE = "hipaa-sns-topic-publish-same-account"
OTHER = "444455556666"


def policy(**changes: Any) -> dict[str, Any]:
    """The baseline's Allow statement with ``changes`` (None removes a field)."""
    document = copy.deepcopy(TOPIC_POLICY_DOCUMENT)
    statement = document["Statement"][0]
    for key, value in changes.items():
        if value is None:
            statement.pop(key)
        else:
            statement[key] = value
    return document


def run(document: Any, type_: str = t.SNS_TOPIC_POLICY):
    props = TOPIC_POLICY if type_ == t.SNS_TOPIC_POLICY else TOPIC
    return run_resource(RULE, type_, {**props, "policy": as_json(document)})


@pytest.mark.parametrize("type_", [t.SNS_TOPIC_POLICY, t.SNS_TOPIC])
def test_baseline_passes(type_):
    assert run(TOPIC_POLICY_DOCUMENT, type_).passed


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (policy(Condition=None), "lets cloudwatch.amazonaws.com publish for any account"),
        (
            policy(Condition={"StringEquals": {"aws:SourceAccount": OTHER}}),
            "lets cloudwatch.amazonaws.com publish for any account",
        ),
        (
            policy(Condition={"ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:*:{OTHER}:*"}}),
            "publish for any account",
        ),
        (
            policy(Condition={"ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:*:{ACCOUNT}:*"}}),
            None,
        ),
        (policy(Condition={"StringEquals": {"AWS:SourceOwner": ACCOUNT}}), None),
        (
            policy(Principal={"AWS": f"arn:aws:iam::{OTHER}:root"}, Condition=None),
            f"lets arn:aws:iam::{OTHER}:root publish, which is not account {ACCOUNT}",
        ),
        (policy(Principal={"AWS": OTHER}, Condition=None), f"lets {OTHER} publish"),
        (policy(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}, Condition=None), None),
        (policy(Principal="*", Condition=None), "lets * publish"),
        (
            policy(Principal="*", Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}),
            None,
        ),
        (
            policy(Principal="*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}),
            "lets * publish",  # an organisation is other accounts
        ),
        (policy(Action="sns:*", Condition=None), "publish for any account"),
        (policy(Action="sns:Subscribe", Condition=None), None),  # not publishing
    ],
)
def test_cross_account_publish(document, expected):
    outcome = run(document)
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


def test_checkov_failing_example():
    # Another account's root may publish to our topic: the shape of CKV_AWS_385's failure.
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "grant-publish",
                "Effect": "Allow",
                "Principal": {"AWS": OTHER},
                "Action": ["sns:Publish"],
                "Resource": TOPIC_ARN,
            }
        ],
    }
    [violation] = run(document).violations
    assert violation.startswith(f"policy statement 'grant-publish' lets {OTHER} publish")


def test_a_topic_whose_account_cannot_be_told_fails_closed():
    [violation] = run(policy(Resource="*"), t.SNS_TOPIC).violations
    assert "allows sns:Publish but names no topic ARN" in violation


def test_topic_account_comes_from_the_policy_arn_when_the_statement_names_none():
    document = policy(Resource=None)
    assert run_resource(
        RULE, t.SNS_TOPIC_POLICY, {**TOPIC_POLICY, "policy": as_json(document)}
    ).passed


def test_unknown_policy_defers_and_no_policy_is_not_applicable():
    outcome = run_resource(
        RULE, t.SNS_TOPIC_POLICY, {**TOPIC_POLICY, "policy": UNKNOWN_STRING_VALUE}
    )
    assert outcome.deferred
    assert run_resource(RULE, t.SNS_TOPIC, TOPIC).not_applicable == "no inline topic policy"


@pytest.mark.parametrize("plan_name", ["dev_plan", "prod_plan"])
def test_the_alert_topic_policy_passes(plan_name: str, request: pytest.FixtureRequest):
    plan: Plan = request.getfixturevalue(plan_name)
    inputs = plan.named("monitoring-topic-policy").inputs
    document = json.loads(inputs["policy"])
    assert run_resource(RULE, t.SNS_TOPIC_POLICY, inputs).passed
    # Dropping the SourceAccount and SourceArn pins of one publisher is caught.
    del document["Statement"][0]["Condition"]
    assert run_resource(
        RULE, t.SNS_TOPIC_POLICY, {**inputs, "policy": as_json(document)}
    ).violations
