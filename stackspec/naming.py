"""Physical names of a stack's resources: one place, so the program, the local tooling, the docs
and the tests agree on what a resource is called in AWS."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class KeyPurpose(StrEnum):
    """What a customer-managed key of the stack protects; its alias is
    ``alias/medeez-<env>-<purpose>``."""

    TABLE = "table"
    PHI = "phi"
    ALERTS = "alerts"
    BACKUP = "backup"
    BACKUP_DR = "backup-dr"
    AUDIT = "audit"
    CACHE = "cache"
    AUDIT_DATABASE = "audit-db"
    LOGS = "logs"
    CONSUMER = "consumer"


@dataclass(frozen=True)
class StackNames:
    """Every physical name of one environment's resources."""

    environment: str
    table_override: str | None = None

    @property
    def prefix(self) -> str:
        return f"medeez-{self.environment}"

    @property
    def table(self) -> str:
        return self.table_override or f"{self.prefix}-app"

    def key_alias(self, purpose: KeyPurpose | str) -> str:
        return f"alias/{self.prefix}-{KeyPurpose(purpose)}"

    @property
    def clinic_key_alias_prefix(self) -> str:
        """What every clinic's PHI key alias begins with (IAM matches it with a wildcard)."""
        return f"alias/{self.prefix}-{KeyPurpose.PHI}-clinic-"

    def clinic_key_alias(self, clinic_id: str) -> str:
        """A clinic's own PHI key (created at onboarding, deleted at offboarding):
        ``alias/medeez-<env>-phi-clinic-<clinicId>``."""
        return f"{self.clinic_key_alias_prefix}{clinic_id}"

    @property
    def vault(self) -> str:
        return f"{self.prefix}-backup"

    @property
    def dr_vault(self) -> str:
        return f"{self.prefix}-backup-dr"

    @property
    def backup_plan(self) -> str:
        return f"{self.prefix}-backup-plan"

    @property
    def backup_selection(self) -> str:
        return f"{self.backup_plan}-table"

    @property
    def backup_role(self) -> str:
        return f"{self.prefix}-backup"

    @property
    def backup_keys_policy(self) -> str:
        return f"{self.backup_role}-keys"

    @property
    def restore_testing_plan(self) -> str:
        # AWS Backup allows only letters, digits and underscores in these three names.
        return f"medeez_{self.environment}_restore_testing"

    @property
    def restore_testing_selection(self) -> str:
        return f"medeez_{self.environment}_table"

    @property
    def audit_framework(self) -> str:
        return f"medeez_{self.environment}_backup_controls"

    def report_plan(self, report: str) -> str:
        return f"medeez_{self.environment}_{report}"

    def audit_bucket(self, account_id: str) -> str:
        """S3 names are global: the account id keeps two accounts' stacks apart."""
        return f"{self.prefix}-audit-{account_id}"

    def audit_access_log_bucket(self, account_id: str) -> str:
        """Where S3 delivers the audit bucket's server access logs."""
        return f"{self.prefix}-audit-access-logs-{account_id}"

    @property
    def trail(self) -> str:
        """The stack's CloudTrail trail (management and the table's data events)."""
        return f"{self.prefix}-trail"

    def drill_table(self, stamp: str) -> str:
        """A restore drill's scratch table: never ends in ``-app``, always says ``drill``."""
        return f"{self.prefix}-drill-{stamp}"

    @property
    def topic(self) -> str:
        return f"{self.prefix}-alerts"

    @property
    def dashboard(self) -> str:
        return f"{self.prefix}-data"

    @property
    def budget(self) -> str:
        return f"{self.prefix}-monthly-cost"

    def role(self, purpose: str) -> str:
        """An access role: ``tenant``, ``operations``, ``deploy``, ``stream-consumer``."""
        return f"{self.prefix}-{purpose}"

    def role_policy(self, purpose: str) -> str:
        return f"{self.prefix}-{purpose}-access"

    @property
    def permissions_boundary(self) -> str:
        """The managed policy every role of the stack carries as its permissions boundary."""
        return f"{self.prefix}-boundary"

    @property
    def application_role(self) -> str:
        """The application's runtime role (outside this stack) that assumes the tenant role."""
        return f"{self.prefix}-app-runtime"

    @property
    def audit_database(self) -> str:
        """The audit database's RDS instance identifier (also its log groups' and snapshots'
        stem)."""
        return f"{self.prefix}-audit"

    @property
    def audit_database_name(self) -> str:
        """The PostgreSQL database inside it (``auditlog.schema.database_name``)."""
        return f"medeez_{self.environment}_audit"

    @property
    def audit_database_final_snapshot(self) -> str:
        return f"{self.audit_database}-final"

    def audit_database_parameter_group(self, family: str) -> str:
        return f"{self.audit_database}-{family}"

    @property
    def audit_database_subnet_group(self) -> str:
        return self.audit_database

    @property
    def audit_database_monitoring_role(self) -> str:
        return f"{self.audit_database}-db-monitoring"

    def audit_database_log_group(self, log: str) -> str:
        """Where RDS exports the ``log`` log of the instance (the name RDS itself uses)."""
        return f"/aws/rds/instance/{self.audit_database}/{log}"

    @property
    def vpc(self) -> str:
        return f"{self.prefix}-vpc"

    def subnet(self, zone_index: int) -> str:
        """A private subnet, by AZ position: ``medeez-<env>-private-1``..."""
        return f"{self.prefix}-private-{zone_index + 1}"

    def route_table(self, zone_index: int) -> str:
        return f"{self.prefix}-private-{zone_index + 1}"

    def security_group(self, tier: str) -> str:
        """A tier's security group: ``medeez-<env>-database``..."""
        return f"{self.prefix}-{tier}"

    def vpc_endpoint(self, service: str) -> str:
        return f"{self.prefix}-{service.replace('.', '-')}"

    @property
    def flow_log_group(self) -> str:
        return f"/medeez/{self.environment}/vpc-flow-logs"

    @property
    def flow_log_role(self) -> str:
        return f"{self.prefix}-vpc-flow-logs"

    @property
    def stream_consumer(self) -> str:
        """The stream consumer's function (and its role, ``role("stream-consumer")``)."""
        return f"{self.prefix}-stream-consumer"

    @property
    def stream_consumer_failures(self) -> str:
        """The SQS queue that receives the stream consumer's failed batches."""
        return f"{self.stream_consumer}-failures"

    @property
    def stream_consumer_layer(self) -> str:
        """The Lambda layer with the consumer's third-party dependencies (psycopg)."""
        return f"{self.stream_consumer}-deps"

    @property
    def cache_invalidator(self) -> str:
        """The stream cache invalidator's function (and its role, ``role("cache-invalidator")``)."""
        return f"{self.prefix}-cache-invalidator"

    @property
    def cache_invalidator_failures(self) -> str:
        """The SQS queue that receives the cache invalidator's failed batches."""
        return f"{self.cache_invalidator}-failures"

    @property
    def cache_invalidator_layer(self) -> str:
        """The Lambda layer with the invalidator's third-party dependencies (valkey-py)."""
        return f"{self.cache_invalidator}-deps"

    def alarm(self, key: str) -> str:
        return f"{self.prefix}-{key}"

    # The ElastiCache for Valkey cache (ElastiCache ids: lower case, at most 40 characters).
    @property
    def cache(self) -> str:
        """The replication group id; its nodes are ``<id>-001``, ``<id>-002``, ..."""
        return f"{self.prefix}-cache"

    def cache_node(self, number: int) -> str:
        """The id ElastiCache gives the replication group's n-th node (cluster mode disabled)."""
        return f"{self.cache}-{number:03d}"

    def cache_user_id(self, role: str) -> str:
        return f"{self.cache}-{role}"

    @property
    def cache_user_group(self) -> str:
        return f"{self.cache}-users"

    @property
    def cache_subnet_group(self) -> str:
        return self.cache

    def cache_parameter_group(self, family: str) -> str:
        return f"{self.prefix}-{family}"

    def cache_log_group(self, log_type: str) -> str:
        """``slow-log`` or ``engine-log``."""
        return f"/aws/elasticache/{self.cache}/{log_type}"

    def cache_secret(self, role: str) -> str:
        """The Secrets Manager secret holding a cache user's password."""
        return f"{self.prefix}/cache/{role}"
