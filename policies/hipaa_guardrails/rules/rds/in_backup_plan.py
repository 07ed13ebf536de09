"""R4: every RDS instance is selected by an AWS Backup plan of the stack."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, items_of
from hipaa_guardrails.resource_types import BACKUP_PLAN, BACKUP_SELECTION, RDS_INSTANCE
from hipaa_guardrails.spec import Finding, Guardrail, Resource, Scope, Stack


def _names_db(arn: Any, db: Resource) -> bool:
    if not isinstance(arn, str):
        return False
    identifier = get(db.props, "identifier")
    if arn in ("*", "arn:aws:rds:*:*:db:*"):
        return True
    return isinstance(identifier, str) and arn.endswith(f":db:{identifier}")


def _selects(selection: Resource, db: Resource) -> bool:
    if db in selection.deps_of("notResources"):
        return False
    if db in selection.deps_of("resources"):
        return True
    return any(_names_db(arn, db) for arn in items_of(get(selection.props, "resources")))


def _has_plan(selection: Resource) -> bool:
    plan_id = get(selection.props, "planId")
    on_plan = any(dep.type == BACKUP_PLAN for dep in selection.deps_of("planId"))
    return on_plan or plan_id is UNKNOWN or (isinstance(plan_id, str) and plan_id != "")


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    selections = [s for s in stack.of_type(BACKUP_SELECTION) if _has_plan(s)]
    for db in stack.of_type(RDS_INSTANCE):
        if not any(_selects(s, db) for s in selections):
            yield Finding(
                f"RDS instance {db.name} is not selected by any AWS Backup selection of the "
                "stack (by resources, via a dependency on the instance or its ARN)",
                db.urn,
            )


RULE = Guardrail(
    name="hipaa-rds-in-backup-plan",
    catalog_id="R4",
    title="RDS instance is in a backup plan",
    description="Every RDS instance must be selected by an AWS Backup plan of the stack.",
    severity=Severity.HIGH,
    controls=("164.308(a)(7)(i)", "164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"),
    remediation=(
        "Add the instance's ARN to an aws.backup.Selection of the plan (CrossRegionBackup's "
        "database_arns does this)."
    ),
    unknowns=(
        "Judged from the engine's property dependencies, so an unknown instance ARN still "
        "counts when the selection's `resources` was computed from the instance."
    ),
    scope=Scope.STACK,
    check=check,
    aws_config="rds-in-backup-plan",
    cdk_nag="HIPAA.Security-RDSInBackupPlan",
    checkov="CKV2_AWS_8",
    url="https://docs.aws.amazon.com/config/latest/developerguide/rds-in-backup-plan.html",
)
