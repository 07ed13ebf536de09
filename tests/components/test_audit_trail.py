"""The stack's CloudTrail trail: management events and the table's data events, every region,
log-file validation, the audit key, delivered under the audit bucket's ``cloudtrail/`` prefix once
the bucket policy lets it; none when an organization trail records the account."""

from __future__ import annotations

import json

import pytest

from stackspec.stack_file import PROJECT_DIR, read_stack
from tools.mocks import MOCK_ACCOUNT_ID
from tools.plan import Plan, run_program

TRAIL = "aws:cloudtrail/trail:Trail"


def _selectors(stack: str) -> list[dict[str, object]]:
    table = f"arn:aws:dynamodb:us-east-1:{MOCK_ACCOUNT_ID}:table/medeez-{stack}-app"
    return [
        {
            "name": "Management events",
            "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}],
        },
        {
            "name": "Data events of the app table",
            "fieldSelectors": [
                {"field": "eventCategory", "equals": ["Data"]},
                {"field": "resources.type", "equals": ["AWS::DynamoDB::Table"]},
                {"field": "resources.ARN", "equals": [table]},
            ],
        },
    ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_trail_inputs(stack: str, request: pytest.FixtureRequest) -> None:
    plan: Plan = request.getfixturevalue(f"{stack}_plan")
    (trail,) = plan.of_type(TRAIL)
    assert trail.name == "trail-trail"
    assert trail.inputs == {
        "name": f"medeez-{stack}-trail",
        "s3BucketName": f"medeez-{stack}-audit-{MOCK_ACCOUNT_ID}",
        "s3KeyPrefix": "cloudtrail",
        "kmsKeyId": plan.named("audit-key-key").state["arn"],
        "isMultiRegionTrail": True,
        "includeGlobalServiceEvents": True,
        "enableLogFileValidation": True,
        "enableLogging": True,
        "advancedEventSelectors": _selectors(stack),
        "tags": trail.inputs["tags"],
    }
    assert trail.inputs["tags"]["Environment"] == stack
    # CloudTrail checks the bucket policy when the trail is created: it must exist first.
    assert plan.named("audit-policy").urn in trail.dependencies
    assert plan.outputs["trailArn"] == (
        f"arn:aws:cloudtrail:us-east-1:{MOCK_ACCOUNT_ID}:trail/medeez-{stack}-trail"
    )
    assert plan.outputs["auditBucketName"] == f"medeez-{stack}-audit-{MOCK_ACCOUNT_ID}"


def _plan_with(stack: str, **trail: object) -> Plan:
    config = dict(read_stack(stack).config)
    current = json.loads(json.dumps(config.get("medeez-platform:trail", {})))
    config["medeez-platform:trail"] = {**current, **trail}
    return run_program(stack, config)


def test_an_organization_trail_means_no_trail_here_but_the_bucket_stays() -> None:
    plan = _plan_with("dev", organizationTrail=True)
    assert plan.of_type(TRAIL) == []
    assert plan.outputs["trailArn"] is None
    # The bucket still holds the audit chain's digests; nothing lets CloudTrail write or encrypt.
    policy = plan.named("audit-policy").inputs["policy"]
    key_policy = plan.named("audit-key-key").inputs["policy"]
    assert "cloudtrail" not in policy
    assert "cloudtrail" not in key_policy


def test_stream_data_events_add_a_selector_on_the_stream() -> None:
    plan = _plan_with("dev", streamDataEvents=True, managementEvents=False)
    (trail,) = plan.of_type(TRAIL)
    stream = plan.outputs["tableStreamArn"]
    assert [s["name"] for s in trail.inputs["advancedEventSelectors"]] == [
        "Data events of the app table",
        "Data events of the app table's stream",
    ]
    assert trail.inputs["advancedEventSelectors"][1]["fieldSelectors"] == [
        {"field": "eventCategory", "equals": ["Data"]},
        {"field": "resources.type", "equals": ["AWS::DynamoDB::Stream"]},
        {"field": "resources.ARN", "equals": [stream]},
    ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_pack_config_declares_the_same_organization_trail_as_the_stack(stack: str) -> None:
    """The gate cannot read the stack config: the pack config says the same, and a deviation
    from the default is reported as a CONFIG DEVIATION in every preview."""
    trail = read_stack(stack).config.get("medeez-platform:trail", {})
    pack = json.loads((PROJECT_DIR / "policies" / "config" / f"{stack}.json").read_text())
    declared = pack.get("hipaa-cloudtrail-table-data-events", {}).get("organizationTrail", False)
    assert declared == bool(trail.get("organizationTrail", False))
