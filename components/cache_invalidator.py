"""The cache invalidator: the Lambda function that invalidates the cache from the table's stream,
in the VPC, with its layer, log group, event source mapping (the stream's second reader, beside
the stream consumer's), failure queue and alarms, as ``stackspec.definitions.cache_invalidator``
defines them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from stackspec.config.stack import Protection
from stackspec.definitions.cache_invalidator import CacheInvalidatorDefinition
from stackspec.definitions.monitoring import AlarmDefinition
from stackspec.stack_file import PROJECT_DIR


@dataclass(frozen=True, kw_only=True)
class CacheInvalidatorArgs:
    """Inputs of :class:`CacheInvalidator`."""

    definition: CacheInvalidatorDefinition
    """Function, package, mapping, queue, log group and alarms."""
    role_arn: pulumi.Input[str]
    """The cache-invalidator role (``AccessRoles``)."""
    key_arn: pulumi.Input[str]
    """The consumer's CMK: the function's environment and the failure queue."""
    logs_key_arn: pulumi.Input[str]
    """The stack's CMK for CloudWatch log groups."""
    table_stream_arn: pulumi.Input[str]
    """The table's stream, the mapping's source."""
    topic_arn: pulumi.Input[str]
    """The alert topic every alarm notifies."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """The VPC's private subnets the function attaches to."""
    security_group_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """The consumer tier's security group, which the cache's security group admits."""
    cache_address: pulumi.Input[str]
    """The cache's primary endpoint address (invalidations are writes)."""
    cache_secret_arn: pulumi.Input[str]
    """The invalidator cache user's password secret."""
    protection: Protection
    """Resource options of what keeps data: the log group and the failure queue."""
    project_dir: Path = PROJECT_DIR
    """Where the handler's sources are listed from (the archive names them relative to it, as
    the layer zip is)."""


class CacheInvalidator(pulumi.ComponentResource):
    """Log group, dependency layer, function, failure queue and its TLS-only policy, the event
    source mapping on the table's stream, and the alarms."""

    log_group: aws.cloudwatch.LogGroup
    layer: aws.lambda_.LayerVersion
    function: aws.lambda_.Function
    queue: aws.sqs.Queue
    mapping: aws.lambda_.EventSourceMapping
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    function_arn: pulumi.Output[str]
    function_name: pulumi.Output[str]
    queue_arn: pulumi.Output[str]
    queue_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: CacheInvalidatorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medeez:data:CacheInvalidator", name, None, opts)
        definition = args.definition
        tags = dict(definition.tags)
        child = pulumi.ResourceOptions(parent=self)
        data = pulumi.ResourceOptions(
            parent=self,
            protect=args.protection.protect,
            retain_on_delete=args.protection.retain_on_delete,
        )

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-log-group",
            name=definition.log_group_name,
            retention_in_days=definition.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags=tags,
            opts=data,
        )
        self.layer = aws.lambda_.LayerVersion(
            f"{name}-layer",
            layer_name=definition.layer_name,
            description="valkey-py and the data layer's imports: make invalidator-layer",
            code=pulumi.FileArchive(definition.layer_zip),
            compatible_runtimes=[definition.runtime],
            compatible_architectures=[definition.architecture],
            opts=child,
        )
        files = definition.package_files(args.project_dir)
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=definition.function_name,
            description=definition.description,
            role=args.role_arn,
            runtime=definition.runtime,
            architectures=[definition.architecture],
            handler=definition.handler,
            memory_size=definition.memory_mb,
            timeout=definition.timeout_seconds,
            reserved_concurrent_executions=definition.reserved_concurrency,
            code=pulumi.AssetArchive(
                # Relative to the project directory, where the CLI runs the program: the plan
                # stays the same in every checkout.
                {path: pulumi.FileAsset(path) for path in files}
            ),
            layers=[self.layer.arn],
            kms_key_arn=args.key_arn,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables=pulumi.Output.all(args.cache_address, args.cache_secret_arn).apply(
                    lambda v: definition.environment(host=v[0], secret_arn=v[1])
                )
            ),
            vpc_config=aws.lambda_.FunctionVpcConfigArgs(
                subnet_ids=args.subnet_ids, security_group_ids=args.security_group_ids
            ),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="Text", log_group=self.log_group.name
            ),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode=definition.tracing),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group]),
        )
        self.queue = aws.sqs.Queue(
            f"{name}-failures",
            name=definition.queue_name,
            kms_master_key_id=args.key_arn,
            message_retention_seconds=definition.queue_retention_seconds,
            sqs_managed_sse_enabled=False,
            tags=tags,
            opts=data,
        )
        aws.sqs.QueuePolicy(
            f"{name}-failures-policy",
            queue_url=self.queue.url,
            policy=self.queue.arn.apply(lambda arn: definition.queue_policy(queue_arn=arn)),
            opts=child,
        )
        self.mapping = aws.lambda_.EventSourceMapping(
            f"{name}-mapping",
            event_source_arn=args.table_stream_arn,
            function_name=self.function.arn,
            starting_position=definition.starting_position,
            batch_size=definition.batch_size,
            maximum_batching_window_in_seconds=definition.maximum_batching_window_seconds,
            maximum_retry_attempts=definition.maximum_retry_attempts,
            maximum_record_age_in_seconds=definition.maximum_record_age_seconds,
            bisect_batch_on_function_error=definition.bisect_batch_on_function_error,
            parallelization_factor=definition.parallelization_factor,
            function_response_types=list(definition.function_response_types),
            destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
                on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                    destination_arn=self.queue.arn
                )
            ),
            tags=tags,
            opts=child,
        )
        self.alarms = {
            alarm.key: _alarm(f"{name}-{alarm.key}", alarm, args.topic_arn, tags, child)
            for alarm in definition.alarms
        }
        self.function_arn = self.function.arn
        self.function_name = self.function.name
        self.queue_arn = self.queue.arn
        self.queue_url = self.queue.url
        self.register_outputs(
            {
                "functionArn": self.function_arn,
                "functionName": self.function_name,
                "queueArn": self.queue_arn,
                "queueUrl": self.queue_url,
            }
        )


def _alarm(
    logical_name: str,
    alarm: AlarmDefinition,
    topic_arn: pulumi.Input[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.cloudwatch.MetricAlarm:
    topic = [topic_arn]
    return aws.cloudwatch.MetricAlarm(
        logical_name,
        name=alarm.name,
        alarm_description=alarm.description,
        namespace=alarm.namespace,
        metric_name=alarm.metric_name,
        dimensions=dict(alarm.dimensions),
        statistic=alarm.statistic,
        period=alarm.period_seconds,
        evaluation_periods=alarm.evaluation_periods,
        datapoints_to_alarm=alarm.datapoints_to_alarm,
        threshold=alarm.threshold,
        comparison_operator=alarm.comparison_operator,
        treat_missing_data=alarm.treat_missing_data,
        actions_enabled=True,
        alarm_actions=topic if "ALARM" in alarm.notify_on else None,
        ok_actions=topic if "OK" in alarm.notify_on else None,
        insufficient_data_actions=topic if "INSUFFICIENT_DATA" in alarm.notify_on else None,
        tags=tags,
        opts=opts,
    )
