"""The network: private subnets per AZ, route tables without internet routes, gateway and interface
endpoints with account-scoped policies, one security group per tier with exactly the rules the
tiers need, the default group closed, flow logs of ALL traffic into an encrypted log group; and
a landing zone's VPC reused with only the tier groups created."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from stackspec.stack_file import read_stack
from tools.mocks import MOCK_ACCOUNT_ID
from tools.plan import Plan, run_program

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ACCOUNT = MOCK_ACCOUNT_ID


def _id(plan: Plan, name: str) -> str:
    resource = plan.named(name)
    assert resource.id is not None
    return resource.id


def _tier_of_group(plan: Plan) -> dict[str, str]:
    """Security group id -> tier name."""
    return {
        _id(plan, group.name): group.name.removeprefix("network-").removesuffix("-sg")
        for group in plan.of_type(GROUP)
    }


def _rules(plan: Plan, prefix_lists: dict[str, str]) -> set[tuple[str, str, int, str]]:
    """(tier, in/out, port, peer tier or prefix-list service) for every rule of the plan."""
    tiers = _tier_of_group(plan)
    services = {v: k for k, v in prefix_lists.items()}
    found = set()
    for type_, way in ((INGRESS, "in"), (EGRESS, "out")):
        for rule in plan.of_type(type_):
            inputs = rule.inputs
            assert inputs["ipProtocol"] == "tcp", rule.name
            assert inputs["fromPort"] == inputs["toPort"], rule.name
            assert "cidrIpv4" not in inputs, rule.name
            assert "cidrIpv6" not in inputs, rule.name
            peer = (
                tiers[inputs["referencedSecurityGroupId"]]
                if "referencedSecurityGroupId" in inputs
                else services[inputs["prefixListId"]]
            )
            found.add((tiers[inputs["securityGroupId"]], way, inputs["fromPort"], peer))
    return found


def _prefix_lists(plan: Plan) -> dict[str, str]:
    """The prefix list id each egress rule to a gateway service uses, by service."""
    found = {}
    for rule in plan.of_type(EGRESS):
        if "prefixListId" in rule.inputs:
            found[rule.name.split("-out-")[1].split("-")[0]] = rule.inputs["prefixListId"]
    return found


CLIENTS = ("application", "consumer", "tooling")
EXPECTED_RULES = (
    {(store, "in", port, client) for store, port in (("database", 5432), ("cache", 6379))
     for client in CLIENTS}
    | {("endpoints", "in", 443, tier) for tier in (*CLIENTS, "database", "cache")}
    | {(client, "out", port, peer) for client in CLIENTS
       for peer, port in (("database", 5432), ("cache", 6379), ("endpoints", 443))}
    | {(client, "out", 443, service) for client in ("application", "tooling")
       for service in ("dynamodb", "s3")}
)  # fmt: skip


@pytest.mark.parametrize(
    ("plan_name", "cidr", "zones"), [("dev_plan", "10.40", 2), ("prod_plan", "10.41", 3)]
)
def test_vpc_and_private_subnets_one_per_az(
    plan_name: str, cidr: str, zones: int, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(plan_name)
    env = plan.stack
    [vpc] = plan.of_type(VPC)
    assert vpc.name == "network-vpc"
    assert {k: v for k, v in vpc.inputs.items() if k != "tags"} == {
        "cidrBlock": f"{cidr}.0.0/16",
        "enableDnsSupport": True,
        "enableDnsHostnames": True,
    }
    assert vpc.inputs["tags"]["Name"] == f"medeez-{env}-vpc"
    subnets = sorted(plan.of_type(SUBNET), key=lambda r: r.name)
    assert [
        (s.name, s.inputs["cidrBlock"], s.inputs["availabilityZone"], s.inputs["tags"]["Name"])
        for s in subnets
    ] == [
        (f"network-subnet-{n}", f"{cidr}.{16 * (n - 1)}.0/20", f"us-east-1{'abc'[n - 1]}",
         f"medeez-{env}-private-{n}")
        for n in range(1, zones + 1)
    ]  # fmt: skip
    for subnet in subnets:
        assert subnet.inputs["mapPublicIpOnLaunch"] is False
        assert subnet.inputs["vpcId"] == vpc.id


@pytest.mark.parametrize("plan_name", ["dev_plan", "prod_plan"])
def test_route_tables_have_no_route_out_of_the_vpc(
    plan_name: str, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(plan_name)
    tables = plan.of_type(ROUTE_TABLE)
    for table in tables:
        assert set(table.inputs) == {"vpcId", "tags"}, table.name  # no routes: local only
    associations = {
        (a.inputs["subnetId"], a.inputs["routeTableId"]) for a in plan.of_type(ASSOCIATION)
    }
    assert associations == {
        (_id(plan, f"network-subnet-{n}"), _id(plan, f"network-routes-{n}"))
        for n in range(1, len(tables) + 1)
    }
    internet = ("internetGateway", "natGateway", "eip", "egressOnlyInternetGateway", "route")
    assert not [r for r in plan.resources if r.type.split("/")[-1].split(":")[0] in internet]


def test_gateway_endpoints_route_to_every_private_table_for_this_account_only(
    prod_plan: Plan,
) -> None:
    tables = sorted(_id(prod_plan, f"network-routes-{n}") for n in (1, 2, 3))
    dynamodb = prod_plan.named("network-dynamodb-endpoint").inputs
    s3 = prod_plan.named("network-s3-endpoint").inputs
    for inputs, service in ((dynamodb, "dynamodb"), (s3, "s3")):
        assert inputs["serviceName"] == f"com.amazonaws.us-east-1.{service}"
        assert inputs["vpcEndpointType"] == "Gateway"
        assert sorted(inputs["routeTableIds"]) == tables
        assert inputs["vpcId"] == _id(prod_plan, "network-vpc")
    assert json.loads(dynamodb["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ThisAccountOnly",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "dynamodb:*",
                "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/*",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
            }
        ],
    }
    assert json.loads(s3["policy"])["Statement"] == [
        {
            "Sid": "ThisAccountOnly",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:PrincipalAccount": ACCOUNT, "aws:ResourceAccount": ACCOUNT}
            },
        }
    ]


@pytest.mark.parametrize(
    ("plan_name", "services", "zones"),
    [
        ("dev_plan", ("secretsmanager", "sts"), 2),
        ("prod_plan", ("kms", "secretsmanager", "sts", "sqs", "logs"), 3),
    ],
)
def test_interface_endpoints_private_dns_in_every_subnet_behind_the_endpoints_group(
    plan_name: str, services: tuple[str, ...], zones: int, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(plan_name)
    interface = {
        r.inputs["serviceName"]: r
        for r in plan.of_type(ENDPOINT)
        if r.inputs["vpcEndpointType"] == "Interface"
    }
    assert set(interface) == {f"com.amazonaws.us-east-1.{s}" for s in services}
    subnets = [_id(plan, f"network-subnet-{n}") for n in range(1, zones + 1)]
    for endpoint in interface.values():
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert endpoint.inputs["subnetIds"] == subnets
        assert endpoint.inputs["securityGroupIds"] == [_id(plan, "network-endpoints-sg")]
        assert json.loads(endpoint.inputs["policy"])["Statement"] == [
            {
                "Sid": "ThisAccountOnly",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
            }
        ]


@pytest.mark.parametrize("plan_name", ["dev_plan", "prod_plan"])
def test_one_group_per_tier_with_exactly_the_rules_the_tiers_need(
    plan_name: str, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(plan_name)
    env = plan.stack
    groups = {g.name: g.inputs for g in plan.of_type(GROUP)}
    tiers = ("application", "consumer", "tooling", "database", "cache", "endpoints")
    assert set(groups) == {f"network-{t}-sg" for t in tiers}
    for tier in tiers:
        inputs = groups[f"network-{tier}-sg"]
        assert inputs["name"] == f"medeez-{env}-{tier}"
        assert inputs["vpcId"] == _id(plan, "network-vpc")
        assert inputs["revokeRulesOnDelete"] is True
        assert "ingress" not in inputs  # rules are resources of their own
        assert "egress" not in inputs
    prefix_lists = _prefix_lists(plan)
    assert set(prefix_lists) == {"dynamodb", "s3"}
    assert _rules(plan, prefix_lists) == EXPECTED_RULES
    assert len(plan.of_type(INGRESS)) + len(plan.of_type(EGRESS)) == len(EXPECTED_RULES)


def test_the_database_admits_only_its_clients_on_its_port(prod_plan: Plan) -> None:
    database = _id(prod_plan, "network-database-sg")
    admitted = {
        (r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"], r.inputs["description"])
        for r in prod_plan.of_type(INGRESS)
        if r.inputs["securityGroupId"] == database
    }
    assert admitted == {
        (_id(prod_plan, "network-application-sg"), 5432,
         "PostgreSQL from the application compute that uses the data layer"),
        (_id(prod_plan, "network-consumer-sg"), 5432, "PostgreSQL from the stream-consumer Lambda"),
        (_id(prod_plan, "network-tooling-sg"), 5432,
         "PostgreSQL from operations, migrations and audit tools"),
    }  # fmt: skip


def test_default_security_group_has_no_rules(dev_plan: Plan) -> None:
    [default] = dev_plan.of_type(DEFAULT_GROUP)
    assert default.inputs["vpcId"] == _id(dev_plan, "network-vpc")
    assert default.inputs["ingress"] == []
    assert default.inputs["egress"] == []


@pytest.mark.parametrize("plan_name", ["dev_plan", "prod_plan"])
def test_flow_logs_all_traffic_into_the_encrypted_log_group(
    plan_name: str, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(plan_name)
    env = plan.stack
    [group] = [g for g in plan.of_type(LOG_GROUP) if g.name.startswith("network-")]
    assert group.name == "network-flow-logs"
    assert group.inputs["name"] == f"/medeez/{env}/vpc-flow-logs"
    assert group.inputs["retentionInDays"] == 365
    assert group.inputs["kmsKeyId"] == plan.named("logs-key-key").state["arn"]
    assert (group.protect, group.retain_on_delete) == (
        (True, True) if env == "prod" else (False, False)
    )
    [flow] = plan.of_type(FLOW_LOG)
    role = plan.named("network-flow-logs-role")
    assert {k: v for k, v in flow.inputs.items() if k != "tags"} == {
        "vpcId": _id(plan, "network-vpc"),
        "trafficType": "ALL",
        "logDestinationType": "cloud-watch-logs",
        "logDestination": group.state["arn"],
        "iamRoleArn": role.state["arn"],
        "maxAggregationInterval": 600,
    }
    # Delivery starts only once the role may write.
    assert plan.named("network-flow-logs-role-policy").urn in flow.dependencies


def test_flow_log_role_trusts_only_flow_logs_of_this_account_and_writes_only_its_group(
    prod_plan: Plan,
) -> None:
    role = prod_plan.named("network-flow-logs-role")
    assert role.inputs["name"] == "medeez-prod-vpc-flow-logs"
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {
            "Sid": "FlowLogsDeliverForThisAccount",
            "Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc-flow-log/*"},
            },
        }
    ]
    group_arn = prod_plan.named("network-flow-logs").state["arn"]
    policy = prod_plan.named("network-flow-logs-policy")
    assert policy.inputs["name"] == "medeez-prod-vpc-flow-logs-delivery"
    assert json.loads(policy.inputs["policy"])["Statement"] == [
        {
            "Sid": "DeliverFlowLogs",
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogGroups",
                "logs:DescribeLogStreams",
            ],
            "Resource": [group_arn, f"{group_arn}:*"],
        }
    ]
    attachment = prod_plan.named("network-flow-logs-role-policy").inputs
    assert attachment == {"role": "medeez-prod-vpc-flow-logs", "policyArn": policy.state["arn"]}


def test_outputs_name_the_vpc_subnets_and_tier_groups(prod_plan: Plan) -> None:
    outputs = prod_plan.outputs
    assert outputs["vpcId"] == _id(prod_plan, "network-vpc")
    assert outputs["privateSubnetIds"] == [_id(prod_plan, f"network-subnet-{n}") for n in (1, 2, 3)]
    assert outputs["securityGroupIds"] == {
        tier: _id(prod_plan, f"network-{tier}-sg")
        for tier in ("application", "consumer", "tooling", "database", "cache", "endpoints")
    }


def _with_existing(existing: dict[str, Any]) -> Plan:
    config = copy.deepcopy(read_stack("dev").config)
    config["medeez-platform:network"]["existing"] = existing
    return run_program("dev", config)


LANDING_ZONE = {
    "vpcId": "vpc-0a1b2c3d4e5f60718",
    "subnetIds": ["subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"],
}


def test_a_landing_zone_vpc_gets_only_the_tier_groups() -> None:
    plan = _with_existing(LANDING_ZONE)
    network = plan.named("network")
    types = {r.type for r in plan.descendants(network)}
    assert types == {GROUP, INGRESS, EGRESS}
    # The landing zone owns flow logs (the audit database's log groups are its own).
    assert not [g for g in plan.of_type(LOG_GROUP) if g.name.startswith("network-")]
    for group in plan.of_type(GROUP):
        assert group.inputs["vpcId"] == "vpc-0a1b2c3d4e5f60718"
    assert _rules(plan, _prefix_lists(plan)) == EXPECTED_RULES
    assert plan.outputs["vpcId"] == "vpc-0a1b2c3d4e5f60718"
    assert plan.outputs["privateSubnetIds"] == LANDING_ZONE["subnetIds"]


def test_a_landing_zone_endpoints_group_replaces_the_stacks_own() -> None:
    plan = _with_existing({**LANDING_ZONE, "endpointsSecurityGroupId": "sg-0123456789abcdef0"})
    assert "network-endpoints-sg" not in {g.name for g in plan.of_type(GROUP)}
    to_endpoints = [
        r for r in plan.of_type(EGRESS) if r.inputs.get("referencedSecurityGroupId") ==
        "sg-0123456789abcdef0"
    ]  # fmt: skip
    assert sorted(r.name for r in to_endpoints) == [
        f"network-{t}-out-endpoints-443" for t in ("application", "consumer", "tooling")
    ]
    assert not [r for r in plan.of_type(INGRESS) if "-endpoints-" in r.name]
    assert plan.outputs["securityGroupIds"]["endpoints"] == "sg-0123456789abcdef0"
