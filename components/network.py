"""The stack's private network: a VPC with private subnets only, gateway and interface endpoints,
one security group per tier with only the rules the definition lists, the default security group
closed and flow logs to an encrypted log group; or just the tier groups in a landing zone's VPC."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import partial

import pulumi
import pulumi_aws as aws

from stackspec.config.stack import Protection
from stackspec.definitions.network import NetworkDefinition, SecurityGroupRuleDefinition, Tier


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    """Inputs of :class:`Network`."""

    definition: NetworkDefinition
    """Subnets, endpoints, tiers and their rules, flow logs (``stackspec.definitions.network``)."""
    logs_key_arn: pulumi.Input[str]
    """The stack's CloudWatch Logs key (``KeyPurpose.LOGS``): the flow log group's encryption."""
    protection: Protection = field(default_factory=Protection)
    """Resource options for the flow log group (records kept as audit evidence)."""


def _zone(index: int, names: list[str]) -> str:
    """The AZ of a subnet: the index-th available AZ of the region, in name order."""
    return sorted(names)[index]


def _gateway_policy(spec: NetworkDefinition, service: str, values: list[str]) -> str:
    partition, account_id = values
    return json.dumps(
        spec.gateway_endpoint_policy(service, partition=partition, account_id=account_id),
        sort_keys=True,
    )


class Network(pulumi.ComponentResource):
    """The VPC and its tiers.

    With the stack's own VPC: ``<name>-vpc``; ``<name>-subnet-<n>``, ``<name>-routes-<n>`` and
    ``<name>-routes-<n>-subnet`` per AZ; ``<name>-<service>-endpoint`` per gateway and interface
    endpoint; ``<name>-default-sg`` (no rules); ``<name>-flow-logs`` (log group),
    ``<name>-flow-logs-role``, ``-policy``, ``-role-policy`` and ``<name>-flow-log``. Always:
    ``<name>-<tier>-sg`` per tier and ``<name>-<rule key>`` per rule (``aws.vpc`` rule resources,
    never inline rules).
    """

    vpc_id: pulumi.Output[str]
    subnet_ids: pulumi.Output[list[str]]
    """The private subnets, one per AZ."""
    security_group_ids: dict[Tier, pulumi.Output[str]]
    """Each tier's security group."""
    security_groups: dict[Tier, aws.ec2.SecurityGroup]
    vpc: aws.ec2.Vpc | None
    flow_log_group: aws.cloudwatch.LogGroup | None

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medeez:data:Network", name, None, opts)
        spec = args.definition
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        self.vpc = None
        self.flow_log_group = None
        if spec.existing_vpc_id is not None:
            self.vpc_id = pulumi.Output.from_input(spec.existing_vpc_id)
            self.subnet_ids = pulumi.Output.from_input(list(spec.existing_subnet_ids))
        else:
            self.vpc = aws.ec2.Vpc(
                f"{name}-vpc",
                cidr_block=spec.cidr,
                # Private DNS of the interface endpoints needs both.
                enable_dns_support=True,
                enable_dns_hostnames=True,
                tags={**spec.tags, "Name": spec.vpc_name},
                opts=child,
            )
            self.vpc_id = self.vpc.id
            zones = aws.get_availability_zones_output(state="available", opts=invoke)
            subnets: list[aws.ec2.Subnet] = []
            route_tables: list[aws.ec2.RouteTable] = []
            for subnet in spec.subnets:
                number = subnet.zone_index + 1
                created = aws.ec2.Subnet(
                    f"{name}-subnet-{number}",
                    vpc_id=self.vpc.id,
                    cidr_block=subnet.cidr,
                    availability_zone=zones.names.apply(partial(_zone, subnet.zone_index)),
                    map_public_ip_on_launch=False,
                    tags={**spec.tags, "Name": subnet.name},
                    opts=child,
                )
                # No routes but the VPC's local one and the gateway endpoints': no IGW, no NAT.
                table = aws.ec2.RouteTable(
                    f"{name}-routes-{number}",
                    vpc_id=self.vpc.id,
                    tags={**spec.tags, "Name": subnet.route_table_name},
                    opts=child,
                )
                aws.ec2.RouteTableAssociation(
                    f"{name}-routes-{number}-subnet",
                    subnet_id=created.id,
                    route_table_id=table.id,
                    opts=child,
                )
                subnets.append(created)
                route_tables.append(table)
            self.subnet_ids = pulumi.Output.all(*(s.id for s in subnets)).apply(list)
            aws.ec2.DefaultSecurityGroup(
                f"{name}-default-sg",
                vpc_id=self.vpc.id,
                ingress=[],
                egress=[],
                tags={**spec.tags, "Name": f"{spec.vpc_name}-default-closed"},
                opts=child,
            )
        self.security_groups = {
            group.tier: aws.ec2.SecurityGroup(
                f"{name}-{group.tier}-sg",
                name=group.name,
                description=group.description,
                vpc_id=self.vpc_id,
                revoke_rules_on_delete=True,
                tags={**spec.tags, "Name": group.name},
                opts=child,
            )
            for group in spec.security_groups
        }
        self.security_group_ids = {tier: sg.id for tier, sg in self.security_groups.items()}
        if spec.existing_endpoints_group_id is not None:
            self.security_group_ids[Tier.ENDPOINTS] = pulumi.Output.from_input(
                spec.existing_endpoints_group_id
            )
        prefix_lists = {
            service: aws.ec2.get_managed_prefix_list_output(
                name=spec.service_name(service), opts=invoke
            ).id
            for service in {r.peer_prefix_list for r in spec.rules if r.peer_prefix_list}
        }
        for rule in spec.rules:
            self._rule(name, rule, prefix_lists, spec, child)
        if self.vpc is not None:
            account = identity.account_id
            for service in spec.gateway_endpoints:
                aws.ec2.VpcEndpoint(
                    f"{name}-{service}-endpoint",
                    vpc_id=self.vpc.id,
                    service_name=spec.service_name(service),
                    vpc_endpoint_type="Gateway",
                    route_table_ids=[t.id for t in route_tables],
                    policy=pulumi.Output.all(partition.partition, account).apply(
                        partial(_gateway_policy, spec, service)
                    ),
                    tags={**spec.tags, "Name": spec.names.vpc_endpoint(service)},
                    opts=child,
                )
            for service in spec.interface_endpoints:
                aws.ec2.VpcEndpoint(
                    f"{name}-{service.replace('.', '-')}-endpoint",
                    vpc_id=self.vpc.id,
                    service_name=spec.service_name(service),
                    vpc_endpoint_type="Interface",
                    private_dns_enabled=True,
                    subnet_ids=self.subnet_ids,
                    security_group_ids=[self.security_group_ids[Tier.ENDPOINTS]],
                    policy=account.apply(
                        lambda a: json.dumps(
                            spec.interface_endpoint_policy(account_id=a), sort_keys=True
                        )
                    ),
                    tags={**spec.tags, "Name": spec.names.vpc_endpoint(service)},
                    opts=child,
                )
            self._flow_logs(name, args, self.vpc, identity, partition)
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "subnetIds": self.subnet_ids,
                "securityGroupIds": {str(t): i for t, i in self.security_group_ids.items()},
            }
        )

    def _rule(
        self,
        name: str,
        rule: SecurityGroupRuleDefinition,
        prefix_lists: dict[str, pulumi.Output[str]],
        spec: NetworkDefinition,
        opts: pulumi.ResourceOptions,
    ) -> None:
        peer_group = self.security_group_ids[rule.peer_tier] if rule.peer_tier else None
        peer_list = prefix_lists[rule.peer_prefix_list] if rule.peer_prefix_list else None
        security_group_id = self.security_group_ids[rule.tier]
        tags = {**spec.tags, "Name": f"{spec.names.prefix}-{rule.key}"}
        if rule.direction == "ingress":
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-{rule.key}",
                security_group_id=security_group_id,
                ip_protocol=rule.protocol,
                from_port=rule.port,
                to_port=rule.port,
                referenced_security_group_id=peer_group,
                prefix_list_id=peer_list,
                description=rule.description,
                tags=tags,
                opts=opts,
            )
        else:
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-{rule.key}",
                security_group_id=security_group_id,
                ip_protocol=rule.protocol,
                from_port=rule.port,
                to_port=rule.port,
                referenced_security_group_id=peer_group,
                prefix_list_id=peer_list,
                description=rule.description,
                tags=tags,
                opts=opts,
            )

    def _flow_logs(
        self,
        name: str,
        args: NetworkArgs,
        vpc: aws.ec2.Vpc,
        identity: pulumi.Output[aws.GetCallerIdentityResult],
        partition: pulumi.Output[aws.GetPartitionResult],
    ) -> None:
        spec = args.definition
        flow = spec.flow_log
        child = pulumi.ResourceOptions(parent=self)
        self.flow_log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=flow.log_group_name,
            retention_in_days=flow.retention_days,
            kms_key_id=args.logs_key_arn,
            tags=dict(spec.tags),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protection.protect,
                retain_on_delete=args.protection.retain_on_delete,
            ),
        )
        role = aws.iam.Role(
            f"{name}-flow-logs-role",
            name=flow.role_name,
            description=f"VPC Flow Logs delivery into {flow.log_group_name}",
            assume_role_policy=pulumi.Output.all(partition.partition, identity.account_id).apply(
                lambda v: json.dumps(
                    spec.flow_log_trust_policy(partition=v[0], account_id=v[1]), sort_keys=True
                )
            ),
            tags=dict(spec.tags),
            opts=child,
        )
        # A managed policy rather than an inline one: it is versioned and reviewable on its own.
        policy = aws.iam.Policy(
            f"{name}-flow-logs-policy",
            name=flow.policy_name,
            description=f"Deliver VPC flow logs into {flow.log_group_name} only",
            policy=self.flow_log_group.arn.apply(
                lambda arn: json.dumps(spec.flow_log_role_policy(log_group_arn=arn), sort_keys=True)
            ),
            tags=dict(spec.tags),
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-flow-logs-role-policy", role=role.name, policy_arn=policy.arn, opts=child
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type=flow.traffic_type,
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=flow.max_aggregation_interval,
            tags={**spec.tags, "Name": f"{spec.vpc_name}-flow-log"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment]),
        )
