"""Interface endpoints answer the services' own names (private DNS) behind a named group."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, items_of
from hipaa_guardrails.resource_types import VPC_ENDPOINT
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope


def check(endpoint: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    kind = get(endpoint.props, "vpcEndpointType")
    if kind not in ("Interface", UNKNOWN):
        raise NotApplicable("not an interface endpoint")
    dns = get(endpoint.props, "privateDnsEnabled")
    if dns is UNKNOWN:
        yield "privateDnsEnabled is unknown during preview (fails closed)"
    elif dns is not True:
        yield (
            "privateDnsEnabled is not true: SDKs keep resolving the service's public name, so "
            "calls leave the VPC or fail instead of using the endpoint"
        )
    if not items_of(get(endpoint.props, "securityGroupIds")):
        yield "securityGroupIds is not set: the endpoint falls back to the VPC's default group"


RULE = Guardrail(
    name="hipaa-vpc-interface-endpoint-private-dns",
    catalog_id="custom",
    title="Interface endpoints with private DNS",
    description=(
        "Interface VPC endpoints must enable private DNS and carry a named security group, so "
        "AWS API calls stay on the endpoint and only the admitted tiers reach it."
    ),
    severity=Severity.MEDIUM,
    controls=("164.312(e)(1)",),
    judgement=True,
    remediation=(
        "Set private_dns_enabled=True and security_group_ids=[<endpoints tier group>] (the VPC "
        "needs enable_dns_support and enable_dns_hostnames)."
    ),
    unknowns="An unknown private DNS flag fails closed; an unknown group list counts as set.",
    scope=Scope.RESOURCE,
    resource_types=(VPC_ENDPOINT,),
    check=check,
    aws_config="service-vpc-endpoint-enabled",
    url="https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html",
)
