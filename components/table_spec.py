"""The app table as plain data, derived from the stack config.

The Pulumi ``AppTable`` component and the local ``setup`` script both build the table from this
spec, so the table in AWS and the one on the local endpoint cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.config import StackConfig
from components.schema import GLOBAL_INDEXES, KEY_ATTRIBUTES, PARTITION_KEY, SORT_KEY


@dataclass(frozen=True, kw_only=True)
class IndexSpec:
    name: str
    partition_key: str
    sort_key: str
    projection_type: str
    non_key_attributes: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class TableSpec:
    name: str
    partition_key: str
    sort_key: str
    #: Every key attribute of the table and its indexes; all strings ("S").
    attributes: tuple[str, ...]
    indexes: tuple[IndexSpec, ...]
    billing_mode: str
    max_read_request_units: int | None
    max_write_request_units: int | None
    ttl_attribute: str
    stream_view_type: str
    point_in_time_recovery: bool
    recovery_period_days: int
    deletion_protection: bool
    contributor_insights: bool


def table_spec(config: StackConfig) -> TableSpec:
    table = config.table
    throughput = table.billing.max_throughput
    return TableSpec(
        name=config.table_name,
        partition_key=PARTITION_KEY,
        sort_key=SORT_KEY,
        attributes=KEY_ATTRIBUTES,
        indexes=tuple(
            IndexSpec(
                name=index.name,
                partition_key=index.partition_key,
                sort_key=index.sort_key,
                projection_type=table.projection(index.name).type,
                non_key_attributes=table.projection(index.name).non_key_attributes,
            )
            for index in GLOBAL_INDEXES
        ),
        billing_mode=table.billing.mode,
        max_read_request_units=throughput.max_read_request_units if throughput else None,
        max_write_request_units=throughput.max_write_request_units if throughput else None,
        ttl_attribute=table.ttl_attribute,
        stream_view_type=table.stream_view_type,
        point_in_time_recovery=table.point_in_time_recovery.enabled,
        recovery_period_days=table.point_in_time_recovery.recovery_period_days,
        deletion_protection=table.deletion_protection,
        contributor_insights=table.contributor_insights,
    )


def create_table_request(
    spec: TableSpec, tags: dict[str, str], sse_kms_key_id: str
) -> dict[str, object]:
    """The DynamoDB ``CreateTable`` request for ``spec`` (boto3 keyword arguments), encrypted
    with the customer-managed key ``sse_kms_key_id`` (ARN, id or alias).

    TTL, PITR and contributor insights are separate API calls after the table is ACTIVE.
    """
    request: dict[str, object] = {
        "TableName": spec.name,
        "BillingMode": spec.billing_mode,
        "KeySchema": [
            {"AttributeName": spec.partition_key, "KeyType": "HASH"},
            {"AttributeName": spec.sort_key, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"} for name in spec.attributes
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {
                    "ProjectionType": index.projection_type,
                    **(
                        {"NonKeyAttributes": list(index.non_key_attributes)}
                        if index.non_key_attributes
                        else {}
                    ),
                },
            }
            for index in spec.indexes
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": spec.stream_view_type},
        "SSESpecification": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": sse_kms_key_id},
        "DeletionProtectionEnabled": spec.deletion_protection,
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())],
    }
    if spec.max_read_request_units and spec.max_write_request_units:
        request["OnDemandThroughput"] = {
            "MaxReadRequestUnits": spec.max_read_request_units,
            "MaxWriteRequestUnits": spec.max_write_request_units,
        }
    return request
