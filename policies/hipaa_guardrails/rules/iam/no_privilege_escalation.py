"""CKV_AWS_286: no grant on every resource lets a principal raise its own privileges."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.rules.iam._actions import escalations
from hipaa_guardrails.rules.iam._documents import DOCUMENT_TYPES, document_findings
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    yield from document_findings(
        resource,
        lambda label, document: (f"{label}: {problem}" for problem in escalations(document)),
    )


RULE = Guardrail(
    name="hipaa-iam-no-privilege-escalation",
    catalog_id="custom",
    title="IAM grants no privilege escalation",
    description=(
        "IAM policies must not grant, on every resource (*), the actions of a known privilege "
        "escalation method: editing or attaching any policy, rewriting any trust policy, access "
        "keys or passwords for any user, passing any role, new code in any function, and the "
        "pass-role-then-run combinations of Lambda, EC2, ECS, Glue, CloudFormation, CodeBuild "
        "and SageMaker."
    ),
    severity=Severity.HIGH,
    controls=("164.308(a)(3)(ii)(A)", "164.308(a)(4)(ii)(C)", "164.312(a)(1)"),
    judgement=True,
    remediation=(
        "Name the resources: iam:PassRole and iam:*Policy* on the stack's own role and policy "
        "ARNs (arn:aws:iam::<account>:role/medeez-<env>-*), lambda:UpdateFunctionCode on the "
        "stack's functions; keep the permissions boundary on every role the principal creates."
    ),
    unknowns=(
        "A policy document that is unknown during preview defers this rule to `pulumi up`. "
        "Conditions do not count as a constraint (as in Checkov): scope the Resource."
    ),
    scope=Scope.RESOURCE,
    resource_types=DOCUMENT_TYPES,
    check=check,
    checkov="CKV_AWS_286",
    url="https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/",
)
