"""CKV_AWS_290: write access only on named resources or under a condition."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.rules.iam._actions import write_access
from hipaa_guardrails.rules.iam._documents import DOCUMENT_TYPES, document_findings
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    yield from document_findings(
        resource,
        lambda label, document: (f"{label}: {problem}" for problem in write_access(document)),
    )


RULE = Guardrail(
    name="hipaa-iam-no-unconstrained-write",
    catalog_id="custom",
    title="IAM write access is constrained",
    description=(
        "IAM policies should not grant write actions (Create, Put, Update, Delete, Modify, "
        "Start...) on every resource (*) without a condition; writes AWS cannot scope to a "
        "resource (cloudwatch:PutMetricData, xray:PutTraceSegments, kms:CreateKey) are exempt."
    ),
    severity=Severity.MEDIUM,
    controls=("164.312(c)(1)", "164.312(a)(1)"),
    judgement=True,
    remediation=(
        "Scope the statement to the stack's own ARNs (arn:aws:<service>:<region>:<account>:"
        "<type>/medeez-<env>-*) or add a Condition that confines it (aws:ResourceTag, "
        "ec2:Vpc, aws:RequestedRegion)."
    ),
    unknowns=(
        "A policy document that is unknown during preview defers this rule to `pulumi up`. "
        "Access levels are read from the action's verb (errs towards flagging); advisory, "
        "because a verb is not an access level."
    ),
    scope=Scope.RESOURCE,
    resource_types=DOCUMENT_TYPES,
    check=check,
    checkov="CKV_AWS_290",
)
