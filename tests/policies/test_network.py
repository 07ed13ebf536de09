"""The network's guardrails: flow logs of ALL traffic into an encrypted log group, the default
security group closed, no ingress from anywhere, no public IPs, no internet path, interface
endpoints with private DNS. Each case starts from the compliant network and changes one thing;
tests/policies/test_plans.py runs the real dev and prod plans through them."""

from __future__ import annotations

from typing import Any

import pytest
from hipaa_guardrails import resource_types as t

from tests.policies.fixtures import (
    DEFAULT_SECURITY_GROUP,
    EGRESS_RULE,
    FLOW_LOG,
    INGRESS_RULE,
    INTERFACE_ENDPOINT,
    ROUTE_TABLE,
    SECURITY_GROUP,
    SUBNET,
    compliant_stack,
    replace,
    without,
)
from tests.policies.support import (
    DELETE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_STRING_VALUE,
    Node,
    mutate,
    run_resource,
    run_stack,
    urn,
)

PUBLIC = "hipaa-vpc-security-group-no-public-ingress"
OPEN_EGRESS = "hipaa-vpc-security-group-no-open-egress"
SUBNET_RULE = "hipaa-vpc-subnet-no-public-ip"
INTERNET = "hipaa-vpc-no-internet-gateway"
DNS = "hipaa-vpc-interface-endpoint-private-dns"
FLOW = "hipaa-vpc-flow-logs-enabled"
DESTINATION = "hipaa-vpc-flow-log-destination-encrypted"
DEFAULT = "hipaa-vpc-default-security-group-closed"
OPEN_RULE = {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}

RESOURCE_CASES: list[tuple[str, str, dict[str, Any], str, Any, str | None]] = [
    (PUBLIC, t.SECURITY_GROUP_INGRESS_RULE, INGRESS_RULE, "cidrIpv4", "0.0.0.0/0", "0.0.0.0/0"),
    (PUBLIC, t.SECURITY_GROUP_INGRESS_RULE, INGRESS_RULE, "cidrIpv6", "::/0", "from ::/0"),
    (
        PUBLIC,
        t.SECURITY_GROUP_INGRESS_RULE,
        INGRESS_RULE,
        "cidrIpv4",
        UNKNOWN_STRING_VALUE,
        "unknown address block",
    ),
    (PUBLIC, t.SECURITY_GROUP_INGRESS_RULE, INGRESS_RULE, "cidrIpv4", "10.40.0.0/16", None),
    (PUBLIC, t.SECURITY_GROUP, SECURITY_GROUP, "ingress", [OPEN_RULE], "0.0.0.0/0"),
    (
        PUBLIC,
        t.SECURITY_GROUP,
        SECURITY_GROUP,
        "ingress",
        [{**OPEN_RULE, "cidrBlocks": [], "ipv6CidrBlocks": ["::/0"]}],
        "::/0",
    ),
    (
        PUBLIC,
        t.DEFAULT_SECURITY_GROUP,
        DEFAULT_SECURITY_GROUP,
        "ingress",
        [OPEN_RULE],
        "from 0.0.0.0/0",
    ),
    (PUBLIC, t.SECURITY_GROUP, SECURITY_GROUP, "egress", [OPEN_RULE], None),
    (
        OPEN_EGRESS,
        t.SECURITY_GROUP_EGRESS_RULE,
        EGRESS_RULE,
        "cidrIpv4",
        "0.0.0.0/0",
        "to 0.0.0.0/0",
    ),
    (OPEN_EGRESS, t.SECURITY_GROUP_EGRESS_RULE, EGRESS_RULE, "cidrIpv6", "::/0", "to ::/0"),
    (
        OPEN_EGRESS,
        t.SECURITY_GROUP_EGRESS_RULE,
        EGRESS_RULE,
        "cidrIpv4",
        UNKNOWN_STRING_VALUE,
        "unknown address block",
    ),
    (OPEN_EGRESS, t.SECURITY_GROUP_EGRESS_RULE, EGRESS_RULE, "cidrIpv4", "10.40.0.0/16", None),
    (OPEN_EGRESS, t.SECURITY_GROUP, SECURITY_GROUP, "egress", [OPEN_RULE], "to 0.0.0.0/0"),
    (
        OPEN_EGRESS,
        t.DEFAULT_SECURITY_GROUP,
        DEFAULT_SECURITY_GROUP,
        "egress",
        [OPEN_RULE],
        "to 0.0.0.0/0",
    ),
    (OPEN_EGRESS, t.SECURITY_GROUP, SECURITY_GROUP, "ingress", [OPEN_RULE], None),
    (SUBNET_RULE, t.SUBNET, SUBNET, "mapPublicIpOnLaunch", True, "is true"),
    (SUBNET_RULE, t.SUBNET, SUBNET, "mapPublicIpOnLaunch", UNKNOWN_BOOLEAN_VALUE, "fails closed"),
    (SUBNET_RULE, t.SUBNET, SUBNET, "mapPublicIpOnLaunch", DELETE, None),
    (SUBNET_RULE, t.DEFAULT_SUBNET, SUBNET, "mapPublicIpOnLaunch", DELETE, "default subnet"),
    (
        INTERNET,
        t.ROUTE_TABLE,
        ROUTE_TABLE,
        "routes",
        [{"cidrBlock": "0.0.0.0/0", "gatewayId": "igw-0a1b2c3d"}],
        "internet gateway igw-0a1b2c3d",
    ),
    (
        INTERNET,
        t.ROUTE_TABLE,
        ROUTE_TABLE,
        "routes",
        [{"cidrBlock": "0.0.0.0/0", "natGatewayId": "nat-0a1b2c3d"}],
        "natGatewayId nat-0a1b2c3d",
    ),
    (
        INTERNET,
        t.ROUTE_TABLE,
        ROUTE_TABLE,
        "routes",
        [{"cidrBlock": "10.50.0.0/16", "vpcPeeringConnectionId": "pcx-0a1b2c3d"}],
        None,
    ),
    (INTERNET, t.ROUTE_TABLE, ROUTE_TABLE, "routes", UNKNOWN_ARRAY_VALUE, "fails closed"),
    (
        INTERNET,
        t.ROUTE,
        {"routeTableId": "rtb-0a1b2c3d", "destinationCidrBlock": "0.0.0.0/0"},
        "gatewayId",
        "igw-0a1b2c3d",
        "route to internet gateway",
    ),
    (INTERNET, t.INTERNET_GATEWAY, {"vpcId": "vpc-0a1b2c3d"}, "tags", {}, "InternetGateway"),
    (
        INTERNET,
        t.EGRESS_ONLY_INTERNET_GATEWAY,
        {"vpcId": "vpc-0a1b2c3d"},
        "tags",
        {},
        "EgressOnlyInternetGateway",
    ),
    (INTERNET, t.NAT_GATEWAY, {"subnetId": "subnet-0a1b2c3d"}, "tags", {}, "public NAT"),
    (DNS, t.VPC_ENDPOINT, INTERFACE_ENDPOINT, "privateDnsEnabled", False, "is not true"),
    (DNS, t.VPC_ENDPOINT, INTERFACE_ENDPOINT, "privateDnsEnabled", DELETE, "is not true"),
    (
        DNS,
        t.VPC_ENDPOINT,
        INTERFACE_ENDPOINT,
        "privateDnsEnabled",
        UNKNOWN_BOOLEAN_VALUE,
        "fails closed",
    ),
    (DNS, t.VPC_ENDPOINT, INTERFACE_ENDPOINT, "securityGroupIds", DELETE, "default group"),
    (DNS, t.VPC_ENDPOINT, INTERFACE_ENDPOINT, "securityGroupIds", UNKNOWN_ARRAY_VALUE, None),
]


