"""E4: where required, the cache survives the loss of a node or an AZ (Multi-AZ, failover)."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, describe, get
from hipaa_guardrails.resource_types import ELASTICACHE_REPLICATION_GROUP
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope


def check(group: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if not config["required"]:
        raise NotApplicable("Multi-AZ is not required by this stack's pack config")
    for prop in ("automaticFailoverEnabled", "multiAzEnabled"):
        value = get(group.props, prop)
        if value is not True:
            yield f"{prop} is {describe(value)}; a failed primary or AZ takes the cache down"
    nodes = get(group.props, "numCacheClusters")
    if nodes is UNKNOWN:
        yield "numCacheClusters is unknown during preview (fails closed)"
    elif not isinstance(nodes, int | float) or nodes < 2:
        yield f"numCacheClusters is {describe(nodes)}; failover needs a replica (at least 2)"


RULE = Guardrail(
    name="hipaa-elasticache-multi-az-failover",
    catalog_id="E4",
    title="ElastiCache Multi-AZ with automatic failover",
    description=(
        "Where the stack's pack config requires it, replication groups must run a replica in "
        "another AZ with automatic failover."
    ),
    severity=Severity.HIGH,
    controls=("164.308(a)(7)(ii)(C)", "164.312(a)(1)"),
    remediation=(
        "Set automatic_failover_enabled=True, multi_az_enabled=True and num_cache_clusters >= 2 "
        "(config: cache.automaticFailover, cache.multiAz, cache.numCacheClusters)."
    ),
    unknowns="Unknown flags or node counts fail closed.",
    scope=Scope.RESOURCE,
    resource_types=(ELASTICACHE_REPLICATION_GROUP,),
    check=check,
    cdk_nag="AwsSolutions-AEC4",
    checkov="CKV2_AWS_50",
    config_properties={
        "required": {
            "type": "boolean",
            "default": True,
            "description": "Whether this stack's caches must be Multi-AZ with failover.",
        }
    },
)
