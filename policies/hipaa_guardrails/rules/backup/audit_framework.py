"""B9: an AWS Backup Audit Manager framework checks the backup promises, and its reports are
delivered to a bucket of the stack."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, items_of
from hipaa_guardrails.resource_types import BACKUP_FRAMEWORK, BACKUP_REPORT_PLAN
from hipaa_guardrails.rules.s3._attached import BUCKET_TYPES
from hipaa_guardrails.spec import Finding, Guardrail, NotApplicable, Resource, Scope, Stack

DEFAULT_CONTROLS = [
    "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN",
    "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK",
    "BACKUP_RECOVERY_POINT_ENCRYPTED",
    "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED",
    "BACKUP_LAST_RECOVERY_POINT_CREATED",
    "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET",
]


def _controls(framework: Resource) -> set[Any]:
    return {get(c, "name") for c in items_of(get(framework.props, "controls"))}


def _delivers_to_stack_bucket(plan: Resource, stack: Stack) -> bool:
    channel = "reportDeliveryChannel"
    if any(d.type in BUCKET_TYPES for d in plan.deps_of(channel)):
        return True
    name = get(plan.props, channel, "s3BucketName")
    return name is not UNKNOWN and any(
        get(b.props, "bucket") == name for b in stack.of_type(*BUCKET_TYPES)
    )


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    if not config["required"]:
        raise NotApplicable("an audit framework is not required by this stack's pack config")
    required = set(config["requiredControls"])
    frameworks = stack.of_type(BACKUP_FRAMEWORK)
    complete = [f for f in frameworks if UNKNOWN in _controls(f) or required <= _controls(f)]
    if not frameworks:
        yield Finding(
            "the stack has no AWS Backup Audit Manager framework, so nothing evaluates its "
            "backup and restore promises"
        )
    elif not complete:
        missing = sorted(required - _controls(frameworks[0]))
        yield Finding(
            f"framework {frameworks[0].name} lacks the controls {', '.join(missing)}",
            frameworks[0].urn,
        )
    plans = stack.of_type(BACKUP_REPORT_PLAN)
    if not any(_delivers_to_stack_bucket(p, stack) for p in plans):
        yield Finding(
            "no AWS Backup report plan delivers reports to an S3 bucket of this stack, so the "
            "evidence is not kept under the stack's bucket guardrails"
        )


RULE = Guardrail(
    name="hipaa-backup-audit-framework",
    catalog_id="B9",
    title="Backup Audit Manager framework and reports",
    description=(
        "Where the stack's pack config requires it, an AWS Backup Audit Manager framework must "
        "carry the required controls and a report plan must deliver to a bucket of the stack."
    ),
    severity=Severity.HIGH,
    controls=("164.308(a)(7)(ii)(D)", "164.308(a)(8)", "164.316(b)(1)"),
    judgement=True,
    remediation=(
        "Add aws.backup.Framework with the required controls and aws.backup.ReportPlan "
        "delivering to the audit bucket (config: recovery.audit)."
    ),
    unknowns=(
        "An unknown control list counts as complete (it is known at `pulumi up`); report "
        "buckets are matched by property dependency or a known name."
    ),
    scope=Scope.STACK,
    resource_types=(BACKUP_FRAMEWORK, BACKUP_REPORT_PLAN),
    check=check,
    url="https://docs.aws.amazon.com/aws-backup/latest/devguide/aws-backup-audit-manager.html",
    config_properties={
        "required": {
            "type": "boolean",
            "default": True,
            "description": "Whether this stack must have the framework and a report plan.",
        },
        "requiredControls": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[A-Z_]+$"},
            "uniqueItems": True,
            "default": DEFAULT_CONTROLS,
            "description": "AWS Backup Audit Manager control names the framework must carry.",
        },
    },
)
