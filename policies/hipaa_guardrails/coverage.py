"""Which resource types hold data or guard the way to it, and so must be judged by the pack.

A type is *data-bearing* when its service stores or moves records (DynamoDB, RDS, S3, ...) and it is
not one of the reviewed supporting types below (aliases, plans, policies, subnet groups...). A type
is *guarded* when it holds no data itself but decides who or what reaches the data: the code that
processes it (Lambda), the network around it (VPCs, subnets, security groups and their rules,
endpoints, flow logs, internet paths) and the trail that records access to it (CloudTrail). The
coverage rule fails any data-bearing or guarded type no resource rule judges, so a new variant - a
``aws-native`` table, a global table, an S3 ``BucketV2``, a function URL, a NAT gateway - cannot
pass silently.
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
        # A trail carries audit records (who read or wrote which item key) to its bucket.
        "cloudtrail",
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
        "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
        "aws:sns/topicPolicy:TopicPolicy",
        "aws:sns/topicSubscription:TopicSubscription",
        "aws:sqs/queuePolicy:QueuePolicy",
        # Names which account administers the organization's trails; carries no records.
        "aws:cloudtrail/organizationDelegatedAdminAccount:OrganizationDelegatedAdminAccount",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:rds/clusterParameterGroup:ClusterParameterGroup",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:elasticache/subnetGroup:SubnetGroup",
        "aws:elasticache/parameterGroup:ParameterGroup",
        "aws:secretsmanager/secretPolicy:SecretPolicy",
        # Rotation schedules and tags describe a secret; the secret's rules judge the secret.
        "aws:secretsmanager/secretRotation:SecretRotation",
        "aws:secretsmanager/tag:Tag",
        "aws:sqs/redrivePolicy:RedrivePolicy",
        "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
        # A version's value is encrypted with its secret's key, which secretsmanager rules judge;
        # a user group only lists user ids (its default user is judged by a stack rule).
        "aws:secretsmanager/secretVersion:SecretVersion",
        "aws:elasticache/userGroup:UserGroup",
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


#: Services none of whose types holds data, but each of which decides who or what reaches it: the
#: code that processes records (Lambda) and the audit trail of every access (CloudTrail).
GUARDED_SERVICES: Final = frozenset({"lambda", "cloudtrail"})

#: Network types of the EC2 and VPC modules that fence the data in (or open a way out); the
#: rest of EC2 (route table associations, network ACL entries...) only narrows what these allow.
GUARDED_TYPES: Final = frozenset(
    {
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:ec2/flowLog:FlowLog",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        # Ways out of a private network: none exists by default, so each must be judged.
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
        "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
        "aws:ec2/defaultVpc:DefaultVpc",
        "aws:ec2/defaultSubnet:DefaultSubnet",
        # Routes decide where traffic leaves the subnets (an internet gateway or NAT path).
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/defaultRouteTable:DefaultRouteTable",
        "aws:ec2/route:Route",
        "aws:ec2/internetGatewayAttachment:InternetGatewayAttachment",
    }
)

#: Types of the guarded services reviewed as configuration that opens nothing: versions and
#: aliases of code, scaling and runtime settings. (Function URLs, resource policies, layer
#: permissions, invocations and event-invoke destinations do open or move data: judged.)
GUARDED_SUPPORTING_TYPES: Final = frozenset(
    {
        "aws:lambda/alias:Alias",
        "aws:lambda/layerVersion:LayerVersion",
        "aws:lambda/codeSigningConfig:CodeSigningConfig",
        "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
        "aws:lambda/functionRecursionConfig:FunctionRecursionConfig",
        "aws:lambda/functionScalingConfig:FunctionScalingConfig",
        "aws:lambda/runtimeManagementConfig:RuntimeManagementConfig",
        "aws:lambda/capacityProvider:CapacityProvider",
        "aws:cloudtrail/organizationDelegatedAdminAccount:OrganizationDelegatedAdminAccount",
    }
)

#: Services that only carry data in transit; their resources keep nothing to protect from deletion.
TRANSIT_SERVICES: Final = frozenset({"sns", "firehose", "cloudtrail"})


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


def is_guarded(resource_type: str) -> bool:
    """True if the type holds no data but decides who or what reaches it (see the module
    docstring): Lambda and CloudTrail types, and the network types of ``GUARDED_TYPES``."""
    if resource_type in GUARDED_TYPES:
        return True
    if resource_type in GUARDED_SUPPORTING_TYPES:
        return False
    provider, service = service_of(resource_type)
    return provider in ("aws", "aws-native") and service in GUARDED_SERVICES


def must_be_judged(resource_type: str) -> bool:
    """True if at least one resource rule must judge the type: data-bearing or guarded."""
    return is_data_bearing(resource_type) or is_guarded(resource_type)


def is_data_store(resource_type: str) -> bool:
    """True if the type keeps data at rest, so deleting the resource loses data."""
    return is_data_bearing(resource_type) and service_of(resource_type)[1] not in TRANSIT_SERVICES
