"""The whole program for dev and prod: the design's resource set, tags, options and outputs."""

from __future__ import annotations

import importlib
import inspect
import json
import keyword
import re
from collections import Counter
from typing import Any

import pytest

from tools.plan import Plan

BASE_TYPES = {
    "medeez:data:EncryptionKey": 9,
    "aws:kms/key:Key": 9,
    "aws:kms/alias:Alias": 9,
    "medeez:data:AppTable": 1,
    "aws:dynamodb/table:Table": 1,
    "medeez:data:Monitoring": 1,
    "aws:sns/topic:Topic": 1,
    "aws:sns/topicPolicy:TopicPolicy": 1,
    "aws:sns/topicSubscription:TopicSubscription": 1,
    # The monitoring set (24), the cache node's five, the audit database's eight, the consumer's
    # four, the cache invalidator's four.
    "aws:cloudwatch/metricAlarm:MetricAlarm": 45,
    "aws:cloudwatch/dashboard:Dashboard": 1,
    "medeez:data:CrossRegionBackup": 1,
    "aws:backup/regionSettings:RegionSettings": 1,
    "aws:backup/vault:Vault": 1,
    "aws:backup/plan:Plan": 1,
    "aws:backup/selection:Selection": 1,
    # The backup role, the five access roles (tenant, operations, deploy, stream consumer, cache
    # invalidator) with a managed policy each (the deploy role four more: network, data,
    # functions, audit), plus their shared permissions boundary; the flow log role and its
    # delivery policy; the audit database's enhanced-monitoring role (AWS managed policy).
    "medeez:data:AccessRoles": 1,
    "aws:iam/role:Role": 8,
    "aws:iam/policy:Policy": 12,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 14,
    "medeez:data:CostBudget": 1,
    "aws:budgets/budget:Budget": 1,
    "medeez:data:RecoveryAssurance": 1,
    "aws:backup/vaultNotifications:VaultNotifications": 1,
    "aws:backup/restoreTestingPlan:RestoreTestingPlan": 1,
    "aws:backup/restoreTestingSelection:RestoreTestingSelection": 1,
    # The audit bucket (its key, settings, lifecycle and access logging to its access-log
    # bucket) and the trail, in every stack.
    "medeez:data:AuditBucket": 1,
    "aws:s3/bucket:Bucket": 2,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 2,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 2,
    "aws:s3/bucketVersioning:BucketVersioning": 2,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 2,
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": 1,
    "aws:s3/bucketPolicy:BucketPolicy": 2,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 2,
    "aws:s3/bucketLogging:BucketLogging": 1,
    "medeez:data:AuditTrail": 1,
    "aws:cloudtrail/trail:Trail": 1,
    # The network, two AZs in dev: a subnet, route table and association per AZ; six tier
    # groups with 11 ingress and 13 egress rules; two gateway and two interface endpoints.
    "medeez:data:Network": 1,
    "aws:ec2/vpc:Vpc": 1,
    "aws:ec2/subnet:Subnet": 2,
    "aws:ec2/routeTable:RouteTable": 2,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": 2,
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": 1,
    "aws:ec2/securityGroup:SecurityGroup": 6,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 11,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": 13,
    "aws:ec2/vpcEndpoint:VpcEndpoint": 4,
    "aws:cloudwatch/logGroup:LogGroup": 7,
    "aws:ec2/flowLog:FlowLog": 1,
    # The cache: one node in dev with five alarms (counted above), its slow- and engine-log
    # groups (above), four users with a secret each, the user group, subnet and parameter group.
    "medeez:data:Cache": 1,
    "aws:elasticache/replicationGroup:ReplicationGroup": 1,
    "aws:elasticache/parameterGroup:ParameterGroup": 1,
    "aws:elasticache/subnetGroup:SubnetGroup": 1,
    "aws:elasticache/user:User": 4,
    "aws:elasticache/userGroup:UserGroup": 1,
    "aws:secretsmanager/secret:Secret": 4,
    "aws:secretsmanager/secretVersion:SecretVersion": 4,
    # The stream consumer (issue 9 §3): its key, function, layer, mapping, failure queue and its
    # policy, log group and four alarms.
    # The cache invalidator the same (its log group and four alarms counted above).
    "medeez:data:StreamConsumer": 1,
    "medeez:data:CacheInvalidator": 1,
    "aws:lambda/function:Function": 2,
    "aws:lambda/layerVersion:LayerVersion": 2,
    "aws:lambda/eventSourceMapping:EventSourceMapping": 2,
    "aws:sqs/queue:Queue": 2,
    "aws:sqs/queuePolicy:QueuePolicy": 2,
    # The audit database: its key (counted above), parameter and subnet groups, the instance,
    # its postgresql and upgrade log groups and eight alarms (counted above).
    "medeez:data:AuditDatabase": 1,
    "aws:rds/instance:Instance": 1,
    "aws:rds/parameterGroup:ParameterGroup": 1,
    "aws:rds/subnetGroup:SubnetGroup": 1,
}
#: What prod adds: the DR region's settings, vault and key, vault locks, the copy-job alarm,
#: contributor insights on the table and its five indexes, and the Audit Manager evidence
#: (framework, three report plans).
PROD_ONLY = {
    "medeez:data:EncryptionKey": 1,
    "aws:kms/key:Key": 1,
    "aws:kms/alias:Alias": 1,
    "aws:backup/regionSettings:RegionSettings": 1,
    "aws:backup/vault:Vault": 1,
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": 2,
    # The copy-job alarm; the cache's second node: its six alarms and replication lag on the first.
    "aws:cloudwatch/metricAlarm:MetricAlarm": 8,
    "aws:dynamodb/contributorInsights:ContributorInsights": 6,
    "aws:backup/framework:Framework": 1,
    "aws:backup/reportPlan:ReportPlan": 3,
    # A third AZ: its subnet, route table and association; three more interface endpoints.
    "aws:ec2/vpcEndpoint:VpcEndpoint": 3,
    "aws:ec2/subnet:Subnet": 1,
    "aws:ec2/routeTable:RouteTable": 1,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": 1,
}
OUTPUTS = {
    "environment",
    "region",
    "drRegion",
    "tableName",
    "tableArn",
    "tableStreamArn",
    "tableKeyArn",
    "tableKeyAlias",
    "phiKeyArn",
    "phiKeyAlias",
    "alertsKeyArn",
    "alertsKeyAlias",
    "logsKeyArn",
    "logsKeyAlias",
    "cacheKeyArn",
    "cacheKeyAlias",
    "cachePrimaryEndpoint",
    "cacheReaderEndpoint",
    "cacheUserSecretArns",
    "vpcId",
    "privateSubnetIds",
    "securityGroupIds",
    "alertTopicArn",
    "dashboardName",
    "backupVaultArn",
    "drBackupVaultArn",
    "backupPlanArn",
    "budgetName",
    "auditBucketName",
    "auditAccessLogBucketName",
    "trailArn",
    "permissionsBoundaryArn",
    "tenantRoleArn",
    "operationsRoleArn",
    "deployRoleArn",
    "streamConsumerRoleArn",
    "auditDatabaseAddress",
    "auditDatabasePort",
    "auditDatabaseResourceId",
    "auditDatabaseMasterSecretArn",
    "consumerKeyArn",
    "consumerKeyAlias",
    "streamConsumerFunctionName",
    "streamConsumerFailureQueueUrl",
    "cacheInvalidatorRoleArn",
    "cacheInvalidatorFunctionName",
    "cacheInvalidatorFailureQueueUrl",
}


