"""The offline IAM evaluator against AWS's documented examples (IAM User Guide: "Condition
operators", "Single-valued vs. multivalued context keys", "Policy variables", "Policy evaluation
logic", and DynamoDB's "Using IAM policy conditions for fine-grained access control"), so the
isolation case table rests on semantics that match AWS's own."""

from __future__ import annotations

from typing import Any

import pytest

from tools.iam_eval import Decision, Request, UnsupportedPolicy, evaluate

TABLE = "arn:aws:dynamodb:us-west-2:123456789012:table/GameScores"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", condition: dict[str, Any] | None = None) -> dict:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition is not None:
        statement["Condition"] = condition
    return statement


def decide(document: dict[str, Any], action: str, resource: str, **context: Any) -> Decision:
    return evaluate(Request(action, resource, context), [document]).decision


ALLOW, IMPLICIT, EXPLICIT = Decision.ALLOW, Decision.IMPLICIT_DENY, Decision.EXPLICIT_DENY

# "Single-valued vs. multivalued context keys": the aws:TagKeys examples.
TAG_KEYS = ["environment", "cost-center"]


@pytest.mark.parametrize(
    ("request_keys", "expected"),
    [
        (["environment"], ALLOW),
        (["environment", "cost-center"], ALLOW),
        (["environment", "dept"], IMPLICIT),
        (None, ALLOW),  # ForAllValues holds when the key is missing: the documented pitfall
        ([], ALLOW),
    ],
)
def test_for_all_values_tag_keys_example(request_keys: list[str] | None, expected: Decision):
    doc = policy(
        allow("ec2:CreateTags", "*", {"ForAllValues:StringEquals": {"aws:TagKeys": TAG_KEYS}})
    )
    context = {} if request_keys is None else {"aws:TagKeys": request_keys}
    assert decide(doc, "ec2:CreateTags", "arn:aws:ec2:::x", **context) is expected


@pytest.mark.parametrize(
    ("request_keys", "expected"),
    [
        (["environment", "dept"], ALLOW),
        (["dept"], IMPLICIT),
        (None, IMPLICIT),
    ],
)
def test_for_any_value_tag_keys_example(request_keys: list[str] | None, expected: Decision):
    doc = policy(
        allow("ec2:CreateTags", "*", {"ForAnyValue:StringEquals": {"aws:TagKeys": TAG_KEYS}})
    )
    context = {} if request_keys is None else {"aws:TagKeys": request_keys}
    assert decide(doc, "ec2:CreateTags", "arn:aws:ec2:::x", **context) is expected


def test_dynamodb_leading_keys_example_with_a_policy_variable():
    # DynamoDB fine-grained access: items whose partition key is the caller's user id.
    doc = policy(
        allow(
            ["dynamodb:GetItem", "dynamodb:Query"],
            TABLE,
            {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${www.amazon.com:user_id}"]}},
        )
    )
    me = {"www.amazon.com:user_id": "u-1"}
    assert (
        decide(doc, "dynamodb:GetItem", TABLE, **me, **{"dynamodb:LeadingKeys": ["u-1"]}) is ALLOW
    )
    other = {"dynamodb:LeadingKeys": ["u-2"]}
    assert decide(doc, "dynamodb:GetItem", TABLE, **me, **other) is IMPLICIT
    # The variable unresolved (no such key in the request): the condition does not hold.
    assert decide(doc, "dynamodb:GetItem", TABLE, **{"dynamodb:LeadingKeys": ["u-1"]}) is IMPLICIT


def test_policy_variable_in_resource_and_escapes_and_default():
    # "Policy variables": the per-user home folder, and ${*} as a literal asterisk.
    doc = policy(allow("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*"))
    obj = "arn:aws:s3:::amzn-s3-demo-bucket/{}/notes.txt"
    assert decide(doc, "s3:GetObject", obj.format("Bob"), **{"aws:username": "Bob"}) is ALLOW
    assert decide(doc, "s3:GetObject", obj.format("Alice"), **{"aws:username": "Bob"}) is IMPLICIT
    assert decide(doc, "s3:GetObject", obj.format("Bob")) is IMPLICIT  # no username: no match
    star = policy(allow("s3:GetObject", "arn:aws:s3:::b/${*}"))
    assert decide(star, "s3:GetObject", "arn:aws:s3:::b/*") is ALLOW
    assert decide(star, "s3:GetObject", "arn:aws:s3:::b/anything") is IMPLICIT
    # A tag value's own '*' is literal, never a wildcard.
    tagged = policy(allow("s3:GetObject", "arn:aws:s3:::b/${aws:PrincipalTag/team}/x"))
    assert (
        decide(tagged, "s3:GetObject", "arn:aws:s3:::b/a/x", **{"aws:PrincipalTag/team": "*"})
        is IMPLICIT
    )
    # A default value: ${aws:PrincipalTag/team, 'company-wide'}.
    default = policy(
        allow("s3:GetObject", "arn:aws:s3:::b/${aws:PrincipalTag/team, 'company-wide'}/*")
    )
    assert decide(default, "s3:GetObject", "arn:aws:s3:::b/company-wide/f") is ALLOW


@pytest.mark.parametrize(
    ("operator", "context", "expected"),
    [
        # "Condition operators": a missing key fails positive operators, satisfies negated ones.
        ("StringEquals", {}, IMPLICIT),
        ("StringNotEquals", {}, ALLOW),
        ("StringNotEquals", {"aws:PrincipalTag/job-category": "iamuser-admin"}, IMPLICIT),
        ("StringNotEquals", {"aws:PrincipalTag/job-category": "other"}, ALLOW),
        ("StringEquals", {"aws:PrincipalTag/job-category": "iamuser-admin"}, ALLOW),
        ("StringEquals", {"aws:PrincipalTag/job-category": "IAMUSER-ADMIN"}, IMPLICIT),
        ("StringEqualsIgnoreCase", {"aws:PrincipalTag/job-category": "IAMUSER-ADMIN"}, ALLOW),
    ],
)
def test_string_operators_and_missing_keys(operator: str, context: dict, expected: Decision):
    doc = policy(
        allow(
            "iam:*AccessKey*", "*", {operator: {"aws:PrincipalTag/job-category": "iamuser-admin"}}
        )
    )
    assert decide(doc, "iam:CreateAccessKey", "arn:aws:iam::1:user/x", **context) is expected


def test_string_like_and_if_exists_example():
    # "...IfExists condition operators": the EC2 instance-type example.
    doc = policy(
        allow(
            "ec2:RunInstances",
            "*",
            {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}},
        )
    )
    assert (
        decide(doc, "ec2:RunInstances", "arn:aws:ec2:::i", **{"ec2:InstanceType": "t2.micro"})
        is ALLOW
    )
    assert (
        decide(doc, "ec2:RunInstances", "arn:aws:ec2:::i", **{"ec2:InstanceType": "m5.large"})
        is IMPLICIT
    )
    assert decide(doc, "ec2:RunInstances", "arn:aws:ec2:::i") is ALLOW


