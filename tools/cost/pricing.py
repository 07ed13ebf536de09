"""The dated price snapshot in ``pricing/aws-prices.yaml``, read strictly.

A price the estimator needs and the snapshot lacks is a load error, never a silent zero.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field, ValidationError

from stackspec.config.base import ConfigModel
from stackspec.errors import ConfigError
from stackspec.stack_file import PROJECT_DIR, load_yaml
from tools.review_errors import ReviewError

SNAPSHOT = PROJECT_DIR / "pricing" / "aws-prices.yaml"


class _Prices(ConfigModel):
    pass


class DynamoDBPrices(_Prices):
    write_request_units_per_million: float
    read_request_units_per_million: float
    storage_gb_month: float
    pitr_gb_month: float
    stream_read_request_units_per100k: float


class KmsPrices(_Prices):
    key_month: float
    rotation_add_month: float
    max_rotation_adds: int
    requests_per10k: float


class CloudWatchPrices(_Prices):
    alarm_metric_month: float
    dashboard_month: float
    contributor_insights_rule_month: float
    contributor_insights_events_per_million: float
    logs_ingested_gb: float


class SnsPrices(_Prices):
    publishes_per_million: float
    email_deliveries_per100k: float


class BackupPrices(_Prices):
    dynamodb_warm_gb_month: float
    dynamodb_cold_gb_month: float
    dynamodb_restore_gb: float
    restore_test_job: float
    control_evaluations_per1k: float


class S3Prices(_Prices):
    standard_gb_month: float
    put_requests_per1k: float
    get_requests_per1k: float
    storage_class_gb_month: dict[str, float]
    """GB-month price of each storage class a lifecycle transitions to (S3 names)."""
    transitions_per1k: dict[str, float]
    """Lifecycle transition requests into each storage class, per 1,000 objects."""


class CloudTrailPrices(_Prices):
    data_events_per100k: float
    management_events_copy_per100k: float


class ElastiCachePrices(_Prices):
    valkey_node_hour: dict[str, float]
    """On-demand price of one Valkey node-hour, by node type."""
    snapshot_gb_month: float


class SecretsManagerPrices(_Prices):
    secret_month: float
    api_calls_per10k: float


class LambdaPrices(_Prices):
    arm_gb_second: float
    x86_gb_second: float
    requests_per_million: float


class SqsPrices(_Prices):
    requests_per_million: float


class BudgetsPrices(_Prices):
    budget_month: float


class TransferPrices(_Prices):
    inter_region_gb: float
    internet_out_gb: float


class VpcPrices(_Prices):
    interface_endpoint_az_hour: float
    interface_endpoint_gb: float
    flow_logs_ingested_gb: float


class RdsPrices(_Prices):
    instance_hour: dict[str, float]
    """RDS for PostgreSQL on-demand, single-AZ, per instance class (Multi-AZ bills twice)."""
    vcpus: dict[str, int]
    """vCPUs of each class (Performance Insights beyond 7 days bills per vCPU)."""
    gp3_gb_month: float
    """gp3 storage, single-AZ (Multi-AZ bills twice)."""
    backup_gb_month: float
    """Backup storage beyond the free amount (100 % of the provisioned storage)."""
    performance_insights_vcpu_month: float
    """Performance Insights retention beyond the free 7 days, per vCPU and month."""


class RegionPrices(_Prices):
    dynamodb: DynamoDBPrices
    kms: KmsPrices
    cloudwatch: CloudWatchPrices
    sns: SnsPrices
    backup: BackupPrices
    s3: S3Prices
    cloudtrail: CloudTrailPrices
    lambda_: LambdaPrices = Field(alias="lambda")
    sqs: SqsPrices
    budgets: BudgetsPrices
    transfer: TransferPrices
    elasticache: ElastiCachePrices
    secretsmanager: SecretsManagerPrices
    vpc: VpcPrices
    rds: RdsPrices


class SnapshotInfo(_Prices):
    date: str
    source: str
    currency: str


class PriceSnapshot(_Prices):
    snapshot: SnapshotInfo
    regions: dict[str, RegionPrices]

    def region(self, name: str) -> RegionPrices:
        """Prices of ``name``; a region the snapshot lacks is an error naming the file."""
        try:
            return self.regions[name]
        except KeyError:
            raise ReviewError(
                f"{SNAPSHOT.name}: no prices for region {name!r} (it has "
                f"{', '.join(sorted(self.regions))}); add them, or refresh the snapshot"
            ) from None


def load_snapshot(path: Path = SNAPSHOT) -> PriceSnapshot:
    """The snapshot at ``path``; every problem is one line naming the file and key."""
    try:
        document = load_yaml(path.read_text(encoding="utf-8"), path.name)
    except OSError as exc:
        raise ReviewError(f"{path}: cannot read the price snapshot: {exc.strerror}") from None
    except ConfigError as exc:
        raise ReviewError(str(exc)) from None
    try:
        return PriceSnapshot.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ReviewError(f"{path.name}: {where}: {first['msg']}") from None


@cache
def default_snapshot() -> PriceSnapshot:
    """The repository's snapshot, read once per process."""
    return load_snapshot()
