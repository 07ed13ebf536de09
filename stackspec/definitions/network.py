"""The stack's private network: subnets, route tables, endpoints, tier security groups and their
rules, flow logs. One definition for Pulumi (``components/network.py``) and the local setup
(``scripts/services/network.py``).

Tiers are the groups of things that talk to each other; each gets one security group whose rules
name the other tiers' groups (never an address range), so only the database's clients reach the
database, and nothing reaches anything from outside the VPC: there is no internet gateway and no
NAT, and AWS APIs are reached through the gateway endpoints (DynamoDB, S3) and the interface
endpoints (private DNS, in the ENDPOINTS group).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from stackspec.config.stack import StackConfig
from stackspec.naming import StackNames

#: PostgreSQL's port: the audit database listens here.
DATABASE_PORT = 5432
#: Valkey's port: the cache listens here.
CACHE_PORT = 6379
#: HTTPS: every AWS API, through the interface endpoints or the gateway endpoints' prefix lists.
HTTPS_PORT = 443
#: Gateway endpoints (free, routed by prefix list): the app table and the audit bucket's service.
GATEWAY_ENDPOINTS = ("dynamodb", "s3")
#: The only traffic type the flow logs record: accepted and rejected.
FLOW_LOG_TRAFFIC = "ALL"
#: Who delivers flow logs to CloudWatch Logs, and so may assume the delivery role.
FLOW_LOGS_SERVICE = "vpc-flow-logs.amazonaws.com"
#: What flow log delivery needs on its log group (AWS's documented role policy, scoped).
FLOW_LOG_ACTIONS = (
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
)


class Tier(StrEnum):
    """What runs in the VPC, grouped by who may talk to whom; one security group each."""

    APPLICATION = "application"
    """The app's compute that uses the data layer."""
    CONSUMER = "consumer"
    """The stream-consumer Lambda (the table's stream into the audit trail)."""
    TOOLING = "tooling"
    """Operations, migrations and audit tools."""
    DATABASE = "database"
    """The audit database (RDS for PostgreSQL)."""
    CACHE = "cache"
    """ElastiCache (Valkey)."""
    ENDPOINTS = "endpoints"
    """The interface endpoints' network interfaces."""


#: The tiers that use the data stores (the database's and the cache's only clients).
CLIENT_TIERS = (Tier.APPLICATION, Tier.CONSUMER, Tier.TOOLING)

_TIER_PURPOSE = {
    # Security group and rule descriptions allow no apostrophes (EC2's character set).
    Tier.APPLICATION: "the application compute that uses the data layer",
    Tier.CONSUMER: "the stream-consumer Lambda",
    Tier.TOOLING: "operations, migrations and audit tools",
    Tier.DATABASE: "the audit database",
    Tier.CACHE: "the cache",
    Tier.ENDPOINTS: "the interface endpoints",
}


@dataclass(frozen=True, kw_only=True)
class SubnetDefinition:
    zone_index: int
    """Position of the subnet's AZ in the region's available AZs (sorted by name)."""
    cidr: str
    name: str
    route_table_name: str


@dataclass(frozen=True, kw_only=True)
class SecurityGroupDefinition:
    tier: Tier
    name: str
    description: str


@dataclass(frozen=True, kw_only=True)
class SecurityGroupRuleDefinition:
    """One rule of a tier's group: TCP to one port, peering with another tier's group or with a
    gateway endpoint's prefix list (egress only)."""

    tier: Tier
    direction: Literal["ingress", "egress"]
    port: int
    peer_tier: Tier | None = None
    peer_prefix_list: str | None = None
    """A gateway endpoint service (``dynamodb``, ``s3``) whose AWS-managed prefix list is the
    peer."""
    description: str
    protocol: str = "tcp"

    @property
    def key(self) -> str:
        """Stable short name: ``database-in-consumer-5432``, ``tooling-out-s3-443``."""
        way = "in" if self.direction == "ingress" else "out"
        return f"{self.tier}-{way}-{self.peer_tier or self.peer_prefix_list}-{self.port}"


