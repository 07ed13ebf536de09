"""No security group lets traffic out to anywhere (0.0.0.0/0 or ::/0): every way out names its
peer (another tier's group or a gateway endpoint's prefix list), so PHI has no unnamed exit."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, items_of
from hipaa_guardrails.resource_types import (
    DEFAULT_SECURITY_GROUP,
    SECURITY_GROUP,
    SECURITY_GROUP_EGRESS_RULE,
    SECURITY_GROUP_RULE,
)
from hipaa_guardrails.rules.vpc.security_group_no_public_ingress import ANYWHERE
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope


def _open_blocks(blocks: list[Any]) -> Iterator[str]:
    for block in blocks:
        if block is UNKNOWN:
            yield "an unknown address block (fails closed)"
        elif block in ANYWHERE:
            yield block


def check(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    props = resource.props
    if resource.type == SECURITY_GROUP_EGRESS_RULE:
        found = list(_open_blocks([get(props, "cidrIpv4"), get(props, "cidrIpv6")]))
    elif resource.type == SECURITY_GROUP_RULE:
        if get(props, "type") not in ("egress", UNKNOWN):
            raise NotApplicable("an ingress rule")
        found = list(_open_blocks(items_of(get(props, "cidrBlocks"))))
        found += _open_blocks(items_of(get(props, "ipv6CidrBlocks")))
    else:
        found = []
        for rule in items_of(get(props, "egress")):
            if rule is UNKNOWN:
                found.append("an unknown inline egress rule (fails closed)")
                continue
            found += _open_blocks(items_of(get(rule, "cidrBlocks")))
            found += _open_blocks(items_of(get(rule, "ipv6CidrBlocks")))
    for block in found:
        yield f"egress to {block}: the group may send anywhere; name the peer group or prefix list"


RULE = Guardrail(
    name="hipaa-vpc-security-group-no-open-egress",
    catalog_id="custom",
    title="No egress to anywhere",
    description=(
        "No security group or egress rule may allow traffic out to 0.0.0.0/0 or ::/0: a tier "
        "reaches only named peers (another tier's group, a gateway endpoint's prefix list), so a "
        "compromised client has no unnamed way to carry PHI out."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.312(e)(1)"),
    judgement=True,
    remediation=(
        "Use referenced_security_group_id or prefix_list_id (aws.vpc.SecurityGroupEgressRule); "
        "never an any-address block. An aws.ec2.SecurityGroup without inline egress has none."
    ),
    unknowns="An unknown address block or inline rule fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(
        SECURITY_GROUP,
        DEFAULT_SECURITY_GROUP,
        SECURITY_GROUP_RULE,
        SECURITY_GROUP_EGRESS_RULE,
    ),
    check=check,
    checkov="CKV_AWS_382",
    url="https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
)
