"""Alerting for the data layer: an encrypted SNS topic, CloudWatch alarms and a dashboard."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stackspec.definitions.monitoring import AlarmDefinition, MonitoringDefinition


@dataclass(frozen=True, kw_only=True)
class MonitoringArgs:
    """Inputs of :class:`Monitoring`."""

    definition: MonitoringDefinition
    """Topic, subscribers, alarms and dashboard (``stackspec.definitions.monitoring``)."""
    alerts_key_arn: pulumi.Input[str]
    """Customer-managed key for the topic; its policy must let the publishing services use it
    (an AWS-managed ``alias/aws/sns`` key silently breaks alarm notifications)."""


class Monitoring(pulumi.ComponentResource):
    """The alert topic (KMS-encrypted, TLS-only publishing), its subscriptions, one CloudWatch
    alarm per definition (every state change notifies the topic) and the dashboard."""

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

        definition = args.definition
        tags = definition.tags
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=definition.topic_name,
            display_name=definition.topic_display_name,
            kms_master_key_id=args.alerts_key_arn,
            tags=dict(tags),
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.all(
                self.topic.arn, identity.account_id, partition.partition, region.region
            ).apply(
                lambda v: definition.topic_policy(
                    topic_arn=v[0], account_id=v[1], partition=v[2], region=v[3]
                )
            ),
            opts=child,
        )
        for index, subscriber in enumerate(definition.subscribers):
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
            alarm.key: self._alarm(f"{name}-{alarm.key}", alarm, tags, child)
            for alarm in definition.alarms
        }
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=definition.dashboard_name,
            dashboard_body=pulumi.Output.all(
                region.region, *(alarm.arn for alarm in self.alarms.values())
            ).apply(lambda v: definition.dashboard_body(region=v[0], alarm_arns=v[1:])),
            opts=child,
        )
        self.topic_arn = self.topic.arn
        self.dashboard_name = self.dashboard.dashboard_name
        self.register_outputs({"topicArn": self.topic_arn, "dashboardName": self.dashboard_name})

    def _alarm(
        self,
        logical_name: str,
        alarm: AlarmDefinition,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions,
    ) -> aws.cloudwatch.MetricAlarm:
        topic = [self.topic.arn]
        math = bool(alarm.metric_queries)
        return aws.cloudwatch.MetricAlarm(
            logical_name,
            name=alarm.name,
            alarm_description=alarm.description,
            namespace=None if math else alarm.namespace,
            metric_name=None if math else alarm.metric_name,
            dimensions=None if math or not alarm.dimensions else dict(alarm.dimensions),
            statistic=None if math else alarm.statistic,
            extended_statistic=None if math else alarm.extended_statistic,
            period=None if math else alarm.period_seconds,
            metric_queries=[
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id=query.id,
                    expression=query.expression,
                    label=query.label,
                    return_data=query.return_data,
                    metric=(
                        aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                            namespace=alarm.namespace,
                            metric_name=query.metric_name,
                            dimensions=dict(query.dimensions),
                            stat=query.stat or "Sum",
                            period=alarm.period_seconds,
                        )
                        if query.metric_name
                        else None
                    ),
                )
                for query in alarm.metric_queries
            ]
            or None,
            evaluation_periods=alarm.evaluation_periods,
            datapoints_to_alarm=alarm.datapoints_to_alarm,
            threshold=alarm.threshold,
            comparison_operator=alarm.comparison_operator,
            treat_missing_data=alarm.treat_missing_data,
            actions_enabled=True,
            alarm_actions=topic if "ALARM" in alarm.notify_on else None,
            ok_actions=topic if "OK" in alarm.notify_on else None,
            insufficient_data_actions=topic if "INSUFFICIENT_DATA" in alarm.notify_on else None,
            tags=dict(tags),
            opts=opts,
        )
