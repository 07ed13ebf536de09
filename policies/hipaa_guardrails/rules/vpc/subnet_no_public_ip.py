"""Subnets give nothing a public address at launch."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, get
from hipaa_guardrails.resource_types import DEFAULT_SUBNET, SUBNET
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(subnet: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    value = get(subnet.props, "mapPublicIpOnLaunch")
    if value is UNKNOWN:
        yield "mapPublicIpOnLaunch is unknown during preview (fails closed)"
    elif value is True:
        yield "mapPublicIpOnLaunch is true: every network interface launched here is public"
    elif value is MISSING and subnet.type == DEFAULT_SUBNET:
        yield "mapPublicIpOnLaunch is not set, and a default subnet maps public IPs by default"


RULE = Guardrail(
    name="hipaa-vpc-subnet-no-public-ip",
    catalog_id="custom",
    title="Subnets assign no public IPs",
    description="Subnets must not assign public IPv4 addresses to network interfaces at launch.",
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.312(e)(1)"),
    remediation="Set map_public_ip_on_launch=False (the default for aws.ec2.Subnet).",
    unknowns="An unknown value fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(SUBNET, DEFAULT_SUBNET),
    check=check,
    aws_config="subnet-auto-assign-public-ip-disabled",
    cdk_nag="HIPAA.Security-VPCSubnetAutoAssignPublicIpDisabled",
    checkov="CKV_AWS_130",
    url="https://docs.aws.amazon.com/config/latest/developerguide/subnet-auto-assign-public-ip-disabled.html",
)
