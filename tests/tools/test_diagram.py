"""``make diagram``: the data flows drawn from the plan, the changed part, and docs/architecture.md
kept current."""

from __future__ import annotations

import re

from tests.tools.review_support import add_copy, edited, resource
from tools.diagram.__main__ import main
from tools.diagram.mermaid import Diagram


def edges(text: str) -> set[tuple[str, str, str]]:
    return set(re.findall(r"^  (\w+) -->\|([^|]+)\| (\w+)$", text, flags=re.MULTILINE))


def test_the_prod_diagram_shows_the_data_flows(prod) -> None:
    text = Diagram(prod, "us-east-1").render()
    assert text.startswith("flowchart LR\n")
    assert {
        ("n_table_key_key", "encrypts", "n_app_table"),
        ("n_app_table", "changes", "n_app_table_stream"),
        ("n_app_table", "selected", "n_backup_selection"),
        ("n_backup_selection", "for", "n_backup_plan"),
        ("n_backup_plan", "recovery points", "n_backup_vault"),
        ("n_backup_vault", "copy", "n_backup_dr_vault"),
        ("n_backup_dr_vault_key_key", "encrypts", "n_backup_dr_vault"),
        ("n_alerts_key_key", "encrypts", "n_monitoring_topic"),
        ("n_monitoring_MetricAlarms", "notifies", "n_monitoring_topic"),
        ("n_cost_budget", "notifies", "n_monitoring_topic"),
    } <= edges(text)
    assert 'subgraph g_backup["backup: CrossRegionBackup"]' in text
    assert "backup-dr-vault (us-west-2)" in text
    assert "25 x MetricAlarm" in text  # restore-job alarm, then the alert topic's own
    assert "backup-role" not in text  # IAM is the policy pack's concern, not a data flow


def test_dev_has_no_dr_copy(dev) -> None:
    text = Diagram(dev, "us-east-1").render()
    assert not [e for e in edges(text) if e[1] == "copy"]


def test_a_stream_consumer_and_its_database_are_drawn_when_they_exist(dev_doc) -> None:
    def consumer(doc):
        table = resource(doc, "app-table")
        mapping = add_copy(doc, "cost-budget", "audit-consumer")
        mapping["type"] = "aws:lambda/eventSourceMapping:EventSourceMapping"
        mapping["urn"] = mapping["urn"].replace(
            "aws:budgets/budget:Budget", "aws:lambda/eventSourceMapping:EventSourceMapping"
        )
        mapping["propertyDependencies"] = {"eventSourceArn": [table["urn"]]}
        audit = add_copy(doc, "app-table", "audit-table")
        mapping["propertyDependencies"]["environment"] = [audit["urn"]]

    text = Diagram(edited(dev_doc, consumer), "us-east-1").render()
    assert ("n_app_table_stream", "feeds", "n_audit_consumer") in edges(text)
    assert ("n_audit_consumer", "writes to", "n_audit_table") in edges(text)


def test_the_changed_part_keeps_changed_nodes_and_their_neighbours(dev) -> None:
    diagram = Diagram(dev, "us-east-1")
    budget = next(r.urn for r in dev.resources if r.name == "cost-budget")
    keep, changed = diagram.around([budget])
    assert changed == {"n_cost_budget"}
    assert keep == {"n_cost_budget", "n_monitoring_topic"}
    text = diagram.render(keep, changed)
    assert "class n_cost_budget changed" in text
    assert "n_app_table" not in text


def test_docs_architecture_is_current() -> None:
    assert main(["--check"]) == 0


def test_bad_input_is_one_line_and_exit_2(capsys) -> None:
    assert main([]) == 2
    assert capsys.readouterr().err == "error: --stack is required (or --write-docs / --check)\n"
    assert main(["--stack", "uat"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown stack 'uat'")
