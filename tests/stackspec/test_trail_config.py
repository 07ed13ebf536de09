"""``medeez-platform:trail``: the audit bucket's lifecycle must be one S3 accepts, its retention
and lock mode live here only, and prod records (or declares an organization trail) in
compliance mode. Each bad value is one line naming the key."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from stackspec.config.stack import load_stack_config, parse_stack_config
from stackspec.errors import ConfigError
from stackspec.stack_file import read_stack

NS = "medeez-platform"
Edit = Callable[[dict[str, Any]], None]


def _bucket(**values: Any) -> Edit:
    return lambda config: config[f"{NS}:trail"]["bucket"].update(values)


def _message(stack: str, edit: Edit) -> str:
    config = copy.deepcopy(read_stack(stack).config)
    edit(config)
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(stack, config)
    lines = str(caught.value).splitlines()
    assert len(lines) == 2, lines
    return lines[1]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            _bucket(transitions=[{"days": 10, "storageClass": "STANDARD_IA"}]),
            "trail.bucket: transitions[0].days: S3 moves objects to STANDARD_IA after 30 days "
            "at the earliest, got 10",
        ),
        (
            _bucket(
                transitions=[
                    {"days": 30, "storageClass": "STANDARD_IA"},
                    {"days": 45, "storageClass": "GLACIER_IR"},
                ]
            ),
            "trail.bucket: transitions[1].days: must be at least 60 (S3 keeps objects 30 days "
            "in STANDARD_IA first), got 45",
        ),
        (
            _bucket(
                transitions=[
                    {"days": 100, "storageClass": "GLACIER"},
                    {"days": 200, "storageClass": "GLACIER_IR"},
                ]
            ),
            "trail.bucket: transitions[1].storageClass: GLACIER_IR must come after GLACIER",
        ),
        (
            _bucket(expirationDays=2000),
            "trail.bucket: expirationDays: must be at least retentionDays (2192), got 2000",
        ),
        (
            _bucket(transitions=[{"days": 30, "storageClass": "ARCHIVE"}]),
            "trail.bucket.transitions[0].storageClass: Input should be 'STANDARD_IA'",
        ),
        (
            _bucket(objectLockMode="GOVERNANCE"),
            "trail.bucket.objectLockMode: must be COMPLIANCE in prod (production PHI)",
        ),
        (
            lambda c: c[f"{NS}:trail"].update(enabled=False),
            "trail.enabled: must be true (or trail.organizationTrail) in prod (production PHI)",
        ),
        (
            lambda c: c[f"{NS}:recovery"]["audit"].update(reportRetentionDays=2190),
            "recovery.audit: reportRetentionDays: moved to trail.bucket.retentionDays",
        ),
    ],
)
def test_bad_trail_config_is_one_line_naming_the_key(edit: Edit, expected: str) -> None:
    assert f"  - {NS}:{expected}" in f"{_message('prod', edit)}"


def test_prod_may_use_an_organization_trail_instead() -> None:
    config = copy.deepcopy(read_stack("prod").config)
    config[f"{NS}:trail"].update(enabled=False, organizationTrail=True)
    assert parse_stack_config("prod", config).trail.organization_trail


def test_defaults_are_six_years_in_compliance_mode_with_archive_tiers() -> None:
    dev = load_stack_config("dev")
    config = copy.deepcopy(read_stack("dev").config)
    del config[f"{NS}:trail"]
    bucket = parse_stack_config("dev", config).trail.bucket
    assert (bucket.object_lock_mode, bucket.retention_days, bucket.expiration_days) == (
        "COMPLIANCE",
        2192,
        2192,
    )
    assert [(t.days, t.storage_class) for t in bucket.transitions] == [
        (30, "STANDARD_IA"),
        (90, "GLACIER_IR"),
        (365, "DEEP_ARCHIVE"),
    ]
    assert (dev.trail.bucket.object_lock_mode, dev.trail.bucket.retention_days) == (
        "GOVERNANCE",
        90,
    )
