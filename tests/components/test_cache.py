"""The cache: the replication group's exact inputs in dev and prod, its users and their secrets,
the user group, subnet and parameter groups, the log groups and the per-node alarms."""

from __future__ import annotations

import json

import pytest

from tools.plan import Plan

TAGS = {
    "Environment": "prod",
    "Project": "medeez-platform",
    "Owner": "platform-team",
    "CostCenter": "clinical-operations",
    "DataClassification": "phi",
    "ManagedBy": "pulumi",
}


def _secret_value(value: object) -> object:
    """A secret input as the mock records it: the marker dict around the plain value."""
    assert isinstance(value, dict), value
    return value["value"]


def test_prod_replication_group_exact_inputs(prod_plan: Plan) -> None:
    group = prod_plan.named("cache-group")
    cache_sg = prod_plan.named("network-cache-sg")
    assert group.inputs == {
        "replicationGroupId": "medeez-prod-cache",
        "description": (
            "Medeez prod read-through cache of medeez-prod-app (items as stored: PHI fields are "
            "ciphertext)"
        ),
        "engine": "valkey",
        "engineVersion": "8.1",
        "nodeType": "cache.m7g.large",
        "numCacheClusters": 2,
        "port": 6379,
        "parameterGroupName": "medeez-prod-valkey8",
        "subnetGroupName": "medeez-prod-cache",
        "securityGroupIds": [cache_sg.id],
        "atRestEncryptionEnabled": True,
        "kmsKeyId": prod_plan.named("cache-key-key").state["arn"],
        "transitEncryptionEnabled": True,
        "transitEncryptionMode": "required",
        "userGroupIds": ["medeez-prod-cache-users"],
        "automaticFailoverEnabled": True,
        "multiAzEnabled": True,
        "snapshotRetentionLimit": 1,
        "snapshotWindow": "03:00-04:00",
        "maintenanceWindow": "sun:06:00-sun:07:00",
        "autoMinorVersionUpgrade": True,
        "logDeliveryConfigurations": [
            {
                "destination": "/aws/elasticache/medeez-prod-cache/slow-log",
                "destinationType": "cloudwatch-logs",
                "logFormat": "json",
                "logType": "slow-log",
            },
            {
                "destination": "/aws/elasticache/medeez-prod-cache/engine-log",
                "destinationType": "cloudwatch-logs",
                "logFormat": "json",
                "logType": "engine-log",
            },
        ],
        "tags": TAGS,
    }
    assert "authToken" not in group.inputs
    assert group.protect
    assert group.retain_on_delete


def test_the_group_sits_in_the_private_subnets_behind_the_cache_tier(prod_plan: Plan) -> None:
    group = prod_plan.named("cache-group")
    cache_sg = prod_plan.named("network-cache-sg")
    assert cache_sg.inputs["name"] == "medeez-prod-cache"
    assert group.inputs["securityGroupIds"] == [cache_sg.id]
    subnets = prod_plan.named("cache-subnets")
    planned_subnets = sorted(r.id for r in prod_plan.of_type("aws:ec2/subnet:Subnet"))
    assert sorted(subnets.inputs["subnetIds"]) == planned_subnets
    assert subnets.inputs["name"] == "medeez-prod-cache"


def test_dev_is_one_small_node_without_failover(dev_plan: Plan) -> None:
    inputs = dev_plan.named("cache-group").inputs
    assert (
        inputs["nodeType"],
        inputs["numCacheClusters"],
        inputs["automaticFailoverEnabled"],
        inputs["multiAzEnabled"],
    ) == ("cache.t4g.micro", 1, False, False)
    assert inputs["transitEncryptionMode"] == "required"
    assert inputs["atRestEncryptionEnabled"] is True
    assert not dev_plan.named("cache-group").protect


