"""I4: only named principals can assume a role."""

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.iam import open_principal_statements, sid
from hipaa_guardrails.props import as_list, get, policy_document, statements
from hipaa_guardrails.resource_types import IAM_ROLE
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(role: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    try:
        document = policy_document(get(role.props, "assumeRolePolicy"), "assumeRolePolicy")
    except ValueError as exc:
        yield str(exc)
        return
    if document is None:
        yield "assumeRolePolicy is not set"
        return
    for open_sid in open_principal_statements(document):
        yield f"trust statement {open_sid} lets any principal (*) assume the role"
    for index, statement in enumerate(statements(document)):
        principal = statement.get("Principal")
        federated = as_list(principal.get("Federated")) if isinstance(principal, dict) else []
        if statement.get("Effect") != "Allow" or not federated:
            continue
        if not statement.get("Condition"):
            yield (
                f"trust statement {sid(statement, index)} trusts {', '.join(map(str, federated))} "
                "without a condition (any identity of that provider could assume the role)"
            )
            continue
        if any(str(f).endswith(f"oidc-provider/{GITHUB_OIDC}") for f in federated):
            yield from _github_findings(sid(statement, index), statement)


#: GitHub Actions' OIDC issuer: its tokens' ``sub`` names the repository and the job's context.
GITHUB_OIDC = "token.actions.githubusercontent.com"
#: ``repo:<owner>/<name>:`` followed by a context (environment, ref, pull_request), no wildcard
#: in the repository.
_GITHUB_SUB = re.compile(r"^repo:[A-Za-z0-9-]+/[A-Za-z0-9._-]+:[^*?]*[^*?:]$")


def _github_findings(where: str, statement: Mapping[str, Any]) -> Iterator[str]:
    """GitHub's OIDC trust: ``aud`` must be STS, and ``sub`` one repository in one context, or
    every repository on GitHub (or every branch and fork PR of ours) could assume the role."""
    condition = statement.get("Condition")
    blocks = condition if isinstance(condition, Mapping) else {}

    def values(claim: str) -> list[str]:
        found: list[str] = []
        for operator in ("StringEquals", "StringLike"):
            block = blocks.get(operator)
            if isinstance(block, Mapping) and f"{GITHUB_OIDC}:{claim}" in block:
                found += [str(v) for v in as_list(block[f"{GITHUB_OIDC}:{claim}"])]
        return found

    subs = values("sub")
    if not subs:
        yield (
            f"trust statement {where} trusts GitHub Actions without a StringEquals condition on "
            f"{GITHUB_OIDC}:sub, so any repository's workflow could assume the role"
        )
    for sub in subs:
        if not _GITHUB_SUB.match(sub):
            yield (
                f"trust statement {where}: {GITHUB_OIDC}:sub '{sub}' is not one repository in "
                "one context (repo:<owner>/<name>:environment:<env> or :ref:<ref>, no wildcard)"
            )
    if values("aud") != ["sts.amazonaws.com"]:
        yield f"trust statement {where} does not require {GITHUB_OIDC}:aud = sts.amazonaws.com"


RULE = Guardrail(
    name="hipaa-iam-trust-policy-scoped",
    catalog_id="I4",
    title="IAM trust policy scoped",
    description=(
        "Role trust policies must name who may assume the role: no wildcard principal, and "
        "federated principals only with conditions; GitHub Actions' OIDC only with aud = STS and "
        "a sub naming one repository in one environment or ref, without wildcards."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.312(d)"),
    judgement=True,
    remediation=(
        "Trust a service principal (backup.amazonaws.com) or a federated provider with "
        "StringEquals conditions on its aud/sub claims."
    ),
    unknowns="A trust policy that is unknown during preview defers this rule to `pulumi up`.",
    scope=Scope.RESOURCE,
    resource_types=(IAM_ROLE,),
    check=check,
    checkov="CKV_AWS_60, CKV_AWS_61, CKV_AWS_393",
)
