"""The private network on the local endpoint: the VPC, a private subnet and route table per AZ,
the default security group emptied, one group per tier with exactly the definition's rules, the
gateway and interface endpoints, and flow logs into the encrypted log group through their role.

With a landing zone's VPC (``network.existing``) nothing is built locally: that VPC is not in the
emulator, and in AWS it is the landing zone's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from scripts.services.base import (
    CheckContext,
    Outcome,
    SetupContext,
    Skipped,
    policy_document,
    tag_list,
)
from stackspec.definitions.network import (
    NetworkDefinition,
    SecurityGroupRuleDefinition,
    Tier,
)
from stackspec.naming import KeyPurpose

NAME = "network"
EXISTING = "the landing zone's VPC is not in the local emulator; nothing to build or check"

#: A rule as compared: (direction, protocol, port, peer), the peer ``sg:<id>`` or ``pl:<id>``.
RuleKey = tuple[str, str, int, str]


# --- reading -------------------------------------------------------------------------------------


def _name_of(item: dict[str, Any]) -> str | None:
    return {t["Key"]: t["Value"] for t in item.get("Tags", [])}.get("Name")


def _by_name(items: Iterable[dict[str, Any]], name: str) -> dict[str, Any] | None:
    for item in items:
        if _name_of(item) == name:
            return item
    return None


def find_vpc(ec2: Any, name: str) -> dict[str, Any] | None:
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"]
    return vpcs[0] if vpcs else None


def zone_names(ec2: Any) -> list[str]:
    """The region's available AZs in name order: subnet ``n`` goes to the n-th, as in Pulumi."""
    zones = ec2.describe_availability_zones(Filters=[{"Name": "state", "Values": ["available"]}])
    return sorted(str(z["ZoneName"]) for z in zones["AvailabilityZones"])


def _subnets(ec2: Any, vpc_id: str) -> list[dict[str, Any]]:
    return list(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"])


def _route_tables(ec2: Any, vpc_id: str) -> list[dict[str, Any]]:
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}]
    return list(ec2.describe_route_tables(Filters=filters)["RouteTables"])


def _groups(ec2: Any, vpc_id: str) -> dict[str, dict[str, Any]]:
    """The VPC's security groups by name (``default`` included)."""
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}]
    return {
        g["GroupName"]: g for g in ec2.describe_security_groups(Filters=filters)["SecurityGroups"]
    }


def _rules(ec2: Any, group_id: str) -> list[dict[str, Any]]:
    filters = [{"Name": "group-id", "Values": [group_id]}]
    return list(ec2.describe_security_group_rules(Filters=filters)["SecurityGroupRules"])


def prefix_list_ids(ec2: Any, spec: NetworkDefinition) -> dict[str, str]:
    """The AWS-managed prefix list of each gateway service, by service."""
    wanted = {spec.service_name(s): s for s in ("dynamodb", "s3")}
    filters = [{"Name": "prefix-list-name", "Values": list(wanted)}]
    lists = ec2.describe_managed_prefix_lists(Filters=filters)["PrefixLists"]
    return {wanted[p["PrefixListName"]]: str(p["PrefixListId"]) for p in lists}


def _endpoints(ec2: Any, vpc_id: str) -> dict[str, dict[str, Any]]:
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}]
    return {
        str(e["ServiceName"]): e
        for e in ec2.describe_vpc_endpoints(Filters=filters)["VpcEndpoints"]
        if e.get("State", "available") not in ("deleted", "deleting")
    }


def _live_key(rule: dict[str, Any]) -> RuleKey:
    if "ReferencedGroupInfo" in rule:
        peer = f"sg:{rule['ReferencedGroupInfo']['GroupId']}"
    elif "PrefixListId" in rule:
        peer = f"pl:{rule['PrefixListId']}"
    else:
        peer = f"cidr:{rule.get('CidrIpv4') or rule.get('CidrIpv6')}"
    direction = "egress" if rule["IsEgress"] else "ingress"
    return (direction, str(rule["IpProtocol"]), int(rule["FromPort"]), peer)


def _wanted_key(
    rule: SecurityGroupRuleDefinition, groups: dict[Tier, str], lists: dict[str, str]
) -> RuleKey:
    peer = (
        f"sg:{groups[rule.peer_tier]}"
        if rule.peer_tier is not None
        else f"pl:{lists[str(rule.peer_prefix_list)]}"
    )
    return (rule.direction, rule.protocol, rule.port, peer)


