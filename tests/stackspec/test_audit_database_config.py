"""auditDatabase config: a bad value is one line naming the key and what is allowed; prod's
invariants hold; the windows may not overlap."""

from __future__ import annotations

import copy

import pytest

from stackspec.config.stack import parse_stack_config
from stackspec.errors import ConfigError
from stackspec.stack_file import read_stack

KEY = "medeez-platform:auditDatabase"


def _error(stack: str, **changes: object) -> str:
    config = copy.deepcopy(read_stack(stack).config)
    config[KEY] = {**config[KEY], **changes}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(stack, config)
    lines = str(caught.value).splitlines()
    assert len(lines) == 2, lines
    return lines[1]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"engineVersion": "15.8"}, "auditDatabase.engineVersion: '15.8' is not a PostgreSQL 16"),
        ({"engineVersion": "16"}, "is not a PostgreSQL 16 minor version such as 16.11"),
        ({"instanceClass": "t4g.micro"}, "auditDatabase.instanceClass"),
        ({"allocatedStorageGib": 10}, "auditDatabase.allocatedStorageGib"),
        ({"maxAllocatedStorageGib": 20, "allocatedStorageGib": 40}, "must be at least"),
        ({"backupRetentionDays": 36}, "auditDatabase.backupRetentionDays"),
        ({"backupWindow": "03:00-03:10"}, "shorter than the 30 minutes RDS requires"),
        ({"backupWindow": "3am"}, "is not hh24:mi-hh24:mi"),
        ({"maintenanceWindow": "sun:03:15-sun:03:45"}, "overlaps backupWindow (03:00-03:30)"),
        ({"maintenanceWindow": "mon:02:50-mon:03:20"}, "overlaps backupWindow"),
        ({"performanceInsightsRetentionDays": 30}, "not a Performance Insights retention"),
        ({"monitoringIntervalSeconds": 0}, "auditDatabase.monitoringIntervalSeconds"),
        ({"logRetentionDays": 2190}, "2190 is not a CloudWatch Logs retention"),
        ({"multiAZ": True}, "auditDatabase.multiAZ"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_key(changes: dict, expected: str) -> None:
    assert expected in _error("dev", **changes)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"multiAz": False}, "auditDatabase.multiAz: must be true in prod"),
        ({"backupRetentionDays": 7}, "auditDatabase.backupRetentionDays: must be 35 in prod"),
        ({"deletionProtection": False}, "auditDatabase.deletionProtection: must be true in prod"),
    ],
)
def test_prod_invariants(changes: dict, expected: str) -> None:
    assert expected in _error("prod", **changes)


def test_windows_across_midnight_and_the_week_are_allowed_when_apart() -> None:
    config = copy.deepcopy(read_stack("dev").config)
    config[KEY] = {
        **config[KEY],
        "backupWindow": "23:45-00:30",
        "maintenanceWindow": "sun:23:00-mon:01:00",
    }
    with pytest.raises(ConfigError, match="overlaps backupWindow"):
        parse_stack_config("dev", config)
    config[KEY]["maintenanceWindow"] = "sun:21:00-sun:23:00"
    assert parse_stack_config("dev", config).audit_database.backup_window == "23:45-00:30"