def test_users_their_access_and_their_secrets(prod_plan: Plan) -> None:
    key_arn = prod_plan.named("cache-key-key").state["arn"]
    expected = {
        "default": ("medeez-prod-cache-default", "default", "off ~* -@all"),
        "application": (
            "medeez-prod-cache-application",
            "app",
            "on ~medeez:prod:* -@all +get +set +del +unlink +mget +expire +ping +client|setinfo",
        ),
        "admin": (
            "medeez-prod-cache-admin",
            "admin",
            "on ~* +@all -@dangerous +info +slowlog|get +slowlog|len +latency|latest "
            "+latency|history +client|list +flushdb",
        ),
        "invalidator": (
            "medeez-prod-cache-invalidator",
            "invalidator",
            "on ~medeez:prod:* -@all +unlink +ping",
        ),
    }
    for role, (user_id, user_name, access) in expected.items():
        user = prod_plan.named(f"cache-{role}")
        assert (
            user.inputs["userId"],
            user.inputs["userName"],
            user.inputs["accessString"],
            user.inputs["engine"],
            user.inputs["noPasswordRequired"],
        ) == (user_id, user_name, access, "valkey", False)
        mode = _secret_value(user.inputs["authenticationMode"])
        assert mode["type"] == "password"
        [password] = mode["passwords"]
        assert len(password) == 64
        assert password.isalnum()
        assert user.ignore_changes == ["authenticationMode.passwords"]

        secret = prod_plan.named(f"cache-{role}-secret")
        assert secret.inputs["name"] == f"medeez-prod/cache/{role}"
        assert secret.inputs["kmsKeyId"] == key_arn
        version = prod_plan.named(f"cache-{role}-secret-value")
        assert version.inputs["secretId"] == secret.state["arn"]
        assert json.loads(_secret_value(version.inputs["secretString"])) == {
            "username": user_name,
            "password": password,
        }
        assert version.ignore_changes == ["secretString"]
    group = prod_plan.named("cache-users")
    assert group.inputs == {
        "userGroupId": "medeez-prod-cache-users",
        "engine": "valkey",
        "userIds": [
            "medeez-prod-cache-default",
            "medeez-prod-cache-application",
            "medeez-prod-cache-admin",
            "medeez-prod-cache-invalidator",
        ],
        "tags": TAGS,
    }


def test_parameter_group_and_log_groups(prod_plan: Plan) -> None:
    parameters = prod_plan.named("cache-parameters")
    assert parameters.inputs == {
        "name": "medeez-prod-valkey8",
        "family": "valkey8",
        "description": "medeez-prod-cache: settings that differ from defaults",
        "parameters": [{"name": "maxmemory-policy", "value": "volatile-lru"}],
        "tags": TAGS,
    }
    logs_key = prod_plan.named("logs-key-key").state["arn"]
    for log_type in ("slow-log", "engine-log"):
        group = prod_plan.named(f"cache-{log_type}")
        assert group.inputs == {
            "name": f"/aws/elasticache/medeez-prod-cache/{log_type}",
            "retentionInDays": 365,
            "kmsKeyId": logs_key,
            "tags": TAGS,
        }


@pytest.mark.parametrize(("stack", "nodes"), [("dev_plan", 1), ("prod_plan", 2)])
def test_alarms_per_node_route_to_the_alert_topic(
    stack: str, nodes: int, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(stack)
    topic = plan.named("monitoring-topic").state["arn"]
    alarms = {
        r.inputs["name"]: r.inputs
        for r in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if r.inputs.get("namespace") == "AWS/ElastiCache"
    }
    metrics = {
        "cpu": ("CPUUtilization", "Average", 80),
        "engine-cpu": ("EngineCPUUtilization", "Average", 90),
        "memory": ("DatabaseMemoryUsagePercentage", "Average", 80),
        "connections": ("CurrConnections", "Maximum", 1000),
        "evictions": ("Evictions", "Sum", 100),
    }
    if nodes > 1:
        metrics["replication-lag"] = ("ReplicationLag", "Maximum", 5)
    env = plan.stack
    expected = {
        f"medeez-{env}-cache-{n:03d}-{key}": value
        for n in range(1, nodes + 1)
        for key, value in metrics.items()
    }
    assert set(alarms) == set(expected)
    for name, (metric, statistic, threshold) in expected.items():
        alarm = alarms[name]
        node = name.removeprefix(f"medeez-{env}-")[:9]
        assert (alarm["metricName"], alarm["statistic"], alarm["threshold"]) == (
            metric,
            statistic,
            threshold,
        )
        assert alarm["dimensions"] == {
            "CacheClusterId": f"medeez-{env}-{node}",
            "CacheNodeId": "0001",
        }
        assert alarm["alarmActions"] == alarm["okActions"] == [topic]
        assert alarm["insufficientDataActions"] == [topic]
        assert alarm["comparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_outputs(prod_plan: Plan) -> None:
    outputs = prod_plan.outputs
    group = prod_plan.named("cache-group").state
    assert outputs["cachePrimaryEndpoint"] == group["primaryEndpointAddress"]
    assert outputs["cacheReaderEndpoint"] == group["readerEndpointAddress"]
    assert outputs["cacheUserSecretArns"] == {
        role: prod_plan.named(f"cache-{role}-secret").state["arn"]
        for role in ("default", "application", "admin", "invalidator")
    }
