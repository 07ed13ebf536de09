"""The app table: exactly the design's schema, per-stack projections, one table resource."""

from __future__ import annotations

import pytest

from stackspec.key_schema import GLOBAL_INDEXES
from tools.plan import Plan

TABLE = "aws:dynamodb/table:Table"
INSIGHTS = "aws:dynamodb/contributorInsights:ContributorInsights"

EXPECTED_KEYS = {
    "ByEntityType": ("GSI1PK", "GSI1SK"),
    "ByPatient": ("GSI2PK", "GSI2SK"),
    "ByProviderTime": ("GSI3PK", "GSI3SK"),
    "ByStatus": ("GSI4PK", "GSI4SK"),
    "ExternalIDs": ("GSI5PK", "GSI5SK"),
}


def table_inputs(plan: Plan) -> dict:
    [table] = plan.of_type(TABLE)
    return table.inputs


@pytest.mark.parametrize("plan_name", ["dev_plan", "prod_plan"])
def test_table_has_the_design_schema(plan_name: str, request: pytest.FixtureRequest) -> None:
    plan: Plan = request.getfixturevalue(plan_name)
    inputs = table_inputs(plan)
    assert inputs["name"] == f"medeez-{plan.stack}-app"
    assert inputs["hashKey"] == "PK"
    assert inputs["rangeKey"] == "SK"
    assert inputs["billingMode"] == "PAY_PER_REQUEST"
    expected_attributes = ["PK", "SK"] + [a for pair in EXPECTED_KEYS.values() for a in pair]
    assert inputs["attributes"] == [{"name": a, "type": "S"} for a in expected_attributes]
    assert [gsi["name"] for gsi in inputs["globalSecondaryIndexes"]] == list(EXPECTED_KEYS)
    for gsi in inputs["globalSecondaryIndexes"]:
        partition, sort = EXPECTED_KEYS[gsi["name"]]
        assert gsi["keySchemas"] == [
            {"attributeName": partition, "keyType": "HASH"},
            {"attributeName": sort, "keyType": "RANGE"},
        ]
    assert inputs["streamEnabled"] is True
    assert inputs["streamViewType"] == "NEW_AND_OLD_IMAGES"
    assert inputs["ttl"] == {"attributeName": "expiresAt", "enabled": True}
    assert inputs["deletionProtectionEnabled"] is True


@pytest.mark.parametrize("plan_name", ["dev_plan", "prod_plan"])
def test_table_is_encrypted_with_the_stack_table_key(
    plan_name: str, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(plan_name)
    key = plan.named("table-key-key")
    sse = table_inputs(plan)["serverSideEncryption"]
    assert sse == {"enabled": True, "kmsKeyArn": key.state["arn"]}
    [table] = plan.of_type(TABLE)
    assert table.property_dependencies["serverSideEncryption"] == [key.urn]


def test_dev_projects_all_attributes_on_every_index(dev_plan: Plan) -> None:
    for gsi in table_inputs(dev_plan)["globalSecondaryIndexes"]:
        assert gsi["projectionType"] == "ALL"
        assert "nonKeyAttributes" not in gsi


def test_prod_projections_are_chosen_per_index(prod_plan: Plan) -> None:
    projections = {
        gsi["name"]: (gsi["projectionType"], gsi.get("nonKeyAttributes"))
        for gsi in table_inputs(prod_plan)["globalSecondaryIndexes"]
    }
    assert projections == {
        "ByEntityType": ("KEYS_ONLY", None),
        "ByPatient": ("ALL", None),
        "ByProviderTime": (
            "INCLUDE",
            [
                "entityType",
                "clinicId",
                "patientId",
                "providerId",
                "status",
                "endTime",
                "appointmentType",
            ],
        ),
        "ByStatus": (
            "INCLUDE",
            [
                "entityType",
                "clinicId",
                "patientId",
                "providerId",
                "status",
                "totalCents",
                "dueDate",
                "updatedAt",
            ],
        ),
        "ExternalIDs": ("KEYS_ONLY", None),
    }


def test_pitr_period_and_max_throughput_follow_the_stack(dev_plan: Plan, prod_plan: Plan) -> None:
    assert table_inputs(dev_plan)["pointInTimeRecovery"] == {
        "enabled": True,
        "recoveryPeriodInDays": 7,
    }
    assert table_inputs(prod_plan)["pointInTimeRecovery"] == {
        "enabled": True,
        "recoveryPeriodInDays": 35,
    }
    assert table_inputs(dev_plan)["onDemandThroughput"] == {
        "maxReadRequestUnits": 200,
        "maxWriteRequestUnits": 100,
    }
    assert table_inputs(prod_plan)["onDemandThroughput"] == {
        "maxReadRequestUnits": 4000,
        "maxWriteRequestUnits": 2000,
    }


def test_one_table_resource_with_the_same_urn_in_every_stack(
    dev_plan: Plan, prod_plan: Plan
) -> None:
    # Switching between resource variants would replace (destroy) the table.
    [dev_table] = dev_plan.of_type(TABLE)
    [prod_table] = prod_plan.of_type(TABLE)
    assert dev_table.urn.replace(":dev::", ":prod::") == prod_table.urn
    assert dev_table.parent.endswith("medeez:data:AppTable::app")


def test_contributor_insights_only_where_configured(dev_plan: Plan, prod_plan: Plan) -> None:
    assert dev_plan.of_type(INSIGHTS) == []
    insights = {
        (r.inputs["tableName"], r.inputs.get("indexName"), r.inputs["mode"])
        for r in prod_plan.of_type(INSIGHTS)
    }
    mode = "ACCESSED_AND_THROTTLED_KEYS"
    assert insights == {("medeez-prod-app", None, mode)} | {
        ("medeez-prod-app", index.name, mode) for index in GLOBAL_INDEXES
    }


def test_table_protection_comes_from_config(dev_plan: Plan, prod_plan: Plan) -> None:
    [dev_table] = dev_plan.of_type(TABLE)
    [prod_table] = prod_plan.of_type(TABLE)
    assert (dev_table.protect, dev_table.retain_on_delete) == (False, False)
    assert (prod_table.protect, prod_table.retain_on_delete) == (True, True)
