"""B7: a restore test's copy (real PHI) is deleted after a bounded validation window."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, get
from hipaa_guardrails.resource_types import BACKUP_RESTORE_TESTING_SELECTION
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(selection: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    hours = get(selection.props, "validationWindowHours")
    limit = int(config["maxValidationWindowHours"])
    if hours is MISSING:
        yield (
            "validationWindowHours is not set; say how long the restored copy may live "
            f"(at most {limit} hours)"
        )
    elif hours is UNKNOWN:
        yield "validationWindowHours is unknown during preview (fails closed)"
    elif not isinstance(hours, int | float) or hours > limit:
        yield (
            f"validationWindowHours is {hours}; the restored copy holds PHI and must be deleted "
            f"within {limit} hours"
        )


RULE = Guardrail(
    name="hipaa-backup-restore-copy-deleted",
    catalog_id="B7",
    title="Restore test copies are deleted",
    description=(
        "A restore testing selection must set a validation window no longer than the stack "
        "allows, after which AWS Backup deletes the restored copy of the PHI."
    ),
    severity=Severity.HIGH,
    controls=("164.310(d)(2)(i)", "164.308(a)(7)(ii)(D)"),
    judgement=True,
    remediation=(
        "Set validation_window_hours on the aws.backup.RestoreTestingSelection "
        "(config: recovery.restoreTesting.validationWindowHours)."
    ),
    unknowns="A missing or unknown window fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(BACKUP_RESTORE_TESTING_SELECTION,),
    check=check,
    config_properties={
        "maxValidationWindowHours": {
            "type": "integer",
            "minimum": 0,
            "maximum": 168,
            "default": 24,
            "description": "Longest time, in hours, a restored copy may be kept for validation.",
        }
    },
)
