"""D9: item access to a table is confined to the caller's tenant (dynamodb:LeadingKeys)."""

import fnmatch
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.iam import actions, sid
from hipaa_guardrails.props import as_list, statements
from hipaa_guardrails.rules.iam._documents import DOCUMENT_TYPES, document_findings
from hipaa_guardrails.spec import Guardrail, Resource, Scope

#: Item actions a LeadingKeys condition can confine to one partition-key prefix.
ITEM_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
#: Actions that read across partitions and cannot be tenant-scoped at all.
CROSS_TENANT_ACTIONS = ("dynamodb:Scan", "dynamodb:PartiQLSelect")
OPERATORS = (
    "ForAllValues:StringEquals",
    "ForAllValues:StringLike",
)


def _granted(statement: Mapping[str, Any], candidates: tuple[str, ...]) -> list[str]:
    patterns = [a.lower() for a in actions(statement)]
    return [c for c in candidates if any(fnmatch.fnmatchcase(c.lower(), p) for p in patterns)]


def _on_tables(statement: Mapping[str, Any], pattern: re.Pattern[str]) -> bool:
    return any(r == "*" or pattern.fullmatch(str(r)) for r in as_list(statement.get("Resource")))


def _leading_keys_condition(statement: Mapping[str, Any]) -> bool:
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return False
    return any(
        isinstance(condition.get(op), Mapping) and "dynamodb:LeadingKeys" in condition[op]
        for op in OPERATORS
    )


def check(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    pattern = re.compile(str(config["tableArnPattern"]))
    yield from document_findings(
        resource, lambda label, document: _findings(label, document, pattern)
    )


def _findings(label: str, document: dict[str, Any], pattern: re.Pattern[str]) -> Iterator[str]:
    for index, statement in enumerate(statements(document)):
        if statement.get("Effect") != "Allow" or not _on_tables(statement, pattern):
            continue
        where = f"{label}: statement {sid(statement, index)}"
        cross = _granted(statement, CROSS_TENANT_ACTIONS)
        if cross:
            yield f"{where} allows {', '.join(cross)}, which reads every tenant's items"
        items = _granted(statement, ITEM_ACTIONS)
        if items and not _leading_keys_condition(statement):
            shown = ", ".join(items[:3]) + (", ..." if len(items) > 3 else "")
            yield (
                f"{where} allows {shown} without a ForAllValues:StringEquals/StringLike "
                "condition on dynamodb:LeadingKeys, so one tenant could read another's items"
            )


RULE = Guardrail(
    name="hipaa-iam-tenant-leading-keys",
    catalog_id="D9",
    title="Table item access confined to the tenant",
    description=(
        "IAM grants of item actions on DynamoDB tables must carry a dynamodb:LeadingKeys "
        "condition, and must not grant cross-tenant reads (Scan, PartiQL select)."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.308(a)(4)(ii)(B)", "164.308(a)(4)(ii)(C)"),
    remediation=(
        "Add Condition ForAllValues:StringLike {'dynamodb:LeadingKeys': ['CLINIC#${aws:PrincipalTag"
        "/clinicId}*']} to the statement; give Scan only to audited admin or export roles, through "
        "an exemption with a ticket."
    ),
    unknowns=(
        "A policy document that is unknown during preview (built from the table ARN) defers "
        "this rule to `pulumi up`."
    ),
    scope=Scope.RESOURCE,
    resource_types=DOCUMENT_TYPES,
    check=check,
    config_properties={
        "tableArnPattern": {
            "type": "string",
            "minLength": 1,
            "default": r"arn:aws[a-z-]*:dynamodb:[^:]*:[^:]*:table/.*",
            "description": "Regular expression of the table (and index) ARNs this rule protects.",
        }
    },
)
