"""Pulumi mock runtime that records a plan: every resource with its inputs and options.

``RealisticMocks`` answers resource registrations with the ids and ARNs AWS would give (account,
region, service, name), so references between resources can be followed in the plan.
``RecordingMonitor`` keeps each ``RegisterResource`` request as the engine would receive it:
URN, parent, dependencies, property dependencies, camelCase inputs and resource options.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks, rpc
from pulumi.runtime.mocks import MockMonitor

#: The account id AWS uses in its own documentation examples.
MOCK_ACCOUNT_ID = "111122223333"
MOCK_CREATED_AT = "2026-01-01T00:00:00.000"


#: EC2 network types: the id prefix AWS gives each and the resource kind in its ARN.
EC2_IDS: dict[str, tuple[str, str]] = {
    "aws:ec2/vpc:Vpc": ("vpc", "vpc"),
    "aws:ec2/subnet:Subnet": ("subnet", "subnet"),
    "aws:ec2/routeTable:RouteTable": ("rtb", "route-table"),
    "aws:ec2/securityGroup:SecurityGroup": ("sg", "security-group"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ("sg", "security-group"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("vpce", "vpc-endpoint"),
    "aws:ec2/flowLog:FlowLog": ("fl", "vpc-flow-log"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("sgr", "security-group-rule"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ("sgr", "security-group-rule"),
}


def _digest(*parts: str, length: int = 7) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def managed_prefix_list_id(name: str) -> str:
    """The mock's id of the AWS-managed prefix list ``name`` (``com.amazonaws.<region>.s3``)."""
    return f"pl-{_digest(name, length=8)}"