def _describe(key: RuleKey, names: dict[str, str]) -> str:
    """``in tcp/5432 consumer``: a rule with its peer named by tier or gateway service."""
    direction, protocol, port, peer = key
    way = "in" if direction == "ingress" else "out"
    return f"{way} {protocol}/{port} {names.get(peer, peer)}"


def _permission(key: RuleKey, description: str = "") -> dict[str, Any]:
    _, protocol, port, peer = key
    kind, _, value = peer.partition(":")
    permission: dict[str, Any] = {"IpProtocol": protocol, "FromPort": port, "ToPort": port}
    extra = {"Description": description} if description else {}
    if kind == "sg":
        permission["UserIdGroupPairs"] = [{"GroupId": value, **extra}]
    elif kind == "pl":
        permission["PrefixListIds"] = [{"PrefixListId": value, **extra}]
    else:
        permission["IpRanges"] = [{"CidrIp": value}]
    return permission


def flow_log_group(logs: Any, name: str) -> dict[str, Any] | None:
    for group in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]:
        if group["logGroupName"] == name:
            return dict(group)
    return None


def _group_arn(group: dict[str, Any]) -> str:
    return str(group.get("logGroupArn") or str(group["arn"]).removesuffix(":*"))


# --- setup ---------------------------------------------------------------------------------------


def ensure(ctx: SetupContext) -> None:
    spec = ctx.stack.network
    if not spec.creates_vpc:
        ctx.result.add("vpc", str(spec.existing_vpc_id), "skipped", EXISTING)
        return
    ec2 = ctx.clients("ec2")
    vpc_id = _ensure_vpc(ctx, ec2, spec)
    subnet_ids, table_ids = _ensure_subnets(ctx, ec2, spec, vpc_id)
    _ensure_default_group_closed(ctx, ec2, vpc_id)
    groups = _ensure_groups(ctx, ec2, spec, vpc_id)
    _ensure_rules(ctx, ec2, spec, groups)
    _ensure_endpoints(ctx, ec2, spec, vpc_id, subnet_ids, table_ids, groups)
    _ensure_flow_logs(ctx, ec2, spec, vpc_id)


def _ensure_vpc(ctx: SetupContext, ec2: Any, spec: NetworkDefinition) -> str:
    vpc = find_vpc(ec2, spec.vpc_name)
    outcome: Outcome = "unchanged"
    if vpc is None:
        vpc = ec2.create_vpc(
            CidrBlock=spec.cidr,
            TagSpecifications=[
                {"ResourceType": "vpc", "Tags": tag_list({**spec.tags, "Name": spec.vpc_name})}
            ],
        )["Vpc"]
        outcome = "created"
    elif vpc["CidrBlock"] != spec.cidr:
        ctx.result.add(
            "vpc", spec.vpc_name, "drifted", f"block {vpc['CidrBlock']}, not {spec.cidr}"
        )
    vpc_id = str(vpc["VpcId"])
    for attribute, key in (
        ("enableDnsSupport", "EnableDnsSupport"),
        ("enableDnsHostnames", "EnableDnsHostnames"),
    ):
        value = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)[key]["Value"]
        if value is not True:
            ec2.modify_vpc_attribute(VpcId=vpc_id, **{key: {"Value": True}})
            outcome = "updated" if outcome == "unchanged" else outcome
    ctx.result.add("vpc", spec.vpc_name, outcome, f"{spec.cidr}, DNS support and hostnames")
    return vpc_id


