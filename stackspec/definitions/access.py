"""The IAM roles around the data, and the permissions boundary every one of them carries.

- **tenant**: what the application assumes per request, for one clinic, with the clinic as the
  session tag ``clinicId``. Item actions only on keys that begin with that clinic
  (``dynamodb:LeadingKeys`` = ``CLINIC#<clinic>`` or ``CLINIC#<clinic>#*``, never a bare prefix,
  and never a request without partition keys), the PHI key only with that clinic's encryption
  context. No Scan, no PartiQL.
- **operations**: cross-tenant reads (exports, analytics, support: the patterns no clinic leads),
  read-only, time-limited sessions, MFA, and never assumable by the application or the tenant
  role.
- **deploy**: CI over GitHub OIDC, trusted only for this repository's environment (``sub``), with
  control-plane actions on the stack's own resources; it can create roles only with the boundary.
- **stream-consumer**: the stream consumer function's execution role: reads the table's stream
  (the audit trail's source) and writes nothing to the table; logs in to the audit database as
  its ingest user only (``rds-db:connect``), manages its network interfaces in the VPC, sends
  failed batches to its failure queue, uses its own key through Lambda and SQS only, and writes
  its own log group.
- **cache-invalidator**: the cache invalidator function's execution role: reads the table's
  stream and writes nothing to the table; reads its cache user's password secret (through
  Secrets Manager with the cache key) and nothing else of the cache, manages its network
  interfaces in the VPC, sends failed batches to its failure queue (the consumer's key through
  Lambda and SQS only) and writes its own log group.
- **boundary**: the ceiling of every role above: the union of their grants, nothing more, plus
  denials that keep a role from lifting its own ceiling (boundary edits, roles without it,
  cross-tenant reads by any role but operations).

Everything is plain data built from the config; documents that need ARNs take them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from stackspec.config.stack import StackConfig
from stackspec.definitions.audit_database import INGEST_USER, AuditDatabaseDefinition
from stackspec.definitions.cache import CacheUserRole
from stackspec.definitions.deploy_grants import DEPLOY_PARTS, ceiling_actions, deploy_grants
from stackspec.key_schema import tenant_leading_keys
from stackspec.tenancy import CLINIC_CONTEXT_KEY

#: The session tag naming the clinic of a tenant session (and the PHI context key it must match).
CLINIC_TAG = CLINIC_CONTEXT_KEY
CLINIC_TAG_VARIABLE = f"${{aws:PrincipalTag/{CLINIC_TAG}}}"

#: Item actions whose every request names partition keys, so LeadingKeys can confine them.
TENANT_ITEM_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
#: What the PHI envelope encryption and the beacon keys call on the PHI key.
PHI_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
#: Reads that cross partitions; never granted to a tenant.
CROSS_TENANT_READS = ("dynamodb:Scan", "dynamodb:PartiQLSelect")
OPERATIONS_READS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:DescribeTable",
)
OPERATIONS_EXPORTS = (
    "dynamodb:ExportTableToPointInTime",
    "dynamodb:DescribeExport",
    "dynamodb:ListExports",
)
STREAM_READS = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
#: What a function in a VPC needs to attach to it (AWSLambdaVPCAccessExecutionRole, less its log
#: actions): describes are unscoped in EC2; the rest are scoped to this account and region.
VPC_DESCRIBES = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets")
VPC_NETWORK_INTERFACE_WRITES = (
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
#: What sending to a queue encrypted with a CMK and decrypting the function's environment need.
CONSUMER_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
#: The audit database role the stream consumer logs in as (``auditlog.schema.INGEST``).
AUDIT_INGEST_USER = INGEST_USER
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
LAMBDA_SERVICE = "lambda.amazonaws.com"
BACKUP_SERVICE = "backup.amazonaws.com"
RDS_MONITORING_SERVICE = "monitoring.rds.amazonaws.com"
FLOW_LOGS_SERVICE = "vpc-flow-logs.amazonaws.com"
#: IAM's limit on a managed policy document (characters, whitespace not counted).
MANAGED_POLICY_MAX_CHARS = 6144
#: IAM actions that would let a role lift a boundary or escape it.
BOUNDARY_EDITS = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
)
ROLE_BOUNDARY_ACTIONS = ("iam:CreateRole", "iam:PutRolePermissionsBoundary")


class RolePurpose(StrEnum):
    TENANT = "tenant"
    OPERATIONS = "operations"
    DEPLOY = "deploy"
    STREAM_CONSUMER = "stream-consumer"
    CACHE_INVALIDATOR = "cache-invalidator"


@dataclass(frozen=True, kw_only=True)
class Arns:
    """What the documents point at (known after the resources exist)."""

    partition: str
    account_id: str
    region: str
    table_arn: str
    phi_key_arn: str
    consumer_key_arn: str | None = None
    """The stream consumer's key (environment and failure queue); None: no consumer grants."""
    audit_db_resource_id: str | None = None
    """The audit database's ``dbi-...`` resource id; None: no ``rds-db:connect`` grant."""
    cache_key_arn: str | None = None
    """The cache's key (its users' password secrets); None: no cache invalidator grants beyond
    the stream and its logs."""

    @property
    def table_and_indexes(self) -> list[str]:
        return [self.table_arn, f"{self.table_arn}/index/*"]

    @property
    def stream(self) -> str:
        return f"{self.table_arn}/stream/*"

    @property
    def region_keys(self) -> str:
        """Every KMS key of the account in the stack's region: the clinic PHI keys are created at
        onboarding, so grants name them by their ``clinicId`` tag, not by ARN."""
        return f"arn:{self.partition}:kms:{self.region}:{self.account_id}:key/*"

    def role(self, name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:role/{name}"

    def policy(self, name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:policy/{name}"


@dataclass(frozen=True, kw_only=True)
class RoleDefinition:
    purpose: RolePurpose
    name: str
    description: str
    max_session_seconds: int
    policy_name: str
    policy_description: str


def _document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


@dataclass(frozen=True, kw_only=True)
class AccessDefinition:
    environment: str
    prefix: str
    table_name: str
    roles: dict[RolePurpose, RoleDefinition]
    boundary_name: str
    boundary_description: str
    application_role_name: str
    backup_role_name: str
    monitoring_role_name: str
    """The audit database's enhanced-monitoring role (passed to RDS monitoring only)."""
    flow_log_role_name: str
    """The VPC flow logs' delivery role (passed to VPC Flow Logs only)."""
    flow_log_group: str
    stream_consumer_function: str
    stream_consumer_queue: str
    cache_invalidator_function: str
    cache_invalidator_queue: str
    cache_invalidator_secret: str
    audit_ingest_user: str
    github_repository: str
    deploy_environment: str
    tenant_session_seconds: int
    tags: dict[str, str]

    # ---- who may assume each role ----

    @property
    def github_sub(self) -> str:
        """The OIDC ``sub`` claim of a job of this repository in this GitHub environment."""
        return f"repo:{self.github_repository}:environment:{self.deploy_environment}"

    def trust_policy(self, purpose: RolePurpose, arns: Arns) -> dict[str, Any]:
        account = {"StringEquals": {"aws:SourceAccount": arns.account_id}}
        application = arns.role(self.application_role_name)
        if purpose is RolePurpose.TENANT:
            return _document(
                {
                    "Sid": "ApplicationAssumesForOneClinic",
                    "Effect": "Allow",
                    # The account, narrowed to the application's role by aws:PrincipalArn (a
                    # trust policy naming a role ARN directly fails while that role is absent).
                    "Principal": {"AWS": f"arn:{arns.partition}:iam::{arns.account_id}:root"},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                    "Condition": {
                        "ArnEquals": {"aws:PrincipalArn": application},
                        # Exactly one session tag, the clinic, and it must be given.
                        "ForAllValues:StringEquals": {"aws:TagKeys": [CLINIC_TAG]},
                        "Null": {f"aws:RequestTag/{CLINIC_TAG}": "false"},
                        "StringLike": {f"aws:RequestTag/{CLINIC_TAG}": "?*"},
                    },
                }
            )
        if purpose is RolePurpose.OPERATIONS:
            return _document(
                {
                    "Sid": "OperatorsOfThisAccountWithMfa",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{arns.partition}:iam::{arns.account_id}:root"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                },
                {
                    "Sid": "NeverTheApplication",
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                    "Condition": {
                        "ArnEquals": {
                            "aws:PrincipalArn": sorted(
                                [application, arns.role(self.roles[RolePurpose.TENANT].name)]
                            )
                        }
                    },
                },
            )
        if purpose is RolePurpose.DEPLOY:
            provider = (
                f"arn:{arns.partition}:iam::{arns.account_id}:oidc-provider/{GITHUB_OIDC_HOST}"
            )
            return _document(
                {
                    "Sid": "GitHubActionsOfThisRepositoryEnvironment",
                    "Effect": "Allow",
                    "Principal": {"Federated": provider},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
                            f"{GITHUB_OIDC_HOST}:sub": self.github_sub,
                        }
                    },
                }
            )
        return _document(
            {
                "Sid": "LambdaOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": LAMBDA_SERVICE},
                "Action": "sts:AssumeRole",
                "Condition": account,
            }
        )

    # ---- what each role may do ----

    def tenant_statements(self, arns: Arns) -> list[dict[str, Any]]:
        own, below = tenant_leading_keys(CLINIC_TAG_VARIABLE)
        return [
            {
                "Sid": "ItemsOfTheSessionClinicOnly",
                "Effect": "Allow",
                "Action": list(TENANT_ITEM_ACTIONS),
                "Resource": arns.table_and_indexes,
                "Condition": {
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [own, below]},
                    # ForAllValues alone holds when a request carries no partition key at all.
                    "Null": {
                        "dynamodb:LeadingKeys": "false",
                        f"aws:PrincipalTag/{CLINIC_TAG}": "false",
                    },
                },
            },
            {
                "Sid": "PhiKeyWithTheSessionClinicContextOnly",
                "Effect": "Allow",
                "Action": list(PHI_KEY_ACTIONS),
                "Resource": arns.phi_key_arn,
                "Condition": {
                    "StringEquals": {
                        f"kms:EncryptionContext:{CLINIC_CONTEXT_KEY}": CLINIC_TAG_VARIABLE
                    }
                },
            },
            {
                "Sid": "ResolvePhiKey",
                "Effect": "Allow",
                "Action": "kms:DescribeKey",
                "Resource": arns.phi_key_arn,
            },
            {
                # The session clinic's own PHI key (tagged clinicId at onboarding), and only with
                # that clinic's context: another clinic's key, or an untagged key, is not granted.
                "Sid": "OwnClinicKeyWithTheSessionClinicContextOnly",
                "Effect": "Allow",
                "Action": list(PHI_KEY_ACTIONS),
                "Resource": arns.region_keys,
                "Condition": {
                    "StringEquals": {
                        f"aws:ResourceTag/{CLINIC_TAG}": CLINIC_TAG_VARIABLE,
                        f"kms:EncryptionContext:{CLINIC_CONTEXT_KEY}": CLINIC_TAG_VARIABLE,
                    }
                },
            },
            {
                "Sid": "ResolveOwnClinicKey",
                "Effect": "Allow",
                "Action": "kms:DescribeKey",
                "Resource": arns.region_keys,
                "Condition": {
                    "StringEquals": {f"aws:ResourceTag/{CLINIC_TAG}": CLINIC_TAG_VARIABLE}
                },
            },
        ]

    def operations_statements(self, arns: Arns) -> list[dict[str, Any]]:
        return [
            {
                "Sid": "CrossTenantReads",
                "Effect": "Allow",
                "Action": list(OPERATIONS_READS),
                "Resource": arns.table_and_indexes,
            },
            {
                "Sid": "Exports",
                "Effect": "Allow",
                "Action": list(OPERATIONS_EXPORTS),
                "Resource": [arns.table_arn, f"{arns.table_arn}/export/*"],
            },
            {
                "Sid": "PhiKeyDecryptWithAClinicContext",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": arns.phi_key_arn,
                "Condition": {"Null": {f"kms:EncryptionContext:{CLINIC_CONTEXT_KEY}": "false"}},
            },
            {
                # Exports decrypt any clinic's PHI: every clinic key (tagged), with a context.
                "Sid": "ClinicKeysDecryptWithAClinicContext",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": arns.region_keys,
                "Condition": {
                    "Null": {
                        f"aws:ResourceTag/{CLINIC_TAG}": "false",
                        f"kms:EncryptionContext:{CLINIC_CONTEXT_KEY}": "false",
                    }
                },
            },
        ]

    def stream_consumer_statements(self, arns: Arns) -> list[dict[str, Any]]:
        part, region, account = arns.partition, arns.region, arns.account_id
        ec2 = f"arn:{part}:ec2:{region}:{account}"
        statements: list[dict[str, Any]] = [
            {
                "Sid": "ReadTheTableStream",
                "Effect": "Allow",
                "Action": list(STREAM_READS),
                "Resource": arns.stream,
            },
            {
                "Sid": "ListStreams",
                "Effect": "Allow",
                "Action": "dynamodb:ListStreams",
                "Resource": "*",
            },
            {
                "Sid": "OwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": (
                    f"arn:{part}:logs:{region}:{account}:log-group:"
                    f"/aws/lambda/{self.stream_consumer_function}:*"
                ),
            },
        ]
        if arns.consumer_key_arn is None:
            return statements
        function_arn = (
            f"arn:{part}:lambda:{region}:{account}:function:{self.stream_consumer_function}"
        )
        statements += [
            {
                "Sid": "DescribeVpcNetworkInterfaces",
                "Effect": "Allow",
                "Action": list(VPC_DESCRIBES),
                "Resource": "*",
            },
            {
                "Sid": "ManageVpcNetworkInterfaces",
                "Effect": "Allow",
                "Action": list(VPC_NETWORK_INTERFACE_WRITES),
                "Resource": [
                    f"{ec2}:network-interface/*",
                    f"{ec2}:subnet/*",
                    f"{ec2}:security-group/*",
                ],
            },
            {
                # Lambda manages the function's interfaces with this role; the function's own code
                # (whose calls carry lambda:SourceFunctionArn) must not.
                "Sid": "NotFromTheFunctionCode",
                "Effect": "Deny",
                "Action": list(VPC_NETWORK_INTERFACE_WRITES),
                "Resource": "*",
                "Condition": {"ArnEquals": {"lambda:SourceFunctionArn": function_arn}},
            },
            {
                "Sid": "SendFailedBatches",
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": f"arn:{part}:sqs:{region}:{account}:{self.stream_consumer_queue}",
            },
            {
                "Sid": "ConsumerKeyThroughLambdaAndSqs",
                "Effect": "Allow",
                "Action": list(CONSUMER_KEY_ACTIONS),
                "Resource": arns.consumer_key_arn,
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": [
                            f"lambda.{region}.amazonaws.com",
                            f"sqs.{region}.amazonaws.com",
                        ]
                    }
                },
            },
        ]
        if arns.audit_db_resource_id is not None:
            statements.append(
                {
                    "Sid": "ConnectAsAuditIngest",
                    "Effect": "Allow",
                    "Action": "rds-db:connect",
                    "Resource": AuditDatabaseDefinition.rds_db_connect_arn(
                        partition=part,
                        region=region,
                        account_id=account,
                        resource_id=arns.audit_db_resource_id,
                        user=self.audit_ingest_user,
                    ),
                }
            )
        return statements

    def deploy_statements(self, arns: Arns) -> list[dict[str, Any]]:
        own = f"{self.prefix}-*"
        region, account, part = arns.region, arns.account_id, arns.partition
        return [
            {
                "Sid": "ManageTheStackTable",
                "Effect": "Allow",
                "Action": [
                    "dynamodb:CreateTable",
                    "dynamodb:UpdateTable",
                    "dynamodb:Describe*",
                    "dynamodb:List*",
                    "dynamodb:TagResource",
                    "dynamodb:UntagResource",
                    "dynamodb:UpdateTimeToLive",
                    "dynamodb:UpdateContinuousBackups",
                    "dynamodb:UpdateContributorInsights",
                ],
                "Resource": f"arn:{part}:dynamodb:*:{account}:table/{own}",
            },
            {
                "Sid": "ManageKeysAndAliases",
                "Effect": "Allow",
                "Action": [
                    "kms:CreateKey",
                    "kms:CreateAlias",
                    "kms:UpdateAlias",
                    "kms:DescribeKey",
                    "kms:GetKeyPolicy",
                    "kms:PutKeyPolicy",
                    "kms:GetKeyRotationStatus",
                    "kms:EnableKeyRotation",
                    "kms:ListAliases",
                    "kms:ListResourceTags",
                    "kms:TagResource",
                    "kms:UntagResource",
                    "kms:UpdateKeyDescription",
                ],
                "Resource": [
                    f"arn:{part}:kms:*:{account}:key/*",
                    f"arn:{part}:kms:*:{account}:alias/{own}",
                ],
            },
            {
                "Sid": "ManageAlerting",
                "Effect": "Allow",
                "Action": [
                    "sns:CreateTopic",
                    "sns:GetTopicAttributes",
                    "sns:SetTopicAttributes",
                    "sns:Subscribe",
                    "sns:Unsubscribe",
                    "sns:GetSubscriptionAttributes",
                    "sns:ListTagsForResource",
                    "sns:TagResource",
                    "cloudwatch:PutMetricAlarm",
                    "cloudwatch:DeleteAlarms",
                    "cloudwatch:DescribeAlarms",
                    "cloudwatch:ListTagsForResource",
                    "cloudwatch:TagResource",
                    "cloudwatch:PutDashboard",
                    "cloudwatch:GetDashboard",
                    "budgets:ModifyBudget",
                    "budgets:ViewBudget",
                ],
                "Resource": [
                    f"arn:{part}:sns:{region}:{account}:{own}",
                    f"arn:{part}:cloudwatch:{region}:{account}:alarm:{own}",
                    f"arn:{part}:cloudwatch::{account}:dashboard/{own}",
                    f"arn:{part}:budgets::{account}:budget/{own}",
                ],
            },
            {
                "Sid": "ManageBackup",
                "Effect": "Allow",
                "Action": [
                    "backup:CreateBackupVault",
                    "backup:DescribeBackupVault",
                    "backup:PutBackupVaultLockConfiguration",
                    "backup:CreateBackupPlan",
                    "backup:UpdateBackupPlan",
                    "backup:GetBackupPlan",
                    "backup:CreateBackupSelection",
                    "backup:GetBackupSelection",
                    "backup:ListTags",
                    "backup:TagResource",
                ],
                "Resource": [
                    f"arn:{part}:backup:*:{account}:backup-vault:{own}",
                    f"arn:{part}:backup:*:{account}:backup-plan:*",
                ],
            },
            {
                "Sid": "ManageTheStackRolesAndPolicies",
                "Effect": "Allow",
                "Action": [
                    "iam:CreateRole",
                    "iam:GetRole",
                    "iam:UpdateRole",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:TagRole",
                    "iam:AttachRolePolicy",
                    "iam:DetachRolePolicy",
                    "iam:ListAttachedRolePolicies",
                    "iam:ListRolePolicies",
                    "iam:PutRolePermissionsBoundary",
                    "iam:DeleteRole",
                    "iam:UntagRole",
                    "iam:ListInstanceProfilesForRole",
                    "iam:CreatePolicy",
                    "iam:CreatePolicyVersion",
                    "iam:DeletePolicyVersion",
                    "iam:GetPolicy",
                    "iam:GetPolicyVersion",
                    "iam:ListPolicyVersions",
                    "iam:DeletePolicy",
                    "iam:TagPolicy",
                    "iam:UntagPolicy",
                ],
                "Resource": [arns.role(own), arns.policy(own)],
            },
            *(
                {
                    "Sid": f"Pass{sid}",
                    "Effect": "Allow",
                    "Action": "iam:PassRole",
                    "Resource": arns.role(role),
                    "Condition": {"StringEquals": {"iam:PassedToService": service}},
                }
                for sid, role, service in self.passed_roles
            ),
        ]

    @property
    def passed_roles(self) -> tuple[tuple[str, str, str], ...]:
        """(Sid stem, role name, service) of every role the deploy role hands to a service."""
        return (
            ("BackupRole", self.backup_role_name, BACKUP_SERVICE),
            ("StreamConsumerRole", self.roles[RolePurpose.STREAM_CONSUMER].name, LAMBDA_SERVICE),
            (
                "CacheInvalidatorRole",
                self.roles[RolePurpose.CACHE_INVALIDATOR].name,
                LAMBDA_SERVICE,
            ),
            ("MonitoringRole", self.monitoring_role_name, RDS_MONITORING_SERVICE),
            ("FlowLogRole", self.flow_log_role_name, FLOW_LOGS_SERVICE),
        )

    def deploy_policies(self, arns: Arns) -> dict[str, list[dict[str, Any]]]:
        """The deploy role's grants by managed policy (``""``: its main policy; the others are
        ``medeez-<env>-deploy-<part>-access``): one document cannot hold them all (6,144)."""
        statements = deploy_grants(self, arns)
        return {
            "": self.deploy_statements(arns),
            **{part: statements[part] for part in DEPLOY_PARTS},
        }

    def policy_names(self, purpose: RolePurpose) -> dict[str, str]:
        """Part (``""``: the main one) -> managed policy name of the role."""
        main = self.roles[purpose].policy_name
        if purpose is not RolePurpose.DEPLOY:
            return {"": main}
        return {
            "": main,
            **{part: f"{self.prefix}-{purpose}-{part}-access" for part in DEPLOY_PARTS},
        }

    def policy_description(self, purpose: RolePurpose, name: str) -> str:
        """The description of one of the role's managed policies (by name)."""
        part = next(p for p, n in self.policy_names(purpose).items() if n == name)
        return self.roles[purpose].policy_description + (f" ({part})" if part else "")

    def policy_documents(self, purpose: RolePurpose, arns: Arns) -> dict[str, dict[str, Any]]:
        """Managed policy name -> document, for every policy attached to the role."""
        names = self.policy_names(purpose)
        if purpose is not RolePurpose.DEPLOY:
            return {names[""]: self.role_policy(purpose, arns)}
        return {
            names[part]: _document(*statements)
            for part, statements in self.deploy_policies(arns).items()
        }

    def all_deploy_statements(self, arns: Arns) -> list[dict[str, Any]]:
        return [s for part in self.deploy_policies(arns).values() for s in part]

    def statements(self, purpose: RolePurpose, arns: Arns) -> list[dict[str, Any]]:
        return {
            RolePurpose.TENANT: self.tenant_statements,
            RolePurpose.OPERATIONS: self.operations_statements,
            RolePurpose.DEPLOY: self.all_deploy_statements,
            RolePurpose.STREAM_CONSUMER: self.stream_consumer_statements,
            RolePurpose.CACHE_INVALIDATOR: self.cache_invalidator_statements,
        }[purpose](arns)

    def role_policy(self, purpose: RolePurpose, arns: Arns) -> dict[str, Any]:
        """The role's main managed policy (the deploy role has more: ``policy_documents``)."""
        if purpose is RolePurpose.DEPLOY:
            return _document(*self.deploy_statements(arns))
        return _document(*self.statements(purpose, arns))

    def boundary_policy(self, arns: Arns) -> dict[str, Any]:
        """The ceiling: each role's grants (Sids prefixed with the role), and the denials that
        keep any role from raising it."""
        grants = [
            {
                **statement,
                "Sid": f"{purpose.title().replace('-', '')}{statement['Sid']}",
                # The deploy grants, by verb (ec2:Create*): the boundary is one managed policy.
                **(
                    {"Action": ceiling_actions(statement["Action"])}
                    # (on "*" the exact actions: a verb there would reach every resource)
                    if purpose is RolePurpose.DEPLOY and statement["Resource"] != "*"
                    else {}
                ),
            }
            for purpose in RolePurpose
            for statement in self.statements(purpose, arns)
        ]
        boundary = arns.policy(self.boundary_name)
        return _document(
            *grants,
            {
                "Sid": "NoBoundaryEdits",
                "Effect": "Deny",
                "Action": list(BOUNDARY_EDITS),
                "Resource": boundary,
            },
            {
                "Sid": "NoBoundaryRemoval",
                "Effect": "Deny",
                "Action": "iam:DeleteRolePermissionsBoundary",
                "Resource": "*",
            },
            {
                "Sid": "NewRolesCarryThisBoundary",
                "Effect": "Deny",
                "Action": list(ROLE_BOUNDARY_ACTIONS),
                # The AWS Backup service role (AWS-managed policies, assumable by AWS Backup
                # only) is not under the boundary yet: README, "Tenant isolation".
                "NotResource": arns.role(self.backup_role_name),
                "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": boundary}},
            },
            {
                "Sid": "CrossTenantReadsOnlyByOperations",
                "Effect": "Deny",
                "Action": [*CROSS_TENANT_READS, "dynamodb:PartiQL*"],
                "Resource": "*",
                "Condition": {
                    "ArnNotEquals": {
                        "aws:PrincipalArn": arns.role(self.roles[RolePurpose.OPERATIONS].name)
                    }
                },
            },
        )

    def cache_invalidator_statements(self, arns: Arns) -> list[dict[str, Any]]:
        """As the consumer's, with the cache invalidator's function, queue and log group, and
        its cache user's password secret instead of the database login."""
        part, region, account = arns.partition, arns.region, arns.account_id
        ec2 = f"arn:{part}:ec2:{region}:{account}"
        function = self.cache_invalidator_function
        statements: list[dict[str, Any]] = [
            {
                "Sid": "ReadTheTableStream",
                "Effect": "Allow",
                "Action": list(STREAM_READS),
                "Resource": arns.stream,
            },
            {
                "Sid": "ListStreams",
                "Effect": "Allow",
                "Action": "dynamodb:ListStreams",
                "Resource": "*",
            },
            {
                "Sid": "OwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": (
                    f"arn:{part}:logs:{region}:{account}:log-group:/aws/lambda/{function}:*"
                ),
            },
        ]
        if arns.consumer_key_arn is None or arns.cache_key_arn is None:
            return statements
        return [
            *statements,
            {
                "Sid": "DescribeVpcNetworkInterfaces",
                "Effect": "Allow",
                "Action": list(VPC_DESCRIBES),
                "Resource": "*",
            },
            {
                "Sid": "ManageVpcNetworkInterfaces",
                "Effect": "Allow",
                "Action": list(VPC_NETWORK_INTERFACE_WRITES),
                "Resource": [
                    f"{ec2}:network-interface/*",
                    f"{ec2}:subnet/*",
                    f"{ec2}:security-group/*",
                ],
            },
            {
                "Sid": "NotFromTheFunctionCode",
                "Effect": "Deny",
                "Action": list(VPC_NETWORK_INTERFACE_WRITES),
                "Resource": "*",
                "Condition": {
                    "ArnEquals": {
                        "lambda:SourceFunctionArn": (
                            f"arn:{part}:lambda:{region}:{account}:function:{function}"
                        )
                    }
                },
            },
            {
                "Sid": "SendFailedBatches",
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": f"arn:{part}:sqs:{region}:{account}:{self.cache_invalidator_queue}",
            },
            {
                "Sid": "ConsumerKeyThroughLambdaAndSqs",
                "Effect": "Allow",
                "Action": list(CONSUMER_KEY_ACTIONS),
                "Resource": arns.consumer_key_arn,
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": [
                            f"lambda.{region}.amazonaws.com",
                            f"sqs.{region}.amazonaws.com",
                        ]
                    }
                },
            },
            {
                # Secrets Manager appends six random characters to a secret's name in its ARN.
                "Sid": "ReadOwnCacheUserPassword",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": (
                    f"arn:{part}:secretsmanager:{region}:{account}:secret:"
                    f"{self.cache_invalidator_secret}-??????"
                ),
            },
            {
                "Sid": "CacheKeyThroughSecretsManager",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": arns.cache_key_arn,
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
                },
            },
        ]


