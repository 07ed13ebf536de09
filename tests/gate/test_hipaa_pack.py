"""The HIPAA pack (policies/) through the real analyzer protocol, on the real dev and prod plans.

The pack runs as ``pulumi preview --policy-pack policies --policy-pack-config
policies/config/<stack>.json`` runs it: one pack process per stack, configured from the stack's
pack config, every resource analyzed, then the stack.
"""

from __future__ import annotations

import copy
import json

import pytest

from stackspec.stack_file import PROJECT_DIR, read_stack
from tools.gate.__main__ import main
from tools.gate.pack_config import load_pack_config, reconcile
from tools.gate.pack_process import PolicyPackProcess
from tools.gate.plan_input import parse_plan
from tools.gate.report import build_report
from tools.gate.run_loop import run_pack
from tools.gate.wire import cli_config_env

PACK = PROJECT_DIR / "policies"


def _gate(stack, document, pack_config=None):
    """Run the pack over ``document`` for ``stack`` and return the report."""
    with PolicyPackProcess(
        PACK,
        project="medeez-platform",
        stack=stack,
        stack_config=cli_config_env(read_stack(stack).config),
    ) as pack:
        info = pack.info()
        config = reconcile(
            [p.schema() for p in info.policies],
            info.initial_config,
            pack_config or load_pack_config(PACK / "config" / f"{stack}.json"),
            f"policies/config/{stack}.json",
        )
        run = run_pack(pack, parse_plan(document), config, info, read_stack(stack).config)
    return build_report(
        run,
        project="medeez-platform",
        stack=stack,
        plan_path="plan.json",
        pack_config_path=f"policies/config/{stack}.json",
        resource_count=run.analyzed_resources,
    )


def _pairs(report):
    return {(v.policy, v.urn, v.enforcement) for v in report.violations}


@pytest.fixture(scope="module")
def dev_document(dev_plan):
    return dev_plan.to_json()


@pytest.fixture(scope="module")
def dev_report(dev_document):
    return _gate("dev", dev_document)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_stack_passes_with_no_mandatory_violation(request, stack):
    document = request.getfixturevalue(f"{stack}_plan").to_json()
    report = _gate(stack, document)
    assert [(v.policy, v.resource, v.message) for v in report.mandatory] == []
    assert report.exit_code == 0
    # Every resource of the plan was analyzed, plus the root stack resource and the default aws
    # provider.
    assert report.resource_count == len(document["resources"]) + 2


def test_injected_violations_yield_exactly_those(dev_document, dev_report):
    document = copy.deepcopy(dev_document)
    table = next(r for r in document["resources"] if r["type"] == "aws:dynamodb/table:Table")
    table["inputs"]["pointInTimeRecovery"]["enabled"] = False
    key = next(r for r in document["resources"] if r["type"] == "aws:kms/key:Key")
    key["inputs"]["enableKeyRotation"] = False
    mutated = _pairs(_gate("dev", document))
    assert mutated - _pairs(dev_report) == {
        ("hipaa-dynamodb-pitr-enabled", table["urn"], "mandatory"),
        ("hipaa-kms-key-rotation-enabled", key["urn"], "mandatory"),
    }
    # Nothing the baseline reported went away.
    assert _pairs(dev_report) <= mutated


def test_the_gate_command_exits_1_on_injected_violations(tmp_path, capsys, dev_document):
    document = copy.deepcopy(dev_document)
    topic = next(r for r in document["resources"] if r["type"] == "aws:sns/topic:Topic")
    del topic["inputs"]["kmsMasterKeyId"]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(document))
    assert main(["--plan", str(plan), "--stack", "dev", "--format", "json"]) == 1
    result = json.loads(capsys.readouterr().out)
    on_topic = {
        (v["policyName"], v["enforcementLevel"])
        for v in result["violations"]
        if v["urn"] == topic["urn"]
    }
    assert ("hipaa-sns-topic-encrypted-with-cmk", "mandatory") in on_topic
    assert result["pack"]["name"] == "medeez-hipaa-guardrails"


def test_an_exemption_travels_through_the_protocol_into_the_report(tmp_path, dev_document):
    document = copy.deepcopy(dev_document)
    table = next(r for r in document["resources"] if r["type"] == "aws:dynamodb/table:Table")
    table["inputs"]["pointInTimeRecovery"]["enabled"] = False
    config = json.loads((PACK / "config" / "dev.json").read_text())
    config.setdefault("hipaa-dynamodb-pitr-enabled", {})["exemptions"] = [
        {
            "resource": table["name"],
            "reason": "Restore drill runs against a copy of the table this week.",
            "ticket": "SEC-142",
            "expires": "2999-12-31",
        }
    ]
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(config))
    report = _gate("dev", document, load_pack_config(path))
    assert not [v for v in report.mandatory if v.policy == "hipaa-dynamodb-pitr-enabled"]
    applied = [
        e
        for e in report.exemptions
        if e.kind == "EXEMPTED" and e.policy == "hipaa-dynamodb-pitr-enabled"
    ]
    assert [(e.policy, e.resource, e.ticket, e.expires, e.urn) for e in applied] == [
        ("hipaa-dynamodb-pitr-enabled", table["name"], "SEC-142", "2999-12-31", table["urn"])
    ]
    assert applied[0].reason == "Restore drill runs against a copy of the table this week."


def test_no_format_shows_an_absolute_path_of_this_machine(tmp_path, capsys, dev_document):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(dev_document))
    outputs = {name: tmp_path / f"gate.{name}" for name in ("markdown", "json", "sarif")}
    writes = [arg for name, path in outputs.items() for arg in ("--write", f"{name}:{path}")]
    assert main(["--plan", str(plan), "--stack", "dev", *writes]) == 0
    texts = {name: path.read_text() for name, path in outputs.items()}
    texts["text"] = capsys.readouterr().out
    for name, text in texts.items():
        assert str(PROJECT_DIR) not in text, name
    if not (PACK / "venv" / "bin" / "python").is_file():  # the CLI's venv stands in when built
        assert (
            "ran the pack with .venv/bin/python, which has its pinned versions"
            in (texts["markdown"])
        )
