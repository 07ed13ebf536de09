"""Config of the stack's private network: ``medeez-platform:network``.

The VPC holds what has to run inside one: the audit database, the stream consumer, the cache and
the tooling that reaches them. Its subnets are private only (no internet gateway, no NAT): AWS APIs
are reached through a gateway endpoint (DynamoDB, S3) or an interface endpoint (the list below).
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator

from stackspec.config.base import ConfigModel, LogRetentionDays

#: The private IPv4 ranges of RFC 1918: a VPC of the stack must sit inside one.
PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(r) for r in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)

#: Interface endpoint services the stacks may create, and why each may be needed. The stack
#: creates only those listed in ``interfaceEndpoints``; each costs per AZ-hour and per GB.
InterfaceEndpointService = Literal[
    "kms", "secretsmanager", "sts", "sqs", "logs", "monitoring", "rds", "ssm", "ecr.api", "ecr.dkr"
]

DEFAULT_INTERFACE_ENDPOINTS: tuple[InterfaceEndpointService, ...] = (
    "kms",
    "secretsmanager",
    "sts",
    "sqs",
    "logs",
)


class ExistingVpc(ConfigModel):
    """A VPC someone else owns (an account's landing zone) that the stack places its tiers in.

    The stack then creates no VPC, subnets, route tables, endpoints, flow logs or default security
    group settings: the landing zone must provide them (private subnets in distinct AZs, flow logs
    of ALL traffic to an encrypted log group, the DynamoDB and S3 gateway endpoints and the
    interface endpoints of ``interfaceEndpoints`` with private DNS, the default security group
    closed). The stack still creates its tier security groups in that VPC.
    """

    vpc_id: Annotated[str, Field(pattern=r"^vpc-[0-9a-f]{8,17}$")]
    """The landing zone's VPC (vpc-...)."""
    subnet_ids: tuple[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")], ...]
    """Its private subnets the tiers use, one per AZ; at least as many as availabilityZones."""
    endpoints_security_group_id: Annotated[str, Field(pattern=r"^sg-[0-9a-f]{8,17}$")] | None = None
    """The security group on the landing zone's interface endpoints; the tiers' 443 egress goes
    to it (it must admit 443 from the stack's tier groups). Unset: the stack creates its own
    endpoints group, which the landing zone must then attach to its endpoints."""

    @field_validator("subnet_ids")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("subnetIds lists a subnet twice")
        return value


class FlowLogs(ConfigModel):
    """VPC flow logs: every accepted and rejected connection, to an encrypted log group."""

    retention_days: LogRetentionDays = 365
    """Days the flow log group keeps records; a CloudWatch Logs retention value."""
    traffic_type: Literal["ALL"] = "ALL"
    """Always ALL: rejected traffic is what an investigation looks for first."""
    max_aggregation_interval_seconds: Literal[60, 600] = 600
    """How long flows are aggregated into one record: 60 or 600 seconds."""


class NetworkConfig(ConfigModel):
    cidr: ipaddress.IPv4Network = ipaddress.IPv4Network("10.40.0.0/16")
    """The VPC's IPv4 block (RFC 1918, /16 to /24); ignored with existing."""
    availability_zones: Annotated[int, Field(ge=2, le=6)] = 3
    """AZs with one private subnet each, 2-6; prod must use at least 3."""
    subnet_prefix_length: Annotated[int, Field(ge=17, le=28)] = 20
    """Size of each private subnet (/17 to /28, AWS's smallest); all must fit in cidr."""
    interface_endpoints: tuple[InterfaceEndpointService, ...] = DEFAULT_INTERFACE_ENDPOINTS
    """Interface endpoints (private DNS) the stack creates: kms (tooling's PHI and digest keys),
    secretsmanager (the database's master secret for migrations), sts (tooling's role sessions),
    sqs (the consumer's failure queue, read and redriven by tooling), logs (tooling's log
    shipping). The consumer Lambda itself needs none: IAM database auth tokens are signed locally,
    and Lambda reads the stream, decrypts the environment, writes logs and sends failures to the
    queue from outside the VPC. Each costs about $7.30 per AZ-month plus $0.01/GB."""
    flow_logs: FlowLogs = FlowLogs()
    """Flow logs of the VPC (created only with the stack's own VPC)."""
    existing: ExistingVpc | None = None
    """Reuse a landing-zone VPC instead of creating one (see the README for what it must hold)."""

    @field_validator("cidr")
    @classmethod
    def _private_block(cls, value: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
        if not 16 <= value.prefixlen <= 24:
            raise ValueError(f"a VPC block must be /16 to /24, got /{value.prefixlen}")
        if not any(value.subnet_of(private) for private in PRIVATE_RANGES):
            raise ValueError(
                "must be inside an RFC 1918 private range (10.0.0.0/8, 172.16.0.0/12, "
                "192.168.0.0/16)"
            )
        return value

    @field_validator("interface_endpoints")
    @classmethod
    def _distinct(
        cls, value: tuple[InterfaceEndpointService, ...]
    ) -> tuple[InterfaceEndpointService, ...]:
        if len(set(value)) != len(value):
            raise ValueError("interfaceEndpoints lists a service twice")
        return value

    @model_validator(mode="after")
    def _fits(self) -> Self:
        if self.existing is not None:
            if len(self.existing.subnet_ids) < self.availability_zones:
                raise ValueError(
                    f"existing.subnetIds: needs one subnet per AZ, at least availabilityZones "
                    f"({self.availability_zones}), got {len(self.existing.subnet_ids)}"
                )
            return self
        if self.subnet_prefix_length <= self.cidr.prefixlen:
            raise ValueError(
                f"subnetPrefixLength: /{self.subnet_prefix_length} must be smaller than the VPC "
                f"block {self.cidr}"
            )
        room = 2 ** (self.subnet_prefix_length - self.cidr.prefixlen)
        if room < self.availability_zones:
            raise ValueError(
                f"subnetPrefixLength: {self.cidr} holds {room} /{self.subnet_prefix_length} "
                f"subnets, fewer than availabilityZones ({self.availability_zones})"
            )
        return self
