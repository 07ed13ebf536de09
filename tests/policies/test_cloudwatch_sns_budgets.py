"""CloudWatch (C1-C3), SNS (S1-S3) and alert routing (S4) for alarms and budgets."""

from __future__ import annotations

import pytest
from hipaa_guardrails import resource_types as t

from tests.policies.fixtures import (
    ALARM,
    BUDGET,
    LOG_GROUP,
    TOPIC,
    TOPIC_POLICY,
    TOPIC_POLICY_DOCUMENT,
    compliant_stack,
    replace,
    without,
)
from tests.policies.support import (
    DELETE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_STRING_VALUE,
    as_json,
    mutate,
    run_resource,
    run_stack,
)

ALARM_ACTIONS = "hipaa-cloudwatch-alarm-actions-enabled"
RETENTION = "hipaa-cloudwatch-log-group-retention"
LOG_KEY = "hipaa-cloudwatch-log-group-encrypted"
TOPIC_KEY = "hipaa-sns-topic-encrypted-with-cmk"
PUBLIC = "hipaa-sns-topic-policy-not-public"
TLS = "hipaa-sns-topic-tls-only"
ALARM_ROUTE = "hipaa-cloudwatch-alarms-route-to-encrypted-topic"
BUDGET_ROUTE = "hipaa-budgets-route-to-encrypted-topic"

RESOURCE_CASES = [
    (ALARM_ACTIONS, t.METRIC_ALARM, ALARM, "actionsEnabled", False, "notifies nobody"),
    (ALARM_ACTIONS, t.METRIC_ALARM, ALARM, "actionsEnabled", UNKNOWN_BOOLEAN_VALUE, "fails closed"),
    (ALARM_ACTIONS, t.METRIC_ALARM, ALARM, "actionsEnabled", DELETE, None),  # AWS default true
    (ALARM_ACTIONS, t.METRIC_ALARM, ALARM, "alarmActions", DELETE, "alarmActions is empty"),
    (ALARM_ACTIONS, t.METRIC_ALARM, ALARM, "alarmActions", [], "alarmActions is empty"),
    (ALARM_ACTIONS, t.METRIC_ALARM, ALARM, "alarmActions", UNKNOWN_ARRAY_VALUE, None),
    (ALARM_ACTIONS, t.METRIC_ALARM, ALARM, "alarmActions.0", UNKNOWN_STRING_VALUE, None),
    (
        ALARM_ACTIONS,
        t.METRIC_ALARM,
        ALARM,
        "insufficientDataActions",
        DELETE,
        "insufficientDataActions is empty",
    ),
    (RETENTION, t.LOG_GROUP, LOG_GROUP, "retentionInDays", DELETE, "never expire"),
    (RETENTION, t.LOG_GROUP, LOG_GROUP, "retentionInDays", 0, "never expire"),
    (RETENTION, t.LOG_GROUP, LOG_GROUP, "retentionInDays", 30, "retentionInDays is 30"),
    (RETENTION, t.LOG_GROUP, LOG_GROUP, "retentionInDays", UNKNOWN_NUMBER_VALUE, "fails closed"),
    (LOG_KEY, t.LOG_GROUP, LOG_GROUP, "kmsKeyId", DELETE, "kmsKeyId is not set"),
    (LOG_KEY, t.LOG_GROUP, LOG_GROUP, "kmsKeyId", UNKNOWN_STRING_VALUE, None),
    (TOPIC_KEY, t.SNS_TOPIC, TOPIC, "kmsMasterKeyId", DELETE, "stored unencrypted"),
    (TOPIC_KEY, t.SNS_TOPIC, TOPIC, "kmsMasterKeyId", "alias/aws/sns", "the AWS managed key"),
    (TOPIC_KEY, t.SNS_TOPIC, TOPIC, "kmsMasterKeyId", UNKNOWN_STRING_VALUE, None),
    (
        PUBLIC,
        t.SNS_TOPIC_POLICY,
        TOPIC_POLICY,
        "policy",
        as_json(
            {
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Subscribe"}
                ]
            }
        ),
        "policy statement #1 allows any principal (*) without a condition",
    ),
    (PUBLIC, t.SNS_TOPIC_POLICY, TOPIC_POLICY, "policy", "[]", "must be a JSON object"),
]


@pytest.mark.parametrize(("rule", "type_", "base", "path", "value", "expected"), RESOURCE_CASES)
def test_resource_mutation(rule, type_, base, path, value, expected):
    outcome = run_resource(rule, type_, mutate(base, path, value))
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


