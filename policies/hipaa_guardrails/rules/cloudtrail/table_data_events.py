"""Every DynamoDB table of the stack is covered by a trail's data events: every GetItem, Query,
PutItem... by any principal, operators and break-glass roles included, is recorded below the
application."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get
from hipaa_guardrails.resource_types import CLOUDTRAIL_TRAIL, TABLE
from hipaa_guardrails.rules.cloudtrail._selectors import data_event_resource_arns
from hipaa_guardrails.spec import Finding, Guardrail, NotApplicable, Resource, Scope, Stack

TABLE_TYPE = "AWS::DynamoDB::Table"


def _covers(trail: Resource, table: Resource) -> bool:
    arn = get(table.props, "arn")
    name = get(table.props, "name")
    for arns in data_event_resource_arns(trail.props, TABLE_TYPE):
        if "*" in arns:
            return True
        if UNKNOWN in arns and table in trail.deps_of("advancedEventSelectors"):
            return True
        for value in arns:
            if isinstance(value, str) and (
                value == arn or (isinstance(name, str) and value.endswith(f":table/{name}"))
            ):
                return True
    return False


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    if config["organizationTrail"]:
        # Also reported as a CONFIG DEVIATION in every preview.
        raise NotApplicable(
            "the trail is external: an organization trail outside this stack records its "
            "tables' data events (pack config organizationTrail)"
        )
    trails = stack.of_type(CLOUDTRAIL_TRAIL)
    for table in stack.of_type(TABLE):
        if not any(_covers(trail, table) for trail in trails):
            yield Finding(
                f"table {table.name} is in no trail's data events (an advanced event selector "
                f"eventCategory = Data, resources.type = {TABLE_TYPE}, resources.ARN = the "
                "table's ARN)",
                table.urn,
            )


RULE = Guardrail(
    name="hipaa-cloudtrail-table-data-events",
    catalog_id="custom",
    title="DynamoDB tables in CloudTrail data events",
    description=(
        "Every DynamoDB table of the stack must be covered by a trail's data-event selector, "
        "unless the pack config says an organization trail outside the stack records it."
    ),
    severity=Severity.HIGH,
    controls=("164.312(b)", "164.308(a)(1)(ii)(D)"),
    judgement=True,
    remediation=(
        "Add to a trail an advanced event selector eventCategory = Data, resources.type = "
        "AWS::DynamoDB::Table, resources.ARN = the table's ARN (config: trail.enabled); or, "
        "where an organization trail records the table, set trail.organizationTrail in the "
        "stack and organizationTrail here."
    ),
    unknowns=("A selector whose ARN is unknown but computed from the table counts as covering it."),
    scope=Scope.STACK,
    resource_types=(CLOUDTRAIL_TRAIL,),
    check=check,
    aws_config="cloudtrail-s3-dataevents-enabled",
    url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html",
    config_properties={
        "organizationTrail": {
            "type": "boolean",
            "default": False,
            "description": (
                "An organization trail outside this stack records the tables' data events "
                "(the stack config's trail.organizationTrail); reported as a deviation."
            ),
        }
    },
)
