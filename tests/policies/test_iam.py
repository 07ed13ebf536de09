"""IAM rules (I1 admin/full access, I2 user and inline policies, I3 data access scope, I4 trust)."""

from __future__ import annotations

import pytest
from hipaa_guardrails import resource_types as t

from tests.policies.fixtures import (
    ATTACHMENT,
    MANAGED_POLICY,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_DOCUMENT,
    TRUST,
)
from tests.policies.support import UNKNOWN_STRING_VALUE, as_json, run_resource

ADMIN = "hipaa-iam-no-admin-or-full-access"
USERS = "hipaa-iam-no-user-policies"
INLINE = "hipaa-iam-no-inline-policies"
SCOPED = "hipaa-iam-data-access-scoped"
TRUST_RULE = "hipaa-iam-trust-policy-scoped"


def document(*statements: dict) -> str:
    return as_json({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="arn:aws:dynamodb:us-east-1:111122223333:table/t", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


@pytest.mark.parametrize("type_", [t.IAM_POLICY, t.IAM_ROLE_POLICY])
@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (allow("*", "*"), "statement #1 allows every action (*)"),
        (allow(["dynamodb:*"]), "allows every dynamodb action (dynamodb:*)"),
        (
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
            "allows NotAction, i.e. everything else",
        ),
        (allow(["dynamodb:GetItem", "dynamodb:Query"]), None),
        ({"Effect": "Deny", "Action": "*", "Resource": "*"}, None),
    ],
)
def test_admin_or_full_access(type_, statement, expected):
    outcome = run_resource(ADMIN, type_, {**MANAGED_POLICY, "policy": document(statement)})
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert expected in outcome.violations[0]


def test_admin_managed_policy_attachment_is_flagged():
    attachment = {**ATTACHMENT, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}
    outcome = run_resource(ADMIN, t.IAM_ROLE_POLICY_ATTACHMENT, attachment)
    assert (
        "attaches the AWS managed policy arn:aws:iam::aws:policy/AdministratorAccess"
        in (outcome.violations[0])
    )
    assert run_resource(ADMIN, t.IAM_ROLE_POLICY_ATTACHMENT, ATTACHMENT).passed


def test_role_inline_and_managed_policies_are_read():
    role = {
        **ROLE,
        "inlinePolicies": [{"name": "x", "policy": document(allow("s3:*", "*"))}],
        "managedPolicyArns": ["arn:aws:iam::aws:policy/PowerUserAccess"],
    }
    violations = run_resource(ADMIN, t.IAM_ROLE, role).violations
    assert len(violations) == 2
    assert "inlinePolicies[0].policy: statement #1 allows every s3 action" in violations[1]


def test_unknown_policy_document_defers_to_the_update():
    policy = {**ROLE_POLICY, "policy": UNKNOWN_STRING_VALUE}
    assert run_resource(ADMIN, t.IAM_ROLE_POLICY, policy).deferred
    assert run_resource(SCOPED, t.IAM_ROLE_POLICY, policy).deferred


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (allow(["dynamodb:GetItem", "dynamodb:Query"], "*"), "allows dynamodb:GetItem"),
        (allow("kms:Decrypt", ["*"]), "allows kms:Decrypt on every resource (*)"),
        (allow("kms:ReEncrypt*", "*"), "kms:ReEncryptFrom, kms:ReEncryptTo"),
        (allow("dynamodb:*Item", "*"), "dynamodb:DeleteItem"),
        (allow(["kms:DescribeKey", "cloudwatch:PutMetricData"], "*"), None),
        (allow(["dynamodb:GetItem"]), None),
    ],
)
def test_data_access_scoped(statement, expected):
    outcome = run_resource(
        SCOPED, t.IAM_ROLE_POLICY, {**ROLE_POLICY, "policy": document(statement)}
    )
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert expected in outcome.violations[0]
        assert "scope it to the table, index, stream, key or topic ARNs" in outcome.violations[0]


def test_baseline_role_policy_is_scoped():
    assert run_resource(SCOPED, t.IAM_ROLE_POLICY, ROLE_POLICY).passed
    assert ROLE_POLICY_DOCUMENT["Statement"][0]["Resource"] != "*"


