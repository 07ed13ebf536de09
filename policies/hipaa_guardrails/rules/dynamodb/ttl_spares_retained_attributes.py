"""D8: TTL never runs on an attribute that marks records that must be kept."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, get
from hipaa_guardrails.resource_types import TABLE
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope


def check(table: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    enabled = get(table.props, "ttl", "enabled")
    attribute = get(table.props, "ttl", "attributeName")
    if enabled is MISSING or enabled is False:
        raise NotApplicable("TTL is off")
    if enabled is UNKNOWN or attribute is UNKNOWN:
        yield "ttl is unknown during preview (fails closed)"
        return
    if attribute is MISSING or attribute == "":
        yield "ttl.enabled is true but ttl.attributeName is not set"
        return
    forbidden = list(config["forbiddenAttributes"])
    if attribute in forbidden:
        yield (
            f"ttl.attributeName is {attribute}, an attribute of records that must be retained "
            f"(forbidden: {', '.join(forbidden)}); TTL would delete them"
        )


RULE = Guardrail(
    name="hipaa-dynamodb-ttl-spares-retained-attributes",
    catalog_id="D8",
    title="DynamoDB TTL spares retained records",
    description=(
        "Table TTL must not use an attribute that retention-bound records (audit entries, "
        "clinical history) carry, so TTL cannot delete what must be kept."
    ),
    severity=Severity.MEDIUM,
    controls=("164.316(b)(2)(i)", "164.312(c)(1)"),
    judgement=True,
    remediation=(
        "Keep TTL on a dedicated attribute such as expiresAt (config: table.ttlAttribute) and "
        "never write it on audit or clinical records."
    ),
    unknowns="An unknown TTL setting fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(TABLE,),
    check=check,
    config_properties={
        "forbiddenAttributes": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "uniqueItems": True,
            "default": ["createdAt", "updatedAt", "retainUntil", "auditedAt", "deletedAt"],
            "description": "Attributes TTL must never use.",
        }
    },
)