def _ensure_subnets(
    ctx: SetupContext, ec2: Any, spec: NetworkDefinition, vpc_id: str
) -> tuple[list[str], list[str]]:
    zones = zone_names(ec2)
    subnet_ids, table_ids = [], []
    for subnet in spec.subnets:
        zone = zones[subnet.zone_index]
        found = _by_name(_subnets(ec2, vpc_id), subnet.name)
        outcome: Outcome = "unchanged"
        if found is None:
            found = ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=subnet.cidr,
                AvailabilityZone=zone,
                TagSpecifications=[
                    {"ResourceType": "subnet", "Tags": tag_list({**spec.tags, "Name": subnet.name})}
                ],
            )["Subnet"]
            outcome = "created"
        elif (found["CidrBlock"], found["AvailabilityZone"]) != (subnet.cidr, zone):
            ctx.result.add(
                "subnet",
                subnet.name,
                "drifted",
                f"{found['CidrBlock']} in {found['AvailabilityZone']}, not {subnet.cidr} in {zone}",
            )
            outcome = "drifted"
        subnet_id = str(found["SubnetId"])
        if found.get("MapPublicIpOnLaunch"):
            ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": False})
            outcome = "updated" if outcome == "unchanged" else outcome
        if outcome != "drifted":
            ctx.result.add("subnet", subnet.name, outcome, f"{subnet.cidr} in {zone}, private")
        table = _by_name(_route_tables(ec2, vpc_id), subnet.route_table_name)
        table_outcome: Outcome = "unchanged"
        if table is None:
            table = ec2.create_route_table(
                VpcId=vpc_id,
                TagSpecifications=[
                    {
                        "ResourceType": "route-table",
                        "Tags": tag_list({**spec.tags, "Name": subnet.route_table_name}),
                    }
                ],
            )["RouteTable"]
            table_outcome = "created"
        table_id = str(table["RouteTableId"])
        associated = {a.get("SubnetId") for a in table.get("Associations", [])}
        if subnet_id not in associated:
            ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet_id)
            table_outcome = "updated" if table_outcome == "unchanged" else table_outcome
        ctx.result.add(
            "route table",
            subnet.route_table_name,
            table_outcome,
            f"{subnet.name}; no internet route",
        )
        subnet_ids.append(subnet_id)
        table_ids.append(table_id)
    return subnet_ids, table_ids


def _revoke(ec2: Any, group_id: str, rules: list[dict[str, Any]]) -> None:
    ingress = [r["SecurityGroupRuleId"] for r in rules if not r["IsEgress"]]
    egress = [r["SecurityGroupRuleId"] for r in rules if r["IsEgress"]]
    if ingress:
        ec2.revoke_security_group_ingress(GroupId=group_id, SecurityGroupRuleIds=ingress)
    if egress:
        ec2.revoke_security_group_egress(GroupId=group_id, SecurityGroupRuleIds=egress)


def _ensure_default_group_closed(ctx: SetupContext, ec2: Any, vpc_id: str) -> None:
    default = _groups(ec2, vpc_id)["default"]
    rules = _rules(ec2, default["GroupId"])
    _revoke(ec2, default["GroupId"], rules)
    ctx.result.add(
        "default security group",
        default["GroupId"],
        "updated" if rules else "unchanged",
        f"{len(rules)} rule(s) removed" if rules else "no rules",
    )


def _ensure_groups(
    ctx: SetupContext, ec2: Any, spec: NetworkDefinition, vpc_id: str
) -> dict[Tier, str]:
    live = _groups(ec2, vpc_id)
    ids: dict[Tier, str] = {}
    for group in spec.security_groups:
        found = live.get(group.name)
        if found is None:
            group_id = str(
                ec2.create_security_group(
                    GroupName=group.name,
                    Description=group.description,
                    VpcId=vpc_id,
                    TagSpecifications=[
                        {
                            "ResourceType": "security-group",
                            "Tags": tag_list({**spec.tags, "Name": group.name}),
                        }
                    ],
                )["GroupId"]
            )
            # EC2 gives a new group an allow-all egress rule; the definition's rules replace it.
            _revoke(ec2, group_id, _rules(ec2, group_id))
            ctx.result.add("security group", group.name, "created", f"{group.tier} tier")
        else:
            group_id = str(found["GroupId"])
            if found["Description"] != group.description:
                ctx.result.add(
                    "security group", group.name, "drifted", "description differs (replaces it)"
                )
            else:
                ctx.result.add("security group", group.name, "unchanged", f"{group.tier} tier")
        ids[group.tier] = group_id
    return ids


def _ensure_rules(
    ctx: SetupContext, ec2: Any, spec: NetworkDefinition, groups: dict[Tier, str]
) -> None:
    lists = prefix_list_ids(ec2, spec)
    for group in spec.security_groups:
        group_id = groups[group.tier]
        wanted = {
            _wanted_key(rule, groups, lists): rule.description for rule in spec.rules_of(group.tier)
        }
        live = _rules(ec2, group_id)
        extra = [r for r in live if _live_key(r) not in wanted]
        missing = [key for key in wanted if key not in {_live_key(r) for r in live}]
        _revoke(ec2, group_id, extra)
        for key in missing:
            permission = [_permission(key, wanted[key])]
            if key[0] == "ingress":
                ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=permission)
            else:
                ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=permission)
        if not live and missing:
            outcome: Outcome = "created"
        else:
            outcome = "updated" if (extra or missing) else "unchanged"
        ctx.result.add("security group rules", group.name, outcome, f"{len(wanted)} rule(s)")