@pytest.mark.parametrize(
    ("type_", "props", "expected"),
    [
        (t.IAM_USER_POLICY, {"user": "alice", "policy": "{}"}, "inline policy directly"),
        (t.IAM_USER_POLICY_ATTACHMENT, {"user": "alice", "policyArn": "arn"}, "managed policy"),
        (
            t.IAM_POLICY_ATTACHMENT,
            {"users": ["alice"], "policyArn": "arn"},
            "directly to IAM users",
        ),
    ],
)
def test_user_policies_are_flagged(type_, props, expected):
    assert expected in run_resource(USERS, type_, props).violations[0]


def test_policy_attachment_to_roles_only_is_not_a_user_policy():
    props = {"roles": ["r"], "policyArn": "arn"}
    assert (
        run_resource(USERS, t.IAM_POLICY_ATTACHMENT, props).not_applicable == "attaches to no users"
    )


@pytest.mark.parametrize(
    ("type_", "props", "expected"),
    [
        (t.IAM_ROLE_POLICY, ROLE_POLICY, "is an inline policy"),
        (t.IAM_ROLE, {**ROLE, "inlinePolicies": [{"name": "x", "policy": "{}"}]}, "embeds inline"),
    ],
)
def test_inline_policies_are_flagged(type_, props, expected):
    assert expected in run_resource(INLINE, type_, props).violations[0]


def test_role_without_inline_policies_is_not_judged_for_them():
    assert run_resource(INLINE, t.IAM_ROLE, ROLE).not_applicable


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}, "any principal (*)"),
        (
            {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "sts:AssumeRole"},
            "any principal (*)",
        ),
        (
            {
                "Effect": "Allow",
                "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.x"},
                "Action": "sts:AssumeRoleWithWebIdentity",
            },
            "without a condition",
        ),
        (
            {
                "Effect": "Allow",
                "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.x"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {"token.actions.x:sub": "repo:medeez/x:ref:main"}},
            },
            None,
        ),
    ],
)
def test_trust_policy(statement, expected):
    outcome = run_resource(
        TRUST_RULE, t.IAM_ROLE, {**ROLE, "assumeRolePolicy": document(statement)}
    )
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert expected in outcome.violations[0]


def test_trust_policy_missing_or_unknown():
    assert (
        "assumeRolePolicy is not set"
        in (run_resource(TRUST_RULE, t.IAM_ROLE, {"name": "r"}).violations[0])
    )
    unknown = {**ROLE, "assumeRolePolicy": UNKNOWN_STRING_VALUE}
    assert run_resource(TRUST_RULE, t.IAM_ROLE, unknown).deferred
    assert run_resource(TRUST_RULE, t.IAM_ROLE, {**ROLE, "assumeRolePolicy": as_json(TRUST)}).passed


LEADING = "hipaa-iam-tenant-leading-keys"
TABLE_ARN = "arn:aws:dynamodb:us-east-1:111122223333:table/medeez-dev-app"
KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234"
#: The clinic keys, created at onboarding: named by tag, not ARN.
KEY_WILDCARD = "arn:aws:kms:us-east-1:111122223333:key/*"
TAG = "${aws:PrincipalTag/clinicId}"
OWN = [f"CLINIC#{TAG}", f"CLINIC#{TAG}#*"]
GUARD = {"dynamodb:LeadingKeys": "false"}


def tenant(values=OWN, operator="ForAllValues:StringLike", guard=GUARD) -> dict:
    condition: dict = {operator: {"dynamodb:LeadingKeys": values}}
    if guard is not None:
        condition["Null"] = guard
    return condition


