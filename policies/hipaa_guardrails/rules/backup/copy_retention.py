"""B5: copies are kept at least as long as the minimum, and as long as their source."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, get, items_of
from hipaa_guardrails.resource_types import BACKUP_PLAN
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope


def check(plan: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    minimum = int(config["minRetentionDays"])
    copies = 0
    for index, rule in enumerate(items_of(get(plan.props, "rules"))):
        source = get(rule, "lifecycle", "deleteAfter")
        for number, action in enumerate(items_of(get(rule, "copyActions"))):
            copies += 1
            where = f"rules[{index}].copyActions[{number}]"
            days = get(action, "lifecycle", "deleteAfter")
            if days is UNKNOWN or action is UNKNOWN:
                yield f"{where}.lifecycle.deleteAfter is unknown during preview (fails closed)"
                continue
            if days is MISSING:
                continue  # copies without a lifecycle are kept until deleted
            if int(days) < minimum:
                yield f"{where} keeps copies {days} days; this stack requires at least {minimum}"
            if isinstance(source, int) and int(days) < source:
                yield f"{where} keeps copies {days} days, less than the source's {source}"
    if copies == 0:
        raise NotApplicable("the plan has no copy actions")


RULE = Guardrail(
    name="hipaa-backup-copy-retention",
    catalog_id="B5",
    title="Backup copies keep the minimum retention",
    description=(
        "Backup copy actions must keep copies at least the stack's minimum retention and no "
        "shorter than the source recovery points."
    ),
    severity=Severity.MEDIUM,
    controls=("164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"),
    remediation="Set copy_actions[].lifecycle.delete_after >= the rule's own delete_after.",
    unknowns="An unknown copy lifecycle fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(BACKUP_PLAN,),
    check=check,
    aws_config="backup-recovery-point-minimum-retention-check",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "backup-recovery-point-minimum-retention-check.html"
    ),
    config_properties={
        "minRetentionDays": {
            "type": "integer",
            "minimum": 1,
            "default": 35,
            "description": "Fewest days a copied recovery point is kept.",
        }
    },
)