@pytest.mark.parametrize(
    ("rule", "type_", "base", "path", "value", "expected"),
    RESOURCE_CASES,
    ids=[f"{c[0]}-{c[1].rsplit(':', 1)[-1]}-{c[3]}-{i}" for i, c in enumerate(RESOURCE_CASES)],
)
def test_resource_mutation(
    rule: str, type_: str, base: dict[str, Any], path: str, value: Any, expected: str | None
) -> None:
    assert run_resource(rule, type_, base).passed or type_ in (
        t.INTERNET_GATEWAY,
        t.EGRESS_ONLY_INTERNET_GATEWAY,
        t.NAT_GATEWAY,
    )
    outcome = run_resource(rule, type_, mutate(base, path, value))
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


@pytest.mark.parametrize(
    ("rule", "type_", "props"),
    [
        (DNS, t.VPC_ENDPOINT, {**INTERFACE_ENDPOINT, "vpcEndpointType": "Gateway"}),
        (INTERNET, t.NAT_GATEWAY, {"subnetId": "subnet-0a1b2c3d", "connectivityType": "private"}),
        (PUBLIC, t.SECURITY_GROUP_RULE, {"type": "egress", "cidrBlocks": ["0.0.0.0/0"]}),
    ],
)
def test_not_applicable_variants(rule: str, type_: str, props: dict[str, Any]) -> None:
    assert run_resource(rule, type_, props).not_applicable


def _flow_log_group_props() -> dict[str, Any]:
    return next(n for n in compliant_stack() if n.name == "flow-logs").props