def _uuid(*parts: str) -> str:
    """A stable UUID per stack and resource, like the random ids AWS assigns."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join((pulumi.get_stack(), *parts))))


class RealisticMocks(Mocks):
    """Deterministic ids and ARNs shaped like the real ones, per resource type."""

    def __init__(self, *, region: str, account_id: str = MOCK_ACCOUNT_ID) -> None:
        self.region = region
        self.account_id = account_id

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account_id,
                "arn": f"arn:aws:iam::{self.account_id}:user/offline-plan",
                "userId": "AIDAOFFLINEPLAN",
                "id": self.account_id,
            }, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if token == "aws:index/getRegion:getRegion":
            region = args.args.get("region") or self.region
            return {"name": region, "region": region, "id": region}, []
        if token == "aws:secretsmanager/getRandomPassword:getRandomPassword":
            # Stable per stack and request, letters and digits like exclude_punctuation gives.
            length = int(args.args.get("passwordLength") or 32)
            seed = _digest(pulumi.get_stack(), token, length=64)
            return {"randomPassword": (seed * (length // 64 + 1))[:length], "id": "mock"}, []
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            # Six AZs, as us-east-1 has; the program takes the first ones in name order.
            region = args.args.get("region") or self.region
            letters = "abcdef"
            return {
                "names": [f"{region}{letter}" for letter in letters],
                "zoneIds": [f"use1-az{index + 1}" for index in range(len(letters))],
                "state": args.args.get("state"),
                "id": region,
            }, []
        if token == "aws:ec2/getManagedPrefixList:getManagedPrefixList":
            name = str(args.args.get("name", ""))
            return {"id": managed_prefix_list_id(name), "name": name, "entries": []}, []
        raise NotImplementedError(f"the offline plan has no mock for invoke {token}")

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        region = str(inputs.get("region") or self.region)
        account = self.account_id
        name = args.name
        physical = str(inputs.get("name") or f"{name}-{_digest(args.typ, name)}")
        state: dict[str, Any] = dict(inputs)
        typ = args.typ
        if typ == "aws:kms/key:Key":
            key_id = _uuid(typ, name)
            state.update(arn=f"arn:aws:kms:{region}:{account}:key/{key_id}", keyId=key_id)
            return key_id, state
        if typ == "aws:kms/alias:Alias":
            state.update(
                arn=f"arn:aws:kms:{region}:{account}:{physical}",
                targetKeyArn=inputs.get("targetKeyId", ""),
            )
            return physical, state
        if typ == "aws:dynamodb/table:Table":
            arn = f"arn:aws:dynamodb:{region}:{account}:table/{physical}"
            state.update(
                name=physical,
                arn=arn,
                streamArn=f"{arn}/stream/{MOCK_CREATED_AT}",
                streamLabel=MOCK_CREATED_AT,
            )
            return physical, state
        if typ == "aws:backup/vault:Vault":
            state.update(
                name=physical,
                arn=f"arn:aws:backup:{region}:{account}:backup-vault:{physical}",
                recoveryPoints=0,
            )
            return physical, state
        if typ == "aws:backup/plan:Plan":
            plan_id = _uuid(typ, name)
            state.update(
                name=physical,
                arn=f"arn:aws:backup:{region}:{account}:backup-plan:{plan_id}",
                version=_digest(plan_id, length=32),
            )
            return plan_id, state
        if typ == "aws:backup/vaultLockConfiguration:VaultLockConfiguration":
            vault = str(inputs.get("backupVaultName", physical))
            state["backupVaultArn"] = f"arn:aws:backup:{region}:{account}:backup-vault:{vault}"
            return vault, state
        if typ == "aws:iam/role:Role":
            state.update(
                name=physical,
                arn=f"arn:aws:iam::{account}:role/{physical}",
                uniqueId=f"AROA{_digest(physical, length=17).upper()}",
            )
            return physical, state
        if typ == "aws:iam/policy:Policy":
            arn = f"arn:aws:iam::{account}:policy/{physical}"
            state.update(name=physical, arn=arn, policyId=f"ANPA{_digest(arn, length=17).upper()}")
            return arn, state
        if typ == "aws:sns/topic:Topic":
            arn = f"arn:aws:sns:{region}:{account}:{physical}"
            state.update(name=physical, arn=arn)
            return arn, state
        if typ == "aws:sns/topicSubscription:TopicSubscription":
            arn = f"{inputs.get('topic', '')}:{_uuid(typ, name)}"
            state["arn"] = arn
            return arn, state
        if typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
            state.update(
                name=physical, arn=f"arn:aws:cloudwatch:{region}:{account}:alarm:{physical}"
            )
            return physical, state
        if typ == "aws:cloudwatch/dashboard:Dashboard":
            dashboard = str(inputs.get("dashboardName", physical))
            state["dashboardArn"] = f"arn:aws:cloudwatch::{account}:dashboard/{dashboard}"
            return dashboard, state
        if typ == "aws:budgets/budget:Budget":
            state.update(name=physical, arn=f"arn:aws:budgets::{account}:budget/{physical}")
            return f"{account}:{physical}", state
        if typ == "aws:s3/bucket:Bucket":
            bucket = str(inputs.get("bucket") or physical)
            state.update(bucket=bucket, arn=f"arn:aws:s3:::{bucket}")
            return bucket, state
        if typ == "aws:cloudtrail/trail:Trail":
            arn = f"arn:aws:cloudtrail:{region}:{account}:trail/{physical}"
            state.update(name=physical, arn=arn, homeRegion=region)
            return arn, state
        if typ == "aws:backup/framework:Framework":
            arn = f"arn:aws:backup:{region}:{account}:framework:{physical}-{_uuid(typ, name)}"
            state.update(name=physical, arn=arn)
            return physical, state
        if typ == "aws:backup/restoreTestingPlan:RestoreTestingPlan":
            state.update(
                name=physical,
                arn=f"arn:aws:backup:{region}:{account}:restore-testing-plan:{physical}-"
                f"{_uuid(typ, name)}",
            )
            return physical, state
        if typ == "aws:elasticache/replicationGroup:ReplicationGroup":
            group = str(inputs.get("replicationGroupId", physical))
            state.update(
                arn=f"arn:aws:elasticache:{region}:{account}:replicationgroup:{group}",
                primaryEndpointAddress=f"master.{group}.{_digest(group, length=6)}"
                f".{region}.cache.amazonaws.com",
                readerEndpointAddress=f"replica.{group}.{_digest(group, length=6)}"
                f".{region}.cache.amazonaws.com",
                memberClusters=[
                    f"{group}-{n:03d}" for n in range(1, int(inputs.get("numCacheClusters", 1)) + 1)
                ],
            )
            return group, state
        if typ == "aws:elasticache/user:User":
            user_id = str(inputs.get("userId", physical))
            state["arn"] = f"arn:aws:elasticache:{region}:{account}:user:{user_id}"
            return user_id, state
        if typ == "aws:elasticache/userGroup:UserGroup":
            group_id = str(inputs.get("userGroupId", physical))
            state["arn"] = f"arn:aws:elasticache:{region}:{account}:usergroup:{group_id}"
            return group_id, state
        if typ in (
            "aws:elasticache/parameterGroup:ParameterGroup",
            "aws:elasticache/subnetGroup:SubnetGroup",
        ):
            kind = "parametergroup" if "parameter" in typ else "subnetgroup"
            state.update(
                name=physical, arn=f"arn:aws:elasticache:{region}:{account}:{kind}:{physical}"
            )
            return physical, state
        if typ == "aws:secretsmanager/secret:Secret":
            # Secrets Manager appends six random characters to a secret's ARN.
            suffix = _digest(physical, length=6)
            arn = f"arn:aws:secretsmanager:{region}:{account}:secret:{physical}-{suffix}"
            state.update(name=physical, arn=arn)
            return arn, state
        if typ == "aws:rds/instance:Instance":
            identifier = str(inputs.get("identifier") or physical)
            resource_id = f"db-{_digest(typ, identifier, length=26).upper()}"
            address = (
                f"{identifier}.c{_digest(account, region, length=11)}.{region}.rds.amazonaws.com"
            )
            port = int(inputs.get("port") or 5432)
            secret = f"rds!{resource_id.lower()}-{_uuid(typ, name)}"
            state.update(
                identifier=identifier,
                arn=f"arn:aws:rds:{region}:{account}:db:{identifier}",
                resourceId=resource_id,
                address=address,
                endpoint=f"{address}:{port}",
                port=port,
                masterUserSecrets=(
                    [
                        {
                            "secretArn": f"arn:aws:secretsmanager:{region}:{account}:secret:"
                            f"{secret}-{_digest(secret, length=6)}",
                            "kmsKeyId": inputs.get("masterUserSecretKmsKeyId"),
                            "secretStatus": "active",
                        }
                    ]
                    if inputs.get("manageMasterUserPassword")
                    else []
                ),
            )
            return identifier, state
        if typ in ("aws:rds/parameterGroup:ParameterGroup", "aws:rds/subnetGroup:SubnetGroup"):
            kind = "pg" if typ.endswith("ParameterGroup") else "subgrp"
            state.update(name=physical, arn=f"arn:aws:rds:{region}:{account}:{kind}:{physical}")
            return physical, state
        if typ == "aws:sns/topicPolicy:TopicPolicy":
            return str(inputs.get("arn", physical)), state
        if typ in EC2_IDS:
            prefix, kind = EC2_IDS[typ]
            ec2_id = f"{prefix}-{_digest(typ, name, length=17)}"
            state.update(arn=f"arn:aws:ec2:{region}:{account}:{kind}/{ec2_id}")
            if prefix == "vpc":
                state.update(
                    defaultSecurityGroupId=f"sg-{_digest(ec2_id, length=17)}",
                    mainRouteTableId=f"rtb-{_digest(ec2_id, length=17)}",
                )
            if prefix == "vpce":
                state["prefixListId"] = f"pl-{_digest(ec2_id, length=8)}"
            if prefix == "sgr":
                state["securityGroupRuleId"] = ec2_id
            return ec2_id, state
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            state.update(name=physical, arn=f"arn:aws:logs:{region}:{account}:log-group:{physical}")
            return physical, state
        if typ == "aws:backup/regionSettings:RegionSettings":
            return region, state
        if typ == "aws:lambda/function:Function":
            arn = f"arn:aws:lambda:{region}:{account}:function:{physical}"
            state.update(
                name=physical,
                arn=arn,
                invokeArn=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}"
                "/invocations",
                qualifiedArn=f"{arn}:$LATEST",
                version="$LATEST",
            )
            return physical, state
        if typ == "aws:lambda/layerVersion:LayerVersion":
            layer = str(inputs.get("layerName") or physical)
            layer_arn = f"arn:aws:lambda:{region}:{account}:layer:{layer}"
            state.update(layerArn=layer_arn, arn=f"{layer_arn}:1", version="1")
            return f"{layer_arn}:1", state
        if typ == "aws:lambda/eventSourceMapping:EventSourceMapping":
            uuid_ = _uuid(typ, name)
            state.update(
                uuid=uuid_, arn=f"arn:aws:lambda:{region}:{account}:event-source-mapping:{uuid_}"
            )
            return uuid_, state
        if typ == "aws:sqs/queue:Queue":
            url = f"https://sqs.{region}.amazonaws.com/{account}/{physical}"
            state.update(name=physical, arn=f"arn:aws:sqs:{region}:{account}:{physical}", url=url)
            return url, state
        # Other resources (selections, role policies, attachments, contributor insights): an id is
        # all later resources read from them.
        return f"{physical}-{_digest(typ, name, length=8)}", state


#: How the engine marks assets and archives in a property map (Pulumi's properties.go), which is
#: also what a policy pack receives and decodes (pulumi_policy.deserialize).
SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"


def _wire(value: Any) -> Any:
    """A deep, JSON-ready copy: assets and archives (a Lambda's code) in the engine's wire form,
    by path, text or URI (their contents are the engine's to read at ``pulumi up``)."""
    if isinstance(value, pulumi.Asset):
        kind = {
            pulumi.FileAsset: "path",
            pulumi.StringAsset: "text",
            pulumi.RemoteAsset: "uri",
        }[type(value)]
        return {SPECIAL_SIG_KEY: ASSET_SIG, kind: getattr(value, kind)}
    if isinstance(value, pulumi.AssetArchive):
        return {SPECIAL_SIG_KEY: ARCHIVE_SIG, "assets": _wire(dict(value.assets))}
    if isinstance(value, pulumi.Archive):
        kind = "uri" if isinstance(value, pulumi.RemoteArchive) else "path"
        return {SPECIAL_SIG_KEY: ARCHIVE_SIG, kind: getattr(value, kind)}
    if isinstance(value, dict):
        return {key: _wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_wire(item) for item in value]
    return copy.deepcopy(value)


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    inputs: dict[str, Any]
    protect: bool
    retain_on_delete: bool
    ignore_changes: list[str]
    delete_before_replace: bool
    id: str | None = None
    state: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready copy: callers may change it without touching the recorded plan."""
        document: dict[str, Any] = _wire(
            {
                "urn": self.urn,
                "type": self.type,
                "name": self.name,
                "custom": self.custom,
                "parent": self.parent,
                "dependencies": self.dependencies,
                "propertyDependencies": self.property_dependencies,
                "inputs": self.inputs,
                "options": {
                    "protect": self.protect,
                    "retainOnDelete": self.retain_on_delete,
                    "ignoreChanges": self.ignore_changes,
                    "deleteBeforeReplace": self.delete_before_replace,
                },
            }
        )
        return document


class RecordingMonitor(MockMonitor):
    """A mock monitor that records each registration as the engine receives it.

    Options are recorded as effective values: ``protect`` and ``retainOnDelete`` inherit from the
    parent when a resource does not set them, as the engine does.
    """

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.recorded: list[RecordedResource] = []
        self._by_urn: dict[str, RecordedResource] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
        parent = self._by_urn.get(request.parent)
        protect = (
            request.protect if request.HasField("protect") else bool(parent and parent.protect)
        )
        retain = (
            request.retainOnDelete
            if request.HasField("retainOnDelete")
            else bool(parent and parent.retain_on_delete)
        )
        inputs = dict(rpc.deserialize_properties(request.object))
        registration = self.resources.get(response.urn)
        record = RecordedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent,
            dependencies=sorted(set(request.dependencies)),
            property_dependencies={
                key: sorted(set(deps.urns))
                for key, deps in sorted(request.propertyDependencies.items())
            },
            inputs=inputs,
            protect=protect,
            retain_on_delete=retain,
            ignore_changes=list(request.ignoreChanges),
            delete_before_replace=bool(request.deleteBeforeReplace),
            id=registration.id if registration else None,
            state=dict(registration.state) if registration else {},
        )
        self.recorded.append(record)
        self._by_urn[record.urn] = record
        return response