def type_counts(plan: Plan) -> Counter[str]:
    return Counter(r.type for r in plan.resources)


def test_dev_builds_exactly_the_design_resource_set(dev_plan: Plan) -> None:
    assert type_counts(dev_plan) == Counter(BASE_TYPES)


def test_prod_adds_exactly_the_prod_only_resources(prod_plan: Plan) -> None:
    assert type_counts(prod_plan) == Counter(BASE_TYPES) + Counter(PROD_ONLY)


def test_dr_resources_live_in_the_dr_region(prod_plan: Plan) -> None:
    in_dr = {r.name for r in prod_plan.resources if r.inputs.get("region") == "us-west-2"}
    assert in_dr == {
        "backup-dr-region-settings",
        "backup-dr-vault",
        "backup-dr-vault-key-key",
        "backup-dr-vault-key-alias",
        "backup-dr-vault-lock",
    }


def _taggable(type_token: str) -> bool:
    """Whether the pulumi_aws resource class takes a ``tags`` input."""
    module_path, class_name = type_token.split(":")[1].split("/")[0], type_token.split(":")[2]
    # Python keywords get a trailing underscore in the SDK (``lambda`` is ``pulumi_aws.lambda_``).
    module = importlib.import_module(
        f"pulumi_aws.{module_path}_"
        if keyword.iskeyword(module_path)
        else f"pulumi_aws.{module_path}"
    )
    cls = getattr(module, class_name)
    return "tags" in inspect.signature(cls._internal_init).parameters