def test_null_condition_example():
    # "Null condition operator": aws:TokenIssueTime is absent for long-term credentials.
    doc = policy(allow("ec2:*", "*", {"Null": {"aws:TokenIssueTime": "true"}}))
    assert decide(doc, "ec2:DescribeInstances", "arn:x") is ALLOW
    assert (
        decide(doc, "ec2:DescribeInstances", "arn:x", **{"aws:TokenIssueTime": "2026-01-01"})
        is IMPLICIT
    )
    guard = policy(allow("dynamodb:Query", TABLE, {"Null": {"dynamodb:LeadingKeys": "false"}}))
    assert decide(guard, "dynamodb:Query", TABLE) is IMPLICIT
    assert decide(guard, "dynamodb:Query", TABLE, **{"dynamodb:LeadingKeys": ["k"]}) is ALLOW


def test_explicit_deny_wins_and_conditions_are_anded_values_ored():
    doc = policy(
        allow(
            "dynamodb:GetItem",
            TABLE,
            {
                "StringEquals": {"aws:PrincipalTag/a": ["1", "2"]},
                "Bool": {"aws:SecureTransport": "true"},
            },
        ),
        {
            "Effect": "Deny",
            "Action": "dynamodb:*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/a": "2"}},
        },
    )
    base = {"aws:SecureTransport": "true"}
    assert decide(doc, "dynamodb:GetItem", TABLE, **base, **{"aws:PrincipalTag/a": "1"}) is ALLOW
    assert decide(doc, "dynamodb:GetItem", TABLE, **base, **{"aws:PrincipalTag/a": "2"}) is EXPLICIT
    assert (
        decide(
            doc,
            "dynamodb:GetItem",
            TABLE,
            **{"aws:SecureTransport": "false", "aws:PrincipalTag/a": "1"},
        )
        is IMPLICIT
    )
    assert decide(doc, "dynamodb:Scan", TABLE, **base, **{"aws:PrincipalTag/a": "1"}) is IMPLICIT


def test_actions_are_case_insensitive_wildcards_and_not_action_inverts():
    doc = policy(
        allow("DynamoDB:*Item", TABLE),
        {"Effect": "Allow", "NotAction": "dynamodb:*", "Resource": "*"},
    )
    assert decide(doc, "dynamodb:GetItem", TABLE) is ALLOW
    assert decide(doc, "dynamodb:Scan", TABLE) is IMPLICIT
    assert decide(doc, "s3:GetObject", "arn:aws:s3:::b/k") is ALLOW


def test_permissions_boundary_intersects_and_its_deny_wins():
    identity = [policy(allow(["dynamodb:GetItem", "iam:CreateRole"], "*"))]
    boundary = policy(
        allow("dynamodb:GetItem", "*"), {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}
    )
    get = Request("dynamodb:GetItem", TABLE)
    assert evaluate(get, identity, boundary=boundary).decision is ALLOW
    create = Request("iam:CreateRole", "arn:aws:iam::1:role/x")
    assert evaluate(create, identity, boundary=boundary).decision is EXPLICIT
    assert (
        evaluate(Request("s3:GetObject", "arn:x"), identity, boundary=boundary).decision is IMPLICIT
    )


@pytest.mark.parametrize(
    "document",
    [
        policy(allow("a:b", "*", {"NumericLessThan": {"k": "1"}})),
        policy({"Effect": "Allow", "Principal": "*", "Action": "a:b", "Resource": "*"}),
        policy(allow("a:b", "*", {"ForSomeValues:StringEquals": {"k": "1"}})),
    ],
)
def test_what_it_does_not_implement_is_refused_not_guessed(document: dict[str, Any]):
    with pytest.raises(UnsupportedPolicy):
        decide(document, "a:b", "arn:x", k="1")
