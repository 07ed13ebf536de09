"""Known-compliant resources (camelCase inputs, as the engine sends them) and a compliant stack.

Every rule test starts from one of these and changes one thing.
"""

from __future__ import annotations

from typing import Any

from hipaa_guardrails import resource_types as t

from tests.policies.support import Node, as_json

ACCOUNT = "111122223333"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:medeez-dev-alerts"

TABLE: dict[str, Any] = {
    "name": "medeez-dev-app",
    "billingMode": "PAY_PER_REQUEST",
    "hashKey": "PK",
    "rangeKey": "SK",
    "pointInTimeRecovery": {"enabled": True, "recoveryPeriodInDays": 35},
    "serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY_ARN},
    "deletionProtectionEnabled": True,
    "streamEnabled": True,
    "streamViewType": "KEYS_ONLY",
    "ttl": {"enabled": True, "attributeName": "expiresAt"},
    "tags": {"Environment": "dev", "DataClassification": "phi"},
}

KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AccountAdmin",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "CloudWatchAlarms",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        },
    ],
}

KEY: dict[str, Any] = {
    "description": "medeez-dev table key",
    "enableKeyRotation": True,
    "rotationPeriodInDays": 365,
    "deletionWindowInDays": 30,
    "keyUsage": "ENCRYPT_DECRYPT",
    "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
    "policy": as_json(KEY_POLICY),
}

VAULT: dict[str, Any] = {"name": "medeez-dev-vault", "kmsKeyArn": KEY_ARN}

PLAN: dict[str, Any] = {
    "name": "medeez-dev-backup",
    "rules": [
        {
            "ruleName": "daily",
            "targetVaultName": "medeez-dev-vault",
            "schedule": "cron(0 5 * * ? *)",
            "lifecycle": {"deleteAfter": 35},
            "copyActions": [
                {
                    "destinationVaultArn": (
                        f"arn:aws:backup:us-west-2:{ACCOUNT}:backup-vault:medeez-dev-vault-dr"
                    ),
                    "lifecycle": {"deleteAfter": 35},
                }
            ],
        }
    ],
}

ALARM: dict[str, Any] = {
    "name": "medeez-dev-table-read-throttles",
    "actionsEnabled": True,
    "alarmActions": [TOPIC_ARN],
    "okActions": [TOPIC_ARN],
    "insufficientDataActions": [TOPIC_ARN],
    "metricName": "ReadThrottleEvents",
    "namespace": "AWS/DynamoDB",
}

LOG_GROUP: dict[str, Any] = {
    "name": "/medeez/dev/audit",
    "retentionInDays": 2192,
    "kmsKeyId": KEY_ARN,
}

TOPIC: dict[str, Any] = {"name": "medeez-dev-alerts", "kmsMasterKeyId": KEY_ARN}

TOPIC_POLICY_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": TOPIC_ARN,
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": TOPIC_ARN,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ],
}

TOPIC_POLICY: dict[str, Any] = {"arn": TOPIC_ARN, "policy": as_json(TOPIC_POLICY_DOCUMENT)}

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "backup.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}

ROLE: dict[str, Any] = {"name": "medeez-dev-backup", "assumeRolePolicy": as_json(TRUST)}

#: A trust policy that lets a workload of the account in (not only an AWS service).
APP_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:role/medeez-dev-app-runtime"},
            "Action": "sts:AssumeRole",
        }
    ],
}

ROLE_POLICY_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "UseBackupKeys",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            "Resource": [KEY_ARN],
        }
    ],
}

ROLE_POLICY: dict[str, Any] = {"role": "medeez-dev-backup", "policy": as_json(ROLE_POLICY_DOCUMENT)}

MANAGED_POLICY: dict[str, Any] = {"name": "medeez-dev-app", "policy": as_json(ROLE_POLICY_DOCUMENT)}

ATTACHMENT: dict[str, Any] = {
    "role": "medeez-dev-backup",
    "policyArn": "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
}

BUDGET: dict[str, Any] = {
    "name": "medeez-dev-monthly",
    "budgetType": "COST",
    "notifications": [
        {
            "comparisonOperator": "GREATER_THAN",
            "notificationType": "ACTUAL",
            "threshold": 80,
            "thresholdType": "PERCENTAGE",
            "subscriberSnsTopicArns": [TOPIC_ARN],
        }
    ],
}

