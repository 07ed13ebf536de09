"""No security group admits the whole internet (0.0.0.0/0 or ::/0), on any port."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, items_of
from hipaa_guardrails.resource_types import (
    DEFAULT_SECURITY_GROUP,
    SECURITY_GROUP,
    SECURITY_GROUP_INGRESS_RULE,
    SECURITY_GROUP_RULE,
)
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope

#: Address blocks that mean "anywhere".
ANYWHERE = ("0.0.0.0/0", "::/0")


def _open_blocks(blocks: list[Any]) -> Iterator[str]:
    for block in blocks:
        if block is UNKNOWN:
            yield "an unknown address block (fails closed)"
        elif block in ANYWHERE:
            yield block


def check(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    props = resource.props
    if resource.type == SECURITY_GROUP_INGRESS_RULE:
        blocks = [get(props, "cidrIpv4"), get(props, "cidrIpv6")]
        found = list(_open_blocks(blocks))
    elif resource.type == SECURITY_GROUP_RULE:
        if get(props, "type") not in ("ingress", UNKNOWN):
            raise NotApplicable("an egress rule")
        found = list(_open_blocks(items_of(get(props, "cidrBlocks"))))
        found += _open_blocks(items_of(get(props, "ipv6CidrBlocks")))
    else:
        found = []
        for rule in items_of(get(props, "ingress")):
            if rule is UNKNOWN:
                found.append("an unknown inline ingress rule (fails closed)")
                continue
            found += _open_blocks(items_of(get(rule, "cidrBlocks")))
            found += _open_blocks(items_of(get(rule, "ipv6CidrBlocks")))
    for block in found:
        yield f"ingress from {block}: the group admits the whole internet; name peer groups instead"


RULE = Guardrail(
    name="hipaa-vpc-security-group-no-public-ingress",
    catalog_id="custom",
    title="No ingress from anywhere",
    description=(
        "No security group or ingress rule may admit 0.0.0.0/0 or ::/0, on any port: PHI "
        "systems are reached only from named security groups."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.312(e)(1)"),
    remediation=(
        "Use referenced_security_group_id (aws.vpc.SecurityGroupIngressRule) naming the client "
        "tier's group, or a private prefix list; never an any-address block."
    ),
    unknowns="An unknown address block or inline rule fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(
        SECURITY_GROUP,
        DEFAULT_SECURITY_GROUP,
        SECURITY_GROUP_RULE,
        SECURITY_GROUP_INGRESS_RULE,
    ),
    check=check,
    aws_config="restricted-ssh, restricted-common-ports",
    cdk_nag="HIPAA.Security-EC2RestrictedSSH, HIPAA.Security-EC2RestrictedCommonPorts",
    checkov="CKV_AWS_24, CKV_AWS_25, CKV_AWS_260, CKV_AWS_277",
    url="https://docs.aws.amazon.com/config/latest/developerguide/restricted-common-ports.html",
)
