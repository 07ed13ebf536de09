"""``python -m tools.gate``: exit codes, messages, outputs. Usage errors never start the pack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stackspec.stack_file import PROJECT_DIR
from tests.gate.plans import TABLE, TOPIC, compliant_plan, find
from tools.gate.__main__ import main, project_stack_tags

FIXTURE_PACK = Path(__file__).parent / "fixture_pack"
FIXTURE_ARGS = ["--pack", str(FIXTURE_PACK), "--pack-config", str(FIXTURE_PACK / "config.json")]


def _plan_file(tmp_path, document, name="plan.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def _violating_plan():
    document = compliant_plan()
    find(document, TABLE)["inputs"]["pointInTimeRecovery"]["enabled"] = False
    del find(document, TOPIC)["inputs"]["kmsMasterKeyId"]
    return document


def test_mandatory_violations_exit_1_and_every_format_is_written(tmp_path, capsys):
    plan = _plan_file(tmp_path, _violating_plan())
    status = main(
        [
            "--plan",
            str(plan),
            "--stack",
            "dev",
            "--format",
            "json",
            *FIXTURE_ARGS,
            "--write",
            f"markdown:{tmp_path / 'gate.md'}",
            "--write",
            f"sarif:{tmp_path / 'gate.sarif'}",
            "--write",
            f"text:{tmp_path / 'gate.txt'}",
        ]
    )
    assert status == 1
    document = json.loads(capsys.readouterr().out)
    assert [(v["policyName"], v["urn"], v["enforcementLevel"]) for v in document["violations"]] == [
        ("fixture-topic-encrypted", TOPIC, "mandatory"),
        ("fixture-table-pitr", TABLE, "mandatory"),
    ]
    assert document["pack"] == {
        "name": "gate-fixture",
        "version": "0.3.0",
        "sdkVersion": "1.21.0",
        "policies": 11,
    }
    assert (tmp_path / "gate.md").read_text().startswith("<!-- medeez-policy-gate:dev -->\n### ❌")
    sarif = json.loads((tmp_path / "gate.sarif").read_text())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == [
        "fixture-topic-encrypted",
        "fixture-table-pitr",
    ]
    assert "BLOCKED (2 mandatory violations)" in (tmp_path / "gate.txt").read_text()


def test_a_compliant_plan_exits_0(tmp_path, capsys):
    plan = _plan_file(tmp_path, compliant_plan())
    assert main(["--plan", str(plan), "--stack", "dev", *FIXTURE_ARGS]) == 0
    out = capsys.readouterr().out
    assert out.startswith("HIPAA policy gate: medeez-platform/dev: PASSED\n")
    assert (
        "PACK LOG\n"
        f"  fixture-topic-display-name remediated {TOPIC}\n"
        "  stderr: fixture pack: loaded 11 policies\n"
    ) in out
    assert out.endswith("Exit 0: no mandatory violation.\n")


def test_without_a_plan_the_gate_plans_the_stack_first(tmp_path, capsys):
    saved = tmp_path / "plan-dev.json"
    status = main(["--stack", "dev", "--save-plan", str(saved), "--format", "json", *FIXTURE_ARGS])
    result = json.loads(capsys.readouterr().out)
    plan = json.loads(saved.read_text())
    assert (plan["project"], plan["stack"]) == ("medeez-platform", "dev")
    assert result["plan"] == str(saved)
    # The plan's resources, the root stack resource and the default aws provider.
    assert result["resources"] == len(plan["resources"]) + 2
    # The dev table is not protected (dev config), which the fixture config makes mandatory.
    table = next(r for r in plan["resources"] if r["type"] == "aws:dynamodb/table:Table")
    assert ("fixture-table-protected", table["urn"], "mandatory") in {
        (v["policyName"], v["urn"], v["enforcementLevel"]) for v in result["violations"]
    }
    assert status == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stack", "staging"], "error: unknown stack 'staging': stacks are dev, prod"),
        (
            ["--stack", "prod"],
            "planned for medeez-platform/dev, not medeez-platform/prod; run `make plan STACK=prod",
        ),
        (
            ["--stack", "dev", "--write", "xml:out.xml"],
            "--write 'xml:out.xml': expected FORMAT:PATH with FORMAT one of text, markdown,",
        ),
        (
            ["--stack", "dev", "--save-plan", "p.json"],
            "error: --save-plan keeps the plan the gate makes itself; it cannot go with --plan",
        ),
        (
            ["--stack", "dev", "--pack-config", "nope.json"],
            "error: nope.json: no such pack config file",
        ),
        (
            ["--stack", "dev", "--pack", "tests", "--pack-config", FIXTURE_ARGS[3]],
            f"PulumiPolicy.yaml: missing; {PROJECT_DIR / 'tests'} is not a policy pack",
        ),
    ],
)
def test_usage_errors_exit_2_with_a_message(tmp_path, capsys, args, message):
    plan = _plan_file(tmp_path, compliant_plan())
    assert main(["--plan", str(plan), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert "Traceback" not in captured.err


def test_malformed_plans_exit_2(tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert main(["--plan", str(broken), "--stack", "dev"]) == 2
    assert "broken.json: not JSON (line 1, column 2" in capsys.readouterr().err
    document = compliant_plan()
    find(document, TABLE)["options"]["protect"] = "yes"
    assert main(["--plan", str(_plan_file(tmp_path, document)), "--stack", "dev"]) == 2
    assert (
        "resources[2].options.protect: Input should be a valid boolean" in capsys.readouterr().err
    )


def test_invalid_pack_config_exits_2(tmp_path, capsys):
    config = tmp_path / "config.json"
    plan = _plan_file(tmp_path, compliant_plan())
    args = ["--plan", str(plan), "--stack", "dev", "--pack-config", str(config)]
    # What the CLI itself rejects: a property against the policy's JSON Schema.
    config.write_text('{"fixture-required-tags": {"requiredTags": "Owner"}}')
    assert main([*args, "--pack", str(FIXTURE_PACK)]) == 2
    assert (
        "fixture-required-tags.requiredTags: 'Owner' is not of type 'array'"
        in capsys.readouterr().err
    )
    # A misspelt name passes the CLI (it hands it on) and the fixture pack (which ignores it)...
    config.write_text('{"fixture-typo": "mandatory"}')
    assert main([*args, "--pack", str(FIXTURE_PACK)]) == 0
    capsys.readouterr()
    # ...but the HIPAA pack refuses it in Configure, as it does under `pulumi preview`.
    config.write_text('{"hipaa-dynamodb-pitr": "mandatory", "all": "advisory"}')
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[:2] == [
        f"error: {config}: invalid pack config:",
        "  - all: 'advisory' for every policy; 'all' may only be 'mandatory': lower a rule's "
        "level by naming it, so the weakening is explicit",
    ]
    assert lines[2] == (
        "  - hipaa-dynamodb-pitr: no such policy in the pack (did you mean "
        "hipaa-dynamodb-pitr-enabled?); keys are the policy names listed in POLICIES.md, or 'all'"
    )
    assert "Traceback" not in captured.err


def test_as_a_command_unknown_format_and_missing_arguments_exit_2(tmp_path):
    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "tools.gate", *args],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=False,
        )

    unknown = run("--plan", "p.json", "--stack", "dev", "--format", "xml")
    assert unknown.returncode == 2
    assert (
        "argument --format: invalid choice: 'xml' (choose from 'text', 'markdown', 'json', 'sarif')"
        in unknown.stderr
    )
    missing = run("--plan", str(tmp_path / "none.json"), "--stack", "dev")
    assert missing.returncode == 2
    assert missing.stderr == (
        f"error: {tmp_path / 'none.json'}: no such plan file; write one with "
        f"`make plan STACK=<stack> OUT={tmp_path / 'none.json'}`\n"
    )


def test_stack_tags_are_the_ones_the_cli_derives_from_pulumi_yaml(tmp_path):
    tags = project_stack_tags()
    assert tags["pulumi:project"] == "medeez-platform"
    assert tags["pulumi:runtime"] == "python"
    assert tags["pulumi:description"].startswith("Medeez v2 data layer")
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    assert project_stack_tags(tmp_path) == {"pulumi:project": "p", "pulumi:runtime": "python"}
