"""I6: a role that people or workloads can assume carries a permissions boundary."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import as_list, get, is_present, policy_document, statements
from hipaa_guardrails.resource_types import IAM_ROLE
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope


def _assumable_by_non_services(document: Mapping[str, Any]) -> list[str]:
    """The AWS and federated principals an Allow statement of the trust policy names."""
    found: list[str] = []
    for statement in statements(document):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        if principal == "*":
            found.append("*")
        elif isinstance(principal, Mapping):
            for kind in ("AWS", "Federated"):
                found += [str(p) for p in as_list(principal.get(kind))]
    return found


def check(role: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    try:
        document = policy_document(get(role.props, "assumeRolePolicy"), "assumeRolePolicy")
    except ValueError as exc:
        yield str(exc)
        return
    if document is None:
        raise NotApplicable("no trust policy (I4 reports it)")
    principals = _assumable_by_non_services(document)
    if not principals:
        raise NotApplicable("only AWS services may assume the role")
    if not is_present(get(role.props, "permissionsBoundary")):
        shown = ", ".join(principals[:2]) + (", ..." if len(principals) > 2 else "")
        yield (
            f"the role can be assumed by {shown} and has no permissionsBoundary, so a policy "
            "attached to it later (or by it) is its only limit"
        )


RULE = Guardrail(
    name="hipaa-iam-role-permissions-boundary",
    catalog_id="I6",
    title="Assumable roles carry a permissions boundary",
    description=(
        "A role that people, workloads or federated identities can assume must carry a "
        "permissions boundary, so no policy attached later can give it more than its ceiling."
    ),
    severity=Severity.HIGH,
    controls=("164.308(a)(4)(ii)(B)", "164.312(a)(1)"),
    judgement=True,
    remediation=(
        "Set permissionsBoundary to the stack's boundary policy (medeez-<env>-boundary); roles "
        "trusted only by AWS service principals are not judged."
    ),
    unknowns=(
        "A boundary ARN unknown during preview counts as present; an unknown trust policy "
        "defers the rule to `pulumi up`."
    ),
    scope=Scope.RESOURCE,
    resource_types=(IAM_ROLE,),
    check=check,
    checkov="CKV_AWS_286, CKV_AWS_289",
)
