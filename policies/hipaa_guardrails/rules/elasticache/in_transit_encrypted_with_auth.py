"""E3: clients reach Redis over TLS and must authenticate."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import describe, get, is_present
from hipaa_guardrails.resource_types import ELASTICACHE_REPLICATION_GROUP
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(group: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    tls = get(group.props, "transitEncryptionEnabled")
    if tls is not True:
        yield (
            f"transitEncryptionEnabled is {describe(tls)}; "
            "cached PHI would cross the network in clear"
        )
    token = get(group.props, "authToken")
    groups = get(group.props, "userGroupIds")
    if not is_present(token) and not is_present(groups):
        yield "neither authToken nor userGroupIds is set, so any client in the network can connect"


RULE = Guardrail(
    name="hipaa-elasticache-in-transit-encrypted-with-auth",
    catalog_id="E3",
    title="ElastiCache TLS and authentication",
    description="ElastiCache replication groups must require TLS and AUTH (token or RBAC users).",
    severity=Severity.HIGH,
    controls=("164.312(e)(1)", "164.312(d)"),
    judgement=True,
    remediation="Set transit_encryption_enabled=True and auth_token (a secret) or user_group_ids.",
    unknowns="An unknown TLS flag fails closed; an unknown token or group id that is set counts.",
    scope=Scope.RESOURCE,
    resource_types=(ELASTICACHE_REPLICATION_GROUP,),
    check=check,
    aws_config="elasticache-repl-grp-encrypted-in-transit",
    cdk_nag="AwsSolutions-AEC3, AwsSolutions-AEC6",
    checkov="CKV_AWS_30, CKV_AWS_31",
)
