"""Parity, proven: what Pulumi declares equals what the local setup builds, field by field.

The parity stack (``tests/parity/Pulumi.parity.yaml``) sets every setting that can differ from its
default to something else. It is planned under the Pulumi mock runtime and built on moto by
``setup_local``; then each service's plan inputs are compared with what the emulator holds. Where
moto cannot report a field (rotation period, on-demand throughput, calls it does not implement),
the comparison is with the request setup sent, recorded as botocore saw it: still what the local
adapter did, never the definition compared with itself.

A resource type in the plan that no comparison below covers fails
``test_every_planned_type_is_compared``: a new service brings its parity check with it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import typing
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from scripts.aws_target import Clients
from scripts.services.audit_database import NO_SUBNETS
from scripts.services.base import SetupResult
from scripts.services.monitoring import alarm_differences, alarm_request
from scripts.setup_database import setup_local
from stackspec.config.stack import StackConfig, load_stack_config
from stackspec.definitions.cache import PASSWORD_LENGTH
from stackspec.definitions.monitoring import AlarmDefinition, MetricQuery
from tests.moto_env import isolate_from_real_aws
from tools.mocks import MOCK_ACCOUNT_ID, managed_prefix_list_id
from tools.plan import Plan, plan_stack

PARITY_DIR = Path(__file__).parent / "parity"
S3 = "aws:s3/"
NOTIFICATIONS = "aws:backup/vaultNotifications:VaultNotifications"
RESTORE_TESTING_PLAN = "aws:backup/restoreTestingPlan:RestoreTestingPlan"
RESTORE_TESTING_SELECTION = "aws:backup/restoreTestingSelection:RestoreTestingSelection"
FRAMEWORK = "aws:backup/framework:Framework"
REPORT_PLAN = "aws:backup/reportPlan:ReportPlan"
#: ``parity`` turns every switch on with non-default values; ``parityoff`` turns them off.
PARITY_STACKS = ("parity", "parityoff")
MOTO_ACCOUNT_ID = "123456789012"


# --- the parity stack really differs from every default ------------------------------------------


def _leaves(model: type[BaseModel], value: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(key path, annotation, value) of every leaf setting of ``value``."""
    for name, info in model.model_fields.items():
        key = f"{path}.{info.alias or name}" if path else (info.alias or name)
        child = getattr(value, name)
        sub = _model_in(info.annotation)
        if sub is not None and child is not None and isinstance(child, BaseModel):
            yield from _leaves(sub, child, key)
        else:
            yield key, info, child


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _default_of(path: str) -> Any:
    """The value a key path has when the stack file leaves it out (nested defaults included:
    ``alarms.latency.threshold`` defaults to the ``latency`` default's threshold)."""
    model: Any = StackConfig
    value: Any = PydanticUndefined
    for part in path.split("."):
        fields = {(f.alias or n): (n, f) for n, f in model.model_fields.items()}
        name, info = fields[part]
        if isinstance(value, BaseModel):
            value = getattr(value, name)
        else:
            value = info.get_default(call_default_factory=True)
        model = _model_in(info.annotation)
        if model is None:
            break
    return value


#: Settings that cannot differ: one allowed value, or required with no default to differ from.
FIXED = {
    "billing.mode",
    "tags.Project",
    "tags.ManagedBy",
    "network.flowLogs.trafficType",
    # The stream consumer's runtime is pinned to the layer's, and a shard is read one batch at a
    # time so the audit chains follow the stream's order.
    "streamConsumer.runtime",
    "streamConsumer.parallelizationFactor",
    # The cache invalidator's runtime is pinned to its layer's.
    "cacheInvalidator.runtime",
}


def test_the_parity_stacks_differ_from_every_default() -> None:
    kept: set[str] | None = None
    for stack in PARITY_STACKS:
        cfg = load_stack_config(stack, PARITY_DIR)
        same = {
            path
            for path, info, value in _leaves(StackConfig, cfg)
            if path.removeprefix("table.") not in FIXED
            and path not in FIXED
            and not info.is_required()
            and value == _default_of(path)
        }
        kept = same if kept is None else kept & same
        # The budget's filter value is the tag's value, never the environment's name.
        assert cfg.budget.cost_allocation_tag != "Environment"
    assert kept == set(), f"no parity stack changes these defaults: {sorted(kept or ())}"


# --- the two sides -------------------------------------------------------------------------------


@dataclass
class Built:
    cfg: StackConfig
    clients: Clients
    result: SetupResult
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def sent(self, operation: str) -> list[dict[str, Any]]:
        """The parameters of every ``operation`` setup sent, in order."""
        return [params for name, params in self.calls if name == operation]


@pytest.fixture(scope="module", params=PARITY_STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def plan(stack: str) -> Plan:
    return plan_stack(stack, PARITY_DIR)


@pytest.fixture(scope="module")
def built(stack: str) -> Iterator[Built]:
    cfg = load_stack_config(stack, PARITY_DIR)
    with pytest.MonkeyPatch.context() as env:
        isolate_from_real_aws(env, managed_policies=True)
        with mock_aws():
            session = boto3.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing", region_name=cfg.region
            )
            calls: list[tuple[str, dict[str, Any]]] = []

            def record(params: dict[str, Any], model: Any, **_: Any) -> None:
                calls.append((str(model.name), json.loads(json.dumps(params, default=str))))

            session.events.register("provide-client-params.*.*", record)
            clients = Clients(session, emulator=True)
            result = setup_local(cfg, clients)
            recorded = list(calls)
            calls.clear()
            yield Built(cfg, clients, result, recorded)


# --- normalising: accounts and key identities differ between the mock and moto ------------------


class Identities:
    """Replaces each side's account id and key ARNs/ids with what they stand for."""

    def __init__(self, keys: dict[str, str]) -> None:
        self.keys = keys

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            if value in self.keys:
                return f"<key {self.keys[value]}>"
            for key, alias in self.keys.items():
                value = value.replace(key, f"<key {alias}>")
            return value.replace(MOCK_ACCOUNT_ID, "<account>").replace(MOTO_ACCOUNT_ID, "<account>")
        return value


@pytest.fixture(scope="module")
def planned(plan: Plan) -> Identities:
    keys = {}
    for alias in plan.of_type("aws:kms/alias:Alias"):
        key = next(
            k
            for k in plan.of_type("aws:kms/key:Key")
            if k.state["keyId"] == alias.inputs["targetKeyId"]
        )
        keys[key.state["arn"]] = keys[key.state["keyId"]] = alias.inputs["name"]
    return Identities(keys)


@pytest.fixture(scope="module")
def live(built: Built) -> Identities:
    keys = {}
    for region in (built.cfg.region, built.cfg.dr_region):
        kms = built.clients("kms", region)
        for entry in kms.list_aliases()["Aliases"]:
            if entry["AliasName"].startswith("alias/medeez-") and "TargetKeyId" in entry:
                arn = kms.describe_key(KeyId=entry["TargetKeyId"])["KeyMetadata"]["Arn"]
                keys[arn] = keys[entry["TargetKeyId"]] = entry["AliasName"]
    return Identities(keys)


def _doc(text: str | dict[str, Any]) -> Any:
    return json.loads(text) if isinstance(text, str) else text