PHI = allow(
    ["kms:Decrypt", "kms:GenerateDataKey"],
    KEY_ARN,
    Condition={"StringEquals": {"kms:EncryptionContext:clinicId": TAG}},
)


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (allow(["dynamodb:GetItem", "dynamodb:Query"], TABLE_ARN), "without a ForAllValues"),
        (allow("dynamodb:*Item", [TABLE_ARN, f"{TABLE_ARN}/index/*"]), "dynamodb:GetItem"),
        (allow("dynamodb:Scan", TABLE_ARN, Condition=tenant()), "reads every tenant's items"),
        (allow(["dynamodb:GetItem", "dynamodb:Query"], TABLE_ARN, Condition=tenant()), None),
        (allow("dynamodb:DescribeTable", TABLE_ARN), None),
        (allow("dynamodb:GetItem", "arn:aws:s3:::bucket/*"), None),
        (
            allow(
                "dynamodb:GetItem",
                TABLE_ARN,
                Condition={"StringEquals": {"dynamodb:LeadingKeys": "CLINIC#1"}},
            ),
            "without a ForAllValues",
        ),
        # The value, not only the presence, of the condition (issue 10):
        (
            allow("dynamodb:GetItem", TABLE_ARN, Condition=tenant([f"CLINIC#{TAG}*"])),
            "does not end the tenant at a delimiter",
        ),
        (
            allow("dynamodb:GetItem", TABLE_ARN, Condition=tenant(["CLINIC#*"])),
            "does not reference ${aws:PrincipalTag/clinicId}",
        ),
        (
            allow("dynamodb:GetItem", TABLE_ARN, Condition=tenant([f"*#{TAG}#*"])),
            "wildcard before the tenant",
        ),
        (
            allow("dynamodb:GetItem", TABLE_ARN, Condition=tenant(["${aws:PrincipalTag/team}#*"])),
            "does not reference ${aws:PrincipalTag/clinicId}",
        ),
        (
            allow("dynamodb:GetItem", TABLE_ARN, Condition=tenant(guard=None)),
            "a request without partition keys passes",
        ),
        (
            allow("dynamodb:GetItem", TABLE_ARN, Condition=tenant(guard={"x": "false"})),
            "a request without partition keys passes",
        ),
        (
            allow(
                "dynamodb:GetItem",
                TABLE_ARN,
                Condition={
                    **tenant(guard=None),
                    "ForAnyValue:StringLike": {"dynamodb:LeadingKeys": OWN},
                },
            ),
            None,
        ),
        (
            allow(
                "dynamodb:GetItem",
                TABLE_ARN,
                Condition=tenant([f"CLINIC#{TAG}"], operator="ForAllValues:StringEquals"),
            ),
            None,
        ),
    ],
)
def test_tenant_leading_keys(statement, expected):
    outcome = run_resource(LEADING, t.IAM_POLICY, {**MANAGED_POLICY, "policy": document(statement)})
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


ITEMS = allow(["dynamodb:GetItem", "dynamodb:Query"], TABLE_ARN, Condition=tenant())


@pytest.mark.parametrize(
    ("kms", "expected"),
    [
        (PHI, None),
        (allow("kms:Decrypt", KEY_ARN), "without StringEquals kms:EncryptionContext:clinicId"),
        (
            allow(
                "kms:GenerateDataKey*",
                KEY_ARN,
                Condition={"Null": {"kms:EncryptionContext:clinicId": "false"}},
            ),
            "could decrypt another tenant's PHI",
        ),
        (
            allow(
                "kms:Decrypt",
                KEY_ARN,
                Condition={"StringEquals": {"kms:EncryptionContext:clinicId": "c1"}},
            ),
            "without StringEquals",
        ),
        (allow("kms:DescribeKey", KEY_ARN), None),
        (
            allow(
                ["kms:Decrypt", "kms:GenerateDataKey"],
                KEY_WILDCARD,
                Condition={"StringEquals": {"kms:EncryptionContext:clinicId": TAG}},
            ),
            "without StringEquals aws:ResourceTag/clinicId",
        ),
        (
            allow(
                ["kms:Decrypt", "kms:GenerateDataKey"],
                KEY_WILDCARD,
                Condition={
                    "StringEquals": {
                        "kms:EncryptionContext:clinicId": TAG,
                        "aws:ResourceTag/clinicId": TAG,
                    }
                },
            ),
            None,
        ),
    ],
)
def test_tenant_policy_uses_keys_only_with_its_clinic_context(kms, expected):
    outcome = run_resource(
        LEADING, t.IAM_POLICY, {**MANAGED_POLICY, "policy": document(ITEMS, kms)}
    )
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


def test_kms_context_is_judged_only_in_tenant_scoped_policies():
    # A policy without tenant-confined items (the backup role's key grant) is not a tenant's.
    outcome = run_resource(
        LEADING, t.IAM_POLICY, {**MANAGED_POLICY, "policy": document(allow("kms:Decrypt", KEY_ARN))}
    )
    assert outcome.passed, outcome


