"""Every VPC's default security group is managed and has no rules."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, items_of
from hipaa_guardrails.resource_types import DEFAULT_SECURITY_GROUP, DEFAULT_VPC, VPC
from hipaa_guardrails.rules.vpc._attached import attached_to
from hipaa_guardrails.spec import Finding, Guardrail, Scope, Stack


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    defaults = stack.of_type(DEFAULT_SECURITY_GROUP)
    for vpc in stack.of_type(VPC, DEFAULT_VPC):
        if not any(attached_to(group, vpc) for group in defaults):
            yield Finding(
                f"VPC {vpc.name}'s default security group is not managed by the stack, so it "
                "keeps AWS's rules (all traffic from its members, all egress) for anything "
                "launched without a group",
                vpc.urn,
            )
    for group in defaults:
        for direction in ("ingress", "egress"):
            rules = get(group.props, direction)
            if rules is UNKNOWN or items_of(rules):
                yield Finding(
                    f"default security group {group.name} has {direction} rules; it must have "
                    "none, so nothing placed in it by default can talk to anything",
                    group.urn,
                )


RULE = Guardrail(
    name="hipaa-vpc-default-security-group-closed",
    catalog_id="custom",
    title="Default security group closed",
    description=(
        "Every VPC's default security group must be managed by the stack with no ingress and no "
        "egress rules."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.312(e)(1)"),
    remediation=(
        "Add aws.ec2.DefaultSecurityGroup(vpc_id=<vpc>.id, ingress=[], egress=[]): the provider "
        "then removes every rule of the default group."
    ),
    unknowns="Unknown rule lists fail closed; the VPC link is judged from property dependencies.",
    scope=Scope.STACK,
    resource_types=(VPC, DEFAULT_VPC, DEFAULT_SECURITY_GROUP),
    check=check,
    aws_config="vpc-default-security-group-closed",
    cdk_nag="HIPAA.Security-VPCDefaultSecurityGroupClosed",
    checkov="CKV2_AWS_12",
    url="https://docs.aws.amazon.com/config/latest/developerguide/vpc-default-security-group-closed.html",
)
