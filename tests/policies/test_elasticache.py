"""The cache's guardrails (replication groups, users, user groups, parameter groups, secrets):
each from the compliant baseline with one mutation."""

from __future__ import annotations

import pytest
from hipaa_guardrails import resource_types as t

from tests.policies.fixtures import (
    CACHE_PARAMETER_GROUP,
    CACHE_USER,
    CACHE_USER_GROUP,
    DEFAULT_CACHE_USER,
    REPLICATION_GROUP,
    SECRET,
    cache_nodes,
    replace,
)
from tests.policies.support import (
    DELETE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_STRING_VALUE,
    Node,
    mutate,
    run_resource,
    run_stack,
)

RG, USER, SECRET_TYPE = (
    t.ELASTICACHE_REPLICATION_GROUP,
    t.ELASTICACHE_USER,
    t.SECRETSMANAGER_SECRET,
)
MULTI_AZ = "hipaa-elasticache-multi-az-failover"
TRANSIT = "hipaa-elasticache-transit-required-with-rbac"
SLOW_LOG = "hipaa-elasticache-slow-log-delivered"
PINNED = "hipaa-elasticache-engine-pinned"
PASSWORD = "hipaa-elasticache-user-password-required"
RESTRICTED = "hipaa-elasticache-user-access-restricted"
SECRET_CMK = "hipaa-secretsmanager-secret-encrypted-with-cmk"
DEFAULT_OFF = "hipaa-elasticache-default-user-disabled"
FAMILY = "hipaa-elasticache-parameter-group-family"

CASES = [
    (MULTI_AZ, RG, REPLICATION_GROUP, "multiAzEnabled", False, "multiAzEnabled is false"),
    (
        MULTI_AZ,
        RG,
        REPLICATION_GROUP,
        "automaticFailoverEnabled",
        DELETE,
        "automaticFailoverEnabled is not set",
    ),
    (MULTI_AZ, RG, REPLICATION_GROUP, "numCacheClusters", 1, "numCacheClusters is 1"),
    (MULTI_AZ, RG, REPLICATION_GROUP, "numCacheClusters", UNKNOWN_NUMBER_VALUE, "fails closed"),
    (MULTI_AZ, RG, REPLICATION_GROUP, "multiAzEnabled", UNKNOWN_BOOLEAN_VALUE, "fails closed"),
    (TRANSIT, RG, REPLICATION_GROUP, "transitEncryptionMode", "preferred", "is preferred"),
    (TRANSIT, RG, REPLICATION_GROUP, "transitEncryptionMode", DELETE, "is not set"),
    (TRANSIT, RG, REPLICATION_GROUP, "transitEncryptionMode", UNKNOWN_STRING_VALUE, "closed"),
    (TRANSIT, RG, REPLICATION_GROUP, "authToken", "[secret]", "one shared password"),
    (TRANSIT, RG, REPLICATION_GROUP, "userGroupIds", DELETE, "not per-user authenticated"),
    (TRANSIT, RG, REPLICATION_GROUP, "userGroupIds", UNKNOWN_ARRAY_VALUE, None),
    (SLOW_LOG, RG, REPLICATION_GROUP, "logDeliveryConfigurations", DELETE, "no slow-log"),
    (
        SLOW_LOG,
        RG,
        REPLICATION_GROUP,
        "logDeliveryConfigurations.0.logType",
        "engine-log",
        "no slow-log",
    ),
    (
        SLOW_LOG,
        RG,
        REPLICATION_GROUP,
        "logDeliveryConfigurations.0.destinationType",
        "kinesis-firehose",
        "not delivered to CloudWatch Logs",
    ),
    (
        SLOW_LOG,
        RG,
        REPLICATION_GROUP,
        "logDeliveryConfigurations.0.destination",
        "",
        "destination log group is not set",
    ),
    (SLOW_LOG, RG, REPLICATION_GROUP, "logDeliveryConfigurations", UNKNOWN_ARRAY_VALUE, "slow"),
    (PINNED, RG, REPLICATION_GROUP, "engineVersion", DELETE, "AWS picks the newest major"),
    (PINNED, RG, REPLICATION_GROUP, "engineVersion", "7.2", "allowed majors: 8"),
    (PINNED, RG, REPLICATION_GROUP, "engineVersion", UNKNOWN_STRING_VALUE, "fails closed"),
    (PINNED, RG, REPLICATION_GROUP, "engine", "redis", "engine is redis; allowed: valkey"),
    (PASSWORD, USER, CACHE_USER, "noPasswordRequired", True, "anyone may AUTH"),
    (
        PASSWORD,
        USER,
        CACHE_USER,
        "authenticationMode.type",
        "no-password-required",
        "authenticationMode.type is no-password-required",
    ),
    (PASSWORD, USER, CACHE_USER, "authenticationMode", DELETE, "is not set"),
    (PASSWORD, USER, CACHE_USER, "accessString", "on nopass ~* -@all +get", "contains nopass"),
    (PASSWORD, USER, CACHE_USER, "accessString", UNKNOWN_STRING_VALUE, "fails closed"),
    (PASSWORD, USER, CACHE_USER, "authenticationMode.type", "iam", None),
    (RESTRICTED, USER, CACHE_USER, "accessString", "on ~* +@all", "grants every command"),
    (RESTRICTED, USER, CACHE_USER, "accessString", "on ~* allcommands", "grants every command"),
    (
        RESTRICTED,
        USER,
        CACHE_USER,
        "accessString",
        "on ~* -@dangerous +@all",
        "grants every command",
    ),
    (RESTRICTED, USER, CACHE_USER, "accessString", "on ~* +@all -@dangerous", None),
    (
        RESTRICTED,
        USER,
        CACHE_USER,
        "accessString",
        "on ~* +@all -@dangerous +monitor",
        "grants +monitor",
    ),
    (RESTRICTED, USER, CACHE_USER, "accessString", "on ~x:* +@read +@dangerous", "+@dangerous"),
    (RESTRICTED, USER, CACHE_USER, "accessString", "off ~* +@all", None),
    (RESTRICTED, USER, CACHE_USER, "accessString", UNKNOWN_STRING_VALUE, "fails closed"),
    (SECRET_CMK, SECRET_TYPE, SECRET, "kmsKeyId", DELETE, "aws/secretsmanager is used"),
    (SECRET_CMK, SECRET_TYPE, SECRET, "kmsKeyId", "alias/aws/secretsmanager", "AWS managed key"),
    (SECRET_CMK, SECRET_TYPE, SECRET, "kmsKeyId", UNKNOWN_STRING_VALUE, None),
]