def test_insufficient_data_actions_can_be_waived_by_pack_config():
    alarm = mutate(ALARM, "insufficientDataActions", DELETE)
    config = {"requireInsufficientDataActions": False}
    assert run_resource(ALARM_ACTIONS, t.METRIC_ALARM, alarm, config).passed


def test_topic_without_inline_policy_is_not_judged_by_the_public_rule():
    assert run_resource(PUBLIC, t.SNS_TOPIC, TOPIC).not_applicable == "no inline topic policy"


def test_unknown_topic_policy_defers_to_the_update():
    policy = mutate(TOPIC_POLICY, "policy", UNKNOWN_STRING_VALUE)
    assert run_resource(PUBLIC, t.SNS_TOPIC_POLICY, policy).deferred


# S2: TLS only (stack)


def test_topic_policy_denies_insecure_transport():
    assert run_stack(TLS, compliant_stack()).passed


def test_topic_without_tls_policy_is_flagged():
    outcome = run_stack(TLS, without(compliant_stack(), "alerts-policy"))
    assert "topic alerts has no policy statement denying" in outcome.violations[0]


def test_topic_policy_without_the_deny_is_flagged():
    allow_only = {**TOPIC_POLICY_DOCUMENT, "Statement": TOPIC_POLICY_DOCUMENT["Statement"][:1]}
    nodes = replace(
        compliant_stack(), "alerts-policy", props={**TOPIC_POLICY, "policy": as_json(allow_only)}
    )
    assert len(run_stack(TLS, nodes).violations) == 1


def test_inline_topic_policy_counts_when_there_is_no_topic_policy_resource():
    topic = {**TOPIC, "policy": as_json(TOPIC_POLICY_DOCUMENT)}
    nodes = replace(without(compliant_stack(), "alerts-policy"), "alerts", props=topic)
    assert run_stack(TLS, nodes).passed


# S4: routing


def test_alarms_and_budgets_route_to_the_encrypted_stack_topic():
    assert run_stack(ALARM_ROUTE, compliant_stack()).passed
    assert run_stack(BUDGET_ROUTE, compliant_stack()).passed


def test_alarm_to_an_unencrypted_topic_is_flagged():
    nodes = replace(compliant_stack(), "alerts", props={"name": "medeez-dev-alerts"})
    outcome = run_stack(ALARM_ROUTE, nodes)
    assert outcome.violations == [
        "alarm throttles: topic alerts is not encrypted with a customer-managed key "
        "[45 CFR 164.308(a)(6)(ii), 164.312(b)]"
    ]


def test_alarm_to_a_topic_outside_the_stack_is_flagged():
    elsewhere = "arn:aws:sns:us-east-1:999999999999:someone-elses-topic"
    nodes = replace(
        compliant_stack(), "throttles", props={**ALARM, "alarmActions": [elsewhere]}, deps={}
    )
    outcome = run_stack(ALARM_ROUTE, nodes)
    assert (
        f"alarmActions targets {elsewhere}, which is not an SNS topic of this stack"
        in (outcome.violations[0])
    )


def test_alarm_with_unknown_arn_from_the_stack_topic_passes():
    nodes = replace(
        compliant_stack(), "throttles", props={**ALARM, "alarmActions": [UNKNOWN_STRING_VALUE]}
    )
    assert run_stack(ALARM_ROUTE, nodes).passed


def test_alarm_with_unknown_arn_from_elsewhere_is_flagged():
    nodes = replace(
        compliant_stack(),
        "throttles",
        props={**ALARM, "alarmActions": [UNKNOWN_STRING_VALUE]},
        deps={},
    )
    assert "unknown and not from a stack topic" in run_stack(ALARM_ROUTE, nodes).violations[0]


def test_alarm_without_actions_is_flagged_by_routing_too():
    nodes = replace(compliant_stack(), "throttles", props=mutate(ALARM, "alarmActions", []))
    assert "alarm throttles has no alarmActions" in run_stack(ALARM_ROUTE, nodes).violations[0]


def test_budget_notification_without_sns_subscriber_is_flagged():
    budget = mutate(BUDGET, "notifications.0.subscriberSnsTopicArns", DELETE)
    budget["notifications"][0]["subscriberEmailAddresses"] = ["team@medeez.example"]
    nodes = replace(compliant_stack(), "budget", props=budget)
    outcome = run_stack(BUDGET_ROUTE, nodes)
    assert outcome.violations == [
        "budget budget notifications[0] has no SNS subscriber, so it does not reach the alert "
        "topic [operational guardrail, no HIPAA citation]"
    ]


def test_budget_without_notifications_is_flagged():
    nodes = replace(compliant_stack(), "budget", props=mutate(BUDGET, "notifications", DELETE))
    assert "has no notifications" in run_stack(BUDGET_ROUTE, nodes).violations[0]
