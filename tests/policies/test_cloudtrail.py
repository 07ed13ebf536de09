"""CloudTrail rules: KMS, log-file validation, multi-region, management events (resource rules on
the trail) and every table in a trail's data events (a stack rule that an organization trail,
declared in the pack config, exempts visibly)."""

from __future__ import annotations

import pytest
from hipaa_guardrails import resource_types as t

from tests.policies import fixtures as f
from tests.policies.support import (
    DELETE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_STRING_VALUE,
    Node,
    mutate,
    report_exemptions,
    run_resource,
    run_stack,
)

KMS = "hipaa-cloudtrail-encrypted-with-kms"
VALIDATION = "hipaa-cloudtrail-log-file-validation"
REGIONS = "hipaa-cloudtrail-multi-region"
MANAGEMENT = "hipaa-cloudtrail-management-events"
DATA_EVENTS = "hipaa-cloudtrail-table-data-events"

BASIC_SELECTORS = [{"readWriteType": "All", "includeManagementEvents": True}]

CASES = [
    (KMS, "kmsKeyId", DELETE, "kmsKeyId is not set"),
    (KMS, "kmsKeyId", "", "kmsKeyId is not set"),
    (KMS, "kmsKeyId", UNKNOWN_STRING_VALUE, None),  # set, known at `pulumi up`
    (VALIDATION, "enableLogFileValidation", False, "enableLogFileValidation is false"),
    (VALIDATION, "enableLogFileValidation", DELETE, "enableLogFileValidation is not set"),
    (VALIDATION, "enableLogFileValidation", UNKNOWN_BOOLEAN_VALUE, "fails closed"),
    (REGIONS, "isMultiRegionTrail", False, "isMultiRegionTrail is false"),
    (REGIONS, "isMultiRegionTrail", DELETE, "isMultiRegionTrail is not set"),
    (REGIONS, "includeGlobalServiceEvents", False, "IAM and STS events would not be recorded"),
    (REGIONS, "includeGlobalServiceEvents", DELETE, None),  # AWS default: true
    (MANAGEMENT, "enableLogging", False, "the trail records nothing"),
    (
        MANAGEMENT,
        "advancedEventSelectors.0.fieldSelectors.0.equals",
        ["Data"],
        "no event selector records all management events",
    ),
    (
        MANAGEMENT,
        "advancedEventSelectors.0.fieldSelectors",
        [
            {"field": "eventCategory", "equals": ["Management"]},
            {"field": "readOnly", "equals": ["false"]},
        ],
        "no event selector records all management events",
    ),
    (MANAGEMENT, "advancedEventSelectors", UNKNOWN_ARRAY_VALUE, "fails closed"),
    (MANAGEMENT, "advancedEventSelectors", DELETE, None),  # no selectors: AWS records them all
]


@pytest.mark.parametrize(("rule", "path", "value", "expected"), CASES)
def test_trail_mutation(rule, path, value, expected):
    outcome = run_resource(rule, t.CLOUDTRAIL_TRAIL, mutate(f.TRAIL, path, value))
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


@pytest.mark.parametrize("rule", [KMS, VALIDATION, REGIONS, MANAGEMENT])
def test_the_compliant_trail_passes(rule):
    assert run_resource(rule, t.CLOUDTRAIL_TRAIL, f.TRAIL).passed


def test_basic_selectors_with_all_management_events_pass_and_write_only_fails():
    basic = {**mutate(f.TRAIL, "advancedEventSelectors", DELETE), "eventSelectors": BASIC_SELECTORS}
    assert run_resource(MANAGEMENT, t.CLOUDTRAIL_TRAIL, basic).passed
    write_only = mutate(basic, "eventSelectors.0.readWriteType", "WriteOnly")
    assert len(run_resource(MANAGEMENT, t.CLOUDTRAIL_TRAIL, write_only).violations) == 1


# --- every table in a trail's data events --------------------------------------------------------


def _with_trail(props, deps=None):
    return f.replace(f.compliant_stack(), "trail", props=props, deps=deps or {})


def test_the_compliant_stack_records_its_table():
    assert run_stack(DATA_EVENTS, f.compliant_stack()).passed


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("advancedEventSelectors.1.fieldSelectors.2.equals", ["arn:aws:dynamodb:::table/other"]),
        ("advancedEventSelectors.1.fieldSelectors.1.equals", ["AWS::S3::Object"]),
        ("advancedEventSelectors.1.fieldSelectors.0.equals", ["Management"]),
        ("advancedEventSelectors", [f.TRAIL["advancedEventSelectors"][0]]),
    ],
)
def test_a_table_outside_every_selector_is_flagged(path, value):
    outcome = run_stack(DATA_EVENTS, _with_trail(mutate(f.TRAIL, path, value)))
    (message,) = outcome.violations
    assert message.startswith("table app-table is in no trail's data events")
    assert outcome.urns == [f.compliant_stack()[1].urn]


def test_a_selector_on_every_table_covers_it():
    every = mutate(
        f.TRAIL,
        "advancedEventSelectors.1.fieldSelectors",
        f.TRAIL["advancedEventSelectors"][1]["fieldSelectors"][:2],
    )
    assert run_stack(DATA_EVENTS, _with_trail(every)).passed


def test_an_unknown_arn_computed_from_the_table_covers_it_and_one_from_elsewhere_does_not():
    unknown = mutate(
        f.TRAIL, "advancedEventSelectors.1.fieldSelectors.2.equals", [UNKNOWN_STRING_VALUE]
    )
    assert run_stack(
        DATA_EVENTS, _with_trail(unknown, {"advancedEventSelectors": ["app-table"]})
    ).passed
    assert len(run_stack(DATA_EVENTS, _with_trail(unknown)).violations) == 1


def test_a_second_table_needs_its_own_selector():
    other = {**f.TABLE, "name": "medeez-dev-other"}
    nodes = [*f.compliant_stack(), Node(t.TABLE, "other-table", other, protect=True)]
    (message,) = run_stack(DATA_EVENTS, nodes).violations
    assert message.startswith("table other-table is in no trail's data events")


def test_an_organization_trail_declared_in_the_pack_config_exempts_and_is_reported():
    nodes = f.without(f.compliant_stack(), "trail")
    assert len(run_stack(DATA_EVENTS, nodes).violations) == 1
    report_exemptions()  # drain
    declared = run_stack(DATA_EVENTS, nodes, {"organizationTrail": True})
    assert declared.violations == []
    assert declared.not_applicable == (
        "the trail is external: an organization trail outside this stack records its tables' "
        "data events (pack config organizationTrail)"
    )
    assert report_exemptions().violations == [
        "CONFIG DEVIATION: hipaa-cloudtrail-table-data-events runs with organizationTrail = true "
        "(secure default false), as set in this stack's pack config"
    ]
