"""CKV_AWS_287: no grant on every resource of actions that hand out credentials."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.rules.iam._actions import credential_exposures
from hipaa_guardrails.rules.iam._documents import DOCUMENT_TYPES, document_findings
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    yield from document_findings(
        resource,
        lambda label, document: (
            f"{label}: {problem}" for problem in credential_exposures(document)
        ),
    )


RULE = Guardrail(
    name="hipaa-iam-no-credentials-exposure",
    catalog_id="custom",
    title="IAM grants no credentials on every resource",
    description=(
        "IAM policies must not grant, on every resource (*), actions whose response carries "
        "credentials: access keys and passwords (iam:CreateAccessKey, iam:CreateLoginProfile), "
        "role and session credentials (sts:AssumeRole, sts:GetSessionToken, "
        "sts:GetFederationToken), secrets (secretsmanager:GetSecretValue), database and "
        "registry tokens (rds-db:connect, redshift:GetClusterCredentials, "
        "ecr:GetAuthorizationToken) and the like."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.312(d)", "164.308(a)(4)(ii)(B)"),
    judgement=True,
    remediation=(
        "Name the role, secret, database user or user ARNs the principal needs "
        "(arn:aws:secretsmanager:<region>:<account>:secret:medeez-<env>-*, "
        "arn:aws:rds-db:<region>:<account>:dbuser:<resource-id>/<user>)."
    ),
    unknowns=(
        "A policy document that is unknown during preview defers this rule to `pulumi up`. "
        "Conditions do not count as a constraint (as in Checkov): scope the Resource."
    ),
    scope=Scope.RESOURCE,
    resource_types=DOCUMENT_TYPES,
    check=check,
    checkov="CKV_AWS_287",
)
