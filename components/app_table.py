"""The single DynamoDB table of an environment, exactly as the design's key schema declares it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stackspec.definitions.table import CONTRIBUTOR_INSIGHTS_MODE, TableDefinition


@dataclass(frozen=True, kw_only=True)
class AppTableArgs:
    """Inputs of :class:`AppTable`."""

    definition: TableDefinition
    """Name, keys, GSIs and projections, TTL, streams, PITR, deletion protection and tags
    (``stackspec.definitions.table``)."""
    kms_key_arn: pulumi.Input[str]
    """The customer-managed key for server-side encryption; there is no AWS-owned fallback."""


class AppTable(pulumi.ComponentResource):
    """The app table: PK/SK strings, five GSIs, on-demand, SSE-KMS, PITR, streams, TTL.

    There is one ``aws.dynamodb.Table`` resource (``<name>-table``) whatever the config says, so
    no config change can replace the table by switching between resource variants. With
    contributor insights on, ``<name>-insights`` and ``<name>-insights-<index>`` are added.
    """

    table: aws.dynamodb.Table
    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    stream_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: AppTableArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medeez:data:AppTable", name, None, opts)
        spec = args.definition
        child = pulumi.ResourceOptions(parent=self)
        max_throughput = (
            aws.dynamodb.TableOnDemandThroughputArgs(
                max_read_request_units=spec.max_read_request_units,
                max_write_request_units=spec.max_write_request_units,
            )
            if spec.max_read_request_units and spec.max_write_request_units
            else None
        )
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            name=spec.name,
            billing_mode=spec.billing_mode,
            hash_key=spec.partition_key,
            range_key=spec.sort_key,
            attributes=[
                aws.dynamodb.TableAttributeArgs(name=attribute, type="S")
                for attribute in spec.attributes
            ],
            global_secondary_indexes=[
                aws.dynamodb.TableGlobalSecondaryIndexArgs(
                    name=index.name,
                    key_schemas=[
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                            attribute_name=index.partition_key, key_type="HASH"
                        ),
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                            attribute_name=index.sort_key, key_type="RANGE"
                        ),
                    ],
                    projection_type=index.projection_type,
                    non_key_attributes=list(index.non_key_attributes) or None,
                )
                for index in spec.indexes
            ],
            on_demand_throughput=max_throughput,
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=True, kms_key_arn=args.kms_key_arn
            ),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                enabled=spec.point_in_time_recovery,
                recovery_period_in_days=(
                    spec.recovery_period_days if spec.point_in_time_recovery else None
                ),
            ),
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=spec.ttl_attribute, enabled=True),
            stream_enabled=True,
            stream_view_type=spec.stream_view_type,
            deletion_protection_enabled=spec.deletion_protection,
            tags=dict(spec.tags),
            opts=child,
        )
        if spec.contributor_insights:
            aws.dynamodb.ContributorInsights(
                f"{name}-insights",
                table_name=self.table.name,
                mode=CONTRIBUTOR_INSIGHTS_MODE,
                opts=child,
            )
            for index in spec.indexes:
                aws.dynamodb.ContributorInsights(
                    f"{name}-insights-{index.name}",
                    table_name=self.table.name,
                    index_name=index.name,
                    mode=CONTRIBUTOR_INSIGHTS_MODE,
                    opts=child,
                )
        self.name = self.table.name
        self.arn = self.table.arn
        self.stream_arn = self.table.stream_arn
        self.register_outputs({"name": self.name, "arn": self.arn, "streamArn": self.stream_arn})
