"""D3: every table is selected by an AWS Backup plan of the stack."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, items_of
from hipaa_guardrails.resource_types import BACKUP_PLAN, BACKUP_SELECTION, TABLE
from hipaa_guardrails.spec import Finding, Guardrail, Resource, Scope, Stack


def _names_table(arn: Any, table: Resource) -> bool:
    if not isinstance(arn, str):
        return False
    name = get(table.props, "name")
    if arn in ("*", "arn:aws:dynamodb:*:*:table/*"):
        return True
    return isinstance(name, str) and arn.endswith(f":table/{name}")


def _tags_match(selection: Resource, table: Resource) -> bool:
    tags = get(table.props, "tags")
    if not isinstance(tags, dict):
        return False
    for condition in items_of(get(selection.props, "selectionTags")):
        if not isinstance(condition, dict) or condition.get("type") != "STRINGEQUALS":
            continue
        if tags.get(condition.get("key")) == condition.get("value"):
            return True
    return False


def _selects(selection: Resource, table: Resource) -> bool:
    if table in selection.deps_of("notResources"):
        return False
    if table in selection.deps_of("resources"):
        return True
    listed = items_of(get(selection.props, "resources"))
    return any(_names_table(arn, table) for arn in listed) or _tags_match(selection, table)


def _has_plan(selection: Resource) -> bool:
    plan_id = get(selection.props, "planId")
    on_plan = any(dep.type == BACKUP_PLAN for dep in selection.deps_of("planId"))
    # A plan id computed from a plan of the stack, or a literal/unknown id that is set.
    return on_plan or plan_id is UNKNOWN or (isinstance(plan_id, str) and plan_id != "")


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    selections = [s for s in stack.of_type(BACKUP_SELECTION) if _has_plan(s)]
    for table in stack.of_type(TABLE):
        if not any(_selects(s, table) for s in selections):
            yield Finding(
                f"table {table.name} is not selected by any AWS Backup selection of the stack "
                "(by resources, via a dependency on the table or its ARN, or by tag)",
                table.urn,
            )


RULE = Guardrail(
    name="hipaa-dynamodb-in-backup-plan",
    catalog_id="D3",
    title="DynamoDB table is in a backup plan",
    description="Every DynamoDB table must be selected by an AWS Backup plan of the stack.",
    severity=Severity.HIGH,
    controls=("164.308(a)(7)(i)", "164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"),
    remediation=(
        "Add an aws.backup.Selection with plan_id=<plan>.id and resources=[<table>.arn] "
        "(the CrossRegionBackup component does this for the table it is given)."
    ),
    unknowns=(
        "Judged from the engine's property dependencies, so an unknown table ARN still counts "
        "when the selection's `resources` was computed from the table."
    ),
    scope=Scope.STACK,
    check=check,
    aws_config="dynamodb-in-backup-plan",
    cdk_nag="HIPAA.Security-DynamoDBInBackupPlan",
    url="https://docs.aws.amazon.com/config/latest/developerguide/dynamodb-in-backup-plan.html",
)