@pytest.mark.parametrize(("rule", "type_", "base", "path", "value", "expected"), CASES)
def test_mutation(rule, type_, base, path, value, expected):
    assert run_resource(rule, type_, base).passed
    outcome = run_resource(rule, type_, mutate(base, path, value))
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


def test_multi_az_is_not_applicable_where_the_pack_config_does_not_require_it():
    single = mutate(REPLICATION_GROUP, "multiAzEnabled", False)
    assert run_resource(MULTI_AZ, RG, single, {"required": False}).not_applicable


def test_engine_pinned_follows_the_allowed_majors_of_the_pack_config():
    config = {"allowedEngines": ["valkey"], "allowedMajors": ["7"]}
    outcome = run_resource(PINNED, RG, REPLICATION_GROUP, config)
    assert outcome.violations[0].startswith("engineVersion is 8.1; allowed majors: 7")


def test_compliant_cache_stack_passes_the_stack_rules():
    for rule in (DEFAULT_OFF, FAMILY):
        assert run_stack(rule, cache_nodes()).passed


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (
            lambda nodes: replace(
                nodes, "cache-default", props={**DEFAULT_CACHE_USER, "accessString": "on ~* -@all"}
            ),
            "default user cache-default is enabled ('on ~* -@all')",
        ),
        (
            lambda nodes: replace(
                nodes,
                "cache-users",
                props={**CACHE_USER_GROUP, "userIds": ["medeez-dev-cache-application"]},
                deps={"userIds": ["cache-application"]},
            ),
            "has no 'default' user of this stack",
        ),
        (
            lambda nodes: replace(
                nodes,
                "cache-default",
                props={**DEFAULT_CACHE_USER, "accessString": UNKNOWN_STRING_VALUE},
            ),
            "access string is unknown (fails closed)",
        ),
    ],
)
def test_default_user_must_be_disabled(mutation, expected):
    outcome = run_stack(DEFAULT_OFF, mutation(cache_nodes()))
    assert len(outcome.violations) == 1, outcome
    assert expected in outcome.violations[0]


def test_default_user_found_through_dependencies_when_ids_are_unknown():
    nodes = replace(
        cache_nodes(), "cache-users", props={**CACHE_USER_GROUP, "userIds": UNKNOWN_ARRAY_VALUE}
    )
    assert run_stack(DEFAULT_OFF, nodes).passed
    enabled = replace(
        nodes, "cache-default", props={**DEFAULT_CACHE_USER, "accessString": "on ~* +@all"}
    )
    assert "is enabled" in run_stack(DEFAULT_OFF, enabled).violations[0]


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (
            lambda nodes: replace(
                nodes, "cache-parameters", props={**CACHE_PARAMETER_GROUP, "family": "redis7"}
            ),
            "of family redis7; it must be valkey8",
        ),
        (
            lambda nodes: replace(
                nodes,
                "cache-group",
                props={**REPLICATION_GROUP, "engineVersion": "7.2"},
            ),
            "of family valkey8; it must be valkey7",
        ),
        (
            lambda nodes: [
                n
                if n.name != "cache-group"
                else Node(
                    n.type,
                    n.name,
                    {**REPLICATION_GROUP, "parameterGroupName": "default.redis7"},
                    {"userGroupIds": ["cache-users"]},
                    protect=True,
                )
                for n in nodes
            ],
            "uses default.redis7; its engine needs family valkey8",
        ),
    ],
)
def test_parameter_group_family_matches_the_engine(mutation, expected):
    outcome = run_stack(FAMILY, mutation(cache_nodes()))
    assert len(outcome.violations) == 1, outcome
    assert expected in outcome.violations[0]