def _tags(pairs: list[dict[str, str]], key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {p[key]: p[value] for p in pairs}


def _resources_as_set(policy: dict[str, Any]) -> dict[str, Any]:
    return {
        **policy,
        "Statement": [{**st, "Resource": sorted(st["Resource"])} for st in policy["Statement"]],
    }


def _without_database_login(document: dict[str, Any]) -> dict[str, Any]:
    return {
        **document,
        "Statement": [
            s for s in document["Statement"] if not s["Sid"].endswith("ConnectAsAuditIngest")
        ],
    }


def _secret(value: Any) -> Any:
    """A plan input marked secret holds its value under ``value``."""
    return value["value"] if isinstance(value, dict) and "value" in value else value


# --- keys ----------------------------------------------------------------------------------------


def test_keys(plan: Plan, built: Built, planned: Identities, live: Identities) -> None:
    cfg = built.cfg
    aliases = {a.inputs["targetKeyId"]: a for a in plan.of_type("aws:kms/alias:Alias")}
    rotations = {p["KeyId"]: p for p in built.sent("EnableKeyRotation")}
    assert len(plan.of_type("aws:kms/key:Key")) == (9 + cfg.backup.cross_region_copy.enabled)
    for key in plan.of_type("aws:kms/key:Key"):
        alias = aliases[key.state["keyId"]]
        region = key.inputs.get("region", cfg.region)
        assert alias.inputs.get("region", cfg.region) == region
        kms = built.clients("kms", region)
        meta = kms.describe_key(KeyId=alias.inputs["name"])["KeyMetadata"]
        where = alias.inputs["name"]
        assert meta["Description"] == key.inputs["description"], where
        assert (meta["KeyUsage"], meta["KeySpec"]) == (
            key.inputs["keyUsage"],
            key.inputs["customerMasterKeySpec"],
        ), where
        local_policy = kms.get_key_policy(KeyId=meta["Arn"], PolicyName="default")["Policy"]
        assert live(_doc(local_policy)) == planned(_doc(key.inputs["policy"])), where
        rotating = kms.get_key_rotation_status(KeyId=meta["Arn"])["KeyRotationEnabled"]
        assert rotating is key.inputs["enableKeyRotation"], where
        if rotating:
            # moto does not report RotationPeriodInDays: compare with what setup asked for.
            sent = rotations[meta["Arn"]]["RotationPeriodInDays"]
            assert sent == key.inputs["rotationPeriodInDays"]
        else:
            assert meta["Arn"] not in rotations
            assert "rotationPeriodInDays" not in key.inputs
        tags = _tags(kms.list_resource_tags(KeyId=meta["Arn"])["Tags"], "TagKey", "TagValue")
        assert tags == key.inputs["tags"], where
    # The deletion window applies only when a key is scheduled for deletion, which local setup
    # never does; it is a Pulumi-only input by nature.


# --- table ---------------------------------------------------------------------------------------


def test_table(plan: Plan, built: Built, planned: Identities, live: Identities) -> None:
    (table,) = plan.of_type("aws:dynamodb/table:Table")
    want = table.inputs
    ddb = built.clients("dynamodb")
    have = ddb.describe_table(TableName=want["name"])["Table"]
    assert [(k["AttributeName"], k["KeyType"]) for k in have["KeySchema"]] == [
        (want["hashKey"], "HASH"),
        (want["rangeKey"], "RANGE"),
    ]
    assert sorted(
        (a["AttributeName"], a["AttributeType"]) for a in have["AttributeDefinitions"]
    ) == (sorted((a["name"], a["type"]) for a in want["attributes"]))
    assert {
        i["IndexName"]: (
            [(k["AttributeName"], k["KeyType"]) for k in i["KeySchema"]],
            i["Projection"]["ProjectionType"],
            sorted(i["Projection"].get("NonKeyAttributes", [])),
        )
        for i in have["GlobalSecondaryIndexes"]
    } == {
        i["name"]: (
            [(k["attributeName"], k["keyType"]) for k in i["keySchemas"]],
            i["projectionType"],
            sorted(i.get("nonKeyAttributes", [])),
        )
        for i in want["globalSecondaryIndexes"]
    }
    assert have["BillingModeSummary"]["BillingMode"] == want["billingMode"]
    # moto does not report OnDemandThroughput: compare with the CreateTable setup sent.
    (create,) = built.sent("CreateTable")
    assert planned(want.get("onDemandThroughput")) == (
        {
            "maxReadRequestUnits": create["OnDemandThroughput"]["MaxReadRequestUnits"],
            "maxWriteRequestUnits": create["OnDemandThroughput"]["MaxWriteRequestUnits"],
        }
        if "OnDemandThroughput" in create
        else None
    )
    assert have["SSEDescription"]["SSEType"] == "KMS"
    assert live(have["SSEDescription"]["KMSMasterKeyArn"]) == planned(
        want["serverSideEncryption"]["kmsKeyArn"]
    )
    assert want["serverSideEncryption"]["enabled"] is True
    assert have["StreamSpecification"] == {
        "StreamEnabled": want["streamEnabled"],
        "StreamViewType": want["streamViewType"],
    }
    assert have["DeletionProtectionEnabled"] is want["deletionProtectionEnabled"]
    pitr = ddb.describe_continuous_backups(TableName=want["name"])["ContinuousBackupsDescription"]
    pitr = pitr["PointInTimeRecoveryDescription"]
    local_pitr = {"enabled": pitr["PointInTimeRecoveryStatus"] == "ENABLED"}
    if local_pitr["enabled"]:
        local_pitr["recoveryPeriodInDays"] = pitr["RecoveryPeriodInDays"]
    assert local_pitr == planned(want["pointInTimeRecovery"])
    ttl = ddb.describe_time_to_live(TableName=want["name"])["TimeToLiveDescription"]
    assert {
        "enabled": ttl["TimeToLiveStatus"] == "ENABLED",
        "attributeName": ttl["AttributeName"],
    } == want["ttl"]
    tags = _tags(ddb.list_tags_of_resource(ResourceArn=have["TableArn"])["Tags"])
    assert tags == want["tags"]
    # moto implements no contributor insights: compare with what setup asked for.
    planned_insights = {
        (r.inputs["tableName"], r.inputs.get("indexName"))
        for r in plan.of_type("aws:dynamodb/contributorInsights:ContributorInsights")
    }
    asked = {
        (p["TableName"], p.get("IndexName"))
        for p in built.sent("UpdateContributorInsights")
        if p["ContributorInsightsAction"] == "ENABLE"
    }
    assert asked == planned_insights
    assert len(planned_insights) == (6 if built.cfg.table.contributor_insights else 0)


# --- alerting ------------------------------------------------------------------------------------


def _as_definition(inputs: dict[str, Any]) -> AlarmDefinition:
    """A planned MetricAlarm read back into the shape setup sends, so both go through the same
    request builder and comparison as validate uses."""
    queries = tuple(
        MetricQuery(
            id=q["id"],
            metric_name=q.get("metric", {}).get("metricName"),
            dimensions=tuple(q.get("metric", {}).get("dimensions", {}).items()),
            stat=q.get("metric", {}).get("stat"),
            expression=q.get("expression"),
            label=q.get("label"),
            return_data=q["returnData"],
        )
        for q in inputs.get("metricQueries", [])
    )
    namespace = inputs.get("namespace") or next(
        (q["metric"]["namespace"] for q in inputs.get("metricQueries", []) if "metric" in q), ""
    )
    period = inputs.get("period") or next(
        q["metric"]["period"] for q in inputs.get("metricQueries", []) if "metric" in q
    )
    states = [
        state
        for state, key in (
            ("ALARM", "alarmActions"),
            ("OK", "okActions"),
            ("INSUFFICIENT_DATA", "insufficientDataActions"),
        )
        if inputs.get(key)
    ]
    return AlarmDefinition(
        key=inputs["name"],
        name=inputs["name"],
        description=inputs["alarmDescription"],
        namespace=namespace,
        metric_name=inputs.get("metricName"),
        dimensions=tuple(inputs.get("dimensions", {}).items()),
        statistic=inputs.get("statistic"),
        extended_statistic=inputs.get("extendedStatistic"),
        period_seconds=int(period),
        evaluation_periods=int(inputs["evaluationPeriods"]),
        datapoints_to_alarm=int(inputs["datapointsToAlarm"]),
        threshold=float(inputs["threshold"]),
        comparison_operator=inputs["comparisonOperator"],
        treat_missing_data=inputs["treatMissingData"],
        metric_queries=queries,
        notify_on=tuple(states),
    )


def test_alerting(plan: Plan, built: Built, planned: Identities, live: Identities) -> None:
    sns = built.clients("sns")
    (topic,) = plan.of_type("aws:sns/topic:Topic")
    (topic_arn,) = [
        t["TopicArn"]
        for t in sns.list_topics()["Topics"]
        if t["TopicArn"].endswith(":" + topic.inputs["name"])
    ]
    attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    assert attributes["DisplayName"] == topic.inputs["displayName"]
    assert live(attributes["KmsMasterKeyId"]) == planned(topic.inputs["kmsMasterKeyId"])
    assert _tags(sns.list_tags_for_resource(ResourceArn=topic_arn)["Tags"]) == topic.inputs["tags"]
    (policy,) = plan.of_type("aws:sns/topicPolicy:TopicPolicy")
    assert live(_doc(attributes["Policy"])) == planned(_doc(policy.inputs["policy"]))

    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert sorted((s["Protocol"], s["Endpoint"]) for s in subscriptions) == sorted(
        (s.inputs["protocol"], _secret(s.inputs["endpoint"]))
        for s in plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    )

    cloudwatch = built.clients("cloudwatch")
    described = {
        a["AlarmName"]: a
        for page in cloudwatch.get_paginator("describe_alarms").paginate()
        for a in page["MetricAlarms"]
    }
    alarms = plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert set(described) == {a.inputs["name"] for a in alarms}
    for alarm in alarms:
        inputs = alarm.inputs
        mine = described[inputs["name"]]
        request = alarm_request(_as_definition(planned(inputs)), "<topic>", {})
        for field_name in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            mine[field_name] = ["<topic>" for _ in mine.get(field_name, [])]
        assert alarm_differences(request, mine) == [], inputs["name"]
        assert mine["AlarmDescription"] == inputs["alarmDescription"]
        assert planned(inputs["alarmActions"]) == [planned(topic.state["arn"])]
        tags = cloudwatch.list_tags_for_resource(ResourceARN=mine["AlarmArn"])["Tags"]
        assert _tags(tags) == inputs["tags"], inputs["name"]

    (dashboard,) = plan.of_type("aws:cloudwatch/dashboard:Dashboard")
    body = cloudwatch.get_dashboard(DashboardName=dashboard.inputs["dashboardName"])
    assert live(_doc(body["DashboardBody"])) == planned(_doc(dashboard.inputs["dashboardBody"]))
    # The latency widget shows what the latency alarms watch (no longer a fixed list).
    latency = _doc(body["DashboardBody"])["widgets"][4]["properties"]
    settings = built.cfg.alarms.latency
    assert latency["title"] == f"Latency {settings.statistic} (ms)"
    assert [m[5] for m in latency["metrics"]] == list(settings.operations)


# --- backup --------------------------------------------------------------------------------------


def test_backup(plan: Plan, built: Built, planned: Identities, live: Identities) -> None:
    cfg = built.cfg
    vaults = plan.of_type("aws:backup/vault:Vault")
    assert len(vaults) == (2 if cfg.backup.cross_region_copy.enabled else 1)
    locks = {
        lock.inputs["backupVaultName"]: lock.inputs
        for lock in plan.of_type("aws:backup/vaultLockConfiguration:VaultLockConfiguration")
    }
    sent_locks = {p["BackupVaultName"]: p for p in built.sent("PutBackupVaultLockConfiguration")}
    for vault in vaults:
        region = vault.inputs.get("region", cfg.region)
        backup = built.clients("backup", region)
        have = backup.describe_backup_vault(BackupVaultName=vault.inputs["name"])
        assert live(have["EncryptionKeyArn"]) == planned(vault.inputs["kmsKeyArn"])
        tags = backup.list_tags(ResourceArn=have["BackupVaultArn"])["Tags"]
        assert tags == vault.inputs["tags"]
        lock = locks.get(vault.inputs["name"])
        if lock is None:
            assert not have.get("Locked")
            assert vault.inputs["name"] not in sent_locks
            continue
        assert lock.get("region", cfg.region) == region
        assert (have["Locked"], have["MinRetentionDays"], have["MaxRetentionDays"]) == (
            True,
            lock["minRetentionDays"],
            lock["maxRetentionDays"],
        )
        # moto does not report the compliance-mode grace period: compare with what was sent.
        sent = sent_locks[vault.inputs["name"]]
        assert sent.get("ChangeableForDays") == lock.get("changeableForDays")

    # moto implements no UpdateRegionSettings: compare with what setup asked for, per region.
    settings = plan.of_type("aws:backup/regionSettings:RegionSettings")
    asked = [
        (p["ResourceTypeOptInPreference"], p["ResourceTypeManagementPreference"])
        for p in built.sent("UpdateRegionSettings")
    ]
    assert asked == [
        (s.inputs["resourceTypeOptInPreference"], s.inputs["resourceTypeManagementPreference"])
        for s in sorted(settings, key=lambda s: "region" in s.inputs)
    ]
    regions_asked = [
        action.name
        for action in built.result.actions
        if action.resource == "backup region settings"
    ]
    assert regions_asked == [
        s.inputs.get("region", cfg.region)
        for s in sorted(settings, key=lambda s: "region" in s.inputs)
    ]

    (backup_plan,) = plan.of_type("aws:backup/plan:Plan")
    backup = built.clients("backup")
    (listed,) = backup.list_backup_plans()["BackupPlansList"]
    assert listed["BackupPlanName"] == backup_plan.inputs["name"]
    (rule,) = backup.get_backup_plan(BackupPlanId=listed["BackupPlanId"])["BackupPlan"]["Rules"]
    (want,) = backup_plan.inputs["rules"]
    lifecycle = {"deleteAfter": rule["Lifecycle"]["DeleteAfterDays"]}
    if "MoveToColdStorageAfterDays" in rule["Lifecycle"]:
        lifecycle["coldStorageAfter"] = rule["Lifecycle"]["MoveToColdStorageAfterDays"]
    local_rule: dict[str, Any] = {
        "ruleName": rule["RuleName"],
        "targetVaultName": rule["TargetBackupVaultName"],
        "schedule": rule["ScheduleExpression"],
        "startWindow": rule["StartWindowMinutes"],
        "completionWindow": rule["CompletionWindowMinutes"],
        "lifecycle": lifecycle,
        "recoveryPointTags": rule["RecoveryPointTags"],
    }
    if rule.get("CopyActions"):
        local_rule["copyActions"] = [
            {
                "destinationVaultArn": c["DestinationBackupVaultArn"],
                "lifecycle": {"deleteAfter": c["Lifecycle"]["DeleteAfterDays"]},
            }
            for c in rule["CopyActions"]
        ]
    assert live(local_rule) == planned(want)
    plan_tags = backup.list_tags(ResourceArn=listed["BackupPlanArn"])["Tags"]
    assert plan_tags == backup_plan.inputs["tags"]

    # moto implements no backup selections: compare with what setup asked for.
    (selection,) = plan.of_type("aws:backup/selection:Selection")
    (sent_selection,) = built.sent("CreateBackupSelection")
    assert live(
        {
            "name": sent_selection["BackupSelection"]["SelectionName"],
            "iamRoleArn": sent_selection["BackupSelection"]["IamRoleArn"],
            "resources": sent_selection["BackupSelection"]["Resources"],
        }
    ) == planned({k: v for k, v in selection.inputs.items() if k != "planId"})

    iam = built.clients("iam")
    backup_children = plan.descendants(plan.named("backup"))
    (role,) = [r for r in backup_children if r.type == "aws:iam/role:Role"]
    have_role = iam.get_role(RoleName=role.inputs["name"])["Role"]
    assert have_role["Description"] == role.inputs["description"]
    assert live(have_role["AssumeRolePolicyDocument"]) == planned(
        _doc(role.inputs["assumeRolePolicy"])
    )
    assert _tags(have_role["Tags"]) == role.inputs["tags"]
    (keys_policy,) = [r for r in backup_children if r.type == "aws:iam/policy:Policy"]
    attached = iam.list_attached_role_policies(RoleName=role.inputs["name"])["AttachedPolicies"]
    planned_attachments = [
        planned(a.inputs["policyArn"])
        for a in backup_children
        if a.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
        and isinstance(a.inputs["policyArn"], str)
    ]
    assert sorted(live(a["PolicyArn"]) for a in attached) == sorted(planned_attachments)
    assert f"arn:aws:iam::<account>:policy/{keys_policy.inputs['name']}" in planned_attachments
    policy_arn = next(
        a["PolicyArn"] for a in attached if a["PolicyName"] == keys_policy.inputs["name"]
    )
    have_policy = iam.get_policy(PolicyArn=policy_arn)["Policy"]
    assert have_policy["Description"] == keys_policy.inputs["description"]
    version = iam.get_policy_version(
        PolicyArn=policy_arn, VersionId=have_policy["DefaultVersionId"]
    )
    document = _doc(version["PolicyVersion"]["Document"])
    # IAM treats Resource as a set; each side sorts it by its own (different) key ARNs.
    assert _resources_as_set(live(document)) == _resources_as_set(
        planned(_doc(keys_policy.inputs["policy"]))
    )
    assert _tags(have_policy["Tags"]) == keys_policy.inputs["tags"]


# --- recovery: restore testing, notifications, framework, report plans; the audit bucket ---------


def test_recovery(plan: Plan, built: Built, planned: Identities, live: Identities) -> None:
    cfg = built.cfg
    # moto 5.2.5 implements no restore testing, vault notification or framework call: compare the
    # plan with the requests setup sent (recorded as botocore saw them).
    notifications = [r.inputs for r in plan.of_type(NOTIFICATIONS)]
    assert [
        {
            "backupVaultName": p["BackupVaultName"],
            "snsTopicArn": live(p["SNSTopicArn"]),
            "backupVaultEvents": p["BackupVaultEvents"],
        }
        for p in built.sent("PutBackupVaultNotifications")
    ] == [planned(n) for n in notifications]
    testing_plans = plan.of_type(RESTORE_TESTING_PLAN)
    sent_plans = built.sent("CreateRestoreTestingPlan")
    assert (
        len(sent_plans) == len(testing_plans) == (1 if cfg.recovery.restore_testing.enabled else 0)
    )
    for want, sent in zip(testing_plans, sent_plans, strict=True):
        body = sent["RestoreTestingPlan"]
        selection = body["RecoveryPointSelection"]
        assert live(
            {
                "name": body["RestoreTestingPlanName"],
                "scheduleExpression": body["ScheduleExpression"],
                "startWindowHours": body["StartWindowHours"],
                "recoveryPointSelection": {
                    "algorithm": selection["Algorithm"],
                    "includeVaults": selection["IncludeVaults"],
                    "recoveryPointTypes": selection["RecoveryPointTypes"],
                    "selectionWindowDays": selection["SelectionWindowDays"],
                },
                "tags": sent["Tags"],
            }
        ) == planned(want.inputs)
    testing_selections = plan.of_type(RESTORE_TESTING_SELECTION)
    sent_selections = built.sent("CreateRestoreTestingSelection")
    assert len(sent_selections) == len(testing_selections)
    for want, sent in zip(testing_selections, sent_selections, strict=True):
        body = sent["RestoreTestingSelection"]
        assert live(
            {
                "name": body["RestoreTestingSelectionName"],
                "restoreTestingPlanName": sent["RestoreTestingPlanName"],
                "protectedResourceType": body["ProtectedResourceType"],
                "protectedResourceArns": body["ProtectedResourceArns"],
                "iamRoleArn": body["IamRoleArn"],
                "validationWindowHours": body["ValidationWindowHours"],
            }
        ) == planned(want.inputs)
    frameworks = plan.of_type(FRAMEWORK)
    sent_frameworks = built.sent("CreateFramework")
    assert len(sent_frameworks) == len(frameworks) == (1 if cfg.recovery.audit.enabled else 0)
    for want, sent in zip(frameworks, sent_frameworks, strict=True):
        controls = []
        for control in sent["FrameworkControls"]:
            entry: dict[str, Any] = {"name": control["ControlName"]}
            if "ControlInputParameters" in control:
                entry["inputParameters"] = [
                    {"name": p["ParameterName"], "value": p["ParameterValue"]}
                    for p in control["ControlInputParameters"]
                ]
            if "ControlScope" in control:
                entry["scope"] = {
                    "complianceResourceTypes": control["ControlScope"]["ComplianceResourceTypes"]
                }
            controls.append(entry)
        assert {
            "name": sent["FrameworkName"],
            "description": sent["FrameworkDescription"],
            "controls": controls,
            "tags": sent["FrameworkTags"],
        } == want.inputs
    # Report plans are emulated: compare with what moto holds.
    backup = built.clients("backup")
    held = {p["ReportPlanName"]: p for p in backup.list_report_plans()["ReportPlans"]}
    reports = plan.of_type(REPORT_PLAN)
    assert set(held) == {r.inputs["name"] for r in reports}
    for report in reports:
        have = backup.describe_report_plan(ReportPlanName=report.inputs["name"])["ReportPlan"]
        channel = have["ReportDeliveryChannel"]
        setting = {"reportTemplate": have["ReportSetting"]["ReportTemplate"]}
        want_setting = report.inputs["reportSetting"]
        if "frameworkArns" in want_setting:
            # moto has no framework to point at: the plan names the planned framework's ARN.
            assert want_setting["frameworkArns"] == [frameworks[0].state["arn"]]
            setting.update(frameworkArns=want_setting["frameworkArns"], numberOfFrameworks=1)
        assert live(
            {
                "name": have["ReportPlanName"],
                "description": have["ReportPlanDescription"],
                "reportDeliveryChannel": {
                    "s3BucketName": channel["S3BucketName"],
                    "s3KeyPrefix": channel["S3KeyPrefix"],
                    "formats": channel["Formats"],
                },
                "reportSetting": setting,
                "tags": dict(report.inputs["tags"]),
            }
        ) == planned(report.inputs)


def _bucket_side(plan: Plan, bucket: Any, type_name: str) -> dict[str, Any] | None:
    found = [
        r for r in plan.of_type(S3 + type_name) if r.inputs.get("bucket") == bucket.inputs["bucket"]
    ]
    return dict(found[0].inputs) if found else None


def _lifecycle(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GetBucketLifecycleConfiguration's rules in the plan's camelCase shape."""
    result = []
    for rule in rules:
        entry: dict[str, Any] = {
            "id": rule["ID"],
            "status": rule["Status"],
            "filter": {"prefix": rule["Filter"]["Prefix"]},
            "expiration": {"days": rule["Expiration"]["Days"]},
            "noncurrentVersionExpiration": {
                "noncurrentDays": rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
            },
            "abortIncompleteMultipartUpload": {
                "daysAfterInitiation": rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
            },
        }
        if rule.get("Transitions"):
            entry["transitions"] = [
                {"days": t["Days"], "storageClass": t["StorageClass"]} for t in rule["Transitions"]
            ]
        result.append(entry)
    return result


def test_audit_buckets(plan: Plan, built: Built, planned: Identities, live: Identities) -> None:
    buckets = plan.of_type("aws:s3/bucket:Bucket")
    s3 = built.clients("s3")
    names = sorted(b.inputs["bucket"].replace(MOCK_ACCOUNT_ID, MOTO_ACCOUNT_ID) for b in buckets)
    assert sorted(b["Name"] for b in s3.list_buckets()["Buckets"]) == names
    assert len(names) == 2  # the audit bucket and its access-log bucket, in every stack
    for bucket in buckets:
        name = bucket.inputs["bucket"].replace(MOCK_ACCOUNT_ID, MOTO_ACCOUNT_ID)
        assert s3.get_bucket_tagging(Bucket=name)["TagSet"] == [
            {"Key": k, "Value": v} for k, v in sorted(bucket.inputs["tags"].items())
        ]

        def side(type_name: str, bucket: Any = bucket) -> dict[str, Any]:
            found = _bucket_side(plan, bucket, type_name)
            assert found is not None, (bucket.name, type_name)
            return found

        lock = _bucket_side(
            plan, bucket, "bucketObjectLockConfiguration:BucketObjectLockConfiguration"
        )
        if lock is not None:
            live_lock = s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]
            retention = {
                k.lower(): v for k, v in live_lock["Rule"]["DefaultRetention"].items() if v
            }
            assert {
                "objectLockEnabled": live_lock["ObjectLockEnabled"],
                "rule": {"defaultRetention": retention},
            } == {k: v for k, v in lock.items() if k != "bucket"}
            assert bucket.inputs["objectLockEnabled"] is True
        else:
            assert "objectLockEnabled" not in bucket.inputs
            with pytest.raises(s3.exceptions.ClientError):
                s3.get_object_lock_configuration(Bucket=name)
        pab = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        want_pab = side("bucketPublicAccessBlock:BucketPublicAccessBlock")
        assert {k[0].lower() + k[1:]: v for k, v in pab.items()} == {
            k: v for k, v in want_pab.items() if k != "bucket"
        }
        ownership = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
        assert ownership == [
            {
                "ObjectOwnership": side("bucketOwnershipControls:BucketOwnershipControls")["rule"][
                    "objectOwnership"
                ]
            }
        ]
        assert (
            s3.get_bucket_versioning(Bucket=name)["Status"]
            == side("bucketVersioning:BucketVersioning")["versioningConfiguration"]["status"]
        )
        (rule,) = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"][
            "Rules"
        ]
        (want_rule,) = side(
            "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )["rules"]
        default = rule["ApplyServerSideEncryptionByDefault"]
        got: dict[str, Any] = {
            "applyServerSideEncryptionByDefault": {
                "sseAlgorithm": default["SSEAlgorithm"],
                **(
                    {"kmsMasterKeyId": default["KMSMasterKeyID"]}
                    if "KMSMasterKeyID" in default
                    else {}
                ),
            },
        }
        if rule.get("BucketKeyEnabled"):
            got["bucketKeyEnabled"] = True
        assert live(got) == planned(want_rule)
        policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
        assert live(policy) == planned(_doc(side("bucketPolicy:BucketPolicy")["policy"]))
        lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
        assert _lifecycle(lifecycle) == planned(
            side("bucketLifecycleConfiguration:BucketLifecycleConfiguration")["rules"]
        )
        logging = _bucket_side(plan, bucket, "bucketLogging:BucketLogging")
        enabled = s3.get_bucket_logging(Bucket=name).get("LoggingEnabled")
        if logging is None:
            assert enabled is None  # the access-log bucket logs nowhere
        else:
            assert live(
                {
                    "bucket": name,
                    "targetBucket": enabled["TargetBucket"],
                    "targetPrefix": enabled["TargetPrefix"],
                }
            ) == planned(logging)


# --- the trail -----------------------------------------------------------------------------------


def test_trail(plan: Plan, built: Built, planned: Identities, live: Identities) -> None:
    cloudtrail = built.clients("cloudtrail")
    trails = plan.of_type("aws:cloudtrail/trail:Trail")
    found = cloudtrail.describe_trails()["trailList"]
    if built.cfg.trail.organization_trail:
        assert trails == []
        assert found == []
        return
    (trail,) = trails
    (described,) = found
    status = cloudtrail.get_trail_status(Name=described["TrailARN"])
    assert live(
        {
            "name": described["Name"],
            "s3BucketName": described["S3BucketName"],
            "s3KeyPrefix": described["S3KeyPrefix"],
            "kmsKeyId": described["KmsKeyId"],
            "isMultiRegionTrail": described["IsMultiRegionTrail"],
            "includeGlobalServiceEvents": described["IncludeGlobalServiceEvents"],
            "enableLogFileValidation": described["LogFileValidationEnabled"],
            "enableLogging": status["IsLogging"],
        }
    ) == planned(
        {k: v for k, v in trail.inputs.items() if k not in ("advancedEventSelectors", "tags")}
    )
    selectors = cloudtrail.get_event_selectors(TrailName=described["Name"])
    table_stream = built.clients("dynamodb").describe_table(TableName=built.cfg.names.table)[
        "Table"
    ]["LatestStreamArn"]
    planned_stream = plan.outputs["tableStreamArn"]
    assert live(
        [
            {
                "name": s["Name"],
                "fieldSelectors": [
                    {
                        "field": f["Field"],
                        "equals": [planned_stream if v == table_stream else v for v in f["Equals"]],
                    }
                    for f in s["FieldSelectors"]
                ],
            }
            for s in selectors["AdvancedEventSelectors"]
        ]
    ) == planned(trail.inputs["advancedEventSelectors"])
    # The parity stack records the stream's data events and no management events.
    names = [s["Name"] for s in selectors["AdvancedEventSelectors"]]
    assert names == [s["name"] for s in trail.inputs["advancedEventSelectors"]]
    (tags,) = cloudtrail.list_tags(ResourceIdList=[described["TrailARN"]])["ResourceTagList"]
    assert _tags(tags["TagsList"]) == trail.inputs["tags"]


# --- access roles --------------------------------------------------------------------------------


def test_access(plan: Plan, built: Built, planned: Identities, live: Identities) -> None:
    iam = built.clients("iam")
    access = plan.descendants(plan.named("access"))
    policies = {p.inputs["name"]: p for p in access if p.type == "aws:iam/policy:Policy"}
    for name, policy in policies.items():
        arn = f"arn:aws:iam::{MOTO_ACCOUNT_ID}:policy/{name}"
        have = iam.get_policy(PolicyArn=arn)["Policy"]
        assert have["Description"] == policy.inputs["description"]
        assert _tags(have["Tags"]) == policy.inputs["tags"]
        version = iam.get_policy_version(PolicyArn=arn, VersionId=have["DefaultVersionId"])
        assert live(_doc(version["PolicyVersion"]["Document"])) == planned(
            _without_database_login(_doc(policy.inputs["policy"]))
        ), name
    roles = [r for r in access if r.type == "aws:iam/role:Role"]
    assert len(roles) == 5
    for role in roles:
        have = iam.get_role(RoleName=role.inputs["name"])["Role"]
        assert have["Description"] == role.inputs["description"]
        assert have["MaxSessionDuration"] == role.inputs["maxSessionDuration"]
        assert live(have["PermissionsBoundary"]["PermissionsBoundaryArn"]) == planned(
            role.inputs["permissionsBoundary"]
        )
        assert live(have["AssumeRolePolicyDocument"]) == planned(
            _doc(role.inputs["assumeRolePolicy"])
        )
        assert _tags(have["Tags"]) == role.inputs["tags"]
        attached = iam.list_attached_role_policies(RoleName=role.inputs["name"])
        planned_arns = [
            planned(a.inputs["policyArn"])
            for a in access
            if a.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
            and a.inputs["role"] == role.inputs["name"]
        ]
        assert [live(a["PolicyArn"]) for a in attached["AttachedPolicies"]] == planned_arns
    cfg = built.cfg
    deploy = next(r for r in roles if r.inputs["name"] == cfg.names.role("deploy"))
    sub = _doc(deploy.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    assert sub["token.actions.githubusercontent.com:sub"] == (
        f"repo:{cfg.access.github_repository}:environment:"
        f"{cfg.access.deploy_environment or cfg.environment}"
    )


# --- budget --------------------------------------------------------------------------------------


def test_budget(plan: Plan, built: Built, planned: Identities, live: Identities) -> None:
    (budget,) = plan.of_type("aws:budgets/budget:Budget")
    want = budget.inputs
    budgets = built.clients("budgets", "us-east-1")
    have = budgets.describe_budget(AccountId=MOTO_ACCOUNT_ID, BudgetName=want["name"])["Budget"]
    assert (have["BudgetType"], have["TimeUnit"]) == (want["budgetType"], want["timeUnit"])
    assert have["BudgetLimit"] == {"Amount": want["limitAmount"], "Unit": want["limitUnit"]}
    assert have["CostFilters"] == {f["name"]: f["values"] for f in want["costFilters"]}
    tag = built.cfg.budget.cost_allocation_tag
    assert have["CostFilters"] == {"TagKeyValue": [f"user:{tag}${built.cfg.tags.as_dict()[tag]}"]}
    notifications = budgets.describe_notifications_for_budget(
        AccountId=MOTO_ACCOUNT_ID, BudgetName=want["name"]
    )["Notifications"]
    assert sorted(
        (n["NotificationType"], n["ComparisonOperator"], n["Threshold"], n["ThresholdType"])
        for n in notifications
    ) == sorted(
        (n["notificationType"], n["comparisonOperator"], n["threshold"], n["thresholdType"])
        for n in want["notifications"]
    )
    # moto does not answer DescribeSubscribersForNotification: compare what was sent.
    (create,) = built.sent("CreateBudget")
    sent = {
        n["Notification"]["NotificationType"] + str(n["Notification"]["Threshold"]): sorted(
            live(f"{s['SubscriptionType']}:{s['Address']}") for s in n["Subscribers"]
        )
        for n in create["NotificationsWithSubscribers"]
    }
    assert sent == {
        n["notificationType"] + str(n["threshold"]): sorted(
            [
                *(planned(f"SNS:{arn}") for arn in n["subscriberSnsTopicArns"]),
                *(f"EMAIL:{email}" for email in n.get("subscriberEmailAddresses", [])),
            ]
        )
        for n in want["notifications"]
    }


# --- cache ---------------------------------------------------------------------------------------

CACHE_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_USER = "aws:elasticache/user:User"
CACHE_USER_GROUP = "aws:elasticache/userGroup:UserGroup"
CACHE_PARAMETERS = "aws:elasticache/parameterGroup:ParameterGroup"
CACHE_SUBNETS = "aws:elasticache/subnetGroup:SubnetGroup"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def test_cache(plan: Plan, built: Built, planned: Identities, live: Identities) -> None:
    cfg = built.cfg
    elasticache = built.clients("elasticache")
    (group,) = plan.of_type(CACHE_GROUP)
    want = planned(group.inputs)
    (mine,) = elasticache.describe_replication_groups(
        ReplicationGroupId=want["replicationGroupId"]
    )["ReplicationGroups"]
    reported = live(mine)
    deliveries = [
        {
            "logType": d["LogType"],
            "destinationType": d["DestinationType"],
            "destination": d["DestinationDetails"]["CloudWatchLogsDetails"]["LogGroup"],
            "logFormat": d["LogFormat"],
        }
        for d in reported["LogDeliveryConfigurations"]
    ]
    assert {
        "description": reported["Description"],
        "engine": reported["Engine"],
        "nodeType": reported["CacheNodeType"],
        "atRestEncryptionEnabled": reported["AtRestEncryptionEnabled"],
        "kmsKeyId": reported["KmsKeyId"],
        "transitEncryptionEnabled": reported["TransitEncryptionEnabled"],
        "transitEncryptionMode": reported["TransitEncryptionMode"],
        "userGroupIds": reported["UserGroupIds"],
        "automaticFailoverEnabled": reported["AutomaticFailover"] == "enabled",
        "multiAzEnabled": reported["MultiAZ"] == "enabled",
        "snapshotRetentionLimit": reported["SnapshotRetentionLimit"],
        "snapshotWindow": reported["SnapshotWindow"],
        "autoMinorVersionUpgrade": reported["AutoMinorVersionUpgrade"],
        "logDeliveryConfigurations": deliveries,
        "port": reported["NodeGroups"][0]["PrimaryEndpoint"]["Port"],
    } == {
        key: want[key]
        for key in (
            "description",
            "engine",
            "nodeType",
            "atRestEncryptionEnabled",
            "kmsKeyId",
            "transitEncryptionEnabled",
            "transitEncryptionMode",
            "userGroupIds",
            "automaticFailoverEnabled",
            "multiAzEnabled",
            "snapshotRetentionLimit",
            "snapshotWindow",
            "autoMinorVersionUpgrade",
            "logDeliveryConfigurations",
            "port",
        )
    }
    assert "authToken" not in want
    assert not reported["AuthTokenEnabled"]
    # moto reports neither the version, the node count (it lists one member), the maintenance
    # window nor the parameter group: compare what setup sent.
    (create,) = built.sent("CreateReplicationGroup")
    assert (
        create["EngineVersion"],
        create["NumCacheClusters"],
        create["PreferredMaintenanceWindow"],
        create["CacheParameterGroupName"],
    ) == (
        want["engineVersion"],
        want["numCacheClusters"],
        want["maintenanceWindow"],
        want["parameterGroupName"],
    )
    tags = elasticache.list_tags_for_resource(ResourceName=mine["ARN"])["TagList"]
    assert _tags(tags) == want["tags"]

    # The users: moto reports them; the passwords' length and alphabet from each side's secret.
    users = {u.inputs["userId"]: planned(u.inputs) for u in plan.of_type(CACHE_USER)}
    assert len(users) == 4
    for user_id, user in users.items():
        (found,) = elasticache.describe_users(UserId=user_id)["Users"]
        mode = _secret(user["authenticationMode"])
        assert (
            found["UserName"],
            found["Engine"],
            found["AccessString"],
            found["Authentication"]["Type"],
            found["Authentication"]["PasswordCount"],
        ) == (
            user["userName"],
            user["engine"],
            user["accessString"],
            mode["type"],
            len(mode["passwords"]),
        ), user_id
    sent_users = {u["UserId"]: u for u in built.sent("CreateUser")}
    assert {k: u["NoPasswordRequired"] for k, u in sent_users.items()} == {
        k: u["noPasswordRequired"] for k, u in users.items()
    }

    secrets = built.clients("secretsmanager")
    versions = {v.inputs["secretId"]: v for v in plan.of_type(SECRET_VERSION)}
    for secret in plan.of_type(SECRET):
        want_secret = planned(secret.inputs)
        described = secrets.describe_secret(SecretId=want_secret["name"])
        assert (described["Description"], live(described["KmsKeyId"])) == (
            want_secret["description"],
            want_secret["kmsKeyId"],
        )
        assert _tags(described["Tags"]) == want_secret["tags"]
        planned_value = json.loads(_secret(versions[secret.state["arn"]].inputs["secretString"]))
        local_value = json.loads(
            secrets.get_secret_value(SecretId=want_secret["name"])["SecretString"]
        )
        assert local_value["username"] == planned_value["username"]
        for value in (local_value["password"], planned_value["password"]):
            assert len(value) == PASSWORD_LENGTH
            assert value.isalnum()
    (password_request,) = {json.dumps(p, sort_keys=True) for p in built.sent("GetRandomPassword")}
    assert json.loads(password_request)["PasswordLength"] == PASSWORD_LENGTH

    # moto implements neither user groups nor parameter groups: compare the requests setup sent.
    (user_group,) = plan.of_type(CACHE_USER_GROUP)
    (sent_group,) = built.sent("CreateUserGroup")
    assert (sent_group["UserGroupId"], sent_group["Engine"], sent_group["UserIds"]) == (
        user_group.inputs["userGroupId"],
        user_group.inputs["engine"],
        user_group.inputs["userIds"],
    )
    (parameters,) = plan.of_type(CACHE_PARAMETERS)
    (sent_parameters,) = built.sent("CreateCacheParameterGroup")
    assert (
        sent_parameters["CacheParameterGroupName"],
        sent_parameters["CacheParameterGroupFamily"],
        sent_parameters["Description"],
    ) == (
        parameters.inputs["name"],
        parameters.inputs["family"],
        parameters.inputs["description"],
    )
    (sent_values,) = built.sent("ModifyCacheParameterGroup")
    assert [
        {"name": p["ParameterName"], "value": p["ParameterValue"]}
        for p in sent_values["ParameterNameValues"]
    ] == parameters.inputs["parameters"]
    assert parameters.inputs["parameters"] == [
        {"name": "maxmemory-policy", "value": cfg.cache.maxmemory_policy}
    ]

    # The subnet group needs the network's subnets, which the local environment does not build
    # yet: setup says so rather than invent subnet ids.
    (subnets,) = plan.of_type(CACHE_SUBNETS)
    groups = elasticache.describe_cache_subnet_groups()["CacheSubnetGroups"]
    if groups:
        (mine_subnets,) = groups
        assert (
            mine_subnets["CacheSubnetGroupName"],
            mine_subnets["CacheSubnetGroupDescription"],
        ) == (
            subnets.inputs["name"],
            subnets.inputs["description"],
        )
    else:
        assert (
            "cache subnet group",
            subnets.inputs["name"],
            "skipped",
            "the network's subnets are not built locally",
        ) in [(a.resource, a.name, a.outcome, a.detail) for a in built.result.actions]
        assert "CacheSubnetGroupName" not in create

    # The cache's log groups (the flow log group is the network's).
    logs = built.clients("logs")
    for log_group in plan.of_type(LOG_GROUP):
        inputs = planned(log_group.inputs)
        if not inputs["name"].startswith("/aws/elasticache/"):
            continue
        (found_group,) = [
            g
            for g in logs.describe_log_groups(logGroupNamePrefix=inputs["name"])["logGroups"]
            if g["logGroupName"] == inputs["name"]
        ]
        assert (found_group["retentionInDays"], live(found_group["kmsKeyId"])) == (
            inputs["retentionInDays"],
            inputs["kmsKeyId"],
        )
    assert len([d for d in want["logDeliveryConfigurations"] if d["logType"] == "engine-log"]) == (
        1 if cfg.cache.engine_log else 0
    )


def test_audit_database(plan: Plan, built: Built, planned: Identities, live: Identities) -> None:
    """The instance, its parameter group, log groups and monitoring role as moto holds them
    (Performance Insights, which moto does not report back, as the request setup sent)."""
    rds = built.clients("rds")
    group = plan.named("audit-db-parameters").inputs
    (have_group,) = rds.describe_db_parameter_groups(DBParameterGroupName=group["name"])[
        "DBParameterGroups"
    ]
    assert have_group["DBParameterGroupFamily"] == group["family"]
    assert have_group["Description"] == group["description"]
    have_parameters = rds.describe_db_parameters(DBParameterGroupName=group["name"], Source="user")
    assert sorted(
        (p["ParameterName"], p["ParameterValue"], p["ApplyMethod"])
        for p in have_parameters["Parameters"]
    ) == sorted((p["name"], p["value"], p["applyMethod"]) for p in group["parameters"])

    want = planned(plan.named("audit-db-instance").inputs)
    (have,) = rds.describe_db_instances(DBInstanceIdentifier=want["identifier"])["DBInstances"]
    have = live(have)
    assert {
        "engine": have["Engine"],
        "engineVersion": have["EngineVersion"],
        "instanceClass": have["DBInstanceClass"],
        "dbName": have["DBName"],
        "username": have["MasterUsername"],
        "port": have["Endpoint"]["Port"],
        "storageType": have["StorageType"],
        "allocatedStorage": have["AllocatedStorage"],
        "maxAllocatedStorage": have["MaxAllocatedStorage"],
        "storageEncrypted": have["StorageEncrypted"],
        "kmsKeyId": have["KmsKeyId"],
        "multiAz": have["MultiAZ"],
        "publiclyAccessible": have["PubliclyAccessible"],
        "parameterGroupName": have["DBParameterGroups"][0]["DBParameterGroupName"],
        "iamDatabaseAuthenticationEnabled": have["IAMDatabaseAuthenticationEnabled"],
        "caCertIdentifier": have["CACertificateIdentifier"],
        "backupRetentionPeriod": have["BackupRetentionPeriod"],
        "backupWindow": have["PreferredBackupWindow"],
        "maintenanceWindow": have["PreferredMaintenanceWindow"],
        "autoMinorVersionUpgrade": have["AutoMinorVersionUpgrade"],
        "copyTagsToSnapshot": have["CopyTagsToSnapshot"],
        "deletionProtection": have["DeletionProtection"],
        "enabledCloudwatchLogsExports": have["EnabledCloudwatchLogsExports"],
        "monitoringInterval": have["MonitoringInterval"],
        "monitoringRoleArn": have["MonitoringRoleArn"],
        "manageMasterUserPassword": bool(have["MasterUserSecret"]["SecretArn"]),
        "masterUserSecretKmsKeyId": have["MasterUserSecret"]["KmsKeyId"],
        "tags": _tags(have["TagList"]),
    } == {key: want[key] for key in (
        "engine", "engineVersion", "instanceClass", "dbName", "username", "port",
        "storageType", "allocatedStorage", "maxAllocatedStorage", "storageEncrypted",
        "kmsKeyId", "multiAz", "publiclyAccessible", "parameterGroupName",
        "iamDatabaseAuthenticationEnabled", "caCertIdentifier", "backupRetentionPeriod",
        "backupWindow", "maintenanceWindow", "autoMinorVersionUpgrade", "copyTagsToSnapshot",
        "deletionProtection", "enabledCloudwatchLogsExports", "monitoringInterval",
        "monitoringRoleArn", "manageMasterUserPassword", "masterUserSecretKmsKeyId", "tags",
    )}  # fmt: skip
    # The RDS-managed master secret moto created, on the database key.
    secret = built.clients("secretsmanager").describe_secret(
        SecretId=have["MasterUserSecret"]["SecretArn"].replace("<account>", MOTO_ACCOUNT_ID)
    )
    assert live(secret["KmsKeyId"]) == want["masterUserSecretKmsKeyId"]
    (sent,) = built.sent("CreateDBInstance")
    sent = live(sent)
    assert (
        sent["EnablePerformanceInsights"],
        sent["PerformanceInsightsKMSKeyId"],
        sent["PerformanceInsightsRetentionPeriod"],
        "MasterUserPassword" in sent,
    ) == (
        want["performanceInsightsEnabled"],
        want["performanceInsightsKmsKeyId"],
        want["performanceInsightsRetentionPeriod"],
        False,
    )
    # The subnet group on the network's private subnets (compared by their Name tags); with a
    # landing zone's VPC, which the emulator does not hold, setup skips it and says why.
    planned_group = plan.named("audit-db-subnets").inputs
    if built.cfg.network.existing is None:
        (have_group,) = rds.describe_db_subnet_groups(DBSubnetGroupName=planned_group["name"])[
            "DBSubnetGroups"
        ]
        live_ids = [s["SubnetIdentifier"] for s in have_group["Subnets"]]
        ec2 = built.clients("ec2")
        live_names = {
            tag["Value"]
            for s in ec2.describe_subnets(SubnetIds=live_ids)["Subnets"]
            for tag in s["Tags"]
            if tag["Key"] == "Name"
        }
        plan_names = {
            r.inputs["tags"]["Name"]
            for r in plan.of_type("aws:ec2/subnet:Subnet")
            if r.id in planned_group["subnetIds"]
        }
        assert live_names == plan_names
        assert have_group["DBSubnetGroupDescription"] == planned_group["description"]
        assert have["DBSubnetGroup"]["DBSubnetGroupName"] == want["dbSubnetGroupName"]
        (sg,) = have["VpcSecurityGroups"]
        (group,) = ec2.describe_security_groups(GroupIds=[sg["VpcSecurityGroupId"]])[
            "SecurityGroups"
        ]
        planned_sg = next(
            r
            for r in plan.of_type("aws:ec2/securityGroup:SecurityGroup")
            if r.id in want["vpcSecurityGroupIds"]
        )
        assert group["GroupName"] == planned_sg.inputs["name"]
    else:
        assert [
            a.detail
            for a in built.result.actions
            if (a.resource, a.outcome) == ("db subnet group", "skipped")
        ] == [NO_SUBNETS]

    logs = built.clients("logs")
    for log in ("postgresql", "upgrade"):
        group_inputs = planned(plan.named(f"audit-db-log-{log}").inputs)
        (found,) = [
            g
            for g in logs.describe_log_groups(logGroupNamePrefix=group_inputs["name"])["logGroups"]
            if g["logGroupName"] == group_inputs["name"]
        ]
        assert (live(found["kmsKeyId"]), found["retentionInDays"]) == (
            group_inputs["kmsKeyId"],
            group_inputs["retentionInDays"],
        )

    iam = built.clients("iam")
    role = planned(plan.named("audit-db-monitoring-role").inputs)
    have_role = iam.get_role(RoleName=role["name"])["Role"]
    assert live(have_role["AssumeRolePolicyDocument"]) == _doc(role["assumeRolePolicy"])
    assert have_role["Description"] == role["description"]
    assert _tags(have_role["Tags"]) == role["tags"]
    attached = iam.list_attached_role_policies(RoleName=role["name"])["AttachedPolicies"]
    assert [live(a["PolicyArn"]) for a in attached] == [
        planned(plan.named("audit-db-monitoring-policy").inputs["policyArn"])
    ]


def _name_tag(item: dict[str, Any]) -> str:
    return _tags(item.get("Tags", [])).get("Name", "")


def test_network(plan: Plan, built: Built, planned: Identities, live: Identities) -> None:
    cfg = built.cfg
    network = plan.descendants(plan.named("network"))
    by_type: dict[str, list[Any]] = {}
    for resource in network:
        by_type.setdefault(resource.type.rsplit(":", 1)[-1], []).append(resource)
    groups = {g.inputs["name"]: g for g in by_type["SecurityGroup"]}
    if cfg.network.existing is not None:
        # A landing zone's VPC: Pulumi creates only the tier groups there; setup builds nothing.
        assert set(by_type) == {
            "SecurityGroup",
            "SecurityGroupIngressRule",
            "SecurityGroupEgressRule",
        }
        assert {g.inputs["vpcId"] for g in groups.values()} == {cfg.network.existing.vpc_id}
        (skipped,) = [a for a in built.result.actions if a.resource == "vpc"]
        assert (skipped.outcome, skipped.name) == ("skipped", cfg.network.existing.vpc_id)
        assert not built.clients("ec2").describe_vpcs(
            Filters=[{"Name": "tag:Name", "Values": [cfg.names.vpc]}]
        )["Vpcs"]
        return
    ec2 = built.clients("ec2")
    (vpc_in,) = by_type["Vpc"]
    (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [cfg.names.vpc]}])["Vpcs"]
    vpc_id = vpc["VpcId"]
    assert vpc["CidrBlock"] == vpc_in.inputs["cidrBlock"]
    for attribute, key in (
        ("enableDnsSupport", "EnableDnsSupport"),
        ("enableDnsHostnames", "EnableDnsHostnames"),
    ):
        have = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)[key]["Value"]
        assert have is vpc_in.inputs[attribute]
    assert _tags(vpc["Tags"]) == vpc_in.inputs["tags"]

    # Subnets and route tables, matched by their Name tags; ids mapped to names on both sides.
    in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    subnets = {_name_tag(s): s for s in ec2.describe_subnets(Filters=in_vpc)["Subnets"]}
    planned_names = {s.id: s.inputs["tags"]["Name"] for s in by_type["Subnet"]}
    live_names = {s["SubnetId"]: n for n, s in subnets.items()}
    assert set(subnets) == set(planned_names.values())
    for subnet in by_type["Subnet"]:
        have = subnets[subnet.inputs["tags"]["Name"]]
        assert have["CidrBlock"] == subnet.inputs["cidrBlock"]
        assert have["AvailabilityZone"] == subnet.inputs["availabilityZone"]
        assert have["MapPublicIpOnLaunch"] is subnet.inputs["mapPublicIpOnLaunch"]
        assert _tags(have["Tags"]) == subnet.inputs["tags"]
    tables = {_name_tag(t): t for t in ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]}
    planned_tables = {t.id: t.inputs["tags"]["Name"] for t in by_type["RouteTable"]}
    live_tables = {t["RouteTableId"]: n for n, t in tables.items() if n}
    assert set(live_tables.values()) == set(planned_tables.values())
    assert sorted(
        (planned_names[a.inputs["subnetId"]], planned_tables[a.inputs["routeTableId"]])
        for a in by_type["RouteTableAssociation"]
    ) == sorted(
        (live_names[a["SubnetId"]], name)
        for name, t in tables.items()
        if name
        for a in t.get("Associations", [])
        if "SubnetId" in a
    )
    for table in by_type["RouteTable"]:
        have = tables[table.inputs["tags"]["Name"]]
        assert _tags(have["Tags"]) == table.inputs["tags"]
        # Pulumi declares no routes: only the local one and the gateway endpoints' exist.
        assert "routes" not in table.inputs
        targets = {str(r.get("GatewayId")) for r in have["Routes"]}
        assert {t for t in targets if not t.startswith("vpce-")} == {"local"}

    # The default group: no rules on either side.
    (default_in,) = by_type["DefaultSecurityGroup"]
    assert (default_in.inputs["ingress"], default_in.inputs["egress"]) == ([], [])
    live_groups = {
        g["GroupName"]: g for g in ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]
    }
    default_rules = ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [live_groups["default"]["GroupId"]]}]
    )["SecurityGroupRules"]
    assert default_rules == []

    # Tier groups and their rules, every id replaced by the group's name or the service's.
    assert set(live_groups) == {*groups, "default"}
    prefix_lists = {
        p["PrefixListId"]: p["PrefixListName"].rsplit(".", 1)[-1]
        for p in ec2.describe_managed_prefix_lists()["PrefixLists"]
    }
    planned_lists = {
        managed_prefix_list_id(f"com.amazonaws.{cfg.region}.{service}"): service
        for service in ("dynamodb", "s3")
    }
    planned_peer = {g.id: name for name, g in groups.items()}
    live_peer = {g["GroupId"]: name for name, g in live_groups.items()}
    for name, group in groups.items():
        have = live_groups[name]
        assert have["Description"] == group.inputs["description"]
        assert _tags(have["Tags"]) == group.inputs["tags"]
    planned_rules = sorted(
        (
            planned_peer[r.inputs["securityGroupId"]],
            r.type.rsplit(":", 1)[-1],
            r.inputs["ipProtocol"],
            r.inputs["fromPort"],
            r.inputs["toPort"],
            planned_peer.get(r.inputs.get("referencedSecurityGroupId", ""))
            or planned_lists[r.inputs["prefixListId"]],
        )
        for r in (*by_type["SecurityGroupIngressRule"], *by_type["SecurityGroupEgressRule"])
    )
    live_rules = sorted(
        (
            live_peer[r["GroupId"]],
            "SecurityGroupEgressRule" if r["IsEgress"] else "SecurityGroupIngressRule",
            r["IpProtocol"],
            r["FromPort"],
            r["ToPort"],
            live_peer.get(r.get("ReferencedGroupInfo", {}).get("GroupId", ""))
            or prefix_lists[r["PrefixListId"]],
        )
        for name, g in live_groups.items()
        if name != "default"
        for r in ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [g["GroupId"]]}]
        )["SecurityGroupRules"]
    )
    assert live_rules == planned_rules

    # Endpoints: service, type, policy, DNS, where they are and behind which group.
    endpoints = {
        e["ServiceName"]: e for e in ec2.describe_vpc_endpoints(Filters=in_vpc)["VpcEndpoints"]
    }
    assert set(endpoints) == {e.inputs["serviceName"] for e in by_type["VpcEndpoint"]}
    for endpoint in by_type["VpcEndpoint"]:
        want = endpoint.inputs
        have = endpoints[want["serviceName"]]
        assert have["VpcEndpointType"] == want["vpcEndpointType"]
        assert live(_doc(have["PolicyDocument"])) == planned(_doc(want["policy"]))
        assert _tags(have["Tags"]) == want["tags"]
        if want["vpcEndpointType"] == "Gateway":
            assert sorted(live_tables[t] for t in have["RouteTableIds"]) == sorted(
                planned_tables[t] for t in want["routeTableIds"]
            )
        else:
            assert have["PrivateDnsEnabled"] is want["privateDnsEnabled"]
            assert sorted(live_names[s] for s in have["SubnetIds"]) == sorted(
                planned_names[s] for s in want["subnetIds"]
            )
            assert [live_peer[g["GroupId"]] for g in have["Groups"]] == [
                planned_peer[g] for g in want["securityGroupIds"]
            ]

    # Flow logs: the log group on the logs key, the flow log, its role and policy.
    (group_in,) = by_type["LogGroup"]
    logs = built.clients("logs")
    (log_group,) = logs.describe_log_groups(logGroupNamePrefix=group_in.inputs["name"])["logGroups"]
    assert log_group["retentionInDays"] == group_in.inputs["retentionInDays"]
    assert live(log_group["kmsKeyId"]) == planned(group_in.inputs["kmsKeyId"])
    assert (
        logs.list_tags_log_group(logGroupName=group_in.inputs["name"])["tags"]
        == (group_in.inputs["tags"])
    )
    (flow_in,) = by_type["FlowLog"]
    (flow,) = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])[
        "FlowLogs"
    ]
    role_in = next(r for r in by_type["Role"])
    assert (flow["TrafficType"], flow["LogDestinationType"], flow["MaxAggregationInterval"]) == (
        flow_in.inputs["trafficType"],
        flow_in.inputs["logDestinationType"],
        flow_in.inputs["maxAggregationInterval"],
    )
    assert live(flow["LogDestination"]) == planned(flow_in.inputs["logDestination"])
    assert live(flow["DeliverLogsPermissionArn"]) == planned(flow_in.inputs["iamRoleArn"])
    assert flow_in.inputs["iamRoleArn"] == role_in.state["arn"]
    iam = built.clients("iam")
    role = iam.get_role(RoleName=role_in.inputs["name"])["Role"]
    assert role["Description"] == role_in.inputs["description"]
    assert live(role["AssumeRolePolicyDocument"]) == planned(
        _doc(role_in.inputs["assumeRolePolicy"])
    )
    (policy_in,) = by_type["Policy"]
    (attached,) = iam.list_attached_role_policies(RoleName=role_in.inputs["name"])[
        "AttachedPolicies"
    ]
    assert attached["PolicyName"] == policy_in.inputs["name"]
    have_policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
    assert have_policy["Description"] == policy_in.inputs["description"]
    version = iam.get_policy_version(
        PolicyArn=attached["PolicyArn"], VersionId=have_policy["DefaultVersionId"]
    )
    assert live(_doc(version["PolicyVersion"]["Document"])) == planned(
        _doc(policy_in.inputs["policy"])
    )


def test_stream_consumer(plan: Plan, built: Built, planned: Identities, live: Identities) -> None:
    from scripts.services.stream_consumer import package
    from scripts.stream_poller import mapping_settings
    from stackspec.definitions.stream_consumer import stream_consumer_definition

    definition = stream_consumer_definition(built.cfg)
    consumer = {r.type: r for r in plan.descendants(plan.named("stream-consumer"))}

    queue = consumer["aws:sqs/queue:Queue"].inputs
    sqs = built.clients("sqs")
    url = sqs.get_queue_url(QueueName=queue["name"])["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert live(attributes["KmsMasterKeyId"]) == planned(queue["kmsMasterKeyId"])
    assert int(attributes["MessageRetentionPeriod"]) == queue["messageRetentionSeconds"]
    assert (attributes["SqsManagedSseEnabled"], queue["sqsManagedSseEnabled"]) == ("false", False)
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == queue["tags"]
    policy = consumer["aws:sqs/queuePolicy:QueuePolicy"].inputs
    assert live(_doc(attributes["Policy"])) == planned(_doc(policy["policy"]))

    group = consumer["aws:cloudwatch/logGroup:LogGroup"].inputs
    logs = built.clients("logs")
    (have_group,) = [
        g
        for g in logs.describe_log_groups(logGroupNamePrefix=group["name"])["logGroups"]
        if g["logGroupName"] == group["name"]
    ]
    assert have_group["retentionInDays"] == group["retentionInDays"]
    assert live(have_group["kmsKeyId"]) == planned(group["kmsKeyId"])

    function = consumer["aws:lambda/function:Function"].inputs
    lam = built.clients("lambda")
    have = lam.get_function_configuration(FunctionName=function["name"])
    assert (have["Runtime"], have["Architectures"], have["Handler"]) == (
        function["runtime"],
        function["architectures"],
        function["handler"],
    )
    assert (have["MemorySize"], have["Timeout"]) == (function["memorySize"], function["timeout"])
    assert have["Description"] == function["description"]
    assert live(have["KMSKeyArn"]) == planned(function["kmsKeyArn"])
    assert live(have["Role"]) == planned(function["role"])
    assert have["TracingConfig"] == {"Mode": function["tracingConfig"]["mode"]}
    variables = have["Environment"]["Variables"]
    wanted = function["environment"]["variables"]
    assert set(variables) == set(wanted)
    # The login is the cloud's (IAM, the ingest user, the CA bundle); where the database is
    # differs by design: the local PostgreSQL, not the RDS endpoint.
    for name in ("AUDIT_DB_AUTH", "AUDIT_DB_USER", "AUDIT_RDS_CA_BUNDLE"):
        assert variables[name] == wanted[name], name
    concurrency = lam.get_function_concurrency(FunctionName=function["name"])
    assert concurrency["ReservedConcurrentExecutions"] == function["reservedConcurrentExecutions"]
    assert (
        _tags(
            [
                {"Key": k, "Value": v}
                for k, v in lam.list_tags(Resource=have["FunctionArn"])["Tags"].items()
            ]
        )
        == function["tags"]
    )
    # The code moto holds is the zip setup built, of exactly the files the plan's archive names.
    zipped = package(definition)
    assert have["CodeSha256"] == base64.b64encode(hashlib.sha256(zipped).digest()).decode()
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        assert sorted(archive.namelist()) == sorted(function["code"].assets)
    # moto does not return LoggingConfig: compare what setup sent.
    (create,) = [c for c in built.sent("CreateFunction") if c["FunctionName"] == function["name"]]
    assert create["LoggingConfig"] == {
        "LogFormat": function["loggingConfig"]["logFormat"],
        "LogGroup": function["loggingConfig"]["logGroup"],
    }
    # No VPC locally (validate SKIPs the row); the plan attaches it to the network.
    assert "VpcConfig" not in create
    assert function["vpcConfig"]["subnetIds"]

    # The layer is built by `make consumer-layer`, not locally: it must fit the function moto runs.
    layer = consumer["aws:lambda/layerVersion:LayerVersion"].inputs
    assert layer["compatibleRuntimes"] == [have["Runtime"]]
    assert layer["compatibleArchitectures"] == have["Architectures"]

    # The mapping is the local poller (moto would invoke Docker on every write and drop the
    # stream records): its settings against the planned mapping.
    mapping = consumer["aws:lambda/eventSourceMapping:EventSourceMapping"].inputs
    assert mapping_settings(definition) == {
        "batch_size": mapping["batchSize"],
        "max_retries": mapping["maximumRetryAttempts"],
        "bisect": mapping["bisectBatchOnFunctionError"],
        "max_record_age_seconds": mapping["maximumRecordAgeInSeconds"],
    }
    destination = mapping["destinationConfig"]["onFailure"]["destinationArn"]
    assert planned(destination) == live(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    )
    assert mapping["functionName"].endswith(f":function:{have['FunctionName']}")


def test_cache_invalidator(plan: Plan, built: Built, planned: Identities, live: Identities) -> None:
    from scripts.services.cache_invalidator import package
    from scripts.stream_poller import mapping_settings
    from stackspec.definitions.cache_invalidator import cache_invalidator_definition

    definition = cache_invalidator_definition(built.cfg)
    invalidator = {r.type: r for r in plan.descendants(plan.named("stream-invalidator"))}

    queue = invalidator["aws:sqs/queue:Queue"].inputs
    sqs = built.clients("sqs")
    url = sqs.get_queue_url(QueueName=queue["name"])["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert live(attributes["KmsMasterKeyId"]) == planned(queue["kmsMasterKeyId"])
    assert int(attributes["MessageRetentionPeriod"]) == queue["messageRetentionSeconds"]
    assert (attributes["SqsManagedSseEnabled"], queue["sqsManagedSseEnabled"]) == ("false", False)
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == queue["tags"]
    policy = invalidator["aws:sqs/queuePolicy:QueuePolicy"].inputs
    assert live(_doc(attributes["Policy"])) == planned(_doc(policy["policy"]))

    group = invalidator["aws:cloudwatch/logGroup:LogGroup"].inputs
    (have_group,) = [
        g
        for g in built.clients("logs").describe_log_groups(logGroupNamePrefix=group["name"])[
            "logGroups"
        ]
        if g["logGroupName"] == group["name"]
    ]
    assert have_group["retentionInDays"] == group["retentionInDays"]
    assert live(have_group["kmsKeyId"]) == planned(group["kmsKeyId"])

    function = invalidator["aws:lambda/function:Function"].inputs
    lam = built.clients("lambda")
    have = lam.get_function_configuration(FunctionName=function["name"])
    assert (have["Runtime"], have["Architectures"], have["Handler"]) == (
        function["runtime"],
        function["architectures"],
        function["handler"],
    )
    assert (have["MemorySize"], have["Timeout"]) == (function["memorySize"], function["timeout"])
    assert have["Description"] == function["description"]
    assert live(have["KMSKeyArn"]) == planned(function["kmsKeyArn"])
    assert live(have["Role"]) == planned(function["role"])
    assert have["TracingConfig"] == {"Mode": function["tracingConfig"]["mode"]}
    variables = have["Environment"]["Variables"]
    wanted = function["environment"]["variables"]
    assert set(variables) == set(wanted)
    # The login is the cloud's (TLS, the invalidator user, its secret, prefix, TTL); where the
    # cache is differs by design: the local Valkey, not the replication group's endpoint.
    for name in ("CACHE_PORT", "CACHE_TLS", "CACHE_USER", "CACHE_KEY_PREFIX", "CACHE_TTL_SECONDS"):
        assert variables[name] == wanted[name], name
    # The same secret: its ARN up to the six random characters Secrets Manager appends.
    for secret_arn in (variables["CACHE_SECRET_ARN"], wanted["CACHE_SECRET_ARN"]):
        _, _, service, region, _, kind, name = secret_arn.split(":")
        assert (service, region, kind) == ("secretsmanager", built.cfg.region, "secret")
        assert (name[:-7], name[-7]) == (definition.cache_secret_name, "-")
    concurrency = lam.get_function_concurrency(FunctionName=function["name"])
    assert concurrency["ReservedConcurrentExecutions"] == function["reservedConcurrentExecutions"]
    assert lam.list_tags(Resource=have["FunctionArn"])["Tags"] == function["tags"]
    zipped = package(definition)
    assert have["CodeSha256"] == base64.b64encode(hashlib.sha256(zipped).digest()).decode()
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        assert sorted(archive.namelist()) == sorted(function["code"].assets)
    # moto does not return LoggingConfig: compare what setup sent.
    (create,) = [c for c in built.sent("CreateFunction") if c["FunctionName"] == function["name"]]
    assert create["LoggingConfig"] == {
        "LogFormat": function["loggingConfig"]["logFormat"],
        "LogGroup": function["loggingConfig"]["logGroup"],
    }
    assert "VpcConfig" not in create
    assert function["vpcConfig"]["subnetIds"]

    layer = invalidator["aws:lambda/layerVersion:LayerVersion"].inputs
    assert layer["compatibleRuntimes"] == [have["Runtime"]]
    assert layer["compatibleArchitectures"] == have["Architectures"]

    # The mapping is the local poller's cache thread: its settings against the planned mapping.
    mapping = invalidator["aws:lambda/eventSourceMapping:EventSourceMapping"].inputs
    assert mapping_settings(definition) == {
        "batch_size": mapping["batchSize"],
        "max_retries": mapping["maximumRetryAttempts"],
        "bisect": mapping["bisectBatchOnFunctionError"],
        "max_record_age_seconds": mapping["maximumRecordAgeInSeconds"],
    }
    assert mapping["parallelizationFactor"] == definition.parallelization_factor
    destination = mapping["destinationConfig"]["onFailure"]["destinationArn"]
    assert planned(destination) == live(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    )
    assert mapping["functionName"].endswith(f":function:{have['FunctionName']}")


# --- coverage ------------------------------------------------------------------------------------


#: Every AWS resource type the stacks plan, and the test above that compares it.
COMPARED = {
    "aws:kms/key:Key": test_keys,
    "aws:kms/alias:Alias": test_keys,
    "aws:dynamodb/table:Table": test_table,
    "aws:dynamodb/contributorInsights:ContributorInsights": test_table,
    "aws:sns/topic:Topic": test_alerting,
    "aws:sns/topicPolicy:TopicPolicy": test_alerting,
    "aws:sns/topicSubscription:TopicSubscription": test_alerting,
    "aws:cloudwatch/metricAlarm:MetricAlarm": test_alerting,
    "aws:cloudwatch/dashboard:Dashboard": test_alerting,
    "aws:backup/vault:Vault": test_backup,
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": test_backup,
    "aws:backup/regionSettings:RegionSettings": test_backup,
    "aws:backup/plan:Plan": test_backup,
    "aws:backup/selection:Selection": test_backup,
    # The backup role and the access roles: test_backup and test_access compare their own.
    "aws:iam/role:Role": test_access,
    "aws:iam/policy:Policy": test_access,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": test_access,
    "aws:budgets/budget:Budget": test_budget,
    NOTIFICATIONS: test_recovery,
    RESTORE_TESTING_PLAN: test_recovery,
    RESTORE_TESTING_SELECTION: test_recovery,
    FRAMEWORK: test_recovery,
    REPORT_PLAN: test_recovery,
    "aws:s3/bucket:Bucket": test_audit_buckets,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": test_audit_buckets,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": test_audit_buckets,
    "aws:s3/bucketVersioning:BucketVersioning": test_audit_buckets,
    (
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ): test_audit_buckets,
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": test_audit_buckets,
    "aws:s3/bucketPolicy:BucketPolicy": test_audit_buckets,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": test_audit_buckets,
    "aws:s3/bucketLogging:BucketLogging": test_audit_buckets,
    "aws:cloudtrail/trail:Trail": test_trail,
    CACHE_GROUP: test_cache,
    CACHE_USER: test_cache,
    CACHE_USER_GROUP: test_cache,
    CACHE_PARAMETERS: test_cache,
    CACHE_SUBNETS: test_cache,
    SECRET: test_cache,
    SECRET_VERSION: test_cache,
    # The stream consumer's; test_cache_invalidator compares the cache invalidator's the same way.
    "aws:lambda/function:Function": test_stream_consumer,
    "aws:lambda/layerVersion:LayerVersion": test_stream_consumer,
    "aws:lambda/eventSourceMapping:EventSourceMapping": test_stream_consumer,
    "aws:sqs/queue:Queue": test_stream_consumer,
    "aws:sqs/queuePolicy:QueuePolicy": test_stream_consumer,
    "aws:rds/instance:Instance": test_audit_database,
    "aws:rds/parameterGroup:ParameterGroup": test_audit_database,
    "aws:rds/subnetGroup:SubnetGroup": test_audit_database,
    "aws:ec2/vpc:Vpc": test_network,
    "aws:ec2/subnet:Subnet": test_network,
    "aws:ec2/routeTable:RouteTable": test_network,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": test_network,
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": test_network,
    "aws:ec2/securityGroup:SecurityGroup": test_network,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": test_network,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": test_network,
    "aws:ec2/vpcEndpoint:VpcEndpoint": test_network,
    # The flow log group here; the cache's in test_cache, the audit database's in
    # test_audit_database.
    "aws:cloudwatch/logGroup:LogGroup": test_network,
    "aws:ec2/flowLog:FlowLog": test_network,
}


def test_every_planned_type_is_compared(plan: Plan, dev_plan: Plan, prod_plan: Plan) -> None:
    for chosen in (plan, dev_plan, prod_plan):
        types = {r.type for r in chosen.resources if r.type.startswith("aws:")}
        assert types <= set(COMPARED), f"no parity check compares {sorted(types - set(COMPARED))}"


def test_setup_reports_nothing_drifted_or_failed(built: Built) -> None:
    assert not built.result.drifted
    skipped = {(a.resource, a.detail) for a in built.result.actions if a.outcome == "skipped"}
    # Only what moto does not implement; every one of them is compared above via the request.
    assert {resource for resource, _ in skipped} <= {
        "contributor insights",
        "backup region settings",
        "backup selection",
        "vault notifications",
        "restore testing plan",
        "restore testing selection",
        "audit framework",
        "cache parameter group",
        "cache parameters",
        "cache user group",
        "cache subnet group",
        # Compared with the local poller's settings (test_stream_consumer): moto would invoke
        # Docker on every write and drop the stream records the poller reads.
        "event source mapping",
        "db subnet group",
        # A landing zone's VPC (network.existing) is not in the emulator.
        "vpc",
    }