@dataclass(frozen=True, kw_only=True)
class FlowLogDefinition:
    log_group_name: str
    retention_days: int
    traffic_type: str
    max_aggregation_interval: int
    role_name: str
    policy_name: str


@dataclass(frozen=True, kw_only=True)
class NetworkDefinition:
    """The VPC of one stack, or the tiers' groups in a landing zone's VPC (``existing``)."""

    names: StackNames
    region: str
    vpc_name: str
    cidr: str
    availability_zones: int
    subnets: tuple[SubnetDefinition, ...]
    """The private subnets, one per AZ; empty with an existing VPC."""
    existing_vpc_id: str | None
    existing_subnet_ids: tuple[str, ...]
    existing_endpoints_group_id: str | None
    """The landing zone's interface endpoints group: the tiers' 443 egress goes to it and the
    stack creates no ENDPOINTS group."""
    gateway_endpoints: tuple[str, ...]
    interface_endpoints: tuple[str, ...]
    security_groups: tuple[SecurityGroupDefinition, ...]
    rules: tuple[SecurityGroupRuleDefinition, ...]
    flow_log: FlowLogDefinition
    tags: dict[str, str]

    @property
    def creates_vpc(self) -> bool:
        """False when the stack reuses a landing zone's VPC: then only the tier groups are
        created (and the VPC-level resources are the landing zone's)."""
        return self.existing_vpc_id is None

    def service_name(self, service: str) -> str:
        """The endpoint service (and managed prefix list) name: ``com.amazonaws.<region>.<svc>``."""
        return f"com.amazonaws.{self.region}.{service}"

    def rules_of(self, tier: Tier) -> tuple[SecurityGroupRuleDefinition, ...]:
        return tuple(rule for rule in self.rules if rule.tier is tier)

    def gateway_endpoint_policy(
        self, service: str, *, partition: str, account_id: str
    ) -> dict[str, Any]:
        """Only this account's principals, and only this account's tables or buckets: stolen
        credentials of another account cannot carry data out through the endpoint."""
        statement: dict[str, Any] = {
            "Sid": "ThisAccountOnly",
            "Effect": "Allow",
            "Principal": "*",
            "Action": f"{service}:*",
            "Condition": {"StringEquals": {"aws:PrincipalAccount": account_id}},
        }
        if service == "dynamodb":
            statement["Resource"] = f"arn:{partition}:dynamodb:{self.region}:{account_id}:table/*"
        else:
            statement["Resource"] = "*"
            statement["Condition"]["StringEquals"]["aws:ResourceAccount"] = account_id
        return {"Version": "2012-10-17", "Statement": [statement]}

    def interface_endpoint_policy(self, *, account_id: str) -> dict[str, Any]:
        """Only this account's principals may call through the interface endpoints."""
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ThisAccountOnly",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalAccount": account_id}},
                }
            ],
        }

    def flow_log_trust_policy(self, *, partition: str, account_id: str) -> dict[str, Any]:
        """Only VPC Flow Logs delivering for this account's flow logs may assume the role."""
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "FlowLogsDeliverForThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": FLOW_LOGS_SERVICE},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account_id},
                        "ArnLike": {
                            "aws:SourceArn": (
                                f"arn:{partition}:ec2:{self.region}:{account_id}:vpc-flow-log/*"
                            )
                        },
                    },
                }
            ],
        }

    def flow_log_role_policy(self, *, log_group_arn: str) -> dict[str, Any]:
        """Delivery into the flow log group and its streams, nothing else."""
        base = log_group_arn.removesuffix(":*")
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DeliverFlowLogs",
                    "Effect": "Allow",
                    "Action": list(FLOW_LOG_ACTIONS),
                    "Resource": [base, f"{base}:*"],
                }
            ],
        }


