"""Alerting for the data layer: an encrypted SNS topic, CloudWatch alarms and a dashboard."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.alarm_specs import DYNAMODB, AlarmSpec
from components.config import Subscriber

#: Services that publish to the alert topic: CloudWatch alarms, AWS Budgets and AWS Backup.
PUBLISHING_SERVICES = ("budgets.amazonaws.com", "backup.amazonaws.com", "cloudwatch.amazonaws.com")


@dataclass(frozen=True, kw_only=True)
class MonitoringArgs:
    """Inputs of :class:`Monitoring`."""

    topic_name: str
    alerts_key_arn: pulumi.Input[str]
    """Customer-managed key for the topic; its policy must let the publishing services use it
    (an AWS-managed ``alias/aws/sns`` key silently breaks alarm notifications)."""
    alarms: Sequence[AlarmSpec]
    """``components.alarm_specs.alarm_specs(config)``."""
    subscribers: Sequence[Subscriber] = ()
    dashboard_name: str
    table_name: str
    index_names: Sequence[str]
    tags: Mapping[str, str] = field(default_factory=dict)


def topic_policy(*, topic_arn: str, account_id: str, partition: str, region: str) -> str:
    """Who may publish to the alert topic: this account's alarms, budgets and backup vaults,
    only over TLS."""
    source_arns = {
        "cloudwatch.amazonaws.com": f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:*",
        "budgets.amazonaws.com": f"arn:{partition}:budgets::{account_id}:*",
        "backup.amazonaws.com": f"arn:{partition}:backup:{region}:{account_id}:backup-vault:*",
    }
    statements: list[dict[str, Any]] = [
        {
            "Sid": f"Allow{service.split('.')[0].capitalize()}Publish",
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id},
                "ArnLike": {"aws:SourceArn": source_arns[service]},
            },
        }
        for service in PUBLISHING_SERVICES
    ]
    statements.append(
        {
            "Sid": "DenyPublishWithoutTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def dashboard_body(
    *, table_name: str, index_names: Sequence[str], region: str, alarm_arns: Sequence[str]
) -> str:
    """CloudWatch dashboard JSON: alarm status, then throttles, errors, latency and traffic."""

    def metric_widget(title: str, metrics: list[list[Any]], y: int, x: int = 0) -> dict[str, Any]:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": region,
                "stat": "Sum",
                "period": 60,
                "view": "timeSeries",
                "metrics": metrics,
            },
        }

    table = ["TableName", table_name]
    gsi_throttles = [
        [DYNAMODB, f"{kind}ThrottleEvents", *table, "GlobalSecondaryIndexName", index]
        for index in index_names
        for kind in ("Read", "Write")
    ]
    widgets = [
        {
            "type": "alarm",
            "x": 0,
            "y": 0,
            "width": 24,
            "height": 4,
            "properties": {"title": "Alarms", "alarms": sorted(alarm_arns)},
        },
        metric_widget(
            "Table throttles",
            [[DYNAMODB, "ReadThrottleEvents", *table], [DYNAMODB, "WriteThrottleEvents", *table]],
            4,
        ),
        metric_widget("GSI throttles", gsi_throttles, 4, 12),
        metric_widget(
            "Errors",
            [
                [DYNAMODB, "SystemErrors", *table, "Operation", op]
                for op in ("GetItem", "PutItem", "UpdateItem", "Query", "BatchWriteItem")
            ]
            + [[DYNAMODB, "UserErrors"]],
            10,
        ),
        metric_widget(
            "Latency p99 (ms)",
            [
                [DYNAMODB, "SuccessfulRequestLatency", *table, "Operation", op, {"stat": "p99"}]
                for op in ("GetItem", "Query", "PutItem", "UpdateItem")
            ],
            10,
            12,
        ),
        metric_widget(
            "Consumed capacity",
            [
                [DYNAMODB, "ConsumedReadCapacityUnits", *table],
                [DYNAMODB, "ConsumedWriteCapacityUnits", *table],
            ],
            16,
        ),
    ]
    return json.dumps({"widgets": widgets}, sort_keys=True)


class Monitoring(pulumi.ComponentResource):
    """The alert topic (KMS-encrypted, TLS-only publishing), its subscriptions, one CloudWatch
    alarm per spec (alarm and OK actions to the topic) and the environment's dashboard."""

    topic: aws.sns.Topic
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    dashboard: aws.cloudwatch.Dashboard
    topic_arn: pulumi.Output[str]
    dashboard_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medeez:data:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        region = aws.get_region_output(opts=invoke)

        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=args.topic_name,
            display_name="Medeez data-layer alerts",
            kms_master_key_id=args.alerts_key_arn,
            tags=dict(args.tags),
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.all(
                self.topic.arn, identity.account_id, partition.partition, region.region
            ).apply(
                lambda v: topic_policy(topic_arn=v[0], account_id=v[1], partition=v[2], region=v[3])
            ),
            opts=child,
        )
        for index, subscriber in enumerate(args.subscribers):
            aws.sns.TopicSubscription(
                f"{name}-subscription-{index}",
                topic=self.topic.arn,
                protocol=subscriber.protocol,
                # Webhook URLs often carry a token: keep them out of state in plaintext.
                endpoint=(
                    pulumi.Output.secret(subscriber.endpoint)
                    if subscriber.protocol == "https"
                    else subscriber.endpoint
                ),
                opts=child,
            )

        self.alarms = {
            spec.key: self._alarm(f"{name}-{spec.key}", spec, args.tags, child)
            for spec in args.alarms
        }
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=args.dashboard_name,
            dashboard_body=pulumi.Output.all(
                region.region, *(alarm.arn for alarm in self.alarms.values())
            ).apply(
                lambda v: dashboard_body(
                    table_name=args.table_name,
                    index_names=args.index_names,
                    region=v[0],
                    alarm_arns=v[1:],
                )
            ),
            opts=child,
        )
        self.topic_arn = self.topic.arn
        self.dashboard_name = self.dashboard.dashboard_name
        self.register_outputs({"topicArn": self.topic_arn, "dashboardName": self.dashboard_name})

    def _alarm(
        self,
        logical_name: str,
        spec: AlarmSpec,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions,
    ) -> aws.cloudwatch.MetricAlarm:
        topic = [self.topic.arn]
        math = bool(spec.metric_queries)
        return aws.cloudwatch.MetricAlarm(
            logical_name,
            name=spec.name,
            alarm_description=spec.description,
            namespace=None if math else spec.namespace,
            metric_name=None if math else spec.metric_name,
            dimensions=None if math or not spec.dimensions else dict(spec.dimensions),
            statistic=None if math else spec.statistic,
            extended_statistic=None if math else spec.extended_statistic,
            period=None if math else spec.period_seconds,
            metric_queries=[
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id=query.id,
                    expression=query.expression,
                    label=query.label,
                    return_data=query.return_data,
                    metric=(
                        aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                            namespace=spec.namespace,
                            metric_name=query.metric_name,
                            dimensions=dict(query.dimensions),
                            stat=query.stat or "Sum",
                            period=spec.period_seconds,
                        )
                        if query.metric_name
                        else None
                    ),
                )
                for query in spec.metric_queries
            ]
            or None,
            evaluation_periods=spec.evaluation_periods,
            datapoints_to_alarm=spec.datapoints_to_alarm,
            threshold=spec.threshold,
            comparison_operator=spec.comparison_operator,
            treat_missing_data=spec.treat_missing_data,
            actions_enabled=True,
            alarm_actions=topic if "ALARM" in spec.notify_on else None,
            ok_actions=topic if "OK" in spec.notify_on else None,
            insufficient_data_actions=topic if "INSUFFICIENT_DATA" in spec.notify_on else None,
            tags=dict(tags),
            opts=opts,
        )
