"""D7: stream records carry no more PHI than the consumers need (minimum necessary)."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, get
from hipaa_guardrails.resource_types import TABLE
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope

VIEW_TYPES = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]


def check(table: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    enabled = get(table.props, "streamEnabled")
    if enabled is UNKNOWN:
        yield "streamEnabled is unknown during preview (fails closed)"
        return
    if enabled is not True:
        raise NotApplicable("the table has no stream")
    allowed = list(config["allowedViewTypes"])
    view = get(table.props, "streamViewType")
    if view is UNKNOWN:
        yield "streamViewType is unknown during preview (fails closed)"
    elif view is MISSING:
        yield "streamEnabled is true but streamViewType is not set"
    elif view not in allowed:
        yield (
            f"streamViewType is {view}; this stack allows {', '.join(allowed)} "
            "(pack config allowedViewTypes)"
        )


RULE = Guardrail(
    name="hipaa-dynamodb-stream-view-allowed",
    catalog_id="D7",
    title="DynamoDB stream view type is an allowed one",
    description=(
        "A table stream must use a view type the stack's pack config allows, so stream records "
        "hold only the PHI their consumers need."
    ),
    severity=Severity.MEDIUM,
    controls=("164.312(a)(1)",),
    judgement=True,
    remediation=(
        "Set stream_view_type to one of the allowed types (config: table.streamViewType), or "
        "allow the type in policies/config/<stack>.json with the consumer that needs it."
    ),
    unknowns="An unknown streamEnabled or view type fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(TABLE,),
    check=check,
    config_properties={
        "allowedViewTypes": {
            "type": "array",
            "items": {"type": "string", "enum": VIEW_TYPES},
            "minItems": 1,
            "uniqueItems": True,
            "default": ["KEYS_ONLY"],
            "description": "Stream view types allowed; the default is keys only.",
        }
    },
)