DB_INSTANCE: dict[str, Any] = {
    "engine": "postgres",
    "instanceClass": "db.t4g.small",
    "storageEncrypted": True,
    "kmsKeyId": KEY_ARN,
    "publiclyAccessible": False,
    "backupRetentionPeriod": 35,
    "deletionProtection": True,
    "multiAz": True,
    "enabledCloudwatchLogsExports": ["postgresql", "upgrade"],
    "identifier": "medeez-dev-audit",
    "iamDatabaseAuthenticationEnabled": True,
    "autoMinorVersionUpgrade": True,
    "monitoringInterval": 60,
    "monitoringRoleArn": f"arn:aws:iam::{ACCOUNT}:role/medeez-dev-audit-db-monitoring",
    "performanceInsightsEnabled": True,
    "performanceInsightsKmsKeyId": KEY_ARN,
    "copyTagsToSnapshot": True,
    "manageMasterUserPassword": True,
    "masterUserSecretKmsKeyId": KEY_ARN,
}

DB_PARAMETER_GROUP: dict[str, Any] = {
    "name": "medeez-dev-audit-postgres16",
    "family": "postgres16",
    "parameters": [
        {"name": "rds.force_ssl", "value": "1", "applyMethod": "immediate"},
        {"name": "ssl_min_protocol_version", "value": "TLSv1.2", "applyMethod": "immediate"},
        {
            "name": "shared_preload_libraries",
            "value": "pgaudit,pg_stat_statements",
            "applyMethod": "pending-reboot",
        },
        {"name": "pgaudit.log", "value": "ddl,role", "applyMethod": "immediate"},
        {"name": "log_connections", "value": "1", "applyMethod": "immediate"},
        {"name": "log_disconnections", "value": "1", "applyMethod": "immediate"},
    ],
}

SECRET: dict[str, Any] = {"name": "medeez-dev-audit-master", "kmsKeyId": KEY_ARN}

REPLICATION_GROUP: dict[str, Any] = {
    "description": "sessions",
    "engine": "valkey",
    "engineVersion": "8.1",
    "numCacheClusters": 2,
    "automaticFailoverEnabled": True,
    "multiAzEnabled": True,
    "snapshotRetentionLimit": 15,
    "atRestEncryptionEnabled": True,
    "kmsKeyId": KEY_ARN,
    "transitEncryptionEnabled": True,
    "transitEncryptionMode": "required",
    "userGroupIds": ["medeez-dev-app-users"],
    "parameterGroupName": "medeez-dev-valkey8",
    "logDeliveryConfigurations": [
        {
            "logType": "slow-log",
            "destinationType": "cloudwatch-logs",
            "destination": "/aws/elasticache/medeez-dev-cache/slow-log",
            "logFormat": "json",
        }
    ],
}

CACHE_USER: dict[str, Any] = {
    "userId": "medeez-dev-cache-application",
    "userName": "app",
    "engine": "valkey",
    "accessString": "on ~medeez:dev:* -@all +get +set +del +unlink +mget +expire +ping",
    "authenticationMode": {"type": "password", "passwords": ["[secret]"]},
    "noPasswordRequired": False,
}

DEFAULT_CACHE_USER: dict[str, Any] = {
    **CACHE_USER,
    "userId": "medeez-dev-cache-default",
    "userName": "default",
    "accessString": "off ~* -@all",
}

CACHE_USER_GROUP: dict[str, Any] = {
    "userGroupId": "medeez-dev-app-users",
    "engine": "valkey",
    "userIds": ["medeez-dev-cache-default", "medeez-dev-cache-application"],
}

CACHE_PARAMETER_GROUP: dict[str, Any] = {
    "name": "medeez-dev-valkey8",
    "family": "valkey8",
    "parameters": [{"name": "maxmemory-policy", "value": "volatile-lru"}],
}

SECRET: dict[str, Any] = {"name": "medeez-dev/cache/application", "kmsKeyId": KEY_ARN}

LAMBDA_PERMISSION: dict[str, Any] = {
    "action": "lambda:InvokeFunction",
    "function": "medeez-dev-consumer",
    "principal": "events.amazonaws.com",
    "sourceArn": f"arn:aws:events:us-east-1:{ACCOUNT}:rule/nightly",
}