STACK_CASES: list[tuple[str, list[Node], str, str]] = [
    (FLOW, without(compliant_stack(), "flow-log"), "vpc", "has no flow log of the stack"),
    (
        FLOW,
        replace(compliant_stack(), "flow-log", props={**FLOW_LOG, "trafficType": "REJECT"}),
        "vpc",
        "record REJECT traffic, not ALL",
    ),
    (
        FLOW,
        replace(compliant_stack(), "flow-log", deps={"logDestination": ["flow-logs"]}),
        "vpc",
        "has no flow log of the stack",
    ),
    (
        DESTINATION,
        replace(
            compliant_stack(),
            "flow-logs",
            props=mutate(_flow_log_group_props(), "kmsKeyId", DELETE),
            protect=True,
        ),
        "flow-log",
        "delivers to log group flow-logs, which has no kmsKeyId",
    ),
    (
        DESTINATION,
        replace(
            compliant_stack(), "flow-log", deps={"vpcId": ["vpc"], "iamRoleArn": ["flow-logs-role"]}
        ),
        "flow-log",
        "destination is not a log group of the stack",
    ),
    (
        DESTINATION,
        replace(compliant_stack(), "flow-log", props=mutate(FLOW_LOG, "logDestinationType", "s3")),
        "flow-log",
        "delivers to s3, not to a CloudWatch Logs group",
    ),
    (
        DESTINATION,
        replace(compliant_stack(), "flow-log", props=mutate(FLOW_LOG, "iamRoleArn", DELETE)),
        "flow-log",
        "has no iamRoleArn",
    ),
    (DEFAULT, without(compliant_stack(), "default-sg"), "vpc", "is not managed by the stack"),
    (
        DEFAULT,
        replace(
            compliant_stack(),
            "default-sg",
            props={**DEFAULT_SECURITY_GROUP, "egress": [{**OPEN_RULE, "fromPort": 0}]},
        ),
        "default-sg",
        "has egress rules",
    ),
    (
        DEFAULT,
        replace(
            compliant_stack(),
            "default-sg",
            props={**DEFAULT_SECURITY_GROUP, "ingress": UNKNOWN_ARRAY_VALUE},
        ),
        "default-sg",
        "has ingress rules",
    ),
]


@pytest.mark.parametrize(
    ("rule", "nodes", "subject", "expected"),
    STACK_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(STACK_CASES)],
)
def test_stack_mutation(rule: str, nodes: list[Node], subject: str, expected: str) -> None:
    assert run_stack(rule, compliant_stack()).passed
    outcome = run_stack(rule, nodes)
    assert len(outcome.violations) == 1, outcome
    assert expected in outcome.violations[0]
    subject_node = next(n for n in nodes if n.name == subject)
    assert outcome.urns == [urn(subject_node.type, subject)]


def test_an_existing_vpc_outside_the_stack_is_not_judged_by_stack_rules() -> None:
    # A landing zone's VPC is not in the plan: its flow logs and default group are its owner's.
    nodes = without(compliant_stack(), "vpc", "flow-log", "default-sg")
    for rule in (FLOW, DEFAULT):
        assert run_stack(rule, nodes).passed


def test_every_network_type_the_coverage_rule_requires_is_judged() -> None:
    from hipaa_guardrails.coverage import GUARDED_TYPES, must_be_judged
    from hipaa_guardrails.rules.stack.data_types_covered import judged_types

    network = {
        t.VPC, t.DEFAULT_VPC, t.SUBNET, t.DEFAULT_SUBNET, t.ROUTE_TABLE, t.DEFAULT_ROUTE_TABLE,
        t.ROUTE, t.INTERNET_GATEWAY, t.INTERNET_GATEWAY_ATTACHMENT, t.EGRESS_ONLY_INTERNET_GATEWAY,
        t.NAT_GATEWAY, t.SECURITY_GROUP, t.DEFAULT_SECURITY_GROUP, t.SECURITY_GROUP_RULE,
        t.SECURITY_GROUP_INGRESS_RULE, t.SECURITY_GROUP_EGRESS_RULE, t.VPC_ENDPOINT, t.FLOW_LOG,
    }  # fmt: skip
    assert network <= GUARDED_TYPES
    assert judged_types() >= network
    assert must_be_judged(t.INTERNET_GATEWAY)
    assert not must_be_judged("aws:ec2/routeTableAssociation:RouteTableAssociation")


def test_coverage_flags_a_network_type_no_rule_judges(monkeypatch: pytest.MonkeyPatch) -> None:
    from hipaa_guardrails.rules.stack import data_types_covered

    nodes = [*compliant_stack(), Node(t.NAT_GATEWAY, "nat", {"subnetId": "subnet-0a1b2c3d"})]
    rule = "hipaa-stack-data-types-covered"
    assert run_stack(rule, nodes).passed  # judged by hipaa-vpc-no-internet-gateway
    judged = data_types_covered.judged_types() - {t.NAT_GATEWAY}
    monkeypatch.setattr(data_types_covered, "judged_types", lambda: judged)
    outcome = run_stack(rule, nodes)
    assert len(outcome.violations) == 1
    assert outcome.violations[0].startswith(f"{t.NAT_GATEWAY} (nat) ")
