"""``make diff``: replacement of the table on a key-schema change, GSI rebuilds, data-bearing
steps first, secrets masked, every planned type known to the replacement table, and the base
planned from a git ref."""

from __future__ import annotations

import json

import pytest

from stackspec.stack_file import read_stack
from tests.tools.review_support import document, edited, resource
from tools.diff.__main__ import main
from tools.diff.base import plan_at
from tools.diff.compare import MASK, compare
from tools.diff.replacement import FORCE_NEW
from tools.diff.report import render_json, render_markdown, render_text
from tools.gate.plan_input import parse_plan
from tools.gate.wire import SECRET_SIG, SIG_KEY
from tools.plan import run_program


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_planned_type_is_in_the_replacement_table(stack, request) -> None:
    plan = request.getfixturevalue(stack)
    assert {r.type for r in plan.resources if r.custom} <= set(FORCE_NEW)


@pytest.mark.parametrize("key", ["hashKey", "rangeKey", "name"])
def test_a_table_key_schema_change_replaces_the_table_and_comes_first(prod_doc, prod, key) -> None:
    def change(doc):
        resource(doc, "app-table")["inputs"][key] = "OTHER"
        resource(doc, "monitoring-user-errors")["inputs"]["threshold"] = 99.0

    diff = compare(prod, edited(prod_doc, change), base_label="main")
    first = diff.steps[0]
    assert (first.op, first.name) == ("replace", "app-table")
    assert [c.path for c in first.changes if c.replaces] == [key]
    assert "new, empty table" in first.data_loss
    assert [(s.op, s.name) for s in diff.steps[1:]] == [("update", "monitoring-user-errors")]
    markdown = render_markdown(diff)
    assert markdown.index("[!CAUTION]") < markdown.index("| Step |")
    assert "(protected" in markdown


def test_a_gsi_key_schema_change_rebuilds_that_index(dev_doc, dev) -> None:
    def rekey(doc):
        gsi = resource(doc, "app-table")["inputs"]["globalSecondaryIndexes"][2]
        gsi["keySchemas"][1]["attributeName"] = "GSI3SK2"

    diff = compare(dev, edited(dev_doc, rekey), base_label="main")
    (step,) = diff.steps
    assert step.op == "update"
    assert step.rebuilt == ("ByProviderTime",)
    assert "index ByProviderTime deleted and rebuilt" in step.data_loss
    assert step.changes[0].path.startswith("globalSecondaryIndexes[ByProviderTime].keySchemas")


def test_a_projection_change_in_the_stack_config_rebuilds_the_index(dev, dev_doc) -> None:
    config = dict(read_stack("dev").config)
    table = json.loads(json.dumps(config["medeez-platform:table"]))
    table["projections"]["ByStatus"] = {"type": "KEYS_ONLY"}
    config["medeez-platform:table"] = table
    head = parse_plan(document(run_program("dev", config)), "head")
    diff = compare(dev, head, base_label="main")
    (step,) = diff.steps
    assert (step.op, step.name, step.rebuilt) == ("update", "app-table", ("ByStatus",))


def test_an_index_removed_is_data_at_risk_an_index_added_is_not(dev_doc, dev) -> None:
    def drop_last(doc):
        resource(doc, "app-table")["inputs"]["globalSecondaryIndexes"].pop()

    removed = compare(dev, edited(dev_doc, drop_last), base_label="main")
    assert removed.steps[0].rebuilt == ("ExternalIDs",)
    added = compare(edited(dev_doc, drop_last), dev, base_label="main")
    assert added.steps[0].rebuilt == ()
    assert added.data_steps == []


def test_a_deleted_table_or_key_is_flagged_and_a_deleted_alarm_is_not(dev_doc, dev) -> None:
    def delete(doc):
        doc["resources"] = [
            r for r in doc["resources"] if r["name"] not in ("app-table", "monitoring-user-errors")
        ]

    diff = compare(dev, edited(dev_doc, delete), base_label="main")
    assert [(s.op, s.name, bool(s.data_loss)) for s in diff.steps] == [
        ("delete", "app-table", True),
        ("delete", "monitoring-user-errors", False),
    ]