def _ensure_endpoints(
    ctx: SetupContext,
    ec2: Any,
    spec: NetworkDefinition,
    vpc_id: str,
    subnet_ids: list[str],
    table_ids: list[str],
    groups: dict[Tier, str],
) -> None:
    live = _endpoints(ec2, vpc_id)
    account, partition = ctx.identity.account, ctx.identity.partition
    for service in spec.gateway_endpoints:
        name = spec.service_name(service)
        policy = spec.gateway_endpoint_policy(service, partition=partition, account_id=account)
        found = live.get(name)
        if found is None:
            ec2.create_vpc_endpoint(
                VpcId=vpc_id,
                ServiceName=name,
                VpcEndpointType="Gateway",
                RouteTableIds=table_ids,
                PolicyDocument=json.dumps(policy),
                TagSpecifications=[_endpoint_tags(spec, service)],
            )
            ctx.result.add("vpc endpoint", name, "created", "gateway, this account only")
            continue
        changes: dict[str, Any] = {}
        if policy_document(found.get("PolicyDocument") or "{}") != policy:
            changes["PolicyDocument"] = json.dumps(policy)
        missing = sorted(set(table_ids) - set(found.get("RouteTableIds", [])))
        if missing:
            changes["AddRouteTableIds"] = missing
        if changes:
            ec2.modify_vpc_endpoint(VpcEndpointId=found["VpcEndpointId"], **changes)
        ctx.result.add("vpc endpoint", name, "updated" if changes else "unchanged", "gateway")
    endpoints_group = groups.get(Tier.ENDPOINTS) or str(spec.existing_endpoints_group_id)
    policy = spec.interface_endpoint_policy(account_id=account)
    for service in spec.interface_endpoints:
        name = spec.service_name(service)
        found = live.get(name)
        if found is None:
            ec2.create_vpc_endpoint(
                VpcId=vpc_id,
                ServiceName=name,
                VpcEndpointType="Interface",
                SubnetIds=subnet_ids,
                SecurityGroupIds=[endpoints_group],
                PrivateDnsEnabled=True,
                PolicyDocument=json.dumps(policy),
                TagSpecifications=[_endpoint_tags(spec, service)],
            )
            ctx.result.add("vpc endpoint", name, "created", "interface, private DNS")
            continue
        if found.get("PrivateDnsEnabled") is not True:
            # A drifted DNS setting is put back in AWS; moto does not apply ModifyVpcEndpoint's
            # PrivateDnsEnabled, so say so rather than report a change that did not happen.
            ctx.result.add("vpc endpoint", name, "drifted", "private DNS is off")
            continue
        changes = {}
        if policy_document(found.get("PolicyDocument") or "{}") != policy:
            changes["PolicyDocument"] = json.dumps(policy)
        have_groups = {g["GroupId"] for g in found.get("Groups", [])}
        if have_groups != {endpoints_group}:
            changes["AddSecurityGroupIds"] = [endpoints_group]
            changes["RemoveSecurityGroupIds"] = sorted(have_groups - {endpoints_group}) or None
        missing = sorted(set(subnet_ids) - set(found.get("SubnetIds", [])))
        if missing:
            changes["AddSubnetIds"] = missing
        changes = {k: v for k, v in changes.items() if v}
        if changes:
            ec2.modify_vpc_endpoint(VpcEndpointId=found["VpcEndpointId"], **changes)
        ctx.result.add("vpc endpoint", name, "updated" if changes else "unchanged", "interface")


def _endpoint_tags(spec: NetworkDefinition, service: str) -> dict[str, Any]:
    name = spec.names.vpc_endpoint(service)
    return {"ResourceType": "vpc-endpoint", "Tags": tag_list({**spec.tags, "Name": name})}


