"""The stack's CloudTrail trail (``stackspec.definitions.trail``): management events and the
table's data events, every region, log-file validation, encrypted with the audit key, delivered to
the audit bucket under its ``cloudtrail/`` prefix once the bucket policy lets it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stackspec.definitions.trail import TrailDefinition


@dataclass(frozen=True, kw_only=True)
class AuditTrailArgs:
    """Inputs of :class:`AuditTrail`."""

    definition: TrailDefinition
    bucket_name: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    table_arn: pulumi.Input[str]
    stream_arn: pulumi.Input[str]
    bucket_policy: pulumi.Resource
    """CloudTrail refuses a bucket whose policy does not let it write yet."""


class AuditTrail(pulumi.ComponentResource):
    trail: aws.cloudtrail.Trail
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: AuditTrailArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medeez:data:AuditTrail", name, None, opts)
        definition = args.definition
        selectors = pulumi.Output.all(args.table_arn, args.stream_arn).apply(
            lambda arns: [
                aws.cloudtrail.TrailAdvancedEventSelectorArgs(
                    name=selector["Name"],
                    field_selectors=[
                        aws.cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs(
                            field=field["Field"], equals=field["Equals"]
                        )
                        for field in selector["FieldSelectors"]
                    ],
                )
                for selector in definition.event_selectors(table_arn=arns[0], stream_arn=arns[1])
            ]
        )
        self.trail = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=definition.name,
            s3_bucket_name=args.bucket_name,
            s3_key_prefix=definition.s3_key_prefix,
            kms_key_id=args.key_arn,
            is_multi_region_trail=definition.multi_region,
            include_global_service_events=definition.include_global_service_events,
            enable_log_file_validation=definition.log_file_validation,
            enable_logging=True,
            advanced_event_selectors=selectors,
            tags=dict(definition.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.bucket_policy]),
        )
        self.arn = self.trail.arn
        self.register_outputs({"trailArn": self.arn})
