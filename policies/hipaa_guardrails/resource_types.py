"""Resource type tokens the rules judge (pulumi-aws v7, and v6 names still in use)."""

from typing import Final

TABLE: Final = "aws:dynamodb/table:Table"
KMS_KEY: Final = "aws:kms/key:Key"
BACKUP_VAULT: Final = "aws:backup/vault:Vault"
BACKUP_PLAN: Final = "aws:backup/plan:Plan"
BACKUP_SELECTION: Final = "aws:backup/selection:Selection"
BACKUP_VAULT_LOCK: Final = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
BACKUP_VAULT_POLICY: Final = "aws:backup/vaultPolicy:VaultPolicy"
METRIC_ALARM: Final = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM: Final = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
LOG_GROUP: Final = "aws:cloudwatch/logGroup:LogGroup"
SNS_TOPIC: Final = "aws:sns/topic:Topic"
SNS_TOPIC_POLICY: Final = "aws:sns/topicPolicy:TopicPolicy"
BUDGET: Final = "aws:budgets/budget:Budget"
IAM_ROLE: Final = "aws:iam/role:Role"
IAM_ROLE_POLICY: Final = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY: Final = "aws:iam/policy:Policy"
IAM_ROLE_POLICY_ATTACHMENT: Final = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
IAM_USER_POLICY: Final = "aws:iam/userPolicy:UserPolicy"
IAM_USER_POLICY_ATTACHMENT: Final = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
IAM_POLICY_ATTACHMENT: Final = "aws:iam/policyAttachment:PolicyAttachment"
IAM_GROUP_POLICY: Final = "aws:iam/groupPolicy:GroupPolicy"
RDS_INSTANCE: Final = "aws:rds/instance:Instance"
RDS_CLUSTER: Final = "aws:rds/cluster:Cluster"
RDS_PARAMETER_GROUP: Final = "aws:rds/parameterGroup:ParameterGroup"
SECRETSMANAGER_SECRET: Final = "aws:secretsmanager/secret:Secret"
ELASTICACHE_REPLICATION_GROUP: Final = "aws:elasticache/replicationGroup:ReplicationGroup"
S3_BUCKET: Final = "aws:s3/bucket:Bucket"
S3_BUCKET_V2: Final = "aws:s3/bucketV2:BucketV2"
S3_SSE: Final = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
S3_SSE_V2: Final = (
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
)
S3_PUBLIC_ACCESS_BLOCK: Final = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_VERSIONING: Final = "aws:s3/bucketVersioning:BucketVersioning"
S3_VERSIONING_V2: Final = "aws:s3/bucketVersioningV2:BucketVersioningV2"
S3_BUCKET_POLICY: Final = "aws:s3/bucketPolicy:BucketPolicy"
LAMBDA_FUNCTION: Final = "aws:lambda/function:Function"
LAMBDA_PERMISSION: Final = "aws:lambda/permission:Permission"
LAMBDA_EVENT_SOURCE_MAPPING: Final = "aws:lambda/eventSourceMapping:EventSourceMapping"
LAMBDA_LAYER_VERSION: Final = "aws:lambda/layerVersion:LayerVersion"
SQS_QUEUE: Final = "aws:sqs/queue:Queue"
SQS_QUEUE_POLICY: Final = "aws:sqs/queuePolicy:QueuePolicy"

#: Policy document helpers: AWS-managed KMS aliases are not customer-managed keys.
AWS_MANAGED_KEY_PREFIX: Final = "alias/aws/"
BACKUP_RESTORE_TESTING_PLAN: Final = "aws:backup/restoreTestingPlan:RestoreTestingPlan"
BACKUP_RESTORE_TESTING_SELECTION: Final = (
    "aws:backup/restoreTestingSelection:RestoreTestingSelection"
)
BACKUP_VAULT_NOTIFICATIONS: Final = "aws:backup/vaultNotifications:VaultNotifications"
BACKUP_FRAMEWORK: Final = "aws:backup/framework:Framework"
BACKUP_REPORT_PLAN: Final = "aws:backup/reportPlan:ReportPlan"
S3_OBJECT_LOCK: Final = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
