"""The stack's customer-managed KMS keys: one definition per key, for Pulumi and the local setup."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from stackspec.config.stack import StackConfig
from stackspec.definitions.monitoring import ALERT_PUBLISHERS
from stackspec.definitions.recovery import REPORTS_SERVICE_ROLE
from stackspec.naming import KeyPurpose
from stackspec.tenancy import CLINIC_CONTEXT_KEY

CLOUDTRAIL_SERVICE = "cloudtrail.amazonaws.com"
#: What a service that publishes to an encrypted SNS topic needs of the topic's key.
PUBLISHER_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")
#: What AWS services using a key on a caller's behalf need (the shape of AWS's own aws/rds key
#: policy): RDS for storage, snapshots and Performance Insights, Secrets Manager for the
#: RDS-managed master secret.
VIA_SERVICE_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:CreateGrant",
    "kms:ListGrants",
    "kms:DescribeKey",
)
#: Cryptographic operations that a required encryption context can be enforced on.
CRYPTO_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")
#: What CloudWatch Logs needs of a log group's key (AWS's documented key policy statement).
LOGS_ACTIONS = (
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
)


@dataclass(frozen=True, kw_only=True)
class KeyDefinition:
    """A symmetric customer-managed key, its alias, rotation and key policy."""

    purpose: KeyPurpose
    alias: str
    description: str
    """What the key protects; shown in the KMS console and CloudTrail."""
    region: str
    primary_region: bool
    """True for the stack's own region (the provider's); False for the DR region."""
    rotation_enabled: bool
    rotation_period_days: int
    deletion_window_days: int
    service_publishers: tuple[str, ...] = ()
    """Service principals that must use the key directly to publish to a topic encrypted with
    it; they get only Decrypt and GenerateDataKey*."""
    required_context_keys: tuple[str, ...] = ()
    """Encryption-context keys every cryptographic call must carry (``clinicId`` for the PHI
    key): calls without them are denied for everyone, so ciphertexts are always tenant-bound."""
    service_role_users: tuple[str, ...] = ()
    """Roles (path/name under the account) that write objects encrypted with the key, e.g. the
    AWS Backup reports service-linked role; they get GenerateDataKey* and Decrypt only."""
    cloudtrail_trail: str | None = None
    """The name of the trail (in this key's region and account) that encrypts its log files
    with the key; CloudTrail gets GenerateDataKey* and DescribeKey for that trail only."""
    via_services: tuple[str, ...] = ()
    """Service endpoints (``rds.<region>.amazonaws.com``) through which principals of this
    account may use the key (``kms:ViaService`` and ``kms:CallerAccount``), as AWS's own
    service keys allow."""
    log_groups_service: bool = False
    """True for the logs key: CloudWatch Logs of the key's region may use it for this account's
    log groups only (the ``kms:EncryptionContext:aws:logs:arn`` condition)."""
    tags: dict[str, str]

    def policy(self, *, partition: str, account_id: str) -> dict[str, Any]:
        """The key policy document.

        The account root statement hands key administration to the account's IAM policies
        (without it nobody could manage the key); everything else is the narrow per-consumer grant.
        """
        statements: list[dict[str, Any]] = [
            {
                "Sid": "AccountRootAdministersViaIam",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
        if self.service_publishers:
            statements.append(
                {
                    "Sid": "ServicesPublishToEncryptedTopic",
                    "Effect": "Allow",
                    "Principal": {"Service": sorted(self.service_publishers)},
                    "Action": list(PUBLISHER_ACTIONS),
                    "Resource": "*",
                }
            )
        if self.service_role_users:
            statements.append(
                {
                    "Sid": "ServiceRolesWriteEncryptedObjects",
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": sorted(
                            f"arn:{partition}:iam::{account_id}:role/{role}"
                            for role in self.service_role_users
                        )
                    },
                    "Action": list(PUBLISHER_ACTIONS),
                    "Resource": "*",
                }
            )
        if self.cloudtrail_trail is not None:
            statements.extend(self._cloudtrail_statements(partition, account_id))
        if self.via_services:
            statements.append(
                {
                    "Sid": "AccountUsesKeyThroughServices",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": list(VIA_SERVICE_ACTIONS),
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "kms:CallerAccount": account_id,
                            "kms:ViaService": sorted(self.via_services),
                        }
                    },
                }
            )
        if self.log_groups_service:
            # As CloudWatch Logs documents it: the service principal of the region, and only for
            # log groups of this account and region (the context names the log group's ARN).
            statements.append(
                {
                    "Sid": "CloudWatchLogsEncryptsLogGroups",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{self.region}.amazonaws.com"},
                    "Action": list(LOGS_ACTIONS),
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {
                            "kms:EncryptionContext:aws:logs:arn": (
                                f"arn:{partition}:logs:{self.region}:{account_id}:log-group:*"
                            )
                        }
                    },
                }
            )
        for context_key in self.required_context_keys:
            statements.append(
                {
                    "Sid": f"Require{context_key[:1].upper()}{context_key[1:]}EncryptionContext",
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Action": list(CRYPTO_ACTIONS),
                    "Resource": "*",
                    "Condition": {"Null": {f"kms:EncryptionContext:{context_key}": "true"}},
                }
            )
        return {"Version": "2012-10-17", "Statement": statements}

    def _cloudtrail_statements(self, partition: str, account_id: str) -> list[dict[str, Any]]:
        """As AWS documents for a trail's KMS key: the service principal, bound to this trail by
        ``aws:SourceArn`` and to this account's trails by the ``aws:cloudtrail:arn`` encryption
        context."""
        trail_arn = (
            f"arn:{partition}:cloudtrail:{self.region}:{account_id}:trail/{self.cloudtrail_trail}"
        )
        return [
            {
                "Sid": "CloudTrailEncryptLogs",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL_SERVICE},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceArn": trail_arn},
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": (
                            f"arn:{partition}:cloudtrail:*:{account_id}:trail/*"
                        )
                    },
                },
            },
            {
                "Sid": "CloudTrailDescribeKey",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL_SERVICE},
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
            },
        ]


def key_definitions(cfg: StackConfig) -> dict[KeyPurpose, KeyDefinition]:
    """Every key of the stack by purpose; the DR vault's key only when cross-region copy is on."""
    names = cfg.names
    descriptions = {
        KeyPurpose.TABLE: f"DynamoDB SSE for {names.table}",
        KeyPurpose.PHI: (
            f"PHI field envelope encryption (encryption context must carry {CLINIC_CONTEXT_KEY})"
        ),
        KeyPurpose.ALERTS: f"SNS topic {names.topic}",
        KeyPurpose.BACKUP: f"AWS Backup vault {names.vault}: DynamoDB recovery points",
        KeyPurpose.BACKUP_DR: f"AWS Backup vault {names.dr_vault}: cross-region copies",
        KeyPurpose.AUDIT: "Audit bucket: CloudTrail logs, audit chain digests, Backup reports",
        KeyPurpose.CACHE: (
            f"ElastiCache {names.cache} at rest (nodes, snapshots) and its users' passwords"
        ),
        KeyPurpose.AUDIT_DATABASE: (
            f"RDS {names.audit_database}: storage, snapshots, Performance Insights and its "
            "RDS-managed master secret"
        ),
        KeyPurpose.CONSUMER: (
            f"Stream consumer {names.stream_consumer}: its environment and its failure queue "
            f"{names.stream_consumer_failures}"
        ),
        KeyPurpose.LOGS: "CloudWatch log groups of the stack (flow logs, Lambda, RDS, cache)",
    }
    purposes = [
        KeyPurpose.TABLE,
        KeyPurpose.PHI,
        KeyPurpose.ALERTS,
        KeyPurpose.BACKUP,
        KeyPurpose.CACHE,
    ]
    if cfg.backup.cross_region_copy.enabled:
        purposes.append(KeyPurpose.BACKUP_DR)
    purposes.append(KeyPurpose.AUDIT)  # the audit bucket is in every stack
    own_trail = cfg.trail.enabled and not cfg.trail.organization_trail
    reports = cfg.recovery.audit.enabled
    purposes.append(KeyPurpose.LOGS)
    purposes.append(KeyPurpose.AUDIT_DATABASE)
    audit_db_services = (
        f"rds.{cfg.region}.amazonaws.com",
        f"secretsmanager.{cfg.region}.amazonaws.com",
    )
    purposes.append(KeyPurpose.CONSUMER)
    # Lambda decrypts the consumer's environment and SQS its failure queue for the caller.
    consumer_services = (f"lambda.{cfg.region}.amazonaws.com", f"sqs.{cfg.region}.amazonaws.com")
    via_services = {
        KeyPurpose.AUDIT_DATABASE: audit_db_services,
        KeyPurpose.CONSUMER: consumer_services,
    }
    rotation = cfg.keys.rotation
    return {
        purpose: KeyDefinition(
            purpose=purpose,
            alias=names.key_alias(purpose),
            description=descriptions[purpose],
            region=cfg.dr_region if purpose is KeyPurpose.BACKUP_DR else cfg.region,
            primary_region=purpose is not KeyPurpose.BACKUP_DR,
            rotation_enabled=rotation.enabled,
            rotation_period_days=rotation.period_days,
            deletion_window_days=cfg.keys.deletion_window_days,
            service_publishers=ALERT_PUBLISHERS if purpose is KeyPurpose.ALERTS else (),
            required_context_keys=(CLINIC_CONTEXT_KEY,) if purpose is KeyPurpose.PHI else (),
            service_role_users=(
                (REPORTS_SERVICE_ROLE,) if purpose is KeyPurpose.AUDIT and reports else ()
            ),
            cloudtrail_trail=names.trail if purpose is KeyPurpose.AUDIT and own_trail else None,
            via_services=via_services.get(purpose, ()),
            log_groups_service=purpose is KeyPurpose.LOGS,
            tags=cfg.tags.as_dict(),
        )
        for purpose in purposes
    }


#: The tag naming a clinic key's clinic (IAM's ``aws:ResourceTag/clinicId`` matches it).
CLINIC_KEY_TAG = CLINIC_CONTEXT_KEY


def clinic_key_definition(cfg: StackConfig, clinic_id: str) -> KeyDefinition:
    """A clinic's own PHI key (created at onboarding, not by Pulumi): the PHI key's definition
    (rotation, deletion window, the policy that requires the ``clinicId`` context) with the
    clinic's alias and the stack's tags plus ``clinicId``."""
    phi = key_definitions(cfg)[KeyPurpose.PHI]
    return replace(
        phi,
        alias=cfg.names.clinic_key_alias(clinic_id),
        description=(
            f"PHI of clinic {clinic_id} (encryption context must carry "
            f"{CLINIC_CONTEXT_KEY}={clinic_id}); deleting it shreds the clinic's PHI"
        ),
        tags={**phi.tags, CLINIC_KEY_TAG: clinic_id},
    )