def access_definition(cfg: StackConfig) -> AccessDefinition:
    names = cfg.names
    access = cfg.access
    descriptions = {
        RolePurpose.TENANT: (
            f"One clinic's data (session tag {CLINIC_TAG}): the application assumes it per "
            "request; item keys and the PHI key's context are confined to that clinic"
        ),
        RolePurpose.OPERATIONS: (
            "Cross-tenant reads and exports for operations and support; MFA, time-limited, "
            "never the application"
        ),
        RolePurpose.DEPLOY: (
            f"CI deployments from GitHub Actions ({access.github_repository}) over OIDC"
        ),
        RolePurpose.STREAM_CONSUMER: "Reads the table stream; writes nothing to the table",
        RolePurpose.CACHE_INVALIDATOR: (
            "Reads the table stream and its cache user's password; writes nothing to the table"
        ),
    }
    sessions = {
        # AWS's minimum MaxSessionDuration; role chaining caps the tenant's sessions at 1 hour
        # anyway, and the data layer asks for access.tenantSessionSeconds.
        RolePurpose.TENANT: 3600,
        RolePurpose.OPERATIONS: access.operations_max_session_seconds,
        RolePurpose.DEPLOY: 3600,
        RolePurpose.STREAM_CONSUMER: 3600,
        RolePurpose.CACHE_INVALIDATOR: 3600,
    }
    return AccessDefinition(
        environment=cfg.environment,
        prefix=names.prefix,
        table_name=names.table,
        roles={
            purpose: RoleDefinition(
                purpose=purpose,
                name=names.role(purpose),
                description=descriptions[purpose],
                max_session_seconds=sessions[purpose],
                policy_name=names.role_policy(purpose),
                policy_description=f"What the {purpose} role may do",
            )
            for purpose in RolePurpose
        },
        boundary_name=names.permissions_boundary,
        boundary_description="Permissions boundary of every role of the stack",
        application_role_name=access.application_role_name or names.application_role,
        backup_role_name=names.backup_role,
        monitoring_role_name=names.audit_database_monitoring_role,
        flow_log_role_name=names.flow_log_role,
        flow_log_group=names.flow_log_group,
        stream_consumer_function=names.stream_consumer,
        stream_consumer_queue=names.stream_consumer_failures,
        cache_invalidator_function=names.cache_invalidator,
        cache_invalidator_queue=names.cache_invalidator_failures,
        cache_invalidator_secret=names.cache_secret(CacheUserRole.INVALIDATOR),
        audit_ingest_user=AUDIT_INGEST_USER,
        github_repository=access.github_repository,
        deploy_environment=access.deploy_environment or cfg.environment,
        tenant_session_seconds=access.tenant_session_seconds,
        tags=cfg.tags.as_dict(),
    )