def _ensure_flow_logs(ctx: SetupContext, ec2: Any, spec: NetworkDefinition, vpc_id: str) -> None:
    flow = spec.flow_log
    logs = ctx.clients("logs")
    key_arn = ctx.key_arns[KeyPurpose.LOGS]
    group = flow_log_group(logs, flow.log_group_name)
    outcome: Outcome = "unchanged"
    if group is None:
        logs.create_log_group(logGroupName=flow.log_group_name, kmsKeyId=key_arn, tags=spec.tags)
        outcome = "created"
    elif group.get("kmsKeyId") != key_arn:
        logs.associate_kms_key(logGroupName=flow.log_group_name, kmsKeyId=key_arn)
        outcome = "updated"
    if group is None or group.get("retentionInDays") != flow.retention_days:
        logs.put_retention_policy(
            logGroupName=flow.log_group_name, retentionInDays=flow.retention_days
        )
        outcome = "updated" if outcome == "unchanged" else outcome
    alias = ctx.stack.keys[KeyPurpose.LOGS].alias
    ctx.result.add(
        "log group", flow.log_group_name, outcome, f"{alias}, {flow.retention_days} days"
    )
    group_arn = _group_arn(flow_log_group(logs, flow.log_group_name) or {})
    role_arn = _ensure_flow_log_role(ctx, spec, group_arn)
    wanted = {
        "TrafficType": flow.traffic_type,
        "LogDestinationType": "cloud-watch-logs",
        "LogDestination": group_arn,
        "DeliverLogsPermissionArn": role_arn,
        "MaxAggregationInterval": flow.max_aggregation_interval,
    }
    filters = [{"Name": "resource-id", "Values": [vpc_id]}]
    existing = ec2.describe_flow_logs(Filters=filters)["FlowLogs"]
    matching = [f for f in existing if all(f.get(k) == v for k, v in wanted.items())]
    stale = [f["FlowLogId"] for f in existing if f not in matching]
    if stale:
        # EC2 cannot change a flow log: replace it, as Pulumi does.
        ec2.delete_flow_logs(FlowLogIds=stale)
    if not matching:
        ec2.create_flow_logs(
            ResourceIds=[vpc_id],
            ResourceType="VPC",
            TagSpecifications=[
                {
                    "ResourceType": "vpc-flow-log",
                    "Tags": tag_list({**spec.tags, "Name": f"{spec.vpc_name}-flow-log"}),
                }
            ],
            **wanted,
        )
    outcome = "unchanged" if matching and not stale else ("updated" if existing else "created")
    ctx.result.add(
        "flow log", spec.vpc_name, outcome, f"{flow.traffic_type} to {flow.log_group_name}"
    )


def _ensure_flow_log_role(ctx: SetupContext, spec: NetworkDefinition, group_arn: str) -> str:
    flow = spec.flow_log
    iam = ctx.clients("iam")
    trust = spec.flow_log_trust_policy(
        partition=ctx.identity.partition, account_id=ctx.identity.account
    )
    outcome: Outcome = "unchanged"
    try:
        role = iam.get_role(RoleName=flow.role_name)["Role"]
        if policy_document(role["AssumeRolePolicyDocument"]) != trust:
            iam.update_assume_role_policy(RoleName=flow.role_name, PolicyDocument=json.dumps(trust))
            outcome = "updated"
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(
            RoleName=flow.role_name,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description=f"VPC Flow Logs delivery into {flow.log_group_name}",
            Tags=tag_list(spec.tags),
        )["Role"]
        outcome = "created"
    policy_arn = (
        f"arn:{ctx.identity.partition}:iam::{ctx.identity.account}:policy/{flow.policy_name}"
    )
    document = json.dumps(spec.flow_log_role_policy(log_group_arn=group_arn))
    try:
        current = iam.get_policy(PolicyArn=policy_arn)["Policy"]
        version = iam.get_policy_version(
            PolicyArn=policy_arn, VersionId=current["DefaultVersionId"]
        )["PolicyVersion"]
        if policy_document(version["Document"]) != json.loads(document):
            for old in iam.list_policy_versions(PolicyArn=policy_arn)["Versions"]:
                if not old["IsDefaultVersion"]:
                    iam.delete_policy_version(PolicyArn=policy_arn, VersionId=old["VersionId"])
            iam.create_policy_version(
                PolicyArn=policy_arn, PolicyDocument=document, SetAsDefault=True
            )
            outcome = "updated" if outcome == "unchanged" else outcome
    except iam.exceptions.NoSuchEntityException:
        iam.create_policy(
            PolicyName=flow.policy_name,
            PolicyDocument=document,
            Description=f"Deliver VPC flow logs into {flow.log_group_name} only",
            Tags=tag_list(spec.tags),
        )
    attached = iam.list_attached_role_policies(RoleName=flow.role_name)["AttachedPolicies"]
    if policy_arn not in {a["PolicyArn"] for a in attached}:
        iam.attach_role_policy(RoleName=flow.role_name, PolicyArn=policy_arn)
        outcome = "updated" if outcome == "unchanged" else outcome
    ctx.result.add("flow log role", flow.role_name, outcome, "trusted by vpc-flow-logs only")
    return str(role["Arn"])


