"""``medeez-platform:network``: every bad value is one line naming the key and what is allowed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stackspec.config.network import NetworkConfig
from stackspec.config.stack import parse_stack_config
from stackspec.errors import ConfigError
from stackspec.stack_file import read_stack

NS = "medeez-platform"
LANDING_ZONE = {"vpcId": "vpc-0a1b2c3d4e5f60718", "subnetIds": ["subnet-0a1b2c3d4e5f60718"]}

CASES: list[tuple[str, str, dict[str, Any], str]] = [
    (
        "prod",
        "two AZs in prod",
        {"availabilityZones": 2},
        f"{NS}:network.availabilityZones: must be at least 3 in prod (production PHI)",
    ),
    (
        "dev",
        "one AZ",
        {"availabilityZones": 1},
        f"{NS}:network.availabilityZones: Input should be greater than or equal to 2 (got 1)",
    ),
    (
        "dev",
        "a public block",
        {"cidr": "8.8.0.0/16"},
        f"{NS}:network.cidr: must be inside an RFC 1918 private range (10.0.0.0/8, "
        "172.16.0.0/12, 192.168.0.0/16) (got '8.8.0.0/16')",
    ),
    (
        "dev",
        "a block larger than a VPC may be",
        {"cidr": "10.0.0.0/8"},
        f"{NS}:network.cidr: a VPC block must be /16 to /24, got /8 (got '10.0.0.0/8')",
    ),
    (
        "dev",
        "subnets that do not fit",
        {"cidr": "10.40.0.0/24", "subnetPrefixLength": 25, "availabilityZones": 3},
        f"{NS}:network: subnetPrefixLength: 10.40.0.0/24 holds 2 /25 subnets, fewer than "
        "availabilityZones (3)",
    ),
    (
        "dev",
        "an unknown endpoint service",
        {"interfaceEndpoints": ["kms", "ec2"]},
        f"{NS}:network.interfaceEndpoints[1]: Input should be 'kms', 'secretsmanager', 'sts', "
        "'sqs', 'logs', 'monitoring', 'rds', 'ssm', 'ecr.api' or 'ecr.dkr' (got 'ec2')",
    ),
    (
        "dev",
        "an endpoint twice",
        {"interfaceEndpoints": ["kms", "kms"]},
        f"{NS}:network.interfaceEndpoints: interfaceEndpoints lists a service twice",
    ),
    (
        "dev",
        "flow logs of accepted traffic only",
        {"flowLogs": {"trafficType": "ACCEPT"}},
        f"{NS}:network.flowLogs.trafficType: Input should be 'ALL' (got 'ACCEPT')",
    ),
    (
        "dev",
        "a retention CloudWatch does not offer",
        {"flowLogs": {"retentionDays": 100}},
        f"{NS}:network.flowLogs.retentionDays: not a CloudWatch Logs retention; use one of 1, 3, "
        "5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, "
        "3288, 3653 (got 100)",
    ),
    (
        "dev",
        "a landing zone with fewer subnets than AZs",
        {"existing": LANDING_ZONE},
        f"{NS}:network: existing.subnetIds: needs one subnet per AZ, at least availabilityZones "
        "(2), got 1",
    ),
    (
        "dev",
        "a landing zone VPC id that is not one",
        {"existing": {**LANDING_ZONE, "vpcId": "my-vpc"}},
        f"{NS}:network.existing.vpcId: String should match pattern '^vpc-[0-9a-f]{{8,17}}$' "
        "(got 'my-vpc')",
    ),
]


@pytest.mark.parametrize(
    ("stack", "change", "expected"),
    [pytest.param(stack, change, expected, id=case) for stack, case, change, expected in CASES],
)
def test_bad_network_config_is_one_clear_line(
    stack: str, change: dict[str, Any], expected: str
) -> None:
    config = copy.deepcopy(read_stack(stack).config)
    config[f"{NS}:network"] = {**config[f"{NS}:network"], **change}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(stack, config)
    assert f"  - {expected}" in str(caught.value).splitlines()[1:], str(caught.value)


def test_defaults_are_the_compliant_private_network() -> None:
    network = NetworkConfig()
    assert str(network.cidr) == "10.40.0.0/16"
    assert network.availability_zones == 3
    assert network.interface_endpoints == ("kms", "secretsmanager", "sts", "sqs", "logs")
    assert (network.flow_logs.traffic_type, network.flow_logs.retention_days) == ("ALL", 365)
    assert network.existing is None
