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
