"""The cache's config and definition: bounds and invariants as one-line errors, the pinned engine,
the users' access strings and the per-node alarms."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stackspec.config.stack import load_stack_config, parse_stack_config
from stackspec.definitions import stack_definition
from stackspec.definitions.cache import CacheUserRole
from stackspec.errors import ConfigError
from stackspec.stack_file import read_stack

NS = "medeez-platform"


def _errors(stack: str, **cache: Any) -> list[str]:
    config = copy.deepcopy(read_stack(stack).config)
    config[f"{NS}:cache"] = {**config[f"{NS}:cache"], **cache}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(stack, config)
    lines = str(caught.value).splitlines()
    assert lines[0] == f"stack {stack}: invalid config in Pulumi.{stack}.yaml:"
    return lines[1:]


@pytest.mark.parametrize(
    ("stack", "cache", "expected"),
    [
        (
            "prod",
            {"numCacheClusters": 1, "automaticFailover": False, "multiAz": False},
            "cache.numCacheClusters: must be at least 2 in prod (production PHI)\n"
            f"  - {NS}:cache.automaticFailover: must be true in prod (production PHI)\n"
            f"  - {NS}:cache.multiAz: must be true in prod (production PHI)",
        ),
        (
            "prod",
            {"multiAz": False},
            "cache.multiAz: must be true in prod (production PHI)",
        ),
        (
            "dev",
            {"automaticFailover": True},
            "automaticFailover needs numCacheClusters >= 2",
        ),
        ("dev", {"multiAz": True}, "multiAz needs automaticFailover"),
        ("dev", {"numCacheClusters": 7}, "cache.numCacheClusters: Input should be less than"),
        ("dev", {"ttlSeconds": 0}, "cache.ttlSeconds: Input should be greater than or equal to 1"),
        ("dev", {"snapshotRetentionDays": 0}, "cache.snapshotRetentionDays: Input should be"),
        ("dev", {"snapshotRetentionDays": 36}, "cache.snapshotRetentionDays: Input should be"),
        ("dev", {"snapshotWindow": "03:00-03:30"}, "snapshotWindow must be at least 60 minutes"),
        ("dev", {"snapshotWindow": "3am"}, "cache.snapshotWindow: String should match pattern"),
        (
            "dev",
            {"maintenanceWindow": "sun:03:30-sun:04:30"},
            "maintenanceWindow (sun:03:30-sun:04:30) overlaps snapshotWindow (03:00-04:00)",
        ),
        (
            "dev",
            {"snapshotWindow": "23:30-00:30", "maintenanceWindow": "mon:00:00-mon:01:00"},
            "overlaps snapshotWindow",
        ),
        (
            "dev",
            {"maintenanceWindow": "sat:23:30-sun:00:00"},
            "maintenanceWindow must be at least 60 minutes long",
        ),
        ("dev", {"nodeType": "r7g.large"}, "cache.nodeType: String should match pattern"),
        ("dev", {"logRetentionDays": 100}, "cache.logRetentionDays: Input should be"),
        ("dev", {"maxmemoryPolicy": "lru"}, "cache.maxmemoryPolicy: Input should be"),
        ("dev", {"engineVersion": "7.2"}, "cache.engineVersion"),
    ],
)
def test_bad_cache_config_is_one_line(stack: str, cache: dict[str, Any], expected: str) -> None:
    assert expected in "\n".join(_errors(stack, **cache))


def test_a_maintenance_window_across_midnight_that_misses_the_snapshots_is_accepted() -> None:
    config = copy.deepcopy(read_stack("dev").config)
    config[f"{NS}:cache"]["maintenanceWindow"] = "sat:23:00-sun:01:00"
    assert parse_stack_config("dev", config).cache.maintenance_window == "sat:23:00-sun:01:00"


def test_definition_pins_the_local_engine_and_scopes_the_users() -> None:
    dev = stack_definition(load_stack_config("dev")).cache
    assert (dev.engine, dev.engine_version, dev.parameter_group_family) == (
        "valkey",
        "8.1",
        "valkey8",
    )
    assert (dev.port, dev.key_prefix, dev.ttl_seconds) == (6379, "medeez:dev:", 60)
    assert [(u.user_id, u.user_name, u.access_string) for u in dev.users] == [
        ("medeez-dev-cache-default", "default", "off ~* -@all"),
        (
            "medeez-dev-cache-application",
            "app",
            "on ~medeez:dev:* -@all +get +set +del +unlink +mget +expire +ping +client|setinfo",
        ),
        (
            "medeez-dev-cache-admin",
            "admin",
            "on ~* +@all -@dangerous +info +slowlog|get +slowlog|len +latency|latest "
            "+latency|history +client|list +flushdb",
        ),
        ("medeez-dev-cache-invalidator", "invalidator", "on ~medeez:dev:* -@all +unlink +ping"),
    ]
    assert dev.user(CacheUserRole.APPLICATION).secret_name == "medeez-dev/cache/application"
    assert dev.parameters == (("maxmemory-policy", "volatile-lru"),)
    assert [d.log_group_name for d in dev.log_deliveries] == [
        "/aws/elasticache/medeez-dev-cache/slow-log",
        "/aws/elasticache/medeez-dev-cache/engine-log",
    ]


def test_alarms_cover_every_node_and_replication_lag_only_with_replicas() -> None:
    dev = stack_definition(load_stack_config("dev")).cache
    prod = stack_definition(load_stack_config("prod")).cache
    assert [a.key for a in dev.alarms] == [
        "cache-001-cpu",
        "cache-001-engine-cpu",
        "cache-001-memory",
        "cache-001-connections",
        "cache-001-evictions",
    ]
    assert prod.node_ids == ("medeez-prod-cache-001", "medeez-prod-cache-002")
    assert len(prod.alarms) == 12
    lag = [a for a in prod.alarms if a.metric_name == "ReplicationLag"]
    assert [a.dimensions for a in lag] == [
        (("CacheClusterId", "medeez-prod-cache-001"), ("CacheNodeId", "0001")),
        (("CacheClusterId", "medeez-prod-cache-002"), ("CacheNodeId", "0001")),
    ]
    assert {a.treat_missing_data for a in lag} == {"notBreaching"}
