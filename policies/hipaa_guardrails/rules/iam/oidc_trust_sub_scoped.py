"""I4 (CKV_AWS_393): a web-identity trust names the subjects it lets in, by their ``sub`` claim."""

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.iam import sid
from hipaa_guardrails.props import as_list, get, policy_document, statements
from hipaa_guardrails.resource_types import IAM_ROLE
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope

#: Web identity providers IAM knows by name (no ``oidc-provider/`` ARN).
NAMED_PROVIDERS = (
    "cognito-identity.amazonaws.com",
    "accounts.google.com",
    "graph.facebook.com",
    "www.amazon.com",
)
#: GitHub Actions' issuer; GitHub Enterprise issuers append ``/<enterprise>``.
GITHUB = "token.actions.githubusercontent.com"
#: Claims that, leading a GitHub ``sub``, match workflows of any repository.
GITHUB_UNSAFE_LEADS = ("workflow", "environment", "ref", "context", "head_ref", "base_ref")
#: ``<owner>/<name>``, also GitHub's immutable form ``<owner>@<id>/<name>@<id>``.
GITHUB_REPO = re.compile(r"^[A-Za-z0-9_.-]+(@[0-9]+)?/[^/*?]+$")
#: Condition operators that constrain a claim to the listed values.
CONSTRAINING = re.compile(r"^(For(All|Any)Values:)?String(Equals|Like)(IgnoreCase)?$")


def issuer(principal: str) -> str | None:
    """The token issuer a federated principal stands for, or None for SAML and others."""
    if ":oidc-provider/" in principal:
        return principal.split(":oidc-provider/", 1)[1]
    return principal if principal in NAMED_PROVIDERS else None


def _web_identity(statement: Mapping[str, Any]) -> bool:
    wanted = "sts:assumerolewithwebidentity"
    patterns = [str(a).lower() for a in as_list(statement.get("Action"))]
    return any(re.fullmatch(re.escape(p).replace(r"\*", ".*"), wanted) for p in patterns)


def _sub_values(condition: Any, provider: str) -> list[str]:
    key = f"{provider}:sub".lower()
    found: list[str] = []
    if not isinstance(condition, Mapping):
        return found
    for operator, block in condition.items():
        if not CONSTRAINING.match(str(operator)) or not isinstance(block, Mapping):
            continue
        for name, values in block.items():
            if str(name).lower() == key:
                found += [str(v) for v in as_list(values)]
    return found


def _github_problem(value: str) -> str | None:
    claims = value.split(":")
    if value.strip("*?") == "" or len(claims) == 1 or claims[1].strip("*?") == "":
        return "matches any subject"
    lead = claims[0]
    if any(lead.startswith(unsafe) for unsafe in GITHUB_UNSAFE_LEADS):
        return f"leads with the {lead} claim, which workflows of any repository can carry"
    if lead == "repo" and not GITHUB_REPO.match(claims[1]):
        return "does not name one repository after repo: (<owner>/<name>)"
    return None


def check(role: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    try:
        document = policy_document(get(role.props, "assumeRolePolicy"), "assumeRolePolicy")
    except ValueError as exc:
        yield str(exc)
        return
    judged = False
    for index, statement in enumerate(statements(document or {})):
        principal = statement.get("Principal")
        federated = as_list(principal.get("Federated")) if isinstance(principal, Mapping) else []
        providers = [p for p in (issuer(str(f)) for f in federated) if p]
        if statement.get("Effect") != "Allow" or not providers or not _web_identity(statement):
            continue
        judged = True
        where = sid(statement, index)
        for provider in providers:
            values = _sub_values(statement.get("Condition"), provider)
            if not values:
                yield (
                    f"trust statement {where} lets identities of {provider} assume the role "
                    f"without a StringEquals/StringLike condition on {provider}:sub, so any "
                    "subject the provider issues tokens to could"
                )
                continue
            for value in values:
                github = provider == GITHUB or provider.startswith(f"{GITHUB}/")
                problem = (
                    _github_problem(value)
                    if github
                    else ("matches any subject" if value.strip("*?") == "" else None)
                )
                if problem:
                    yield f"trust statement {where}: {provider}:sub '{value}' {problem}"
    if not judged:
        raise NotApplicable("no web-identity (OIDC) trust")


RULE = Guardrail(
    name="hipaa-iam-oidc-trust-sub-scoped",
    catalog_id="I4",
    title="OIDC trust names its subjects",
    description=(
        "A role that trusts an OIDC identity provider (sts:AssumeRoleWithWebIdentity) must "
        "constrain the token's sub claim to named subjects; for GitHub Actions (and GitHub "
        "Enterprise issuers) the sub must lead with repo:<owner>/<name>, never with a "
        "workflow, environment, ref or context claim, and never be a bare wildcard."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.312(d)"),
    judgement=True,
    remediation=(
        "Add a StringEquals condition on <issuer>:sub naming the subject, e.g. "
        "token.actions.githubusercontent.com:sub = repo:<owner>/<name>:environment:<env> "
        "(and :aud = sts.amazonaws.com)."
    ),
    unknowns="A trust policy that is unknown during preview defers this rule to `pulumi up`.",
    scope=Scope.RESOURCE,
    resource_types=(IAM_ROLE,),
    check=check,
    checkov="CKV_AWS_393",
)
