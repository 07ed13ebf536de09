"""E2: Redis data at rest is encrypted with a customer-managed key."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import describe, get, is_present
from hipaa_guardrails.resource_types import ELASTICACHE_REPLICATION_GROUP
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(group: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    enabled = get(group.props, "atRestEncryptionEnabled")
    if enabled is not True:
        yield f"atRestEncryptionEnabled is {describe(enabled)}; snapshots and swap are plaintext"
    elif not is_present(get(group.props, "kmsKeyId")):
        yield "kmsKeyId is not set, so an AWS managed key is used; set a customer-managed key"


RULE = Guardrail(
    name="hipaa-elasticache-encrypted-at-rest-with-cmk",
    catalog_id="E2",
    title="ElastiCache encrypted at rest with a customer-managed key",
    description="ElastiCache replication groups must encrypt at rest with a customer-managed key.",
    severity=Severity.CRITICAL,
    controls=("164.312(a)(2)(iv)", "164.312(e)(2)(ii)"),
    remediation="Set at_rest_encryption_enabled=True and kms_key_id.",
    unknowns="An unknown flag fails closed; an unknown key id that is set counts.",
    scope=Scope.RESOURCE,
    resource_types=(ELASTICACHE_REPLICATION_GROUP,),
    check=check,
    aws_config="elasticache-repl-grp-encrypted-at-rest",
    cdk_nag="AwsSolutions-AEC3",
    checkov="CKV_AWS_29, CKV_AWS_191",
)