# --- validate ------------------------------------------------------------------------------------


def check(ctx: CheckContext) -> None:
    spec = ctx.stack.network
    if not spec.creates_vpc:
        ctx.skip("network.vpc", EXISTING, spec.existing_vpc_id)
        return
    ec2 = ctx.clients("ec2")
    state: dict[str, Any] = {}

    def vpc_row() -> None:
        vpc = find_vpc(ec2, spec.vpc_name)
        expected = f"{spec.vpc_name} {spec.cidr}, DNS support and hostnames"
        if vpc is None:
            ctx.fail("network.vpc", expected, "not found")
            return
        state["vpc"] = str(vpc["VpcId"])
        dns = all(
            ec2.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute=a)[k]["Value"]
            for a, k in (
                ("enableDnsSupport", "EnableDnsSupport"),
                ("enableDnsHostnames", "EnableDnsHostnames"),
            )
        )
        found = f"{spec.vpc_name} {vpc['CidrBlock']}" + (
            ", DNS support and hostnames" if dns else ", DNS off"
        )
        ctx.add("network.vpc", expected, found)

    ctx.guard("network.vpc", vpc_row, spec.vpc_name)

    def vpc_id() -> str:
        if "vpc" not in state:
            raise Skipped(f"VPC {spec.vpc_name} not found")
        return str(state["vpc"])

    def subnets_row() -> None:
        zones = zone_names(ec2)
        live = _subnets(ec2, vpc_id())
        expected, found = [], []
        for subnet in spec.subnets:
            expected.append(f"{subnet.name} {subnet.cidr} {zones[subnet.zone_index]} private")
            have = _by_name(live, subnet.name)
            if have is None:
                found.append(f"{subnet.name} not found")
                continue
            public = "PUBLIC IPs" if have.get("MapPublicIpOnLaunch") else "private"
            found.append(f"{subnet.name} {have['CidrBlock']} {have['AvailabilityZone']} {public}")
        names = {subnet.name for subnet in spec.subnets}
        extra = sorted(str(s["SubnetId"]) for s in live if _name_of(s) not in names)
        ctx.add("network.subnets", expected, found + [f"{e} (not the stack's)" for e in extra])

    ctx.guard("network.subnets", subnets_row)

    def routes_row() -> None:
        vpc = vpc_id()
        subnets = {s["SubnetId"]: _name_of(s) or s["SubnetId"] for s in _subnets(ec2, vpc)}
        endpoints = _endpoints(ec2, vpc)
        gateway_ids = {
            e["VpcEndpointId"]: s.rsplit(".", 1)[-1]
            for s, e in endpoints.items()
            if e.get("VpcEndpointType") == "Gateway"
        }
        expected, found = [], []
        for subnet in spec.subnets:
            expected.append(
                f"{subnet.route_table_name}: {subnet.name}; local, "
                + ", ".join(sorted(spec.gateway_endpoints))
            )
            table = _by_name(_route_tables(ec2, vpc), subnet.route_table_name)
            if table is None:
                found.append(f"{subnet.route_table_name} not found")
                continue
            names = sorted(
                str(subnets[a["SubnetId"]])
                for a in table.get("Associations", [])
                if a.get("SubnetId") in subnets
            )
            targets = []
            for route in table.get("Routes", []):
                gateway = str(route.get("GatewayId") or route.get("NatGatewayId") or "")
                if gateway == "local":
                    targets.append("local")
                elif gateway in gateway_ids:
                    targets.append(gateway_ids[gateway])
                else:
                    destination = route.get("DestinationCidrBlock") or route.get(
                        "DestinationPrefixListId"
                    )
                    targets.append(f"{destination} via {gateway or 'other'}")
            local = ["local"] if "local" in targets else []
            rest = sorted(t for t in targets if t != "local")
            found.append(
                f"{subnet.route_table_name}: {', '.join(names) or 'no subnet'}; "
                + ", ".join(local + rest)
            )
        ctx.add("network.route-tables", expected, found)

    ctx.guard("network.route-tables", routes_row)

    def internet_row() -> None:
        vpc = vpc_id()
        gateways = ec2.describe_internet_gateways(
            Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}]
        )["InternetGateways"]
        nats = [
            n
            for n in ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
                "NatGateways"
            ]
            if n.get("State") not in ("deleted", "deleting")
        ]
        found = [g["InternetGatewayId"] for g in gateways] + [n["NatGatewayId"] for n in nats]
        ctx.add("network.no-internet-path", [], found)

    ctx.guard("network.no-internet-path", internet_row)

    def default_group_row() -> None:
        default = _groups(ec2, vpc_id())["default"]
        rules = _rules(ec2, default["GroupId"])
        ctx.add("network.default-security-group", [], [_describe(_live_key(r), {}) for r in rules])

    ctx.guard("network.default-security-group", default_group_row)

    def group_ids() -> tuple[dict[Tier, str], dict[str, str]]:
        live = _groups(ec2, vpc_id())
        ids = {g.tier: str(live[g.name]["GroupId"]) for g in spec.security_groups if g.name in live}
        if spec.existing_endpoints_group_id:
            ids[Tier.ENDPOINTS] = spec.existing_endpoints_group_id
        names = {f"sg:{i}": str(t) for t, i in ids.items()}
        names.update({f"pl:{i}": s for s, i in prefix_list_ids(ec2, spec).items()})
        return ids, names

    for group in spec.security_groups:
        check_id = f"network.security-group.{group.tier}"

        def group_row(group: Any = group, check_id: str = check_id) -> None:
            ids, names = group_ids()
            if group.tier not in ids:
                ctx.fail(check_id, group.name, "not found")
                return
            lists = {v: k.removeprefix("pl:") for k, v in names.items() if k.startswith("pl:")}
            missing_peer = [
                r for r in spec.rules_of(group.tier) if r.peer_tier and r.peer_tier not in ids
            ]
            if missing_peer:
                raise Skipped(f"the {missing_peer[0].peer_tier} group is not found")
            expected = sorted(
                _describe(_wanted_key(r, ids, lists), names) for r in spec.rules_of(group.tier)
            )
            found = sorted(_describe(_live_key(r), names) for r in _rules(ec2, ids[group.tier]))
            ctx.add(check_id, expected, found)

        ctx.guard(check_id, group_row, group.name)

    account, partition = ctx.identity.account, ctx.identity.partition
    for service in (*spec.gateway_endpoints, *spec.interface_endpoints):
        check_id = f"network.endpoint.{service}"

        def endpoint_row(service: str = service, check_id: str = check_id) -> None:
            vpc = vpc_id()
            found = _endpoints(ec2, vpc).get(spec.service_name(service))
            gateway = service in spec.gateway_endpoints
            _, names = group_ids()
            if gateway:
                policy = spec.gateway_endpoint_policy(
                    service, partition=partition, account_id=account
                )
                tables = [
                    _by_name(_route_tables(ec2, vpc), s.route_table_name) for s in spec.subnets
                ]
                where = sorted(str(t["RouteTableId"]) for t in tables if t)
                expected = f"Gateway, this account only, route tables {fmt_ids(where)}"
            else:
                policy = spec.interface_endpoint_policy(account_id=account)
                subnets = [_by_name(_subnets(ec2, vpc), s.name) for s in spec.subnets]
                where = sorted(str(s["SubnetId"]) for s in subnets if s)
                expected = (
                    f"Interface, private DNS, this account only, endpoints group, "
                    f"subnets {fmt_ids(where)}"
                )
            if found is None:
                ctx.fail(check_id, expected, "not found")
                return
            live_policy = policy_document(found.get("PolicyDocument") or "{}")
            scope = "this account only" if live_policy == policy else "another policy"
            if gateway:
                have = f"{found['VpcEndpointType']}, {scope}, route tables " + fmt_ids(
                    sorted(found.get("RouteTableIds", []))
                )
            else:
                groups = sorted(
                    names.get(f"sg:{g['GroupId']}", g["GroupId"]) for g in found.get("Groups", [])
                )
                dns = "private DNS" if found.get("PrivateDnsEnabled") else "no private DNS"
                group_text = "endpoints group" if groups == ["endpoints"] else f"groups {groups}"
                have = (
                    f"{found['VpcEndpointType']}, {dns}, {scope}, {group_text}, "
                    f"subnets {fmt_ids(sorted(found.get('SubnetIds', [])))}"
                )
            ctx.add(check_id, expected, have)

        ctx.guard(check_id, endpoint_row, spec.service_name(service))

    _check_flow_logs(ctx, spec, vpc_id)


