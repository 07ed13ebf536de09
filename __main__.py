"""Medeez v2 data layer: one stack per environment, built from ``Pulumi.<stack>.yaml``."""

import pulumi

from components.access_roles import AccessRoles, AccessRolesArgs
from components.app_table import AppTable, AppTableArgs
from components.audit_bucket import AuditBucket, AuditBucketArgs
from components.audit_database import AuditDatabase, AuditDatabaseArgs
from components.audit_trail import AuditTrail, AuditTrailArgs
from components.cache import Cache, CacheArgs
from components.cache_invalidator import CacheInvalidator, CacheInvalidatorArgs
from components.cost_budget import CostBudget, CostBudgetArgs
from components.cross_region_backup import CrossRegionBackup, CrossRegionBackupArgs
from components.encryption_key import EncryptionKey, EncryptionKeyArgs
from components.monitoring import Monitoring, MonitoringArgs
from components.network import Network, NetworkArgs
from components.pulumi_config import stack_config_from_runtime
from components.recovery_assurance import RecoveryAssurance, RecoveryAssuranceArgs
from components.stream_consumer import StreamConsumer, StreamConsumerArgs
from stackspec.definitions import stack_definition
from stackspec.definitions.access import RolePurpose
from stackspec.definitions.cache_invalidator import CACHE_USER_ROLE as CACHE_INVALIDATOR_USER
from stackspec.definitions.network import Tier
from stackspec.naming import KeyPurpose

config = stack_config_from_runtime()
stack = stack_definition(config)
# Data-bearing resources (keys, table, vaults): protection comes from the stack config.
data = pulumi.ResourceOptions(
    protect=config.protection.protect, retain_on_delete=config.protection.retain_on_delete
)

keys = {
    purpose: EncryptionKey(
        f"{purpose}-key", EncryptionKeyArgs(definition=stack.keys[purpose]), opts=data
    )
    for purpose in (
        KeyPurpose.TABLE,
        KeyPurpose.PHI,
        KeyPurpose.ALERTS,
        KeyPurpose.LOGS,
        KeyPurpose.CACHE,
        KeyPurpose.CONSUMER,
    )
}
network = Network(
    "network",
    NetworkArgs(
        definition=stack.network,
        logs_key_arn=keys[KeyPurpose.LOGS].arn,
        protection=config.protection,
    ),
)
table = AppTable(
    "app",
    AppTableArgs(definition=stack.table, kms_key_arn=keys[KeyPurpose.TABLE].arn),
    opts=data,
)
monitoring = Monitoring(
    "monitoring",
    MonitoringArgs(definition=stack.monitoring, alerts_key_arn=keys[KeyPurpose.ALERTS].arn),
)
# The cache keeps items as the table stores them (PHI fields are ciphertext): its users and
# their secrets carry the data-resource protection like the table does.
cache = Cache(
    "cache",
    CacheArgs(
        definition=stack.cache,
        cache_key_arn=keys[KeyPurpose.CACHE].arn,
        logs_key_arn=keys[KeyPurpose.LOGS].arn,
        subnet_ids=network.subnet_ids,
        security_group_id=network.security_group_ids[Tier.CACHE],
        alert_topic_arn=monitoring.topic_arn,
    ),
    opts=data,
)
audit_database = AuditDatabase(
    "audit-db",
    AuditDatabaseArgs(
        definition=stack.audit_database,
        key=stack.keys[KeyPurpose.AUDIT_DATABASE],
        subnet_ids=network.subnet_ids,
        security_group_id=network.security_group_ids[Tier.DATABASE],
        logs_key_arn=keys[KeyPurpose.LOGS].arn,
        topic_arn=monitoring.topic_arn,
        protection=config.protection,
    ),
)
backup = CrossRegionBackup(
    "backup",
    CrossRegionBackupArgs(
        definition=stack.backup,
        vault_keys=stack.keys,
        table_arn=table.arn,
        table_key_arn=keys[KeyPurpose.TABLE].arn,
        database_arns=[audit_database.arn],
        database_key_arns=[audit_database.key_arn],
        protection=config.protection,
    ),
)
# Audit evidence (trail logs, audit-chain digests, Backup reports): the bucket and its key carry
# the data-resource protection.
audit_bucket = AuditBucket(
    "audit",
    AuditBucketArgs(
        definition=stack.audit_bucket,
        key=stack.keys[KeyPurpose.AUDIT],
        protection=config.protection,
    ),
)
trail = (
    AuditTrail(
        "trail",
        AuditTrailArgs(
            definition=stack.trail,
            bucket_name=audit_bucket.bucket_name,
            key_arn=audit_bucket.key_arn,
            table_arn=table.arn,
            stream_arn=table.stream_arn,
            bucket_policy=audit_bucket.policy,
        ),
    )
    if stack.trail is not None
    else None
)
recovery = RecoveryAssurance(
    "recovery",
    RecoveryAssuranceArgs(
        definition=stack.recovery,
        table_arn=table.arn,
        vault_arn=backup.vault_arn,
        vault_name=backup.vault.name,
        role_arn=backup.role.arn,
        topic_arn=monitoring.topic_arn,
        report_bucket_name=audit_bucket.bucket_name,
    ),
)
access = AccessRoles(
    "access",
    AccessRolesArgs(
        definition=stack.access,
        table_arn=table.arn,
        phi_key_arn=keys[KeyPurpose.PHI].arn,
        consumer_key_arn=keys[KeyPurpose.CONSUMER].arn,
        audit_db_resource_id=audit_database.resource_id,
        cache_key_arn=keys[KeyPurpose.CACHE].arn,
    ),
)
# The mapping validates the role's stream permissions when it is created: after the roles.
stream_consumer = StreamConsumer(
    "stream-consumer",
    StreamConsumerArgs(
        definition=stack.stream_consumer,
        role_arn=access.role_arns[RolePurpose.STREAM_CONSUMER],
        key_arn=keys[KeyPurpose.CONSUMER].arn,
        logs_key_arn=keys[KeyPurpose.LOGS].arn,
        table_stream_arn=table.stream_arn,
        topic_arn=monitoring.topic_arn,
        subnet_ids=network.subnet_ids,
        security_group_ids=[network.security_group_ids[Tier.CONSUMER]],
        database_address=audit_database.address,
        database_port=audit_database.port,
        database_name=audit_database.database_name,
        database_user=stack.audit_database.ingest_user,
        protection=config.protection,
    ),
    opts=pulumi.ResourceOptions(depends_on=[access]),
)
# The stream's second reader (a DynamoDB stream serves two per shard): writes made outside the
# application invalidate the cache. The consumer tier's group: the cache's group admits it, and
# its egress is the cache's port and the interface endpoints (Secrets Manager), nothing wider.
cache_invalidator = CacheInvalidator(
    "stream-invalidator",
    CacheInvalidatorArgs(
        definition=stack.cache_invalidator,
        role_arn=access.role_arns[RolePurpose.CACHE_INVALIDATOR],
        key_arn=keys[stack.cache_invalidator.key_purpose].arn,
        logs_key_arn=keys[KeyPurpose.LOGS].arn,
        table_stream_arn=table.stream_arn,
        topic_arn=monitoring.topic_arn,
        subnet_ids=network.subnet_ids,
        security_group_ids=[network.security_group_ids[Tier.CONSUMER]],
        cache_address=cache.primary_endpoint,
        cache_secret_arn=cache.user_secret_arns[CACHE_INVALIDATOR_USER],
        protection=config.protection,
    ),
    opts=pulumi.ResourceOptions(depends_on=[access]),
)
budget = CostBudget("cost", CostBudgetArgs(definition=stack.budget, topic_arn=monitoring.topic_arn))

