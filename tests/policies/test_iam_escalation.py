"""IAM risk rules after Checkov's Cloudsplaining checks: privilege escalation (CKV_AWS_286),
credentials exposure (CKV_AWS_287), permissions management (CKV_AWS_289) and write access
(CKV_AWS_290) granted on every resource.

Each case starts from one compliant, deploy-role-like document and changes one thing.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from typing import Any

import pytest
from hipaa_guardrails import resource_types as t

from tests.policies.fixtures import MANAGED_POLICY, ROLE
from tests.policies.support import as_json, run_resource
from tools.plan import Plan

ESCALATION = "hipaa-iam-no-privilege-escalation"
CREDENTIALS = "hipaa-iam-no-credentials-exposure"
PERMISSIONS = "hipaa-iam-no-unconstrained-permissions-management"
WRITE = "hipaa-iam-no-unconstrained-write"
RULES = (ESCALATION, CREDENTIALS, PERMISSIONS, WRITE)

ACCOUNT = "111122223333"
VPC = f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/vpc-0a1b2c3d"

#: What a stack's deploy and workload roles hold: risky actions, all on named resources, and
#: the wildcard-only or conditioned grants AWS requires.
BASELINE: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ManageTheStackRoles",
            "Effect": "Allow",
            "Action": [
                "iam:PassRole",
                "iam:CreatePolicyVersion",
                "iam:SetDefaultPolicyVersion",
                "iam:AttachRolePolicy",
                "iam:PutRolePolicy",
                "iam:UpdateAssumeRolePolicy",
            ],
            "Resource": [
                f"arn:aws:iam::{ACCOUNT}:role/medeez-dev-*",
                f"arn:aws:iam::{ACCOUNT}:policy/medeez-dev-*",
            ],
        },
        {
            "Sid": "DeployTheStackFunctions",
            "Effect": "Allow",
            "Action": ["lambda:CreateFunction", "lambda:UpdateFunctionCode"],
            "Resource": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:medeez-dev-*",
        },
        {
            "Sid": "ReadTheDatabaseSecret",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:medeez-dev-*",
        },
        {
            "Sid": "ListStreams",
            "Effect": "Allow",
            "Action": "dynamodb:ListStreams",
            "Resource": "*",
        },
        {
            "Sid": "PublishMetrics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
        },
        {
            "Sid": "NetworkInterfacesInTheVpc",
            "Effect": "Allow",
            "Action": ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"],
            "Resource": "*",
            "Condition": {"ArnEquals": {"ec2:Vpc": VPC}},
        },
        {
            "Sid": "NoBoundaryRemoval",
            "Effect": "Deny",
            "Action": "iam:DeleteRolePermissionsBoundary",
            "Resource": "*",
        },
    ],
}


def changed(index: int | None = None, **fields: Any) -> dict[str, Any]:
    """The baseline with statement ``index`` changed (a field set to None is removed), or with
    one statement appended when ``index`` is None."""
    document = copy.deepcopy(BASELINE)
    if index is None:
        document["Statement"].append({"Effect": "Allow", **fields})
        return document
    statement = document["Statement"][index]
    for key, value in fields.items():
        if value is None:
            statement.pop(key, None)
        else:
            statement[key] = value
    return document


def run(rule: str, document: dict[str, Any], type_: str = t.IAM_POLICY):
    if type_ == t.IAM_ROLE:
        props = {**ROLE, "inlinePolicies": [{"name": "p", "policy": as_json(document)}]}
    else:
        props = {**MANAGED_POLICY, "policy": as_json(document)}
    return run_resource(rule, type_, props)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("type_", [t.IAM_POLICY, t.IAM_ROLE_POLICY, t.IAM_ROLE])
def test_baseline_passes(rule, type_):
    outcome = run(rule, BASELINE, type_)
    assert outcome.violations == [], outcome


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        # The stack's role management widened to every role and policy of the account.
        (changed(0, Resource="*"), "privilege escalation by rewriting any managed policy"),
        (changed(0, Action="iam:PassRole", Resource="*"), "passing any role to a service"),
        (
            changed(0, Action="iam:PassRole", Resource="*", Condition={"StringEquals": {"x": "y"}}),
            "passing any role",  # a condition is no constraint here, as in Checkov
        ),
        (changed(1, Resource="*"), "new code in any function"),
        (changed(None, Action="iam:Put*", Resource="*"), "inline policies on any role"),
        (
            changed(None, NotAction=["s3:*"], Resource="*"),
            "privilege escalation by access keys for any user",
        ),
        (
            changed(None, Action="iam:UpdateAssumeRolePolicy", NotResource="arn:aws:iam::1:x"),
            "rewriting any role's trust policy",
        ),
        (
            changed(None, Action=["ec2:RunInstances"], Resource="*"),
            None,  # RunInstances alone needs PassRole on every role too
        ),
        (changed(None, Action="iam:GetRole", Resource="*"), None),
    ],
)
def test_privilege_escalation(document, expected):
    outcome = run(ESCALATION, document)
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]
        assert outcome.violations[0].startswith("policy: statement ")


def test_escalation_combination_is_named_with_its_actions():
    # Checkov's PassExistingRoleToNewLambdaThenInvoke: all three on every resource.
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"],
                "Resource": "*",
            }
        ],
    }
    [violation] = run(ESCALATION, document).violations
    assert violation.startswith(
        "policy: statement #1 allows iam:PassRole, lambda:CreateFunction, "
        "lambda:InvokeFunction on every resource (*): privilege escalation by passing any role "
        "to a service, any role on a new function, invoked"
    )


def test_an_unconditional_deny_on_every_resource_removes_the_escalation():
    document = changed(0, Action="iam:PassRole", Resource="*")
    document["Statement"].append({"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"})
    assert run(ESCALATION, document).passed


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            changed(2, Resource="*"),
            "statement 'ReadTheDatabaseSecret' allows secretsmanager:GetSecretValue",
        ),
        (changed(None, Action="sts:AssumeRole", Resource="*"), "sts:AssumeRole"),
        (changed(None, Action="ecr:GetAuthorizationToken", Resource="*"), "ecr:GetAuth"),
        (changed(None, Action="rds-db:*", Resource=["*"]), "rds-db:connect"),
        (changed(None, Action="sts:AssumeRole", Resource=f"arn:aws:iam::{ACCOUNT}:role/x"), None),
    ],
)
def test_credentials_exposure(document, expected):
    outcome = run(CREDENTIALS, document)
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]
        assert "return credentials, tokens or passwords" in outcome.violations[0]


def test_credentials_checkov_example():
    # The shape of Checkov's failing CKV_AWS_287 example: key and session-token minting on *.
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Creds",
                "Effect": "Allow",
                "Action": ["iam:CreateAccessKey", "sts:GetSessionToken", "s3:ListBucket"],
                "Resource": "*",
            }
        ],
    }
    assert (
        run(CREDENTIALS, document)
        .violations[0]
        .startswith(
            "policy: statement 'Creds' allows iam:CreateAccessKey, sts:GetSessionToken on every "
            "resource (*)"
        )
    )


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (changed(0, Resource="*"), "iam:CreatePolicyVersion, iam:SetDefaultPolicyVersion"),
        (changed(None, Action=["s3:PutBucketPolicy", "kms:PutKeyPolicy"], Resource="*"), "s3:Put"),
        (changed(None, Action="kms:CreateGrant", Resource="*"), "kms:CreateGrant"),
        (changed(None, Action="sns:SetTopicAttributes", Resource="*"), "sns:SetTopicAttributes"),
        (changed(None, Action="s3:*Policy", Resource="*"), "s3:*Policy"),
        (changed(None, NotAction="s3:GetObject", Resource="*"), "every action but s3:GetObject"),
        (
            changed(
                None,
                Action="kms:CreateGrant",
                Resource="*",
                Condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
            None,
        ),
        (changed(None, Action="iam:GetPolicy", Resource="*"), None),
    ],
)
def test_permissions_management(document, expected):
    outcome = run(PERMISSIONS, document)
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]
        assert "without a condition: it can change who may do what" in outcome.violations[0]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (changed(5, Condition=None), "ec2:CreateNetworkInterface, ec2:DeleteNetworkInterface"),
        (changed(1, Resource="*"), "lambda:CreateFunction, lambda:UpdateFunctionCode"),
        (changed(None, Action=["dynamodb:DeleteTable", "s3:DeleteBucket"], Resource="*"), "Del"),
        (changed(None, Action="s3:Put*", Resource="*"), "s3:Put*"),
        (changed(None, Action="dynamodb:*Item", Resource="*"), "dynamodb:*Item"),
        (changed(None, Action=["dynamodb:Describe*", "s3:List*"], Resource="*"), None),
        (changed(None, Action="xray:PutTraceSegments", Resource="*"), None),
        (changed(None, Action="s3:PutObject", Resource="arn:aws:s3:::medeez-dev-x/*"), None),
    ],
)
def test_write_access(document, expected):
    outcome = run(WRITE, document)
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]
        assert "it can change or delete any resource" in outcome.violations[0]


def test_write_is_advisory_and_the_others_mandatory():
    from hipaa_guardrails.registry import rule
    from pulumi_policy import EnforcementLevel

    assert rule(WRITE).enforcement is EnforcementLevel.ADVISORY
    for name in (ESCALATION, CREDENTIALS, PERMISSIONS):
        assert rule(name).enforcement is EnforcementLevel.MANDATORY


def _plan_document(plan: Plan, name: str) -> dict[str, Any]:
    return json.loads(plan.named(name).inputs["policy"])


def _grants(statement: dict[str, Any], action: str) -> bool:
    patterns = (
        statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    )
    return statement["Effect"] == "Allow" and any(fnmatch.fnmatchcase(action, p) for p in patterns)


@pytest.mark.parametrize("name", ["access-deploy-policy", "access-boundary"])
def test_the_stacks_own_deploy_policy_passes_until_widened(dev_plan: Plan, name: str):
    document = _plan_document(dev_plan, name)
    for rule in RULES:
        assert run(rule, document).passed, (rule, name)
    # The same document with its role-and-policy statement and its pass-role statements (one
    # per service role, each for its service) on every resource escalates.
    widened = copy.deepcopy(document)
    passing = [s for s in widened["Statement"] if _grants(s, "iam:PassRole")]
    [managing] = [s for s in widened["Statement"] if _grants(s, "iam:AttachRolePolicy")]
    assert len(passing) == 5
    for statement in [*passing, managing]:
        statement["Resource"] = "*"
    assert "privilege escalation" in run(ESCALATION, widened).violations[0]
    assert "iam:Attach" in run(PERMISSIONS, widened).violations[0]


def test_the_gate_blocks_a_prod_plan_whose_deploy_role_passes_any_role(prod_plan: Plan):
    # The whole pack through the gate's run loop, as `make preview` runs it: the deploy
    # policy's role statements widened to every resource are a mandatory finding of two IAM
    # rules.
    from tests.policies.test_plans import analyze

    plan = prod_plan.to_json()
    [deploy] = [r for r in plan["resources"] if r["name"] == "access-deploy-policy"]
    document = json.loads(deploy["inputs"]["policy"])
    for statement in document["Statement"]:
        if _grants(statement, "iam:PassRole") or _grants(statement, "iam:AttachRolePolicy"):
            statement["Resource"] = "*"
    deploy["inputs"]["policy"] = json.dumps(document)
    mandatory = sorted({d.policy for d in analyze(plan, "prod") if d.mandatory})
    assert mandatory == [ESCALATION, PERMISSIONS]