@pytest.mark.parametrize("plan_name", ["dev_plan", "prod_plan"])
def test_every_taggable_resource_carries_the_stack_tags(
    plan_name: str, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(plan_name)
    expected = {
        "Environment": plan.stack,
        "Project": "medeez-platform",
        "Owner": "platform-team",
        "CostCenter": "engineering" if plan.stack == "dev" else "clinical-operations",
        "DataClassification": "phi",
        "ManagedBy": "pulumi",
    }
    taggable = [r for r in plan.resources if r.custom and _taggable(r.type)]
    assert len(taggable) > 30
    for resource in taggable:
        tags = dict(resource.inputs.get("tags") or {})
        if resource.type.startswith(("aws:ec2/", "aws:vpc/")):
            # EC2 shows a network resource's name only through its Name tag.
            assert tags.pop("Name", "").startswith(f"medeez-{plan.stack}-"), resource.name
        assert tags == expected, resource.name


def test_components_parent_their_children_with_derived_names(prod_plan: Plan) -> None:
    components = [r for r in prod_plan.resources if not r.custom]
    for component in components:
        children = [r for r in prod_plan.resources if r.parent == component.urn]
        assert children, component.name
        for child in children:
            assert child.name.startswith(f"{component.name}-"), (component.name, child.name)
    roots = {r.name for r in prod_plan.resources if "::pulumi:pulumi:Stack::" in r.parent}
    assert roots == {
        "table-key",
        "phi-key",
        "alerts-key",
        "logs-key",
        "cache-key",
        "consumer-key",
        "network",
        "cache",
        "audit-db",
        "app",
        "monitoring",
        "backup",
        "audit",
        "trail",
        "recovery",
        "access",
        "stream-consumer",
        "stream-invalidator",
        "cost",
    }


def test_data_resources_protected_in_prod_and_not_in_dev(dev_plan: Plan, prod_plan: Plan) -> None:
    data_types = {
        "aws:dynamodb/table:Table",
        "aws:kms/key:Key",
        "aws:backup/vault:Vault",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    }
    for resource in prod_plan.resources:
        if resource.type in data_types:
            assert resource.protect, resource.name
            assert resource.retain_on_delete, resource.name
    assert not any(r.protect or r.retain_on_delete for r in dev_plan.resources)
    # Alerting and cost resources stay replaceable in every stack.
    assert not prod_plan.named("monitoring-topic").protect
    assert not prod_plan.named("cost-budget").protect


def test_outputs(dev_plan: Plan, prod_plan: Plan) -> None:
    assert set(dev_plan.outputs) == OUTPUTS
    assert prod_plan.outputs["tableName"] == "medeez-prod-app"
    assert prod_plan.outputs["tableArn"] == (
        "arn:aws:dynamodb:us-east-1:111122223333:table/medeez-prod-app"
    )
    assert prod_plan.outputs["tableStreamArn"].startswith(
        prod_plan.outputs["tableArn"] + "/stream/"
    )
    assert prod_plan.outputs["phiKeyAlias"] == "alias/medeez-prod-phi"
    assert prod_plan.outputs["drBackupVaultArn"].startswith("arn:aws:backup:us-west-2:")
    assert dev_plan.outputs["drBackupVaultArn"] is None
    assert (prod_plan.outputs["region"], prod_plan.outputs["drRegion"]) == (
        "us-east-1",
        "us-west-2",
    )
    assert prod_plan.outputs["backupPlanArn"] == prod_plan.named("backup-plan").state["arn"]


def test_plan_json_shape(prod_plan: Plan) -> None:
    document = json.loads(json.dumps(prod_plan.to_json()))
    assert set(document) == {"project", "stack", "resources", "outputs"}
    assert (document["project"], document["stack"]) == ("medeez-platform", "prod")
    for resource in document["resources"]:
        assert set(resource) == {
            "urn",
            "type",
            "name",
            "custom",
            "parent",
            "dependencies",
            "propertyDependencies",
            "inputs",
            "options",
        }
        assert set(resource["options"]) == {
            "protect",
            "retainOnDelete",
            "ignoreChanges",
            "deleteBeforeReplace",
        }
        assert resource["urn"] == (
            f"urn:pulumi:prod::medeez-platform::{_type_chain(document, resource)}::"
            f"{resource['name']}"
        )
        for key in resource["inputs"]:
            # camelCase as the engine receives it, the names a policy pack reads.
            assert re.fullmatch(r"[a-z][A-Za-z0-9]*", key), (resource["name"], key)


def _type_chain(document: dict[str, Any], resource: dict[str, Any]) -> str:
    parent_type = resource["parent"].split("::")[-2].split("$")[-1]
    return f"{parent_type}${resource['type']}"
