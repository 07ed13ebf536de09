"""``make plan``: the CLI's tree, JSON file, exit codes and messages, and the mocks' ids/ARNs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from stackspec.stack_file import PROJECT_DIR
from tools.plan import Plan, plan_stack, render_tree


def run_plan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.plan", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_plan_prints_the_tree_and_writes_the_json(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "plan.json"
    result = run_plan("--stack", "dev", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("pulumi:pulumi:Stack  medeez-platform-dev\n")
    assert "├─ medeez:data:AppTable  app\n│  └─ aws:dynamodb/table:Table  app-table\n" in (
        result.stdout
    )
    assert "Resources: 228 (206 custom, 22 components)" in result.stdout
    assert f"plan written to {out}" in result.stdout
    document = json.loads(out.read_text())
    assert (document["project"], document["stack"]) == ("medeez-platform", "dev")
    assert len(document["resources"]) == 228
    assert document["outputs"]["tableName"] == "medeez-dev-app"


def test_unknown_stack_is_a_usage_error_listing_the_stacks() -> None:
    result = run_plan("--stack", "qa")
    assert result.returncode == 2
    assert result.stderr == "error: unknown stack 'qa': no Pulumi.qa.yaml; stacks: dev, prod\n"
    assert result.stdout == ""


def test_bad_config_is_a_usage_error_without_traceback(tmp_path: Path) -> None:
    document = yaml.safe_load((PROJECT_DIR / "Pulumi.prod.yaml").read_text())
    document["config"]["medeez-platform:table"]["deletionProtection"] = False
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(document))
    result = run_plan("--stack", "prod", "--project-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr == (
        "error: stack prod: invalid config in Pulumi.prod.yaml:\n"
        "  - medeez-platform:table.deletionProtection: must be true in prod (production PHI)\n"
    )
    assert "Traceback" not in result.stderr


def test_unwritable_output_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_plan("--stack", "dev", "--out", str(blocker / "plan.json"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: cannot write the plan to {blocker / 'plan.json'}: ")


def test_mocks_return_realistic_ids_and_arns(prod_plan: Plan) -> None:
    table = prod_plan.named("app-table")
    assert table.id == "medeez-prod-app"
    assert table.state["streamArn"].startswith(table.state["arn"] + "/stream/")
    key = prod_plan.named("backup-dr-vault-key-key")
    assert key.state["arn"] == f"arn:aws:kms:us-west-2:111122223333:key/{key.id}"
    assert prod_plan.named("monitoring-topic").id == (
        "arn:aws:sns:us-east-1:111122223333:medeez-prod-alerts"
    )
    assert prod_plan.named("backup-role").state["arn"] == (
        "arn:aws:iam::111122223333:role/medeez-prod-backup"
    )
    alarm = prod_plan.named("monitoring-user-errors")
    assert (
        alarm.state["arn"]
        == "arn:aws:cloudwatch:us-east-1:111122223333:alarm:medeez-prod-user-errors"
    )


def test_ids_differ_between_stacks_and_repeat_within_one(dev_plan: Plan, prod_plan: Plan) -> None:
    assert dev_plan.named("phi-key-key").id != prod_plan.named("phi-key-key").id
    # Deterministic: planning again gives the same ids, ARNs and JSON (plans are diffable).
    again = plan_stack("prod")
    assert again.named("phi-key-key").id == prod_plan.named("phi-key-key").id
    assert again.to_json() == prod_plan.to_json()


def test_tree_marks_protection_and_region(prod_plan: Plan) -> None:
    tree = render_tree(prod_plan)
    assert (
        "aws:backup/vault:Vault  backup-dr-vault  [region=us-west-2, protect, retainOnDelete]"
        in tree
    )
    assert "aws:sns/topic:Topic  monitoring-topic\n" in tree


def test_plan_json_is_a_copy(prod_plan: Plan) -> None:
    document = prod_plan.to_json()
    table = next(r for r in document["resources"] if r["name"] == "app-table")
    table["inputs"]["pointInTimeRecovery"]["enabled"] = False
    table["options"]["protect"] = False
    assert prod_plan.named("app-table").inputs["pointInTimeRecovery"]["enabled"] is True
    assert prod_plan.named("app-table").protect is True