EVENT_SOURCE_MAPPING: dict[str, Any] = {
    "eventSourceArn": (
        f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/medeez-dev-app/stream/2026-11-24T00:00:00.000"
    ),
    "functionName": "medeez-dev-consumer",
    "startingPosition": "LATEST",
    "maximumRetryAttempts": 3,
    "maximumRecordAgeInSeconds": 3600,
    "bisectBatchOnFunctionError": True,
    "functionResponseTypes": ["ReportBatchItemFailures"],
    "destinationConfig": {"onFailure": {"destinationArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq"}},
}

LAMBDA_FUNCTION: dict[str, Any] = {
    "name": "medeez-dev-consumer",
    "runtime": "python3.12",
    "kmsKeyArn": KEY_ARN,
    "environment": {"variables": {"TABLE_NAME": "medeez-dev-app"}},
    "vpcConfig": {"subnetIds": ["subnet-a", "subnet-b"], "securityGroupIds": ["sg-consumer"]},
    "reservedConcurrentExecutions": 2,
}

QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:medeez-dev-stream-consumer-failures"

QUEUE: dict[str, Any] = {
    "name": "medeez-dev-stream-consumer-failures",
    "kmsMasterKeyId": KEY_ARN,
    "messageRetentionSeconds": 1209600,
    "sqsManagedSseEnabled": False,
}

QUEUE_POLICY: dict[str, Any] = {
    "queueUrl": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/medeez-dev-stream-consumer-failures",
    "policy": as_json(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyWithoutTls",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sqs:*",
                    "Resource": QUEUE_ARN,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    ),
}

BUCKET_POLICY_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::medeez-dev-exports", "arn:aws:s3:::medeez-dev-exports/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyTlsBelow12",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::medeez-dev-exports", "arn:aws:s3:::medeez-dev-exports/*"],
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    ],
}

TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/medeez-dev-app"

TRAIL: dict[str, Any] = {
    "name": "medeez-dev-trail",
    "s3BucketName": "medeez-dev-exports",
    "s3KeyPrefix": "cloudtrail",
    "kmsKeyId": KEY_ARN,
    "isMultiRegionTrail": True,
    "includeGlobalServiceEvents": True,
    "enableLogFileValidation": True,
    "enableLogging": True,
    "advancedEventSelectors": [
        {
            "name": "Management events",
            "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}],
        },
        {
            "name": "Data events of the app table",
            "fieldSelectors": [
                {"field": "eventCategory", "equals": ["Data"]},
                {"field": "resources.type", "equals": ["AWS::DynamoDB::Table"]},
                {"field": "resources.ARN", "equals": [TABLE_ARN]},
            ],
        },
    ],
}

LOGGING: dict[str, Any] = {
    "bucket": "medeez-dev-exports",
    "targetBucket": "medeez-dev-exports-logs",
    "targetPrefix": "exports/",
}

LIFECYCLE: dict[str, Any] = {
    "bucket": "medeez-dev-exports",
    "rules": [
        {
            "id": "archive-then-expire",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "transitions": [{"days": 90, "storageClass": "GLACIER_IR"}],
            "expiration": {"days": 2192},
            "noncurrentVersionExpiration": {"noncurrentDays": 2192},
        }
    ],
}

