"""I4: only named principals can assume a role."""

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
        if statement.get("Effect") == "Allow" and federated and not statement.get("Condition"):
            yield (
                f"trust statement {sid(statement, index)} trusts {', '.join(map(str, federated))} "
                "without a condition (any identity of that provider could assume the role)"
            )


RULE = Guardrail(
    name="hipaa-iam-trust-policy-scoped",
    catalog_id="I4",
    title="IAM trust policy scoped",
    description=(
        "Role trust policies must name who may assume the role: no wildcard principal, and "
        "federated principals only with conditions (e.g. the OIDC sub claim)."
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
    checkov="CKV_AWS_60, CKV_AWS_61",
)
