"""Which input changes make the AWS provider replace a resource, and which resources hold data.

pulumi-aws is bridged from the Terraform AWS provider: its Diff marks a property change as a
replacement when the upstream resource schema declares the attribute ``ForceNew: true``
(terraform-provider-aws ``internal/service/<service>/<resource>.go``, e.g. the table's ``name``,
``hash_key``, ``range_key`` and ``local_secondary_index``). The Python SDK installed here
(pulumi_aws 7.51.1) carries no schema, and the provider plugin that embeds it is not installed
offline, so the ForceNew attributes of every type these stacks use are transcribed below, in the
camelCase the plan uses. ``tests/tools/test_diff.py`` fails when a planned type has no entry, so a
new type is looked up before it can be diffed.

Global secondary indexes are not ForceNew: the provider updates the table, but DynamoDB can change
neither an index's key schema nor its projection in place, so the provider deletes the index and
creates it again (the index is gone until it has backfilled). The diff reports that as the index
being replaced.
"""

from __future__ import annotations

#: Every resource can be moved to another region only by creating it there.
ANY_TYPE = frozenset({"region"})

FORCE_NEW: dict[str, frozenset[str]] = {
    "aws:dynamodb/table:Table": frozenset(
        {
            "name",
            "hashKey",
            "rangeKey",
            "localSecondaryIndexes",
            "restoreSourceName",
            "restoreSourceTableArn",
            "restoreToLatestTime",
            "restoreDateTime",
        }
    ),
    "aws:dynamodb/contributorInsights:ContributorInsights": frozenset({"tableName", "indexName"}),
    "aws:kms/key:Key": frozenset(
        {"customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"}
    ),
    "aws:kms/alias:Alias": frozenset({"name", "namePrefix"}),
    "aws:backup/vault:Vault": frozenset({"name", "kmsKeyArn"}),
    "aws:backup/plan:Plan": frozenset({"name"}),
    "aws:backup/selection:Selection": frozenset(
        {"name", "planId", "iamRoleArn", "resources", "notResources", "selectionTags", "conditions"}
    ),
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": frozenset(
        {"backupVaultName", "changeableForDays"}
    ),
    "aws:backup/regionSettings:RegionSettings": frozenset(),
    # vault_notifications has no Update: every argument is ForceNew.
    "aws:backup/vaultNotifications:VaultNotifications": frozenset(
        {"backupVaultName", "snsTopicArn", "backupVaultEvents"}
    ),
    "aws:backup/restoreTestingPlan:RestoreTestingPlan": frozenset({"name"}),
    "aws:backup/restoreTestingSelection:RestoreTestingSelection": frozenset(
        {"name", "restoreTestingPlanName", "protectedResourceType"}
    ),
    "aws:backup/framework:Framework": frozenset({"name"}),
    "aws:backup/reportPlan:ReportPlan": frozenset({"name"}),
    "aws:s3/bucket:Bucket": frozenset({"bucket", "bucketPrefix", "objectLockEnabled"}),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": frozenset({"bucket"}),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": frozenset({"bucket"}),
    "aws:s3/bucketPolicy:BucketPolicy": frozenset({"bucket"}),
    "aws:s3/bucketVersioning:BucketVersioning": frozenset({"bucket", "expectedBucketOwner"}),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        frozenset({"bucket", "expectedBucketOwner"})
    ),
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": frozenset(
        {"bucket", "expectedBucketOwner", "objectLockEnabled"}
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": frozenset(
        {"bucket", "expectedBucketOwner"}
    ),
    "aws:s3/bucketLogging:BucketLogging": frozenset({"bucket", "expectedBucketOwner"}),
    "aws:cloudtrail/trail:Trail": frozenset({"name"}),
    "aws:sns/topic:Topic": frozenset({"name", "namePrefix", "fifoTopic"}),
    "aws:sns/topicPolicy:TopicPolicy": frozenset({"arn"}),
    "aws:sns/topicSubscription:TopicSubscription": frozenset({"topic", "protocol", "endpoint"}),
    "aws:cloudwatch/metricAlarm:MetricAlarm": frozenset({"name"}),
    "aws:cloudwatch/dashboard:Dashboard": frozenset({"dashboardName"}),
    "aws:cloudwatch/logGroup:LogGroup": frozenset({"name", "namePrefix"}),
    "aws:budgets/budget:Budget": frozenset({"name", "namePrefix", "accountId"}),
    "aws:iam/role:Role": frozenset({"name", "namePrefix", "path"}),
    "aws:iam/policy:Policy": frozenset({"name", "namePrefix", "path", "description"}),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": frozenset({"role", "policyArn"}),
    # terraform-provider-aws internal/service/elasticache and secretsmanager.
    "aws:elasticache/replicationGroup:ReplicationGroup": frozenset(
        {
            "replicationGroupId",
            "atRestEncryptionEnabled",
            "kmsKeyId",
            "subnetGroupName",
            "port",
            "snapshotArns",
            "snapshotName",
            "preferredCacheClusterAzs",
            "globalReplicationGroupId",
            "dataTieringEnabled",
            "networkType",
        }
    ),
    "aws:elasticache/user:User": frozenset({"userId", "userName"}),
    "aws:elasticache/userGroup:UserGroup": frozenset({"userGroupId"}),
    "aws:elasticache/parameterGroup:ParameterGroup": frozenset({"name", "family", "description"}),
    "aws:elasticache/subnetGroup:SubnetGroup": frozenset({"name"}),
    "aws:secretsmanager/secret:Secret": frozenset({"name", "namePrefix"}),
    "aws:secretsmanager/secretVersion:SecretVersion": frozenset(
        {"secretId", "secretString", "secretBinary"}
    ),
    # lambda/function.go: function_name and package_type.
    "aws:lambda/function:Function": frozenset({"name", "packageType"}),
    # lambda/layer_version.go: a layer version is immutable; every argument is ForceNew.
    "aws:lambda/layerVersion:LayerVersion": frozenset(
        {
            "layerName",
            "code",
            "s3Bucket",
            "s3Key",
            "s3ObjectVersion",
            "compatibleRuntimes",
            "compatibleArchitectures",
            "description",
            "licenseInfo",
            "sourceCodeHash",
            "skipDestroy",
        }
    ),
    # lambda/event_source_mapping.go: the source and where reading starts.
    "aws:lambda/eventSourceMapping:EventSourceMapping": frozenset(
        {
            "eventSourceArn",
            "startingPosition",
            "startingPositionTimestamp",
            "selfManagedEventSource",
            "topics",
            "queues",
            "amazonManagedKafkaEventSourceConfig",
            "selfManagedKafkaEventSourceConfig",
        }
    ),
    "aws:sqs/queue:Queue": frozenset({"name", "namePrefix", "fifoQueue"}),
    "aws:sqs/queuePolicy:QueuePolicy": frozenset({"queueUrl"}),
    # The network (internal/service/ec2/vpc_*.go and vpc_security_group_*_rule.go).
    "aws:ec2/vpc:Vpc": frozenset({"cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"}),
    "aws:ec2/subnet:Subnet": frozenset(
        {"vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "ipv6Native", "outpostArn"}
    ),
    "aws:ec2/routeTable:RouteTable": frozenset({"vpcId"}),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": frozenset({"subnetId", "gatewayId"}),
    "aws:ec2/securityGroup:SecurityGroup": frozenset(
        {"name", "namePrefix", "description", "vpcId"}
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": frozenset({"vpcId"}),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": frozenset({"securityGroupId"}),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": frozenset({"securityGroupId"}),
    "aws:ec2/vpcEndpoint:VpcEndpoint": frozenset(
        {
            "vpcId",
            "serviceName",
            "vpcEndpointType",
            "serviceRegion",
            "resourceConfigurationArn",
            "serviceNetworkArn",
        }
    ),
    # terraform-provider-aws internal/service/rds/instance.go: ForceNew attributes.
    "aws:rds/instance:Instance": frozenset(
        {
            "identifier",
            "identifierPrefix",
            "engine",
            "dbName",
            "username",
            "kmsKeyId",
            "storageEncrypted",
            "availabilityZone",
            "characterSetName",
            "ncharCharacterSetName",
            "timezone",
            "snapshotIdentifier",
            "restoreToPointInTime",
            "s3Import",
            "customIamInstanceProfile",
        }
    ),
    # parameter_group.go: the family and description cannot change; parameters update in place.
    "aws:rds/parameterGroup:ParameterGroup": frozenset(
        {"name", "namePrefix", "family", "description"}
    ),
    "aws:rds/subnetGroup:SubnetGroup": frozenset({"name", "namePrefix"}),
    # EC2 has no UpdateFlowLog: every argument but the tags replaces the flow log.
    "aws:ec2/flowLog:FlowLog": frozenset(
        {
            "vpcId",
            "subnetId",
            "eniId",
            "transitGatewayId",
            "transitGatewayAttachmentId",
            "trafficType",
            "logDestination",
            "logDestinationType",
            "logFormat",
            "iamRoleArn",
            "maxAggregationInterval",
            "destinationOptions",
            "deliverCrossAccountRole",
        }
    ),
}

#: What is lost when a resource of these types is deleted or replaced.
DATA_BEARING: dict[str, str] = {
    "aws:dynamodb/table:Table": "a new, empty table; every item of the old one is gone",
    "aws:backup/vault:Vault": "the vault's recovery points go with it",
    "aws:kms/key:Key": "everything encrypted under the old key becomes unreadable once it is "
    "deleted",
    "aws:s3/bucket:Bucket": "a new, empty bucket; the audit evidence (trail logs, digests, "
    "reports) stays in the old one (object lock keeps it), apart from what is written next",
    "aws:elasticache/replicationGroup:ReplicationGroup": "a new, empty cache (every read misses "
    "to the table until it refills) behind a new endpoint the app must be given",
    "aws:elasticache/user:User": "clients authenticating as the user fail until it exists again",
    "aws:secretsmanager/secret:Secret": "a new secret with a new password that the cache user "
    "does not have (its password is set once): replace the user in the same update",
    "aws:sqs/queue:Queue": "the failed batches' stream positions in it are lost; redrive them "
    "(read those records from the stream, within its 24 hours) before replacing the queue",
    "aws:rds/instance:Instance": "a new, empty database: the audit trail survives only in the "
    "final snapshot, the automated backups (until their retention ends) and AWS Backup",
    "aws:cloudwatch/logGroup:LogGroup": "the log group's records (flow logs: who connected to "
    "what) are deleted with it",
}


def forces_replacement(type_: str, prop: str) -> bool:
    """Whether a change of top-level input ``prop`` replaces a resource of ``type_``."""
    return prop in ANY_TYPE or prop in FORCE_NEW.get(type_, frozenset())
