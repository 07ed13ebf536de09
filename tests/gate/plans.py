"""Hand-written plans in the shape ``make plan OUT=...`` writes, for driving the gate in tests."""

from __future__ import annotations

import copy
from typing import Any

PROJECT = "medeez-platform"
STACK_URN = "urn:pulumi:dev::medeez-platform::pulumi:pulumi:Stack::medeez-platform-dev"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def urn(type_chain: str, name: str, stack: str = "dev") -> str:
    """A URN under the stack, e.g. ``urn("medeez:data:AppTable$aws:dynamodb/table:Table", "t")``."""
    return f"urn:pulumi:{stack}::{PROJECT}::{type_chain}::{name}"


COMPONENT = urn("medeez:data:AppTable", "app")
KEY = urn("medeez:data:AppTable$aws:kms/key:Key", "table-key")
TABLE = urn("medeez:data:AppTable$aws:dynamodb/table:Table", "app-table")
TOPIC = urn("aws:sns/topic:Topic", "alerts")
ALARM = urn("aws:cloudwatch/metricAlarm:MetricAlarm", "throttles")
BACKUP_PLAN = urn("aws:backup/plan:Plan", "backup-plan")
TAGS = {"Owner": "platform-team", "DataClassification": "phi"}


def _resource(
    urn_: str,
    custom: bool = True,
    parent: str = STACK_URN,
    inputs: dict[str, Any] | None = None,
    dependencies: list[str] | None = None,
    property_dependencies: dict[str, list[str]] | None = None,
    protect: bool = False,
) -> dict[str, Any]:
    return {
        "urn": urn_,
        "type": urn_.split("::")[2].rsplit("$", 1)[-1],
        "name": urn_.rsplit("::", 1)[-1],
        "custom": custom,
        "parent": parent,
        "dependencies": dependencies or [],
        "propertyDependencies": property_dependencies or {},
        "inputs": copy.deepcopy(inputs or {}),  # no dict shared between resources
        "options": {
            "protect": protect,
            "retainOnDelete": protect,
            "ignoreChanges": [],
            "deleteBeforeReplace": False,
        },
    }


def compliant_plan() -> dict[str, Any]:
    """A plan every fixture-pack policy accepts."""
    resources = [
        _resource(COMPONENT, custom=False, protect=True),
        _resource(
            KEY, parent=COMPONENT, inputs={"enableKeyRotation": True, "tags": TAGS}, protect=True
        ),
        _resource(
            TABLE,
            parent=COMPONENT,
            protect=True,
            dependencies=[KEY],
            property_dependencies={"serverSideEncryption": [KEY], "name": []},
            inputs={
                "name": "medeez-dev-app",
                "pointInTimeRecovery": {"enabled": True, "recoveryPeriodInDays": 7},
                "serverSideEncryption": {
                    "enabled": True,
                    "kmsKeyArn": "arn:aws:kms:us-east-1:111122223333:key/k",
                },
                "tags": TAGS,
            },
        ),
        _resource(TOPIC, inputs={"kmsMasterKeyId": "alias/medeez-dev-alerts", "tags": TAGS}),
        _resource(
            ALARM,
            dependencies=[TOPIC],
            property_dependencies={"alarmActions": [TOPIC]},
            inputs={"alarmActions": ["arn:aws:sns:us-east-1:111122223333:alerts"], "tags": TAGS},
        ),
        _resource(BACKUP_PLAN, inputs={"name": "medeez-dev-backup", "tags": TAGS}),
    ]
    return {
        "project": PROJECT,
        "stack": "dev",
        "resources": resources,
        "outputs": {"tableName": "medeez-dev-app"},
    }


def find(plan: dict[str, Any], urn_: str) -> dict[str, Any]:
    """The resource ``urn_`` of ``plan`` (a reference into it, for mutation)."""
    return next(r for r in plan["resources"] if r["urn"] == urn_)
