"""E7: the engine and its major version are pinned to an allowed one (the local server's)."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, describe, get
from hipaa_guardrails.resource_types import ELASTICACHE_REPLICATION_GROUP
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(group: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    engine = get(group.props, "engine")
    if engine not in config["allowedEngines"]:
        yield f"engine is {describe(engine)}; allowed: {', '.join(config['allowedEngines'])}"
    version = get(group.props, "engineVersion")
    if version is UNKNOWN:
        yield "engineVersion is unknown during preview (fails closed)"
    elif not isinstance(version, str) or not version:
        yield "engineVersion is not set, so AWS picks the newest major; pin the tested one"
    elif version.split(".", 1)[0] not in config["allowedMajors"]:
        yield (
            f"engineVersion is {version}; allowed majors: {', '.join(config['allowedMajors'])} "
            "(the one the local server runs)"
        )


RULE = Guardrail(
    name="hipaa-elasticache-engine-pinned",
    catalog_id="custom",
    title="ElastiCache engine pinned",
    description=(
        "ElastiCache replication groups must name an allowed engine and pin an allowed major "
        "version, the one tested locally."
    ),
    severity=Severity.MEDIUM,
    controls=(),
    operational=True,
    remediation="Set engine='valkey' and engine_version to the pinned major.minor (e.g. '8.1').",
    unknowns="An unknown version fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(ELASTICACHE_REPLICATION_GROUP,),
    check=check,
    config_properties={
        "allowedEngines": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["valkey"],
            "description": "Engines a replication group may run.",
        },
        "allowedMajors": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["8"],
            "description": "Engine major versions allowed (the local server's).",
        },
    },
)
