"""The plan reader: the shape the plan runner writes, and a clear error for anything else."""

from __future__ import annotations

import json

import pytest

from tests.gate.plans import KEY, TABLE, compliant_plan, find
from tools.gate.plan_input import PlanError, load_plan, parse_plan


def test_reads_resources_options_and_dependencies_in_order():
    plan = parse_plan(compliant_plan())
    assert [r.name for r in plan.resources] == [
        "app",
        "table-key",
        "app-table",
        "alerts",
        "throttles",
        "backup-plan",
    ]
    table = plan.by_urn()[TABLE]
    assert table.custom is True
    assert table.protect is True
    assert table.retain_on_delete is True
    assert table.delete_before_replace is False
    assert table.dependencies == (KEY,)
    assert table.property_dependencies == {"serverSideEncryption": (KEY,), "name": ()}
    assert table.inputs["pointInTimeRecovery"] == {"enabled": True, "recoveryPeriodInDays": 7}
    assert (
        plan.stack_urn
        == "urn:pulumi:dev::medeez-platform::pulumi:pulumi:Stack::medeez-platform-dev"
    )


def test_the_real_plan_runner_output_is_accepted(dev_plan):
    plan = parse_plan(json.loads(json.dumps(dev_plan.to_json())))
    assert len(plan.resources) == len(dev_plan.resources)
    assert {r.type for r in plan.resources} >= {"aws:dynamodb/table:Table", "aws:kms/key:Key"}


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda p: p.pop("resources"), "resources: Field required"),
        (lambda p: p.update(stack=7), "stack: Input should be a valid string"),
        (
            lambda p: find(p, TABLE)["options"].update(protect="yes"),
            "resources[2].options.protect: Input should be a valid boolean",
        ),
        (
            lambda p: find(p, TABLE).update(custom=None),
            "resources[2].custom: Input should be a valid boolean",
        ),
        (
            lambda p: find(p, TABLE).update(inputs=[1]),
            "resources[2].inputs: Input should be a valid dictionary",
        ),
        (
            lambda p: find(p, TABLE).update(urn="app-table"),
            "resources[2].urn: String should match pattern",
        ),
        (
            lambda p: find(p, TABLE)["propertyDependencies"].update(ttl="x"),
            "resources[2].propertyDependencies.ttl: Input should be a valid list",
        ),
    ],
)
def test_a_malformed_plan_names_the_json_path(edit, expected):
    document = compliant_plan()
    edit(document)
    with pytest.raises(PlanError) as caught:
        parse_plan(document, "plan.json")
    message = str(caught.value)
    assert message.startswith("plan.json: not a plan written by `make plan OUT=...`:")
    assert expected in message


def test_duplicate_urns_and_foreign_stacks_are_rejected():
    document = compliant_plan()
    document["resources"].append(dict(find(document, TABLE)))
    with pytest.raises(PlanError, match=r"resources\[6\]\.urn: .*app-table appears twice"):
        parse_plan(document, "plan.json")
    document = compliant_plan()
    find(document, TABLE)["urn"] = TABLE.replace(":dev::", ":prod::")
    with pytest.raises(PlanError, match="belongs to stack 'prod', but the plan is for stack 'dev'"):
        parse_plan(document, "plan.json")


def test_file_errors_say_what_is_wrong(tmp_path):
    with pytest.raises(PlanError, match=r"no such plan file; write one with `make plan"):
        load_plan(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"project": "medeez-platform",\n "stack": }')
    with pytest.raises(PlanError, match=r"broken.json: not JSON \(line 2, column 11"):
        load_plan(broken)
    array = tmp_path / "array.json"
    array.write_text("[]")
    with pytest.raises(PlanError, match="expected a JSON object with project, stack and resources"):
        load_plan(array)