def test_secrets_are_masked_in_every_format(dev_doc) -> None:
    def secret(value):
        return {SIG_KEY: SECRET_SIG, "value": value}

    def with_secret(value):
        def edit(doc):
            sub = resource(doc, "monitoring-subscription-0")
            sub["inputs"]["endpoint"] = secret(value)

        return edit

    base = edited(dev_doc, with_secret("https://hooks.example/old-token"))
    head = edited(dev_doc, with_secret("https://hooks.example/new-token"))
    diff = compare(base, head, base_label="main")
    (step,) = diff.steps
    assert (step.changes[0].old, step.changes[0].new) == (MASK, MASK)
    assert step.op == "replace"  # a subscription's endpoint forces a new subscription
    for text in (render_text(diff), render_markdown(diff), render_json(diff)):
        assert "token" not in text
    assert compare(base, base, base_label="main").empty


def test_a_json_policy_document_compares_by_content(dev_doc, dev) -> None:
    def reformat(doc):
        policy = resource(doc, "monitoring-topic-policy")["inputs"]
        policy["policy"] = json.dumps(json.loads(policy["policy"]), indent=4)

    assert compare(dev, edited(dev_doc, reformat), base_label="main").empty


def test_the_base_is_planned_from_a_git_ref(tmp_path, dev) -> None:
    base, label = plan_at("HEAD", "dev", cache=tmp_path)
    assert label.startswith("HEAD (")
    # HEAD's plan differs from the working tree's only by what is uncommitted.
    assert {r.type for r in base.resources} == {r.type for r in dev.resources}
    assert list(tmp_path.glob("*-dev.json"))


def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path) -> None:
    assert main(["--stack", "dev", "--base", "no-such-branch"]) == 2
    assert capsys.readouterr().err == (
        "error: unknown git ref 'no-such-branch': git cannot resolve it to a commit here\n"
    )
    assert main(["--stack", "dev", "--base=--upload-pack=x"]) == 2
    assert capsys.readouterr().err.startswith("error: bad git ref")
    assert main(["--stack", "qa"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown stack 'qa'")
    bad = tmp_path / "base.json"
    bad.write_text('{"project": "medeez-platform"}')
    assert main(["--stack", "dev", "--base-plan", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}: not a plan")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("name", "prop", "value", "data_loss"),
    [
        ("trail-trail", "name", "medeez-prod-trail-2", ""),
        ("audit-bucket", "bucket", "medeez-prod-audit-other", "audit evidence"),
        ("audit-bucket", "objectLockEnabled", False, "audit evidence"),
    ],
)
def test_audit_trail_and_bucket_identity_changes_replace_them(
    prod_doc, prod, name, prop, value, data_loss
) -> None:
    def change(doc):
        resource(doc, name)["inputs"][prop] = value

    diff = compare(prod, edited(prod_doc, change), base_label="main")
    step = next(s for s in diff.steps if s.name == name)
    assert step.op == "replace"
    assert [c.path for c in step.changes if c.replaces] == [prop]
    assert (data_loss in step.data_loss) if data_loss else not step.data_loss


def test_a_trail_selector_change_updates_it_in_place(prod_doc, prod) -> None:
    def change(doc):
        resource(doc, "trail-trail")["inputs"]["enableLogFileValidation"] = False

    (step,) = compare(prod, edited(prod_doc, change), base_label="main").steps
    assert (step.op, step.name) == ("update", "trail-trail")


def test_the_consumer_queue_renamed_is_replaced_with_its_loss_and_memory_is_an_update(
    dev_doc, dev
) -> None:
    def change(doc):
        resource(doc, "stream-consumer-failures")["inputs"]["name"] = "medeez-dev-other"
        resource(doc, "stream-consumer-function")["inputs"]["memorySize"] = 1024

    diff = compare(dev, edited(dev_doc, change), base_label="main")
    steps = {s.name: s for s in diff.steps}
    queue = steps["stream-consumer-failures"]
    assert queue.op == "replace"
    assert "stream positions" in queue.data_loss
    function = steps["stream-consumer-function"]
    assert (function.op, [c.path for c in function.changes]) == ("update", ["memorySize"])


def test_the_function_code_is_planned_by_relative_path(dev_doc) -> None:
    code = resource(dev_doc, "stream-consumer-function")["inputs"]["code"]
    assert code[SIG_KEY] == "0def7320c3a5731c473e5ecbe6d01bc7"  # an archive, in the wire form
    handler = code["assets"]["functions/stream_consumer/handler.py"]
    assert handler == {SIG_KEY: "c44067f5952c0a294b673a41bacd8c17", "path": handler["path"]}
    assert handler["path"] == "functions/stream_consumer/handler.py"
