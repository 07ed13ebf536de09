"""B1: every backup rule runs at least daily and keeps recovery points long enough."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, get, items_of
from hipaa_guardrails.resource_types import BACKUP_PLAN
from hipaa_guardrails.rules.backup.schedule import runs_daily
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(plan: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    rules = items_of(get(plan.props, "rules"))
    if not rules:
        yield "the plan has no rules, so nothing is ever backed up"
        return
    minimum = int(config["minRetentionDays"])
    for index, rule in enumerate(rules):
        where = f"rules[{index}]"
        if rule is UNKNOWN:
            yield f"{where} is unknown during preview (fails closed)"
            continue
        name = get(rule, "ruleName")
        label = f"{where} ({name})" if isinstance(name, str) else where
        schedule = get(rule, "schedule")
        continuous = get(rule, "enableContinuousBackup")
        if schedule is UNKNOWN:
            yield f"{label}.schedule is unknown during preview (fails closed)"
        elif schedule is MISSING and continuous is not True:
            yield f"{label} has no schedule; set one that runs at least daily"
        elif isinstance(schedule, str) and not runs_daily(schedule):
            yield f"{label}.schedule {schedule} runs less often than daily"
        delete_after = get(rule, "lifecycle", "deleteAfter")
        if delete_after is UNKNOWN:
            yield f"{label}.lifecycle.deleteAfter is unknown during preview (fails closed)"
        elif delete_after is not MISSING and int(delete_after) < minimum:
            yield (
                f"{label} keeps recovery points {delete_after} days; this stack requires at "
                f"least {minimum}"
            )


RULE = Guardrail(
    name="hipaa-backup-plan-daily-with-retention",
    catalog_id="B1",
    title="Backup plan: daily, with minimum retention",
    description=(
        "Every AWS Backup plan rule must run at least daily and keep recovery points at least the "
        "stack's minimum retention."
    ),
    severity=Severity.HIGH,
    controls=("164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"),
    remediation=(
        "Give each plan rule a daily schedule such as cron(0 5 * * ? *) and "
        "lifecycle.delete_after >= the minimum (config: backup.schedule, backup.retentionDays)."
    ),
    unknowns=(
        "An unknown rule, schedule or retention fails closed; no lifecycle means kept forever."
    ),
    scope=Scope.RESOURCE,
    resource_types=(BACKUP_PLAN,),
    check=check,
    aws_config="backup-plan-min-frequency-and-min-retention-check",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "backup-plan-min-frequency-and-min-retention-check.html"
    ),
    config_properties={
        "minRetentionDays": {
            "type": "integer",
            "minimum": 1,
            "default": 35,
            "description": "Fewest days a recovery point is kept (AWS Config default 35).",
        }
    },
)
