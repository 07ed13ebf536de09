"""B6: every table in a backup plan is also restore-tested (AWS Backup restore testing)."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, items_of
from hipaa_guardrails.resource_types import (
    BACKUP_RESTORE_TESTING_PLAN,
    BACKUP_RESTORE_TESTING_SELECTION,
    BACKUP_SELECTION,
    TABLE,
)
from hipaa_guardrails.rules.dynamodb.in_backup_plan import _selects
from hipaa_guardrails.spec import Finding, Guardrail, NotApplicable, Resource, Scope, Stack


def _tests(selection: Resource, table: Resource) -> bool:
    if table in selection.deps_of("protectedResourceArns"):
        return True
    name = get(table.props, "name")
    return any(
        isinstance(arn, str) and isinstance(name, str) and arn.endswith(f":table/{name}")
        for arn in items_of(get(selection.props, "protectedResourceArns"))
    )


def _on_plan(selection: Resource, stack: Stack) -> bool:
    if any(
        d.type == BACKUP_RESTORE_TESTING_PLAN for d in selection.deps_of("restoreTestingPlanName")
    ):
        return True
    name = get(selection.props, "restoreTestingPlanName")
    if name is UNKNOWN:
        return False
    return any(get(p.props, "name") == name for p in stack.of_type(BACKUP_RESTORE_TESTING_PLAN))


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    if not config["required"]:
        raise NotApplicable("restore testing is not required by this stack's pack config")
    backed_up = [
        table
        for table in stack.of_type(TABLE)
        if any(_selects(s, table) for s in stack.of_type(BACKUP_SELECTION))
    ]
    tested = [s for s in stack.of_type(BACKUP_RESTORE_TESTING_SELECTION) if _on_plan(s, stack)]
    for table in backed_up:
        if not any(_tests(selection, table) for selection in tested):
            yield Finding(
                f"table {table.name} is backed up but no restore testing selection of a restore "
                "testing plan restores it, so nothing proves its recovery points restore",
                table.urn,
            )


RULE = Guardrail(
    name="hipaa-backup-restore-tested",
    catalog_id="B6",
    title="Backed-up tables are restore-tested",
    description=(
        "Every table in an AWS Backup selection must also be in a restore testing selection of a "
        "restore testing plan, so its recovery points are restored on a schedule."
    ),
    severity=Severity.HIGH,
    controls=("164.308(a)(7)(ii)(D)", "164.308(a)(7)(ii)(B)"),
    judgement=True,
    remediation=(
        "Add aws.backup.RestoreTestingPlan and aws.backup.RestoreTestingSelection with "
        "protected_resource_arns=[table.arn] (config: recovery.restoreTesting)."
    ),
    unknowns=(
        "Selections are matched to tables and plans by property dependency, so unknown ARNs "
        "and names computed from stack resources match; an unknown literal plan name does not."
    ),
    scope=Scope.STACK,
    resource_types=(BACKUP_RESTORE_TESTING_PLAN, BACKUP_RESTORE_TESTING_SELECTION),
    check=check,
    url="https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html",
    config_properties={
        "required": {
            "type": "boolean",
            "default": True,
            "description": "Whether backed-up tables must be restore-tested.",
        }
    },
)
