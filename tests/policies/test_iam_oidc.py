"""OIDC trust (CKV_AWS_393): a role trusting a web identity provider names the subjects it lets
in by their ``sub`` claim; GitHub's must lead with one repository.

Each case starts from the stack's own deploy-role trust (GitHub Actions, one repository in one
environment) and changes one thing.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hipaa_guardrails import resource_types as t

from tests.policies.fixtures import ROLE, TRUST
from tests.policies.support import UNKNOWN_STRING_VALUE, as_json, run_resource
from tools.plan import Plan

RULE = "hipaa-iam-oidc-trust-sub-scoped"
GITHUB = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::111122223333:oidc-provider/{GITHUB}"
EKS = "oidc.eks.us-east-1.amazonaws.com/id/5C5A1E0B7D2E"

BASELINE: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "GitHubActionsOfThisRepositoryEnvironment",
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{GITHUB}:aud": "sts.amazonaws.com",
                    f"{GITHUB}:sub": "repo:medeez/medeez-platform:environment:dev",
                }
            },
        }
    ],
}


def trust(**changes: Any) -> dict[str, Any]:
    """The baseline statement with ``changes`` (None removes a field)."""
    document = copy.deepcopy(BASELINE)
    statement = document["Statement"][0]
    for key, value in changes.items():
        if value is None:
            statement.pop(key)
        else:
            statement[key] = value
    return document


def run(document: Any):
    return run_resource(RULE, t.IAM_ROLE, {**ROLE, "assumeRolePolicy": as_json(document)})


def sub(value: Any, operator: str = "StringEquals", issuer: str = GITHUB) -> dict[str, Any]:
    return {operator: {f"{issuer}:aud": "sts.amazonaws.com", f"{issuer}:sub": value}}


def test_baseline_passes():
    assert run(BASELINE).passed


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (trust(Condition={"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}}), "without a"),
        (trust(Condition=sub("*", "StringLike")), "'*' matches any subject"),
        (trust(Condition=sub("repo:*", "StringLike")), "matches any subject"),
        (trust(Condition=sub("repo:medeez*", "StringLike")), "does not name one repository"),
        (trust(Condition=sub("environment:prod")), "leads with the environment claim"),
        (trust(Condition=sub("workflow:deploy")), "leads with the workflow claim"),
        (trust(Condition=sub("repo:medeez/medeez-platform:*", "StringLike")), None),
        (trust(Condition=sub("repo:medeez@1234/medeez-platform@5678:ref:refs/heads/main")), None),
        (trust(Condition=sub("repo:medeez/x", "StringNotEquals")), "without a"),
        # GitHub Enterprise issuers carry the enterprise slug: judged the same way.
        (
            trust(
                Principal={"Federated": f"{PROVIDER}/medeez"},
                Condition=sub("ref:refs/heads/main", issuer=f"{GITHUB}/medeez"),
            ),
            "leads with the ref claim",
        ),
        # Any other OIDC issuer needs a sub condition too.
        (
            trust(
                Principal={"Federated": f"arn:aws:iam::111122223333:oidc-provider/{EKS}"},
                Condition={"StringEquals": {f"{EKS}:aud": "sts.amazonaws.com"}},
            ),
            f"without a StringEquals/StringLike condition on {EKS}:sub",
        ),
        (
            trust(
                Principal={"Federated": f"arn:aws:iam::111122223333:oidc-provider/{EKS}"},
                Condition={"StringEquals": {f"{EKS}:sub": "system:serviceaccount:audit:tools"}},
            ),
            None,
        ),
        (
            trust(Principal={"Federated": "cognito-identity.amazonaws.com"}, Condition=None),
            "identities of cognito-identity.amazonaws.com",
        ),
        (trust(Action="sts:AssumeRoleWith*", Condition=None), "without a"),
    ],
)
def test_oidc_trust(document, expected):
    outcome = run(document)
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


def test_checkov_failing_example():
    # A GitHub trust that checks only the audience: any repository's workflow gets in.
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringLike": {f"{GITHUB}:aud": "sts.amazonaws.com"}},
            }
        ],
    }
    assert (
        run(document)
        .violations[0]
        .startswith(
            f"trust statement #1 lets identities of {GITHUB} assume the role without a "
            f"StringEquals/StringLike condition on {GITHUB}:sub"
        )
    )


def test_roles_without_web_identity_trust_are_not_judged():
    assert run(TRUST).not_applicable == "no web-identity (OIDC) trust"
    saml = trust(
        Principal={"Federated": "arn:aws:iam::111122223333:saml-provider/okta"},
        Action="sts:AssumeRoleWithSAML",
        Condition=None,
    )
    assert run(saml).not_applicable


def test_unknown_trust_defers_to_the_update():
    outcome = run_resource(RULE, t.IAM_ROLE, {**ROLE, "assumeRolePolicy": UNKNOWN_STRING_VALUE})
    assert outcome.deferred


@pytest.mark.parametrize("plan_name", ["dev_plan", "prod_plan"])
def test_the_stacks_deploy_role_passes(plan_name: str, request: pytest.FixtureRequest):
    plan: Plan = request.getfixturevalue(plan_name)
    document = json.loads(plan.named("access-deploy").inputs["assumeRolePolicy"])
    assert run(document).passed
