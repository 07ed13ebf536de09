"""Which resource types hold data, and which of those this pack has guardrails for.

A type is *data-bearing* when its service stores or moves records (DynamoDB, RDS, S3, ...) and it is
not one of the reviewed supporting types below (aliases, plans, policies, subnet groups...). The
coverage rule fails any data-bearing type no resource rule judges, so a new variant - a
``aws-native`` table, a global table, an S3 ``BucketV2`` - cannot pass silently.
"""

from __future__ import annotations

from typing import Final

#: Services whose resources can hold or carry PHI.
DATA_SERVICES: Final = frozenset(
    {
        "dynamodb",
        "dax",
        "rds",
        "docdb",
        "neptune",
        "redshift",
        "redshiftserverless",
        "elasticache",
        "memorydb",
        "s3",
        "s3control",
        "efs",
        "ebs",
        "fsx",
        "backup",
        "kms",
        "secretsmanager",
        "kinesis",
        "firehose",
        "sqs",
        "sns",
        "opensearch",
        "elasticsearch",
        "glue",
        "athena",
        "timestreamwrite",
        "keyspaces",
        "qldb",
        "healthlake",
        "sagemaker",
        "dms",
        "cloudwatch:logGroup",
    }
)

#: Types in those services reviewed as holding no data themselves.
SUPPORTING_TYPES: Final = frozenset(
    {
        "aws:dynamodb/contributorInsights:ContributorInsights",
        "aws:dynamodb/resourcePolicy:ResourcePolicy",
        "aws:dynamodb/tag:Tag",
        "aws:kms/alias:Alias",
        "aws:kms/grant:Grant",
        "aws:backup/plan:Plan",
        "aws:backup/selection:Selection",
        "aws:backup/regionSettings:RegionSettings",
        "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
        "aws:backup/vaultPolicy:VaultPolicy",
        "aws:backup/vaultNotifications:VaultNotifications",
        # Restore testing, Audit Manager and object lock settings describe data, hold none.
        "aws:backup/restoreTestingPlan:RestoreTestingPlan",
        "aws:backup/restoreTestingSelection:RestoreTestingSelection",
        "aws:backup/framework:Framework",
        "aws:backup/reportPlan:ReportPlan",
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        "aws:sns/topicPolicy:TopicPolicy",
        "aws:sns/topicSubscription:TopicSubscription",
        "aws:sqs/queuePolicy:QueuePolicy",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:rds/clusterParameterGroup:ClusterParameterGroup",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:elasticache/subnetGroup:SubnetGroup",
        "aws:elasticache/parameterGroup:ParameterGroup",
        "aws:secretsmanager/secretPolicy:SecretPolicy",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketVersioningV2:BucketVersioningV2",
        "aws:s3/bucketLogging:BucketLogging",
        "aws:s3/bucketLoggingV2:BucketLoggingV2",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        (
            "aws:s3/bucketServerSideEncryptionConfigurationV2:"
            "BucketServerSideEncryptionConfigurationV2"
        ),
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
    }
)


#: Network types that decide who can reach the data (not data themselves): every one must be
#: judged by some rule, as data-bearing types must, so a new way to open the network cannot pass
#: unjudged. Route table associations and egress rules only narrow what the judged types allow.
NETWORK_TYPES: Final = frozenset(
    {
        "aws:ec2/vpc:Vpc",
        "aws:ec2/defaultVpc:DefaultVpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/defaultSubnet:DefaultSubnet",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/defaultRouteTable:DefaultRouteTable",
        "aws:ec2/route:Route",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/internetGatewayAttachment:InternetGatewayAttachment",
        "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "aws:ec2/flowLog:FlowLog",
    }
)


def must_be_judged(resource_type: str) -> bool:
    """True if some rule of the pack must judge the type: data-bearing or network-opening."""
    return is_data_bearing(resource_type) or resource_type in NETWORK_TYPES


#: Services that only carry data in transit; their resources keep nothing to protect from deletion.
TRANSIT_SERVICES: Final = frozenset({"sns", "firehose"})


def service_of(resource_type: str) -> tuple[str, str]:
    """``("aws", "dynamodb")`` for ``aws:dynamodb/table:Table`` (and ``aws-native:...``)."""
    parts = resource_type.split(":")
    if len(parts) < 3:
        return parts[0], ""
    module = parts[1].split("/", 1)[0].lower()
    return parts[0], module


def is_data_bearing(resource_type: str) -> bool:
    """True if the type can hold or carry PHI (see the module docstring)."""
    if resource_type in SUPPORTING_TYPES:
        return False
    provider, service = service_of(resource_type)
    if provider not in ("aws", "aws-native"):
        return False
    if service == "cloudwatch":
        return resource_type.rsplit(":", 1)[-1] == "LogGroup"
    return service in DATA_SERVICES


def is_data_store(resource_type: str) -> bool:
    """True if the type keeps data at rest, so deleting the resource loses data."""
    return is_data_bearing(resource_type) and service_of(resource_type)[1] not in TRANSIT_SERVICES
