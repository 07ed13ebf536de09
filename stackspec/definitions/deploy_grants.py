"""What the deploy role needs beyond its main policy, to run ``pulumi up`` on the network, the
audit database, the stream consumer, the trail and audit buckets, and the cache: the actions
pulumi-aws calls to create, read, update, tag and delete them, by managed policy.

Scoping, per service:

- names: every service with resource-level permissions gets the stack's own ARNs
  (``medeez-<env>-*``; log groups, secrets and the flow-log group by their own stems);
- EC2 (IDs unknown ahead): creates only with ``aws:RequestTag/Environment`` = env, changes and
  deletes only on resources tagged so (``aws:ResourceTag/Environment``), reads on ``*`` (EC2's
  Describe calls have no resource-level permissions);
- KMS: grants only for AWS resources, data-key use only through Secrets Manager and Lambda;
- the RDS-managed master secret: only when RDS calls (``aws:CalledVia``);
- actions with no resource-level permissions (event source mappings, log deliveries, the random
  password) carry a condition.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stackspec.definitions.access import AccessDefinition, Arns

#: The deploy role's managed policies besides its main one, in attachment order.
DEPLOY_PARTS = ("network", "data", "functions", "audit")
ENVIRONMENT_TAG = "Environment"

#: EC2 resource types the network creates (and that carry the stack's tags from creation).
EC2_CREATED = (
    "vpc",
    "subnet",
    "route-table",
    "security-group",
    "security-group-rule",
    "vpc-endpoint",
    "vpc-flow-log",
)
EC2_CREATES = (
    "ec2:CreateVpc",
    "ec2:CreateSubnet",
    "ec2:CreateRouteTable",
    "ec2:CreateSecurityGroup",
    "ec2:CreateVpcEndpoint",
    "ec2:CreateFlowLogs",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress",
)
EC2_CHANGES = (
    "ec2:ModifyVpcAttribute",
    "ec2:ModifySubnetAttribute",
    "ec2:AssociateRouteTable",
    "ec2:DisassociateRouteTable",
    "ec2:ReplaceRouteTableAssociation",
    "ec2:ModifySecurityGroupRules",
    "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
    "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:ModifyVpcEndpoint",
    "ec2:CreateTags",
    "ec2:DeleteTags",
    "ec2:DeleteVpc",
    "ec2:DeleteSubnet",
    "ec2:DeleteRouteTable",
    "ec2:DeleteSecurityGroup",
    "ec2:DeleteVpcEndpoints",
    "ec2:DeleteFlowLogs",
)
#: Reads EC2 grants on ``*`` only (no resource-level permissions).
EC2_READS = ("ec2:Describe*", "ec2:GetManagedPrefixListEntries")

RDS_ACTIONS = (
    "rds:CreateDBInstance",
    "rds:ModifyDBInstance",
    "rds:RebootDBInstance",
    "rds:DeleteDBInstance",
    "rds:CreateDBSnapshot",
    "rds:CreateDBParameterGroup",
    "rds:ModifyDBParameterGroup",
    "rds:ResetDBParameterGroup",
    "rds:DeleteDBParameterGroup",
    "rds:CreateDBSubnetGroup",
    "rds:ModifyDBSubnetGroup",
    "rds:DeleteDBSubnetGroup",
    "rds:DescribeDBInstances",
    "rds:DescribeDBParameterGroups",
    "rds:DescribeDBParameters",
    "rds:DescribeDBSubnetGroups",
    "rds:AddTagsToResource",
    "rds:RemoveTagsFromResource",
    "rds:ListTagsForResource",
)
#: What RDS does in Secrets Manager for the master password (manage_master_user_password).
RDS_SECRET_ACTIONS = (
    "secretsmanager:CreateSecret",
    "secretsmanager:RotateSecret",
    "secretsmanager:TagResource",
    "secretsmanager:DeleteSecret",
    "secretsmanager:DescribeSecret",
)
ELASTICACHE_ACTIONS = (
    "elasticache:CreateReplicationGroup",
    "elasticache:ModifyReplicationGroup",
    "elasticache:DeleteReplicationGroup",
    "elasticache:IncreaseReplicaCount",
    "elasticache:DecreaseReplicaCount",
    "elasticache:CreateSnapshot",
    "elasticache:CreateCacheParameterGroup",
    "elasticache:ModifyCacheParameterGroup",
    "elasticache:ResetCacheParameterGroup",
    "elasticache:DeleteCacheParameterGroup",
    "elasticache:CreateCacheSubnetGroup",
    "elasticache:ModifyCacheSubnetGroup",
    "elasticache:DeleteCacheSubnetGroup",
    "elasticache:CreateUser",
    "elasticache:ModifyUser",
    "elasticache:DeleteUser",
    "elasticache:CreateUserGroup",
    "elasticache:ModifyUserGroup",
    "elasticache:DeleteUserGroup",
    "elasticache:Describe*",
    "elasticache:AddTagsToResource",
    "elasticache:RemoveTagsFromResource",
    "elasticache:ListTagsForResource",
)
#: The cache users' password secrets (Secret + SecretVersion; the version is read back).
SECRET_ACTIONS = (
    "secretsmanager:CreateSecret",
    "secretsmanager:UpdateSecret",
    "secretsmanager:DeleteSecret",
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetResourcePolicy",
    "secretsmanager:PutSecretValue",
    "secretsmanager:GetSecretValue",
    "secretsmanager:ListSecretVersionIds",
    "secretsmanager:UpdateSecretVersionStage",
    "secretsmanager:TagResource",
    "secretsmanager:UntagResource",
)
LAMBDA_ACTIONS = (
    "lambda:CreateFunction",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:DeleteFunction",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:GetFunctionCodeSigningConfig",
    "lambda:GetRuntimeManagementConfig",
    "lambda:ListVersionsByFunction",
    "lambda:PutFunctionConcurrency",
    "lambda:DeleteFunctionConcurrency",
    "lambda:GetFunctionConcurrency",
    "lambda:TagResource",
    "lambda:UntagResource",
    "lambda:ListTags",
    "lambda:PublishLayerVersion",
    "lambda:GetLayerVersion",
    "lambda:DeleteLayerVersion",
)
#: Event source mappings have no resource ARN at creation: confined by lambda:FunctionArn.
MAPPING_ACTIONS = (
    "lambda:CreateEventSourceMapping",
    "lambda:UpdateEventSourceMapping",
    "lambda:DeleteEventSourceMapping",
)
MAPPING_READS = ("lambda:GetEventSourceMapping", "lambda:ListEventSourceMappings")
SQS_ACTIONS = (
    "sqs:CreateQueue",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:SetQueueAttributes",
    "sqs:DeleteQueue",
    "sqs:TagQueue",
    "sqs:UntagQueue",
    "sqs:ListQueueTags",
)
LOG_GROUP_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:DeleteLogGroup",
    "logs:DescribeLogGroups",
    "logs:PutRetentionPolicy",
    "logs:DeleteRetentionPolicy",
    "logs:AssociateKmsKey",
    "logs:DisassociateKmsKey",
    "logs:TagResource",
    "logs:UntagResource",
    "logs:ListTagsForResource",
    "logs:TagLogGroup",
    "logs:ListTagsLogGroup",
)
#: ElastiCache's log delivery to CloudWatch Logs: vended-log actions without resource ARNs.
LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
)
#: ...and the account's log resource policy that lets the delivery write (AWS's documented set,
#: on the account's logs of the region as AWS's example scopes it).
LOG_POLICY_ACTIONS = (
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)
TRAIL_ACTIONS = (
    "cloudtrail:CreateTrail",
    "cloudtrail:UpdateTrail",
    "cloudtrail:DeleteTrail",
    "cloudtrail:StartLogging",
    "cloudtrail:GetTrail",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:DescribeTrails",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:GetEventSelectors",
    "cloudtrail:GetInsightSelectors",
    "cloudtrail:AddTags",
    "cloudtrail:RemoveTags",
    "cloudtrail:ListTags",
)
#: Bucket settings only: no object action, so no read of what the buckets hold.
BUCKET_ACTIONS = (
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:ListBucket",
    "s3:GetBucket*",
    "s3:GetAccelerateConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:GetEncryptionConfiguration",
    "s3:PutBucketTagging",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketLogging",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketVersioning",
)
#: Services the deploy role lets create grants on the stack's keys (for the resource they encrypt).
GRANTING_SERVICES = ("rds", "elasticache", "lambda", "secretsmanager")
SERVICE_LINKED = ("rds", "elasticache")


def _statement(
    sid: str, actions: tuple[str, ...], resource: Any, **condition: Any
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": resource,
    }
    if condition:
        statement["Condition"] = condition
    return statement


def deploy_grants(access: AccessDefinition, arns: Arns) -> dict[str, list[dict[str, Any]]]:
    """Part -> statements (parts: ``DEPLOY_PARTS``)."""
    part, region, account = arns.partition, arns.region, arns.account_id
    own = f"{access.prefix}-*"
    env = {f"aws:ResourceTag/{ENVIRONMENT_TAG}": access.environment}
    ec2 = f"arn:{part}:ec2:{region}:{account}"
    rds = f"arn:{part}:rds:{region}:{account}"
    cache = f"arn:{part}:elasticache:{region}:{account}"
    lam = f"arn:{part}:lambda:{region}:{account}"
    logs = f"arn:{part}:logs:{region}:{account}:log-group:"
    secrets = f"arn:{part}:secretsmanager:{region}:{account}:secret:"
    network = [
        _statement("ReadTheNetwork", EC2_READS, "*"),
        _statement(
            "CreateTaggedNetwork",
            EC2_CREATES,
            [f"{ec2}:{kind}/*" for kind in EC2_CREATED],
            StringEquals={f"aws:RequestTag/{ENVIRONMENT_TAG}": access.environment},
        ),
        _statement(
            "TagOnCreate",
            ("ec2:CreateTags",),
            f"{ec2}:*/*",
            StringEquals={"ec2:CreateAction": list(EC2_CREATES)},
        ),
        _statement(
            "ChangeTheStacksNetwork",
            (*EC2_CREATES, *EC2_CHANGES),
            [f"{ec2}:{kind}/*" for kind in EC2_CREATED],
            StringEquals=env,
        ),
        # The VPC's default group is made by EC2 without tags: the network closes it (revokes
        # its rules) and tags it; untagged groups only, and the tag must be the stack's.
        _statement(
            "CloseTheDefaultGroup",
            ("ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"),
            f"{ec2}:security-group/*",
            Null={f"aws:ResourceTag/{ENVIRONMENT_TAG}": "true"},
        ),
        _statement(
            "TagTheDefaultGroup",
            ("ec2:CreateTags",),
            f"{ec2}:security-group/*",
            Null={f"aws:ResourceTag/{ENVIRONMENT_TAG}": "true"},
            StringEquals={f"aws:RequestTag/{ENVIRONMENT_TAG}": access.environment},
        ),
        # Interface endpoints with private DNS: EC2 associates the VPC with AWS's private zone.
        _statement(
            "EndpointPrivateDns",
            ("route53:AssociateVPCWithHostedZone",),
            f"arn:{part}:route53:::hostedzone/*",
        ),
    ]
    data = [
        _statement(
            "ManageTheAuditDatabase",
            RDS_ACTIONS,
            [
                f"{rds}:db:{own}",
                f"{rds}:pg:{own}",
                f"{rds}:subgrp:{own}",
                f"{rds}:snapshot:{own}",
                f"{rds}:og:default:*",
            ],
        ),
        _statement(
            "TheDatabaseMasterSecretThroughRds",
            RDS_SECRET_ACTIONS,
            f"{secrets}rds!*",
            **{"ForAnyValue:StringEquals": {"aws:CalledVia": ["rds.amazonaws.com"]}},
        ),
        _statement(
            "ManageTheCache",
            ELASTICACHE_ACTIONS,
            [
                f"{cache}:{kind}:{own}"
                for kind in (
                    "replicationgroup",
                    "cluster",
                    "parametergroup",
                    "subnetgroup",
                    "user",
                    "usergroup",
                    "snapshot",
                )
            ],
        ),
        _statement("CacheUserSecrets", SECRET_ACTIONS, f"{secrets}{access.prefix}/*"),
        _statement(
            "GenerateCachePasswords",
            ("secretsmanager:GetRandomPassword",),
            "*",
            StringEquals={"aws:RequestedRegion": region},
        ),
        _statement(
            "KeyGrantsForTheStacksResources",
            ("kms:CreateGrant",),
            arns.region_keys,
            Bool={"kms:GrantIsForAWSResource": "true"},
            StringEquals={
                "kms:ViaService": [f"{s}.{region}.amazonaws.com" for s in GRANTING_SERVICES]
            },
        ),
        _statement(
            "KeysThroughSecretsManagerAndLambda",
            ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"),
            arns.region_keys,
            StringEquals={
                "kms:ViaService": [
                    f"secretsmanager.{region}.amazonaws.com",
                    f"lambda.{region}.amazonaws.com",
                ]
            },
        ),
        _statement(
            "ServiceLinkedRoles",
            ("iam:CreateServiceLinkedRole",),
            [
                f"arn:{part}:iam::{account}:role/aws-service-role/{s}.amazonaws.com/*"
                for s in SERVICE_LINKED
            ],
            StringEquals={"iam:AWSServiceName": [f"{s}.amazonaws.com" for s in SERVICE_LINKED]},
        ),
    ]
    functions = [
        _statement(
            "ManageTheConsumerFunctionAndLayer",
            LAMBDA_ACTIONS,
            [f"{lam}:function:{own}", f"{lam}:layer:{own}", f"{lam}:layer:{own}:*"],
        ),
        _statement(
            "MappingsOfTheStacksFunctions",
            MAPPING_ACTIONS,
            "*",
            ArnLike={"lambda:FunctionArn": f"{lam}:function:{own}"},
        ),
        _statement("ReadMappings", MAPPING_READS, "*"),
        _statement(
            "ManageTheFailureQueue", SQS_ACTIONS, f"arn:{part}:sqs:{region}:{account}:{own}"
        ),
        _statement(
            "ManageTheStacksLogGroups",
            LOG_GROUP_ACTIONS,
            [
                f"{logs}/aws/lambda/{own}",
                f"{logs}/aws/rds/instance/{own}",
                f"{logs}/aws/elasticache/{own}",
                f"{logs}{access.flow_log_group}*",
            ],
        ),
        _statement(
            "CacheLogDelivery",
            LOG_DELIVERY_ACTIONS,
            "*",
            StringEquals={"aws:RequestedRegion": region},
        ),
        _statement(
            "CacheLogDeliveryPolicy", LOG_POLICY_ACTIONS, f"arn:{part}:logs:{region}:{account}:*"
        ),
    ]
    audit = [
        _statement(
            "ManageTheTrail",
            TRAIL_ACTIONS,
            f"arn:{part}:cloudtrail:{region}:{account}:trail/{own}",
        ),
        _statement("ManageTheAuditBucketsSettings", BUCKET_ACTIONS, f"arn:{part}:s3:::{own}"),
    ]
    return {"network": network, "data": data, "functions": functions, "audit": audit}


_VERB = re.compile(r"^([A-Z][a-z]+)")


def ceiling_actions(actions: Any) -> list[str]:
    """The actions as a ceiling, by verb: ``ec2:CreateVpc`` -> ``ec2:Create*`` (a boundary
    statement keeps the grant's resources and condition; only the action list is shorter)."""
    listed = [actions] if isinstance(actions, str) else list(actions)
    out: list[str] = []
    for action in listed:
        service, _, name = action.partition(":")
        verb = _VERB.match(name)
        pattern = f"{service}:{verb.group(1)}*" if verb and verb.group(1) != name else action
        if pattern not in out:
            out.append(pattern)
    return out
