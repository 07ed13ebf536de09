"""A small policy pack that exercises every part of the analyzer protocol the gate drives.

Resource policies read inputs (with the SDK's unknown proxy), options and config; stack policies
read parents, dependencies and property dependencies. It reports exemptions the way the HIPAA pack
does (an advisory message starting ``EXEMPTED``), so the gate's handling is tested on a real pack.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)


def _framework(reference: str) -> PolicyComplianceFramework:
    return PolicyComplianceFramework(
        name="HIPAA Security Rule", version="45 CFR 164 Subpart C", reference=reference
    )


def _table_pitr(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "aws:dynamodb/table:Table":
        args.not_applicable("not a table")
    marker = args.props.get("hangMarker")
    if marker:
        # For the interrupt tests: the pack is busy in Analyze, and stays so, when the gate is
        # signalled; the marker file tells the test it got here.
        Path(marker).write_text("analyzing\n", encoding="utf-8")
        while True:
            time.sleep(0.05)
    pitr = args.props.get("pointInTimeRecovery") or {}
    if pitr.get("enabled") is not True:
        exempt = [
            e for e in (args.get_config().get("exemptions") or []) if e["resource"] == args.name
        ]
        if exempt:
            e = exempt[0]
            report(
                f"EXEMPTED: fixture-table-pitr on {args.name} (ticket {e['ticket']}, expires "
                f"{e['expires']}: {e['reason']}). Suppressed finding: PITR is off"
            )
            return
        report(f"Table {args.name} has point-in-time recovery off.")


def _topic_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == "aws:sns/topic:Topic" and not args.props.get("kmsMasterKeyId"):
        report("The topic is not encrypted with a KMS key.")


def _required_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.resource_type.startswith("aws:"):
        return
    tags = args.props.get("tags") or {}
    for tag in args.get_config()["requiredTags"]:
        if tag not in tags:
            report(f"missing tag {tag}")


def _topic_display_name(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == "aws:sns/topic:Topic" and not args.props.get("displayName"):
        report("The topic has no display name.")


def _set_topic_display_name(args: ResourceValidationArgs) -> dict[str, Any] | None:
    if args.resource_type != "aws:sns/topic:Topic" or args.props.get("displayName"):
        return None
    props = dict(args.props)
    props["displayName"] = "Medeez alerts"
    return props


def _protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == "aws:dynamodb/table:Table" and not args.opts.protect:
        report(f"Table {args.name} is not protected (parent {args.opts.parent}).")


def _alarms_route_to_topic(args: StackValidationArgs, report: ReportViolation) -> None:
    for resource in args.resources:
        if resource.resource_type != "aws:cloudwatch/metricAlarm:MetricAlarm":
            continue
        sources = resource.property_dependencies.get("alarmActions", [])
        if not any(s.resource_type == "aws:sns/topic:Topic" for s in sources):
            report("Alarm actions do not depend on a topic of this stack.", resource.urn)


def _table_in_component(args: StackValidationArgs, report: ReportViolation) -> None:
    for resource in args.resources:
        if resource.resource_type != "aws:dynamodb/table:Table":
            continue
        parent = resource.parent
        if parent is None or parent.resource_type != "medeez:data:AppTable":
            report("The table is not declared by the AppTable component.", resource.urn)
        elif not any(d.resource_type == "aws:kms/key:Key" for d in resource.dependencies):
            report("The table does not depend on its KMS key.", resource.urn)
        elif resource.provider is None or resource.provider.props.get("region") != "us-east-1":
            report("The stack view lacks the table's provider.", resource.urn)


def _stack_exports_table_name(args: StackValidationArgs, report: ReportViolation) -> None:
    for resource in args.resources:
        if resource.resource_type == "pulumi:pulumi:Stack" and "tableName" not in resource.props:
            report("The stack does not export tableName.", resource.urn)


def _stack_tags_known(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == "pulumi:pulumi:Stack":
        project = args.stack_tags.get("pulumi:project")
        if project != "medeez-platform":
            report(f"ConfigureStack sent pulumi:project={project!r}")


def _provider_known(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type.startswith("aws:"):
        provider = args.provider
        if provider is None or provider.props.get("region") != "us-east-1":
            report(f"The resource's provider did not arrive: {provider and provider.urn}")


def _stack_has_backup(args: StackValidationArgs, report: ReportViolation) -> None:
    if not any(r.resource_type == "aws:backup/plan:Plan" for r in args.resources):
        report("The stack has no backup plan.")


# A warning on stderr, as packs print them; the gate must show it, not swallow it.
print("fixture pack: loaded 11 policies", file=sys.stderr)

EXEMPTIONS: dict[str, Any] = {
    "type": "array",
    "default": [],
    "items": {"type": "object", "required": ["resource", "reason", "ticket", "expires"]},
}

PolicyPack(
    name="gate-fixture",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        ResourceValidationPolicy(
            name="fixture-table-pitr",
            description="Tables keep point-in-time recovery on.",
            enforcement_level=EnforcementLevel.MANDATORY,
            severity=Severity.HIGH,
            framework=_framework("164.308(a)(7)(ii)(A)"),
            tags=["hipaa:164.308(a)(7)(ii)(A)", "aws-config:dynamodb-pitr-enabled"],
            remediation_steps="Set pointInTimeRecovery.enabled to true.",
            url="https://example.invalid/fixture-table-pitr",
            config_schema=PolicyConfigSchema(properties={"exemptions": EXEMPTIONS}),
            validate=_table_pitr,
        ),
        ResourceValidationPolicy(
            name="fixture-topic-encrypted",
            description="Topics are encrypted with a KMS key.",
            enforcement_level=EnforcementLevel.MANDATORY,
            severity=Severity.CRITICAL,
            tags=["hipaa:164.312(a)(2)(iv)"],
            validate=_topic_encrypted,
        ),
        ResourceValidationPolicy(
            name="fixture-topic-display-name",
            description="Topics have a display name (set by remediation).",
            enforcement_level=EnforcementLevel.REMEDIATE,
            severity=Severity.LOW,
            validate=_topic_display_name,
            remediate=_set_topic_display_name,
        ),
        ResourceValidationPolicy(
            name="fixture-required-tags",
            description="AWS resources carry the required tags.",
            severity=Severity.LOW,
            config_schema=PolicyConfigSchema(
                properties={
                    "requiredTags": {
                        "type": "array",
                        "items": {"type": "string"},
                        "default": ["Owner"],
                    }
                },
            ),
            validate=_required_tags,
        ),
        ResourceValidationPolicy(
            name="fixture-table-protected",
            description="Tables are protected from deletion by Pulumi.",
            severity=Severity.MEDIUM,
            validate=_protected,
        ),
        ResourceValidationPolicy(
            name="fixture-stack-tags-known",
            description="The stack's tags reached the pack.",
            severity=Severity.LOW,
            validate=_stack_tags_known,
        ),
        ResourceValidationPolicy(
            name="fixture-provider-known",
            description="AWS resources arrive with their provider.",
            severity=Severity.LOW,
            validate=_provider_known,
        ),
        StackValidationPolicy(
            name="fixture-alarms-route-to-topic",
            description="Alarms notify a topic of the stack.",
            enforcement_level=EnforcementLevel.MANDATORY,
            severity=Severity.MEDIUM,
            validate=_alarms_route_to_topic,
        ),
        StackValidationPolicy(
            name="fixture-table-in-component",
            description="The table is declared by AppTable and depends on its key.",
            enforcement_level=EnforcementLevel.MANDATORY,
            severity=Severity.HIGH,
            validate=_table_in_component,
        ),
        StackValidationPolicy(
            name="fixture-stack-exports-table-name",
            description="The stack exports the table name.",
            severity=Severity.LOW,
            validate=_stack_exports_table_name,
        ),
        StackValidationPolicy(
            name="fixture-stack-has-backup",
            description="The stack has a backup plan.",
            enforcement_level=EnforcementLevel.MANDATORY,
            severity=Severity.HIGH,
            validate=_stack_has_backup,
        ),
    ],
)
