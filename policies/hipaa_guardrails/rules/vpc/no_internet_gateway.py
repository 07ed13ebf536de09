"""No path to or from the internet: no internet gateway, public NAT or route through one."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, is_present, items_of
from hipaa_guardrails.resource_types import (
    DEFAULT_ROUTE_TABLE,
    EGRESS_ONLY_INTERNET_GATEWAY,
    INTERNET_GATEWAY,
    INTERNET_GATEWAY_ATTACHMENT,
    NAT_GATEWAY,
    ROUTE,
    ROUTE_TABLE,
)
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope

GATEWAYS = (INTERNET_GATEWAY, INTERNET_GATEWAY_ATTACHMENT, EGRESS_ONLY_INTERNET_GATEWAY)


def _internet_target(route: Any, deps: tuple[Resource, ...]) -> str | None:
    """Why a route leads to the internet, or None."""
    if route is UNKNOWN:
        return "an unknown route (fails closed)"
    gateway = get(route, "gatewayId")
    if isinstance(gateway, str) and gateway.startswith("igw-"):
        return f"internet gateway {gateway}"
    if any(d.type == INTERNET_GATEWAY for d in deps):
        return "an internet gateway of the stack"
    for key in ("natGatewayId", "egressOnlyGatewayId"):
        if is_present(get(route, key)):
            return f"{key} {get(route, key)}"
    return None


def check(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if resource.type in GATEWAYS:
        yield f"{resource.type.rsplit(':', 1)[-1]}: the network must have no internet path"
        return
    if resource.type == NAT_GATEWAY:
        if get(resource.props, "connectivityType") == "private":
            raise NotApplicable("a private NAT gateway reaches no internet")
        yield "a public NAT gateway gives the private subnets a path to the internet"
        return
    if resource.type == ROUTE:
        deps = resource.deps_of("gatewayId")
        target = _internet_target(resource.props, deps)
        if target:
            yield f"route to {target}"
        return
    for route in items_of(get(resource.props, "routes")):
        target = _internet_target(route, resource.deps_of("routes"))
        if target:
            yield f"route table routes to {target}"


RULE = Guardrail(
    name="hipaa-vpc-no-internet-gateway",
    catalog_id="custom",
    title="No internet gateway or NAT",
    description=(
        "The network must have no internet gateway, egress-only gateway, public NAT gateway or "
        "route through one: AWS APIs are reached through VPC endpoints."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.312(e)(1)"),
    judgement=True,
    remediation=(
        "Reach AWS services through gateway and interface endpoints. If a design needs an "
        "internet path, exempt the resource in the stack's pack config with a ticket and expiry."
    ),
    unknowns="An unknown route fails closed; gateways are judged by type.",
    scope=Scope.RESOURCE,
    resource_types=(*GATEWAYS, NAT_GATEWAY, ROUTE, ROUTE_TABLE, DEFAULT_ROUTE_TABLE),
    check=check,
    aws_config="no-unrestricted-route-to-igw",
    cdk_nag="HIPAA.Security-VPCNoUnrestrictedRouteToIGW",
    url="https://docs.aws.amazon.com/config/latest/developerguide/no-unrestricted-route-to-igw.html",
)
