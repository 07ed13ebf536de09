"""E6: the slow log is delivered to a log group, so slow and unusual commands leave a record."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import get, is_present, items_of
from hipaa_guardrails.resource_types import ELASTICACHE_REPLICATION_GROUP
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(group: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    deliveries = items_of(get(group.props, "logDeliveryConfigurations"))
    slow = [d for d in deliveries if get(d, "logType") == "slow-log"]
    if not slow:
        yield "logDeliveryConfigurations delivers no slow-log"
        return
    for delivery in slow:
        if get(delivery, "destinationType") != "cloudwatch-logs":
            yield "the slow log is not delivered to CloudWatch Logs (destinationType)"
        if not is_present(get(delivery, "destination")):
            yield "the slow log's destination log group is not set"


RULE = Guardrail(
    name="hipaa-elasticache-slow-log-delivered",
    catalog_id="E6",
    title="ElastiCache slow log delivered",
    description="ElastiCache replication groups must deliver their slow log to CloudWatch Logs.",
    severity=Severity.MEDIUM,
    controls=("164.312(b)",),
    judgement=True,
    remediation=(
        "Add log_delivery_configurations=[{log_type: 'slow-log', destination_type: "
        "'cloudwatch-logs', destination: <encrypted log group>.name, log_format: 'json'}]."
    ),
    unknowns=(
        "An unknown configuration list fails closed; an unknown destination that is set counts."
    ),
    scope=Scope.RESOURCE,
    resource_types=(ELASTICACHE_REPLICATION_GROUP,),
    check=check,
)