def test_tenant_tag_follows_pack_config():
    statement = allow("dynamodb:GetItem", TABLE_ARN, Condition=tenant())
    policy = {**MANAGED_POLICY, "policy": document(statement)}
    outcome = run_resource(LEADING, t.IAM_POLICY, policy, {"tenantTag": "tenantId"})
    assert "does not reference ${aws:PrincipalTag/tenantId}" in outcome.violations[0]


GITHUB = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
SUB = "token.actions.githubusercontent.com:sub"
AUD = {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}


def github_trust(condition) -> dict:
    return {
        "Effect": "Allow",
        "Principal": {"Federated": GITHUB},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": condition,
    }


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"StringEquals": {**AUD, SUB: "repo:medeez/medeez-platform:environment:prod"}}, None),
        ({"StringEquals": {**AUD, SUB: "repo:medeez/medeez-platform:ref:refs/heads/main"}}, None),
        ({"StringEquals": AUD}, "without a StringEquals condition on"),
        ({"StringLike": {**AUD, SUB: "repo:medeez/*"}}, "is not one repository in one context"),
        ({"StringLike": {**AUD, SUB: "repo:medeez/medeez-platform:*"}}, "is not one repository"),
        ({"StringLike": {**AUD, SUB: "*"}}, "is not one repository"),
        (
            {"StringEquals": {SUB: "repo:medeez/medeez-platform:environment:prod"}},
            "does not require token.actions.githubusercontent.com:aud",
        ),
    ],
)
def test_github_oidc_trust_checks_sub_and_aud(condition, expected):
    role = {**ROLE, "assumeRolePolicy": document(github_trust(condition))}
    outcome = run_resource(TRUST_RULE, t.IAM_ROLE, role)
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


def test_tenant_rule_scope_follows_pack_config():
    statement = allow("dynamodb:GetItem", TABLE_ARN)
    policy = {**MANAGED_POLICY, "policy": document(statement)}
    other_tables = {"tableArnPattern": r"arn:aws:dynamodb:.*:table/medeez-prod-.*"}
    assert run_resource(LEADING, t.IAM_POLICY, policy, other_tables).passed


BOUNDARY_RULE = "hipaa-iam-role-permissions-boundary"
APP = {"AWS": "arn:aws:iam::111122223333:role/medeez-dev-app-runtime"}


def trusting(principal) -> str:
    return document({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


@pytest.mark.parametrize(
    ("principal", "boundary", "expected"),
    [
        (APP, "arn:aws:iam::111122223333:policy/medeez-dev-boundary", None),
        (APP, UNKNOWN_STRING_VALUE, None),  # computed at preview: counts as present
        (APP, None, "can be assumed by arn:aws:iam::111122223333:role/medeez-dev-app-runtime"),
        (APP, "", "has no permissionsBoundary"),
        ({"Federated": "arn:aws:iam::1:oidc-provider/x"}, None, "oidc-provider/x"),
        ("*", None, "can be assumed by *"),
    ],
)
def test_assumable_roles_carry_a_boundary(principal, boundary, expected):
    role = {**ROLE, "assumeRolePolicy": trusting(principal)}
    if boundary is not None:
        role["permissionsBoundary"] = boundary
    outcome = run_resource(BOUNDARY_RULE, t.IAM_ROLE, role)
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


def test_service_only_roles_are_not_judged_for_a_boundary():
    role = {**ROLE, "assumeRolePolicy": trusting({"Service": "backup.amazonaws.com"})}
    assert run_resource(BOUNDARY_RULE, t.IAM_ROLE, role).not_applicable
    denied = document(
        {"Effect": "Deny", "Principal": APP, "Action": "sts:AssumeRole"},
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        },
    )
    assert run_resource(
        BOUNDARY_RULE, t.IAM_ROLE, {**ROLE, "assumeRolePolicy": denied}
    ).not_applicable
    unknown = {**ROLE, "assumeRolePolicy": UNKNOWN_STRING_VALUE}
    assert run_resource(BOUNDARY_RULE, t.IAM_ROLE, unknown).deferred
