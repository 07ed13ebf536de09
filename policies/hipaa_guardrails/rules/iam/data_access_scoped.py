"""I3: actions that reach PHI or its keys are granted on named resources, never on *."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.iam import data_actions_on_any_resource
from hipaa_guardrails.rules.iam._documents import DOCUMENT_TYPES, document_findings
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    yield from document_findings(
        resource,
        lambda label, document: (
            f"{label}: {problem}; scope it to the table, index, stream, key or topic ARNs"
            for problem in data_actions_on_any_resource(document)
        ),
    )


RULE = Guardrail(
    name="hipaa-iam-data-access-scoped",
    catalog_id="I3",
    title="IAM data access scoped to resources",
    description=(
        "IAM policies must not grant data-plane actions on PHI stores or their keys (DynamoDB "
        "items, KMS decrypt, S3 objects, SNS publish, secrets) on resource *."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.308(a)(4)(ii)(B)"),
    remediation="Set Resource to the exact ARNs (table and table/index/*, key, topic).",
    unknowns="A policy document that is unknown during preview defers this rule to `pulumi up`.",
    scope=Scope.RESOURCE,
    resource_types=DOCUMENT_TYPES,
    check=check,
    aws_config="iam-customer-policy-blocked-kms-actions, iam-inline-policy-blocked-kms-actions",
    cdk_nag="AwsSolutions-IAM5",
    checkov="CKV_AWS_355, CKV_AWS_288",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "iam-customer-policy-blocked-kms-actions.html"
    ),
)