def _rules(endpoints_in_vpc: bool) -> tuple[SecurityGroupRuleDefinition, ...]:
    rules: list[SecurityGroupRuleDefinition] = []
    for tier in CLIENT_TIERS:
        rules.append(
            SecurityGroupRuleDefinition(
                tier=Tier.DATABASE,
                direction="ingress",
                port=DATABASE_PORT,
                peer_tier=tier,
                description=f"PostgreSQL from {_TIER_PURPOSE[tier]}",
            )
        )
        rules.append(
            SecurityGroupRuleDefinition(
                tier=Tier.CACHE,
                direction="ingress",
                port=CACHE_PORT,
                peer_tier=tier,
                description=f"Valkey from {_TIER_PURPOSE[tier]}",
            )
        )
    if endpoints_in_vpc:
        for tier in Tier:
            if tier is Tier.ENDPOINTS:
                continue
            rules.append(
                SecurityGroupRuleDefinition(
                    tier=Tier.ENDPOINTS,
                    direction="ingress",
                    port=HTTPS_PORT,
                    peer_tier=tier,
                    description=f"AWS APIs over HTTPS from {_TIER_PURPOSE[tier]}",
                )
            )
    for tier in CLIENT_TIERS:
        rules += [
            SecurityGroupRuleDefinition(
                tier=tier,
                direction="egress",
                port=DATABASE_PORT,
                peer_tier=Tier.DATABASE,
                description="PostgreSQL to the audit database",
            ),
            SecurityGroupRuleDefinition(
                tier=tier,
                direction="egress",
                port=CACHE_PORT,
                peer_tier=Tier.CACHE,
                description="Valkey to the cache",
            ),
            SecurityGroupRuleDefinition(
                tier=tier,
                direction="egress",
                port=HTTPS_PORT,
                peer_tier=Tier.ENDPOINTS,
                description="AWS APIs through the interface endpoints",
            ),
        ]
        # The consumer writes only to the database and the cache; the application and the
        # tooling read and write the table and the audit bucket through the gateway endpoints.
        if tier is not Tier.CONSUMER:
            rules += [
                SecurityGroupRuleDefinition(
                    tier=tier,
                    direction="egress",
                    port=HTTPS_PORT,
                    peer_prefix_list=service,
                    description=f"{service} through its gateway endpoint",
                )
                for service in GATEWAY_ENDPOINTS
            ]
    return tuple(rules)


def network_definition(cfg: StackConfig) -> NetworkDefinition:
    network = cfg.network
    names = cfg.names
    existing = network.existing
    subnets: tuple[SubnetDefinition, ...] = ()
    if existing is None:
        blocks = network.cidr.subnets(new_prefix=network.subnet_prefix_length)
        subnets = tuple(
            SubnetDefinition(
                zone_index=index,
                cidr=str(block),
                name=names.subnet(index),
                route_table_name=names.route_table(index),
            )
            for index, block in zip(range(network.availability_zones), blocks, strict=False)
        )
    endpoints_group = existing.endpoints_security_group_id if existing else None
    tiers = [tier for tier in Tier if not (tier is Tier.ENDPOINTS and endpoints_group)]
    return NetworkDefinition(
        names=names,
        region=cfg.region,
        vpc_name=names.vpc,
        cidr=str(ipaddress.ip_network(network.cidr)),
        availability_zones=network.availability_zones,
        subnets=subnets,
        existing_vpc_id=existing.vpc_id if existing else None,
        existing_subnet_ids=existing.subnet_ids if existing else (),
        existing_endpoints_group_id=endpoints_group,
        gateway_endpoints=GATEWAY_ENDPOINTS if existing is None else (),
        interface_endpoints=tuple(network.interface_endpoints) if existing is None else (),
        security_groups=tuple(
            SecurityGroupDefinition(
                tier=tier,
                name=names.security_group(tier),
                description=f"{names.prefix} {tier} tier: {_TIER_PURPOSE[tier]}",
            )
            for tier in tiers
        ),
        rules=_rules(endpoints_in_vpc=endpoints_group is None),
        flow_log=FlowLogDefinition(
            log_group_name=names.flow_log_group,
            retention_days=network.flow_logs.retention_days,
            traffic_type=network.flow_logs.traffic_type,
            max_aggregation_interval=network.flow_logs.max_aggregation_interval_seconds,
            role_name=names.flow_log_role,
            policy_name=f"{names.flow_log_role}-delivery",
        ),
        tags=cfg.tags.as_dict(),
    )