pulumi.export("environment", config.environment)
pulumi.export("region", config.region)
pulumi.export("drRegion", config.dr_region)
pulumi.export("tableName", table.name)
pulumi.export("tableArn", table.arn)
pulumi.export("tableStreamArn", table.stream_arn)
for purpose, key in keys.items():
    pulumi.export(f"{purpose}KeyArn", key.arn)
    pulumi.export(f"{purpose}KeyAlias", key.alias_name)
pulumi.export("alertTopicArn", monitoring.topic_arn)
pulumi.export("dashboardName", monitoring.dashboard_name)
pulumi.export("backupVaultArn", backup.vault_arn)
pulumi.export("drBackupVaultArn", backup.dr_vault_arn)
pulumi.export("backupPlanArn", backup.plan_arn)
pulumi.export("budgetName", stack.budget.name)
pulumi.export("auditBucketName", audit_bucket.bucket_name)
pulumi.export("auditAccessLogBucketName", audit_bucket.access_log_bucket_name)
pulumi.export("trailArn", trail.arn if trail else None)
pulumi.export("vpcId", network.vpc_id)
pulumi.export("privateSubnetIds", network.subnet_ids)
pulumi.export(
    "securityGroupIds", {str(tier): group for tier, group in network.security_group_ids.items()}
)
pulumi.export("cachePrimaryEndpoint", cache.primary_endpoint)
pulumi.export("cacheReaderEndpoint", cache.reader_endpoint)
pulumi.export(
    "cacheUserSecretArns", {str(role): arn for role, arn in cache.user_secret_arns.items()}
)
pulumi.export("streamConsumerFunctionName", stream_consumer.function_name)
pulumi.export("streamConsumerFailureQueueUrl", stream_consumer.queue_url)
pulumi.export("cacheInvalidatorFunctionName", cache_invalidator.function_name)
pulumi.export("cacheInvalidatorFailureQueueUrl", cache_invalidator.queue_url)
pulumi.export("permissionsBoundaryArn", access.boundary.arn)
pulumi.export("auditDatabaseAddress", audit_database.address)
pulumi.export("auditDatabasePort", audit_database.port)
pulumi.export("auditDatabaseResourceId", audit_database.resource_id)
pulumi.export("auditDatabaseMasterSecretArn", audit_database.master_secret_arn)
for role_purpose, role_arn in access.role_arns.items():
    camel = "".join(w.title() if i else w for i, w in enumerate(role_purpose.split("-")))
    pulumi.export(f"{camel}RoleArn", role_arn)