def fmt_ids(ids: list[str]) -> str:
    return " ".join(ids) if ids else "none"


def _check_flow_logs(ctx: CheckContext, spec: NetworkDefinition, vpc_id: Any) -> None:
    flow = spec.flow_log
    logs = ctx.clients("logs")
    alias = ctx.stack.keys[KeyPurpose.LOGS].alias

    def group_row() -> None:
        key_arn = ctx.key_arns.get(KeyPurpose.LOGS)
        if key_arn is None:
            raise Skipped(f"key {alias} not found")
        expected = f"{flow.log_group_name} on {alias}, {flow.retention_days} days"
        group = flow_log_group(logs, flow.log_group_name)
        if group is None:
            ctx.fail("network.flow-log-group", expected, "not found")
            return
        key = (
            "on " + alias
            if group.get("kmsKeyId") == key_arn
            else f"on {group.get('kmsKeyId') or 'no key'}"
        )
        found = (
            f"{flow.log_group_name} {key}, {group.get('retentionInDays', 'never-expiring')} days"
        )
        ctx.add("network.flow-log-group", expected, found)

    ctx.guard("network.flow-log-group", group_row, flow.log_group_name)

    def flow_log_row() -> None:
        group = flow_log_group(logs, flow.log_group_name)
        role = f"arn:{ctx.identity.partition}:iam::{ctx.identity.account}:role/{flow.role_name}"
        expected = (
            f"{flow.traffic_type} to {flow.log_group_name} via {flow.role_name}, "
            f"{flow.max_aggregation_interval} s"
        )
        found = [
            f"{f.get('TrafficType')} to "
            + (
                flow.log_group_name
                if group and f.get("LogDestination") == _group_arn(group)
                else str(f.get("LogDestination") or f.get("LogGroupName"))
            )
            + " via "
            + (
                flow.role_name
                if f.get("DeliverLogsPermissionArn") == role
                else str(f.get("DeliverLogsPermissionArn"))
            )
            + f", {f.get('MaxAggregationInterval')} s"
            for f in ctx.clients("ec2").describe_flow_logs(
                Filters=[{"Name": "resource-id", "Values": [vpc_id()]}]
            )["FlowLogs"]
        ]
        ctx.add("network.flow-log", expected, found, ok=found == [expected])

    ctx.guard("network.flow-log", flow_log_row)

    def role_row() -> None:
        iam = ctx.clients("iam")
        trust = spec.flow_log_trust_policy(
            partition=ctx.identity.partition, account_id=ctx.identity.account
        )
        group = flow_log_group(logs, flow.log_group_name)
        if group is None:
            raise Skipped(f"log group {flow.log_group_name} not found")
        document = spec.flow_log_role_policy(log_group_arn=_group_arn(group))
        expected = f"{flow.role_name}: trusted by vpc-flow-logs of this account; {flow.policy_name}"
        try:
            role = iam.get_role(RoleName=flow.role_name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            ctx.fail("network.flow-log-role", expected, "not found")
            return
        problems = []
        if policy_document(role["AssumeRolePolicyDocument"]) != trust:
            problems.append("trust policy differs")
        attached = iam.list_attached_role_policies(RoleName=flow.role_name)["AttachedPolicies"]
        names = [a["PolicyName"] for a in attached]
        if names != [flow.policy_name]:
            problems.append(f"attached {names}")
        else:
            arn = attached[0]["PolicyArn"]
            version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            live = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]
            if policy_document(live["Document"]) != document:
                problems.append(f"{flow.policy_name} grants differ")
        ctx.add(
            "network.flow-log-role",
            expected,
            "; ".join(problems) if problems else expected,
        )

    ctx.guard("network.flow-log-role", role_row, flow.role_name)
