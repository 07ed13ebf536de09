"""Alerting on the local endpoint: the encrypted alert topic with its policy and subscriptions,
every alarm of the definition (``PutMetricAlarm``) and the dashboard."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from scripts.services.base import (
    CheckContext,
    Outcome,
    SetupContext,
    Skipped,
    policy_document,
    tag_list,
)
from stackspec.definitions.monitoring import AlarmDefinition, MetricQuery, MonitoringDefinition
from stackspec.naming import KeyPurpose
from stackspec.stack_file import OFFLINE_SECRET_PLACEHOLDER

NAME = "monitoring"


def _dimensions(dimensions: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in dimensions]


def _metric_query(query: MetricQuery, spec: AlarmDefinition) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": query.id, "ReturnData": query.return_data}
    if query.expression is not None:
        entry["Expression"] = query.expression
        if query.label:
            entry["Label"] = query.label
    else:
        entry["MetricStat"] = {
            "Metric": {
                "Namespace": spec.namespace,
                "MetricName": query.metric_name,
                "Dimensions": _dimensions(query.dimensions),
            },
            "Period": spec.period_seconds,
            "Stat": query.stat,
        }
    return entry


def alarm_request(spec: AlarmDefinition, topic_arn: str, tags: dict[str, str]) -> dict[str, Any]:
    """``PutMetricAlarm`` arguments for ``spec``, notifying ``topic_arn`` on the states it names."""
    request: dict[str, Any] = {
        "AlarmName": spec.name,
        "AlarmDescription": spec.description,
        "ActionsEnabled": True,
        "AlarmActions": [topic_arn] if "ALARM" in spec.notify_on else [],
        "OKActions": [topic_arn] if "OK" in spec.notify_on else [],
        "InsufficientDataActions": [topic_arn] if "INSUFFICIENT_DATA" in spec.notify_on else [],
        "EvaluationPeriods": spec.evaluation_periods,
        "DatapointsToAlarm": spec.datapoints_to_alarm,
        "Threshold": spec.threshold,
        "ComparisonOperator": spec.comparison_operator,
        "TreatMissingData": spec.treat_missing_data,
        "Tags": tag_list(tags),
    }
    if spec.metric_queries:
        request["Metrics"] = [_metric_query(q, spec) for q in spec.metric_queries]
    else:
        request.update(
            Namespace=spec.namespace,
            MetricName=spec.metric_name,
            Dimensions=_dimensions(spec.dimensions),
            Period=spec.period_seconds,
        )
        if spec.extended_statistic:
            request["ExtendedStatistic"] = spec.extended_statistic
        else:
            request["Statistic"] = spec.statistic
    return request


#: The alarm fields compared with the live alarm (tags are not returned by DescribeAlarms).
ALARM_FIELDS = (
    "Namespace",
    "MetricName",
    "Dimensions",
    "Statistic",
    "ExtendedStatistic",
    "Period",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "Metrics",
    "ActionsEnabled",
    "AlarmActions",
    "OKActions",
    "InsufficientDataActions",
)


def _normalise_alarm_value(name: str, value: Any) -> Any:
    if value in (None, [], ""):
        return None
    if name == "Threshold":
        return float(value)
    if name in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        return sorted(value)
    if name == "Dimensions":
        return sorted((d["Name"], d["Value"]) for d in value)
    if name == "Metrics":
        return [
            {k: v for k, v in entry.items() if v not in (None, "", [])}
            for entry in sorted(value, key=lambda e: str(e["Id"]))
        ]
    return value


def alarm_differences(request: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """``field: expected X, found Y`` for every compared field where ``live`` differs."""
    problems = []
    for name in ALARM_FIELDS:
        want = _normalise_alarm_value(name, request.get(name))
        have = _normalise_alarm_value(name, live.get(name))
        if want != have:
            problems.append(f"{name}: expected {want}, found {have}")
    return problems


def find_topic_arn(sns: Any, name: str) -> str | None:
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page.get("Topics", []):
            if str(topic["TopicArn"]).rsplit(":", 1)[-1] == name:
                return str(topic["TopicArn"])
    return None


def _topic_policy(ctx: SetupContext | CheckContext, topic_arn: str) -> str:
    return ctx.stack.monitoring.topic_policy(
        topic_arn=topic_arn,
        account_id=ctx.identity.account,
        partition=ctx.identity.partition,
        region=ctx.stack.config.region,
    )


def _live_alarms(cloudwatch: Any, definition: MonitoringDefinition) -> dict[str, dict[str, Any]]:
    """The stack's alarms as CloudWatch describes them (only the definition's names)."""
    names = {alarm.name for alarm in definition.alarms}
    return {
        alarm["AlarmName"]: alarm
        for page in cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=definition.alarm_name_prefix, AlarmTypes=["MetricAlarm"]
        )
        for alarm in page.get("MetricAlarms", [])
        if alarm["AlarmName"] in names
    }


# --- setup ---------------------------------------------------------------------------------------


def ensure(ctx: SetupContext) -> None:
    definition = ctx.stack.monitoring
    ctx.topic_arn = _ensure_topic(ctx, definition, ctx.key_arns[KeyPurpose.ALERTS])
    _ensure_alarms(ctx, definition, ctx.topic_arn)
    _ensure_dashboard(ctx, definition)


def _ensure_topic(ctx: SetupContext, definition: MonitoringDefinition, key_arn: str) -> str:
    sns = ctx.clients("sns")
    topic_arn = find_topic_arn(sns, definition.topic_name)
    changes: list[str] = []
    if topic_arn is None:
        topic_arn = str(
            sns.create_topic(
                Name=definition.topic_name,
                Attributes={
                    "KmsMasterKeyId": key_arn,
                    "DisplayName": definition.topic_display_name,
                },
                Tags=tag_list(definition.tags),
            )["TopicArn"]
        )
        outcome: Outcome = "created"
    else:
        outcome = "unchanged"
    attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    policy = _topic_policy(ctx, topic_arn)
    wanted = {
        "KmsMasterKeyId": key_arn,
        "DisplayName": definition.topic_display_name,
    }
    for name, value in wanted.items():
        if attributes.get(name) != value:
            sns.set_topic_attributes(TopicArn=topic_arn, AttributeName=name, AttributeValue=value)
            changes.append(name)
    if policy_document(attributes.get("Policy") or "{}") != json.loads(policy):
        sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="Policy", AttributeValue=policy)
        changes.append("Policy")
    if changes and outcome != "created":
        outcome = "updated"
    alias = ctx.stack.keys[KeyPurpose.ALERTS].alias
    ctx.result.add("sns topic", definition.topic_name, outcome, f"encrypted with {alias}")

    existing = {
        (s["Protocol"], s["Endpoint"])
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
        for s in page.get("Subscriptions", [])
    }
    for subscriber in definition.subscribers:
        name = f"{subscriber.protocol}:{subscriber.endpoint}"
        if subscriber.endpoint == OFFLINE_SECRET_PLACEHOLDER:
            ctx.result.add("sns subscription", name, "skipped", "endpoint is a Pulumi secret")
        elif (subscriber.protocol, subscriber.endpoint) in existing:
            ctx.result.add("sns subscription", name, "unchanged")
        else:
            sns.subscribe(
                TopicArn=topic_arn, Protocol=subscriber.protocol, Endpoint=subscriber.endpoint
            )
            ctx.result.add("sns subscription", name, "created")
    return topic_arn


def _ensure_alarms(ctx: SetupContext, definition: MonitoringDefinition, topic_arn: str) -> None:
    cloudwatch = ctx.clients("cloudwatch")
    live = _live_alarms(cloudwatch, definition)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for alarm in definition.alarms:
        request = alarm_request(alarm, topic_arn, definition.tags)
        current = live.get(alarm.name)
        if current is not None and not alarm_differences(request, current):
            counts["unchanged"] += 1
            continue
        cloudwatch.put_metric_alarm(**request)
        counts["created" if current is None else "updated"] += 1
    for outcome in ("created", "updated", "unchanged"):
        if counts[outcome]:
            ctx.result.add(
                "cloudwatch alarms",
                f"{counts[outcome]} of {len(definition.alarms)}",
                outcome,
                f"actions to {definition.topic_name}",
            )


def _dashboard_body(ctx: SetupContext | CheckContext, alarm_arns: list[str]) -> str:
    return ctx.stack.monitoring.dashboard_body(
        region=ctx.stack.config.region, alarm_arns=alarm_arns
    )


def _alarm_arns(ctx: SetupContext | CheckContext) -> list[str]:
    return [
        f"arn:{ctx.identity.partition}:cloudwatch:{ctx.stack.config.region}:"
        f"{ctx.identity.account}:alarm:{alarm.name}"
        for alarm in ctx.stack.monitoring.alarms
    ]


def _ensure_dashboard(ctx: SetupContext, definition: MonitoringDefinition) -> None:
    cloudwatch = ctx.clients("cloudwatch")
    body = _dashboard_body(ctx, _alarm_arns(ctx))
    try:
        live = cloudwatch.get_dashboard(DashboardName=definition.dashboard_name)["DashboardBody"]
        outcome: Outcome = "unchanged" if json.loads(live) == json.loads(body) else "updated"
    except cloudwatch.exceptions.ResourceNotFound:
        outcome = "created"
    if outcome != "unchanged":
        cloudwatch.put_dashboard(DashboardName=definition.dashboard_name, DashboardBody=body)
    ctx.result.add("cloudwatch dashboard", definition.dashboard_name, outcome)


# --- validate ------------------------------------------------------------------------------------


def check(ctx: CheckContext) -> None:
    definition = ctx.stack.monitoring
    _check_topic(ctx, definition)
    _check_alarms(ctx, definition)
    _check_dashboard(ctx, definition)


def _check_topic(ctx: CheckContext, definition: MonitoringDefinition) -> None:
    sns = ctx.clients("sns")
    name = definition.topic_name

    def topic_row() -> None:
        ctx.topic_arn = find_topic_arn(sns, name)
        ctx.add("sns.topic", name, name if ctx.topic_arn else "not found")

    ctx.guard("sns.topic", topic_row, name)
    alias = ctx.stack.keys[KeyPurpose.ALERTS].alias

    def encryption_row() -> None:
        if ctx.topic_arn is None:
            raise Skipped(f"topic {name} not found")
        key_arn = ctx.key_arns.get(KeyPurpose.ALERTS)
        if key_arn is None:
            raise Skipped(f"key {alias} not found")
        attributes = sns.get_topic_attributes(TopicArn=ctx.topic_arn)["Attributes"]
        key_id = attributes.get("KmsMasterKeyId") or ""
        if not key_id:
            ctx.fail("sns.topic-encryption", f"{alias} ({key_arn})", "not encrypted")
            return
        resolved = str(ctx.clients("kms").describe_key(KeyId=key_id)["KeyMetadata"]["Arn"])
        ctx.add(
            "sns.topic-encryption",
            f"{alias} ({key_arn})",
            key_id if key_id == resolved else f"{key_id} ({resolved})",
            ok=resolved == key_arn,
        )

    ctx.guard("sns.topic-encryption", encryption_row, alias)

    def policy_row() -> None:
        if ctx.topic_arn is None:
            raise Skipped(f"topic {name} not found")
        want = json.loads(_topic_policy(ctx, ctx.topic_arn))
        attributes = sns.get_topic_attributes(TopicArn=ctx.topic_arn)["Attributes"]
        live = policy_document(attributes.get("Policy") or "{}")
        sids = [str(s.get("Sid")) for s in want["Statement"]]
        found = [str(s.get("Sid")) for s in live.get("Statement", [])]
        if live == want:
            ctx.add("sns.topic-policy", sids, sids)
        else:
            ctx.fail("sns.topic-policy", sids, found, "the topic policy differs from the stack's")

    ctx.guard("sns.topic-policy", policy_row)

    def subscriptions_row() -> None:
        if ctx.topic_arn is None:
            raise Skipped(f"topic {name} not found")
        wanted = sorted(
            f"{s.protocol}:{s.endpoint}"
            for s in definition.subscribers
            if s.endpoint != OFFLINE_SECRET_PLACEHOLDER
        )
        live = sorted(
            f"{s['Protocol']}:{s['Endpoint']}"
            for page in sns.get_paginator("list_subscriptions_by_topic").paginate(
                TopicArn=ctx.topic_arn
            )
            for s in page.get("Subscriptions", [])
        )
        missing = [w for w in wanted if w not in live]
        ctx.add("sns.subscriptions", wanted, live, ok=not missing)

    ctx.guard("sns.subscriptions", subscriptions_row)


def _check_alarms(ctx: CheckContext, definition: MonitoringDefinition) -> None:
    try:
        live = _live_alarms(ctx.clients("cloudwatch"), definition)
    except ClientError as exc:
        for alarm in definition.alarms:
            ctx.fail(f"alarm.{alarm.key}", alarm.name, "could not read", str(exc))
        return
    topic_arn = ctx.topic_arn_or_built()
    for alarm in definition.alarms:
        check_id = f"alarm.{alarm.key}"
        current = live.get(alarm.name)
        expected = f"{alarm.name} -> {definition.topic_name}"
        if current is None:
            ctx.fail(check_id, expected, "not found")
            continue
        problems = alarm_differences(alarm_request(alarm, topic_arn, {}), current)
        if problems:
            ctx.fail(check_id, expected, "; ".join(problems))
        else:
            ctx.add(check_id, expected, expected)


def _check_dashboard(ctx: CheckContext, definition: MonitoringDefinition) -> None:
    def dashboard_row() -> None:
        cloudwatch = ctx.clients("cloudwatch")
        try:
            live = cloudwatch.get_dashboard(DashboardName=definition.dashboard_name)
        except cloudwatch.exceptions.ResourceNotFound:
            ctx.fail("cloudwatch.dashboard", definition.dashboard_name, "not found")
            return
        want = json.loads(_dashboard_body(ctx, _alarm_arns(ctx)))
        have = json.loads(live["DashboardBody"])
        titles = [w["properties"]["title"] for w in want["widgets"]]
        if want == have:
            ctx.add("cloudwatch.dashboard", titles, titles)
        else:
            ctx.fail(
                "cloudwatch.dashboard",
                titles,
                [w.get("properties", {}).get("title") for w in have.get("widgets", [])],
                "the dashboard's widgets differ from the stack's",
            )

    ctx.guard("cloudwatch.dashboard", dashboard_row, definition.dashboard_name)
