"""E5: TLS is required, not preferred, and clients authenticate as RBAC users, not a token."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import describe, get, is_present
from hipaa_guardrails.resource_types import ELASTICACHE_REPLICATION_GROUP
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(group: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    mode = get(group.props, "transitEncryptionMode")
    if mode != "required":
        yield (
            f"transitEncryptionMode is {describe(mode)}; only 'required' refuses plaintext "
            "connections ('preferred' accepts both)"
        )
    if is_present(get(group.props, "authToken")) or is_present(get(group.props, "authTokenWo")):
        yield "an auth token is set: one shared password with full access; use RBAC users"
    if not is_present(get(group.props, "userGroupIds")):
        yield "userGroupIds is not set, so clients are not per-user authenticated (RBAC)"


RULE = Guardrail(
    name="hipaa-elasticache-transit-required-with-rbac",
    catalog_id="E5",
    title="ElastiCache TLS required and RBAC users",
    description=(
        "ElastiCache replication groups must require TLS (mode 'required') and authenticate "
        "clients as users of a user group, with no shared auth token."
    ),
    severity=Severity.HIGH,
    controls=("164.312(e)(1)", "164.312(d)", "164.312(a)(2)(i)"),
    judgement=True,
    remediation=(
        "Set transit_encryption_mode='required', user_group_ids=[<user group>] and no auth_token."
    ),
    unknowns="An unknown mode fails closed; an unknown group id that is set counts.",
    scope=Scope.RESOURCE,
    resource_types=(ELASTICACHE_REPLICATION_GROUP,),
    check=check,
    aws_config="elasticache-repl-grp-encrypted-in-transit",
    cdk_nag="AwsSolutions-AEC3, AwsSolutions-AEC6",
    checkov="CKV_AWS_30",
)
