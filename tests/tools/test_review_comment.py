"""The gate's PR comment with the review sections: the order, the budget warning in every format,
and the fold that keeps a comment under GitHub's size limit."""

from __future__ import annotations

import json

from tests.tools.review_support import edited, resource
from tools.diff.compare import Change, PlanDiff, Step
from tools.gate.formats import COMMENT_LIMIT, render_json, render_markdown, render_text
from tools.gate.protocol import PackInfo
from tools.gate.report import GateReport, build_report
from tools.gate.run_loop import PackRun
from tools.review.sections import Review, build_review, diff_section


def gate_report(stack: str) -> GateReport:
    info = PackInfo("medeez-hipaa-guardrails", "0.1.0", "1.21.0", (), {})
    return build_report(
        PackRun(info=info, diagnostics=[], analyzed_resources=53),
        project="medeez-platform",
        stack=stack,
        plan_path=f".build/plan-{stack}.json",
        pack_config_path=f"policies/config/{stack}.json",
        resource_count=53,
    )


def test_the_comment_has_cost_capacity_diff_and_diagram_against_the_base(prod_doc, prod) -> None:
    def change(doc):
        resource(doc, "app-table")["inputs"]["rangeKey"] = "SK2"
        resource(doc, "cost-budget")["inputs"]["limitAmount"] = "100.00"

    head = edited(prod_doc, change)
    report = gate_report("prod")
    report.review = build_review(head, base=prod, base_label="main (abc12345)")
    report.warnings = report.review.warnings
    markdown = render_markdown(report)
    order = [
        markdown.index(marker)
        for marker in (
            "> [!WARNING]",
            "Monthly cost of `prod`",
            "Capacity at fleet scale",
            "Change against base",
            "```mermaid",
            "<sub>Offline plan",
        )
    ]
    assert order == sorted(order)
    assert "(+$0.00 against base)" in markdown
    assert "replace app-table (dynamodb Table): a new, empty table" in markdown
    assert "class n_app_table,n_cost_budget changed" in markdown
    assert "exceeds budget cost-budget ($100.00)" in render_text(report)
    assert json.loads(render_json(report))["warnings"] == report.warnings


def test_without_a_base_the_comment_has_cost_and_capacity_only(dev) -> None:
    review = build_review(dev)
    assert [s.key for s in review.sections] == ["cost", "capacity"]
    assert review.warnings == []
    report = gate_report("dev")
    assert "warnings" not in json.loads(render_json(report))


def test_an_oversized_review_is_folded_under_githubs_limit() -> None:
    steps = tuple(
        Step(
            "update",
            f"urn:pulumi:dev::medeez-platform::a$aws:cloudwatch/metricAlarm:MetricAlarm::a{i}",
            "aws:cloudwatch/metricAlarm:MetricAlarm",
            f"alarm-{i}",
            tuple(Change(f"dimensions.k{j}", "x" * 50, "y" * 50) for j in range(8)),
        )
        for i in range(2000)
    )
    diff = PlanDiff("dev", "main", steps, 0)
    huge = diff_section(diff)
    big = huge.__class__("diff", huge.full + "x" * COMMENT_LIMIT, huge.folded)
    report = gate_report("dev")
    report.review = Review("dev", [big])
    markdown = render_markdown(report)
    assert len(markdown) <= COMMENT_LIMIT
    assert "Change against base: 2000 to update against main" in markdown
    assert "Folded to fit GitHub's 65,536-character comment limit: diff" in markdown
    assert markdown.rstrip().endswith("</sub>")


def test_the_gate_warns_about_the_budget_and_reviews_against_a_base(tmp_path, dev_doc) -> None:
    from tests.gate.test_cli import FIXTURE_ARGS
    from tools.gate.__main__ import main

    def tight(doc):
        resource(doc, "cost-budget")["inputs"]["limitAmount"] = "5.00"

    head, base = tmp_path / "head.json", tmp_path / "base.json"
    changed = json.loads(json.dumps(dev_doc))
    tight(changed)
    head.write_text(json.dumps(changed))
    base.write_text(json.dumps({**dev_doc, "base": "main (0123abcd)"}))
    out = tmp_path / "gate.json"
    args = ["--plan", str(head), "--stack", "dev", *FIXTURE_ARGS]
    # The fixture pack's verdict (0 or 1) is not what this test is about. Without --review (a
    # local `make preview`) nothing is priced, so there is no warning.
    assert main([*args, "--format", "json", "--output", str(out)]) in (0, 1)
    assert "warnings" not in json.loads(out.read_text())
    assert main([*args, "--review", "--format", "json", "--output", str(out)]) in (0, 1)
    (warning,) = json.loads(out.read_text())["warnings"]
    assert "exceeds budget cost-budget ($5.00)" in warning
    comment = tmp_path / "comment.md"
    review = [
        "--review",
        "--base-plan",
        str(base),
        "--format",
        "markdown",
        "--output",
        str(comment),
    ]
    assert main([*args, *review]) in (0, 1)
    text = comment.read_text()
    assert "Change against base: 1 to update against main (0123abcd)" in text
    assert "`limitAmount: 100.00 -> 5.00`" in text


def test_a_bad_base_plan_is_one_line_and_exit_2(tmp_path, capsys, dev_doc) -> None:
    from tests.gate.test_cli import FIXTURE_ARGS
    from tools.gate.__main__ import main

    head = tmp_path / "head.json"
    head.write_text(json.dumps(dev_doc))
    args = ["--plan", str(head), "--stack", "dev", "--review", "--base-plan", str(tmp_path / "x")]
    assert main([*args, *FIXTURE_ARGS]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'x'}: no such plan file")
    assert err.count("\n") == 1