RESTORE_TESTING_PLAN: dict[str, Any] = {
    "name": "medeez_dev_restore_testing",
    "scheduleExpression": "cron(0 9 ? * SUN *)",
    "startWindowHours": 24,
    "recoveryPointSelection": {
        "algorithm": "LATEST_WITHIN_WINDOW",
        "includeVaults": [f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-vault:medeez-dev-vault"],
        "recoveryPointTypes": ["SNAPSHOT"],
        "selectionWindowDays": 7,
    },
}

RESTORE_TESTING_SELECTION: dict[str, Any] = {
    "name": "medeez_dev_table",
    "restoreTestingPlanName": "medeez_dev_restore_testing",
    "protectedResourceType": "DynamoDB",
    "protectedResourceArns": [f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/medeez-dev-app"],
    "iamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/medeez-dev-backup",
    "validationWindowHours": 4,
}

VAULT_NOTIFICATIONS: dict[str, Any] = {
    "backupVaultName": "medeez-dev-vault",
    "snsTopicArn": TOPIC_ARN,
    "backupVaultEvents": ["RESTORE_JOB_STARTED", "RESTORE_JOB_COMPLETED", "COPY_JOB_FAILED"],
}

FRAMEWORK: dict[str, Any] = {
    "name": "medeez_dev_backup_controls",
    "controls": [
        {"name": name}
        for name in (
            "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN",
            "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK",
            "BACKUP_RECOVERY_POINT_ENCRYPTED",
            "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED",
            "BACKUP_LAST_RECOVERY_POINT_CREATED",
            "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET",
        )
    ],
}

REPORT_PLAN: dict[str, Any] = {
    "name": "medeez_dev_restore_jobs",
    "reportDeliveryChannel": {"s3BucketName": "medeez-dev-exports", "formats": ["CSV"]},
    "reportSetting": {"reportTemplate": "RESTORE_JOB_REPORT"},
}

OBJECT_LOCK: dict[str, Any] = {
    "bucket": "medeez-dev-exports",
    "objectLockEnabled": "Enabled",
    "rule": {"defaultRetention": {"mode": "COMPLIANCE", "days": 2190}},
}

# The network: a private VPC, its subnet, tier groups with a group-to-group rule, the default
# group closed, an interface endpoint with private DNS, flow logs to an encrypted log group.
VPC: dict[str, Any] = {
    "cidrBlock": "10.40.0.0/16",
    "enableDnsSupport": True,
    "enableDnsHostnames": True,
}
SUBNET: dict[str, Any] = {
    "vpcId": "vpc-0a1b2c3d4e5f60718",
    "cidrBlock": "10.40.0.0/20",
    "availabilityZone": "us-east-1a",
    "mapPublicIpOnLaunch": False,
}
SECURITY_GROUP: dict[str, Any] = {
    "name": "medeez-dev-database",
    "description": "medeez-dev database tier",
    "vpcId": "vpc-0a1b2c3d4e5f60718",
    "revokeRulesOnDelete": True,
}
INGRESS_RULE: dict[str, Any] = {
    "securityGroupId": "sg-0a1b2c3d4e5f60718",
    "ipProtocol": "tcp",
    "fromPort": 5432,
    "toPort": 5432,
    "referencedSecurityGroupId": "sg-0a1b2c3d4e5f60719",
    "description": "PostgreSQL from the stream-consumer Lambda",
}
EGRESS_RULE: dict[str, Any] = {
    "securityGroupId": "sg-0a1b2c3d4e5f60719",
    "ipProtocol": "tcp",
    "fromPort": 5432,
    "toPort": 5432,
    "referencedSecurityGroupId": "sg-0a1b2c3d4e5f60718",
    "description": "PostgreSQL to the audit database",
}
DEFAULT_SECURITY_GROUP: dict[str, Any] = {
    "vpcId": "vpc-0a1b2c3d4e5f60718",
    "ingress": [],
    "egress": [],
}
INTERFACE_ENDPOINT: dict[str, Any] = {
    "vpcId": "vpc-0a1b2c3d4e5f60718",
    "serviceName": "com.amazonaws.us-east-1.sts",
    "vpcEndpointType": "Interface",
    "privateDnsEnabled": True,
    "subnetIds": ["subnet-0a1b2c3d4e5f60718"],
    "securityGroupIds": ["sg-0a1b2c3d4e5f60720"],
}
ROUTE_TABLE: dict[str, Any] = {"vpcId": "vpc-0a1b2c3d4e5f60718"}
FLOW_LOG: dict[str, Any] = {
    "vpcId": "vpc-0a1b2c3d4e5f60718",
    "trafficType": "ALL",
    "logDestinationType": "cloud-watch-logs",
    "logDestination": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/medeez/dev/vpc-flow-logs",
    "iamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/medeez-dev-vpc-flow-logs",
    "maxAggregationInterval": 600,
}

#: A compliant resource per type, for rules that judge that type.
BASELINES: dict[str, dict[str, Any]] = {
    t.TABLE: TABLE,
    t.KMS_KEY: KEY,
    t.BACKUP_VAULT: VAULT,
    t.BACKUP_PLAN: PLAN,
    t.METRIC_ALARM: ALARM,
    t.LOG_GROUP: LOG_GROUP,
    t.SNS_TOPIC: TOPIC,
    t.SNS_TOPIC_POLICY: TOPIC_POLICY,
    t.IAM_ROLE: ROLE,
    t.IAM_ROLE_POLICY: ROLE_POLICY,
    t.IAM_POLICY: MANAGED_POLICY,
    t.IAM_ROLE_POLICY_ATTACHMENT: ATTACHMENT,
    t.RDS_INSTANCE: DB_INSTANCE,
    t.RDS_PARAMETER_GROUP: DB_PARAMETER_GROUP,
    t.SECRETSMANAGER_SECRET: SECRET,
    t.ELASTICACHE_REPLICATION_GROUP: REPLICATION_GROUP,
    t.ELASTICACHE_USER: CACHE_USER,
    t.SECRETSMANAGER_SECRET: SECRET,
    t.LAMBDA_PERMISSION: LAMBDA_PERMISSION,
    t.LAMBDA_EVENT_SOURCE_MAPPING: EVENT_SOURCE_MAPPING,
    t.LAMBDA_FUNCTION: LAMBDA_FUNCTION,
    t.SQS_QUEUE: QUEUE,
    t.SQS_QUEUE_POLICY: QUEUE_POLICY,
    t.BACKUP_RESTORE_TESTING_SELECTION: RESTORE_TESTING_SELECTION,
    t.S3_OBJECT_LOCK: OBJECT_LOCK,
    t.CLOUDTRAIL_TRAIL: TRAIL,
    t.SUBNET: SUBNET,
    t.SECURITY_GROUP: SECURITY_GROUP,
    t.SECURITY_GROUP_INGRESS_RULE: INGRESS_RULE,
    t.SECURITY_GROUP_EGRESS_RULE: EGRESS_RULE,
    t.DEFAULT_SECURITY_GROUP: DEFAULT_SECURITY_GROUP,
    t.VPC_ENDPOINT: INTERFACE_ENDPOINT,
    t.ROUTE_TABLE: ROUTE_TABLE,
}


def _access_log_bucket() -> list[Node]:
    """The exports bucket's server access log target: SSE-S3 (S3 delivers access logs to no
    other default encryption), versioned, blocked, owner enforced, TLS 1.2+, with lifecycle."""
    name = "medeez-dev-exports-logs"
    arn = f"arn:aws:s3:::{name}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {**s, "Resource": [arn, f"{arn}/*"]} for s in BUCKET_POLICY_DOCUMENT["Statement"]
        ],
    }
    on = {"bucket": ["exports-logs"]}
    return [
        Node(t.S3_BUCKET, "exports-logs", {"bucket": name}, protect=True),
        Node(
            t.S3_SSE,
            "exports-logs-sse",
            {
                "bucket": name,
                "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
            },
            on,
        ),
        Node(
            t.S3_PUBLIC_ACCESS_BLOCK,
            "exports-logs-pab",
            {
                "bucket": name,
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
            on,
        ),
        Node(
            t.S3_VERSIONING,
            "exports-logs-versioning",
            {"bucket": name, "versioningConfiguration": {"status": "Enabled"}},
            on,
        ),
        Node(
            t.S3_OWNERSHIP_CONTROLS,
            "exports-logs-ownership",
            {"bucket": name, "rule": {"objectOwnership": "BucketOwnerEnforced"}},
            on,
        ),
        Node(
            t.S3_BUCKET_POLICY,
            "exports-logs-policy",
            {"bucket": name, "policy": as_json(policy)},
            on,
        ),
        Node(t.S3_LIFECYCLE, "exports-logs-lifecycle", {**LIFECYCLE, "bucket": name}, on),
    ]


def compliant_stack() -> list[Node]:
    """A small stack that passes every stack rule with the secure defaults (prod-like)."""
    dr_vault = {**VAULT, "name": "medeez-dev-vault-dr", "region": "us-west-2"}
    return [
        Node(t.KMS_KEY, "table-key", KEY, protect=True),
        Node(t.TABLE, "app-table", TABLE, {"serverSideEncryption": ["table-key"]}, protect=True),
        Node(t.KMS_KEY, "backup-key", KEY, protect=True),
        Node(t.BACKUP_VAULT, "vault", VAULT, {"kmsKeyArn": ["backup-key"]}, protect=True),
        Node(t.BACKUP_VAULT, "dr-vault", dr_vault, protect=True),
        Node(t.BACKUP_PLAN, "plan", PLAN, {"rules": ["vault", "dr-vault"]}),
        Node(t.IAM_ROLE, "backup-role", ROLE),
        Node(
            t.BACKUP_SELECTION,
            "selection",
            {"name": "table", "planId": "plan-id", "iamRoleArn": "role", "resources": ["arn"]},
            {"planId": ["plan"], "resources": ["app-table"], "iamRoleArn": ["backup-role"]},
        ),
        Node(
            t.BACKUP_VAULT_LOCK,
            "vault-lock",
            {"backupVaultName": "medeez-dev-vault", "minRetentionDays": 7},
            {"backupVaultName": ["vault"]},
        ),
        Node(
            t.BACKUP_VAULT_LOCK,
            "dr-vault-lock",
            {
                "backupVaultName": "medeez-dev-vault-dr",
                "minRetentionDays": 7,
                "region": "us-west-2",
            },
            {"backupVaultName": ["dr-vault"]},
        ),
        Node(t.SNS_TOPIC, "alerts", TOPIC, {"kmsMasterKeyId": ["table-key"]}),
        Node(t.SNS_TOPIC_POLICY, "alerts-policy", TOPIC_POLICY, {"arn": ["alerts"]}),
        Node(t.METRIC_ALARM, "throttles", ALARM, {"alarmActions": ["alerts"]}),
        Node(t.BUDGET, "budget", BUDGET, {"notifications": ["alerts"]}),
        Node(t.S3_BUCKET, "exports", {"bucket": "medeez-dev-exports"}, protect=True),
        Node(
            t.S3_SSE,
            "exports-sse",
            {
                "bucket": "medeez-dev-exports",
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": "aws:kms",
                            "kmsMasterKeyId": KEY_ARN,
                        },
                        "bucketKeyEnabled": True,
                    }
                ],
            },
            {"bucket": ["exports"]},
        ),
        Node(
            t.S3_PUBLIC_ACCESS_BLOCK,
            "exports-pab",
            {
                "bucket": "medeez-dev-exports",
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
            {"bucket": ["exports"]},
        ),
        Node(
            t.S3_VERSIONING,
            "exports-versioning",
            {"bucket": "medeez-dev-exports", "versioningConfiguration": {"status": "Enabled"}},
            {"bucket": ["exports"]},
        ),
        Node(
            t.S3_BUCKET_POLICY,
            "exports-policy",
            {"bucket": "medeez-dev-exports", "policy": as_json(BUCKET_POLICY_DOCUMENT)},
            {"bucket": ["exports"]},
        ),
        Node(t.S3_OBJECT_LOCK, "exports-lock", OBJECT_LOCK, {"bucket": ["exports"]}),
        Node(
            t.S3_OWNERSHIP_CONTROLS,
            "exports-ownership",
            {"bucket": "medeez-dev-exports", "rule": {"objectOwnership": "BucketOwnerEnforced"}},
            {"bucket": ["exports"]},
        ),
        Node(t.S3_LIFECYCLE, "exports-lifecycle", LIFECYCLE, {"bucket": ["exports"]}),
        Node(
            t.S3_LOGGING,
            "exports-logging",
            LOGGING,
            {"bucket": ["exports"], "targetBucket": ["exports-logs"]},
        ),
        *_access_log_bucket(),
        Node(
            t.CLOUDTRAIL_TRAIL,
            "trail",
            TRAIL,
            {"advancedEventSelectors": ["app-table"], "kmsKeyId": ["table-key"]},
        ),
        Node(
            t.BACKUP_RESTORE_TESTING_PLAN,
            "restore-testing",
            RESTORE_TESTING_PLAN,
            {"recoveryPointSelection": ["vault"]},
        ),
        Node(
            t.BACKUP_RESTORE_TESTING_SELECTION,
            "restore-testing-table",
            RESTORE_TESTING_SELECTION,
            {
                "restoreTestingPlanName": ["restore-testing"],
                "protectedResourceArns": ["app-table"],
                "iamRoleArn": ["backup-role"],
            },
        ),
        Node(
            t.BACKUP_VAULT_NOTIFICATIONS,
            "vault-notifications",
            VAULT_NOTIFICATIONS,
            {"backupVaultName": ["vault"], "snsTopicArn": ["alerts"]},
        ),
        Node(t.BACKUP_FRAMEWORK, "framework", FRAMEWORK),
        Node(
            t.BACKUP_REPORT_PLAN,
            "restore-report",
            REPORT_PLAN,
            {"reportDeliveryChannel": ["exports"]},
        ),
        *cache_nodes(),
        Node(t.SQS_QUEUE, "failures", QUEUE, protect=True),
        Node(t.SQS_QUEUE_POLICY, "failures-policy", QUEUE_POLICY, {"queueUrl": ["failures"]}),
        *network_nodes(),
    ]


def cache_nodes() -> list[Node]:
    """A compliant cache: parameter group, disabled default user, app user, user group, group."""
    return [
        Node(t.ELASTICACHE_PARAMETER_GROUP, "cache-parameters", CACHE_PARAMETER_GROUP),
        Node(t.ELASTICACHE_USER, "cache-default", DEFAULT_CACHE_USER, protect=True),
        Node(t.ELASTICACHE_USER, "cache-application", CACHE_USER, protect=True),
        Node(t.SECRETSMANAGER_SECRET, "cache-application-secret", SECRET, protect=True),
        Node(
            t.ELASTICACHE_USER_GROUP,
            "cache-users",
            CACHE_USER_GROUP,
            {"userIds": ["cache-default", "cache-application"]},
        ),
        Node(
            t.ELASTICACHE_REPLICATION_GROUP,
            "cache-group",
            REPLICATION_GROUP,
            {"parameterGroupName": ["cache-parameters"], "userGroupIds": ["cache-users"]},
            protect=True,
        ),
    ]


def network_nodes() -> list[Node]:
    """A compliant private network, part of the compliant stack."""
    flow_log_group = {**LOG_GROUP, "name": "/medeez/dev/vpc-flow-logs", "retentionInDays": 365}
    return [
        Node(t.VPC, "vpc", VPC),
        Node(t.SUBNET, "subnet-1", SUBNET, {"vpcId": ["vpc"]}),
        Node(t.ROUTE_TABLE, "routes-1", ROUTE_TABLE, {"vpcId": ["vpc"]}),
        Node(t.DEFAULT_SECURITY_GROUP, "default-sg", DEFAULT_SECURITY_GROUP, {"vpcId": ["vpc"]}),
        Node(t.SECURITY_GROUP, "database-sg", SECURITY_GROUP, {"vpcId": ["vpc"]}),
        Node(
            t.SECURITY_GROUP,
            "consumer-sg",
            {**SECURITY_GROUP, "name": "medeez-dev-consumer"},
            {"vpcId": ["vpc"]},
        ),
        Node(
            t.SECURITY_GROUP_INGRESS_RULE,
            "database-in-consumer",
            INGRESS_RULE,
            {"securityGroupId": ["database-sg"], "referencedSecurityGroupId": ["consumer-sg"]},
        ),
        Node(t.VPC_ENDPOINT, "sts-endpoint", INTERFACE_ENDPOINT, {"vpcId": ["vpc"]}),
        Node(t.LOG_GROUP, "flow-logs", flow_log_group, protect=True),
        Node(t.IAM_ROLE, "flow-logs-role", {**ROLE, "name": "medeez-dev-vpc-flow-logs"}),
        Node(
            t.FLOW_LOG,
            "flow-log",
            FLOW_LOG,
            {"vpcId": ["vpc"], "logDestination": ["flow-logs"], "iamRoleArn": ["flow-logs-role"]},
        ),
    ]


def replace(nodes: list[Node], name: str, **changes: Any) -> list[Node]:
    """The stack with node ``name`` changed (props, deps or protect)."""
    result = []
    for node in nodes:
        if node.name == name:
            node = Node(
                node.type,
                node.name,
                changes.get("props", node.props),
                changes.get("deps", node.deps),
                changes.get("protect", node.protect),
            )
        result.append(node)
    return result


def without(nodes: list[Node], *names: str) -> list[Node]:
    """The stack without the named nodes (and without dependencies on them)."""
    kept = [n for n in nodes if n.name not in names]
    return [
        Node(
            n.type,
            n.name,
            n.props,
            {k: [d for d in v if d not in names] for k, v in n.deps.items()},
            n.protect,
        )
        for n in kept
    ]
