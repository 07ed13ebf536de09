"""Each output format's shape, from a report built the way the gate builds one."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

import pytest
from hipaa_guardrails import exemptions

from policies.hipaa_guardrails import notices
from stackspec.stack_file import PROJECT_DIR
from tools.gate.formats import (
    SourceLocator,
    render_json,
    render_markdown,
    render_sarif,
    render_text,
)
from tools.gate.protocol import PackInfo, PolicyMeta
from tools.gate.report import Exemption, build_report, parse_exemption
from tools.gate.run_loop import Diagnostic, PackRun

PREFIX = "urn:pulumi:dev::medeez-platform::"
# The mock runtime puts the stack type in child URNs' type chains; the engine does not: both occur.
TABLE = PREFIX + "pulumi:pulumi:Stack$medeez:data:AppTable$aws:dynamodb/table:Table::app-table"
TOPIC = PREFIX + "medeez:data:Monitoring$aws:sns/topic:Topic::monitoring-topic"
ROLE = PREFIX + "medeez:data:CrossRegionBackup$aws:iam/rolePolicy:RolePolicy::backup-role-keys"


def _meta(name, severity, level, citation, remediation=""):
    return PolicyMeta(
        name=name,
        description=f"{name} description",
        enforcement_level=level,
        severity=severity,
        policy_type="resource",
        framework="HIPAA Security Rule",
        framework_version="45 CFR Part 164 Subpart C",
        citation=citation,
        tags=(f"hipaa:{citation}",),
        remediation=remediation,
        url="",
        config_properties={},
        config_required=(),
    )


POLICIES = (
    _meta(
        "hipaa-dynamodb-pitr-enabled", "high", "mandatory", "164.308(a)(7)(ii)(A)", "Turn on PITR."
    ),
    _meta("hipaa-sns-topic-encrypted-with-cmk", "critical", "mandatory", "164.312(a)(2)(iv)"),
    _meta("hipaa-iam-no-inline-policies", "medium", "advisory", "164.308(a)(4)(ii)(B)"),
    _meta("hipaa-stack-backup-covers-table", "high", "mandatory", "164.308(a)(7)(ii)(A)"),
    _meta("hipaa-exemptions-reported", "low", "advisory", ""),
)


def _diag(policy, urn, level, severity, message):
    return Diagnostic(
        policy_name=policy,
        pack_name="medeez-hipaa-guardrails",
        description=f"{policy} description",
        message=f"{policy} description\n{message}",
        enforcement_level=level,
        severity=severity,
        urn=urn,
    )


EXEMPTED = (
    "EXEMPTED: hipaa-dynamodb-pitr-enabled on app-table (ticket SEC-142, expires 2027-03-31: "
    "restore drill (phase 2) runs against a copy). Suppressed finding: PITR is off"
)


def report(exempted=True):
    diagnostics = [
        _diag("hipaa-iam-no-inline-policies", ROLE, "advisory", "medium", "is an inline policy"),
        _diag("hipaa-dynamodb-pitr-enabled", TABLE, "mandatory", "high", "PITR off | really"),
        _diag("hipaa-sns-topic-encrypted-with-cmk", TOPIC, "mandatory", "critical", "no key"),
        _diag("hipaa-stack-backup-covers-table", "", "mandatory", "high", "no selection"),
    ]
    if exempted:
        diagnostics.append(_diag("hipaa-exemptions-reported", TABLE, "advisory", "low", EXEMPTED))
    info = PackInfo("medeez-hipaa-guardrails", "0.1.0", "1.21.0", POLICIES, {})
    run = PackRun(info=info, diagnostics=diagnostics, analyzed_resources=53)
    return build_report(
        run,
        project="medeez-platform",
        stack="dev",
        plan_path=".build/plan-dev.json",
        pack_config_path="policies/config/dev.json",
        resource_count=53,
    )


def test_violations_are_ordered_by_enforcement_then_severity_and_exemptions_lifted_out():
    built = report()
    assert [(g[0], g[1], [v.policy for v in g[2]]) for g in built.groups()] == [
        ("mandatory", "critical", ["hipaa-sns-topic-encrypted-with-cmk"]),
        ("mandatory", "high", ["hipaa-dynamodb-pitr-enabled", "hipaa-stack-backup-covers-table"]),
        ("advisory", "medium", ["hipaa-iam-no-inline-policies"]),
    ]
    assert built.exit_code == 1
    (exemption,) = built.exemptions
    assert (exemption.kind, exemption.policy, exemption.resource, exemption.ticket) == (
        "EXEMPTED",
        "hipaa-dynamodb-pitr-enabled",
        "app-table",
        "SEC-142",
    )
    assert exemption.expires == "2027-03-31"
    assert exemption.reason == "restore drill (phase 2) runs against a copy"
    assert exemption.detail == "PITR is off"
    assert exemption.urn == TABLE


# Reasons and findings come from people and rules: parentheses, colons, periods, quotes.
AWKWARD_REASONS = [
    "restore drill (phase 2): runs against a copy. Ends in March",
    'a "quoted" reason, with a comma; and a (nested (paren))',
]


@pytest.mark.parametrize("reason", AWKWARD_REASONS)
@pytest.mark.parametrize(
    ("kind", "finding"),
    [
        ("EXEMPTED", "PITR is off [45 CFR 164.308(a)(7)(i)]"),
        ("EXPIRED EXEMPTION", "PITR is off (really): yes [45 CFR 164.308(a)(7)(i)]"),
        ("EXPIRED EXEMPTION", None),
        ("UNUSED EXEMPTION", None),
    ],
)
def test_the_packs_exemption_messages_round_trip(kind, finding, reason):
    exemption = exemptions.Exemption(
        policy="hipaa-dynamodb-pitr-enabled",
        resource="urn:pulumi:dev::medeez-platform::aws:dynamodb/table:Table::app-table",
        reason=reason,
        ticket="SEC-142",
        expires=dt.date(2027, 3, 31),
    )
    message = exemptions.LedgerEntry(kind, exemption, TABLE, finding).message()
    parsed = parse_exemption(message, TABLE)
    assert parsed == Exemption(
        kind=kind,
        policy=exemption.policy,
        resource=exemption.resource,
        ticket="SEC-142",
        expires="2027-03-31",
        reason=reason,
        detail=finding or "",
        urn=TABLE,
        message=message,
    )


@pytest.mark.parametrize(
    ("value", "default"),
    [(["NEW_AND_OLD_IMAGES"], ["KEYS_ONLY"]), (False, True), ("a (b) = c", 7), ("advisory", "x")],
)
def test_the_packs_deviation_messages_round_trip(value, default):
    deviation = exemptions.Deviation(
        "hipaa-dynamodb-stream-view-allowed", "allowedViewTypes", value, default
    )
    parsed = parse_exemption(deviation.message(), "")
    assert parsed is not None
    assert (parsed.kind, parsed.policy, parsed.resource) == (
        "CONFIG DEVIATION",
        "hipaa-dynamodb-stream-view-allowed",
        "",
    )
    notice = notices.parse(deviation.message())
    assert notice is not None
    assert (notice.key, json.loads(notice.value), json.loads(notice.default)) == (
        "allowedViewTypes",
        value,
        default,
    )
    assert parsed.reason == deviation.message().removeprefix(
        "CONFIG DEVIATION: hipaa-dynamodb-stream-view-allowed "
    )


def test_a_message_in_no_known_format_is_a_violation_or_its_kind_never_lost():
    assert parse_exemption("PITR is off", TABLE) is None
    garbled = parse_exemption("EXEMPTED: something the pack never writes", TABLE)
    assert garbled is not None
    assert (garbled.kind, garbled.policy, garbled.message) == (
        "EXEMPTED",
        "",
        "EXEMPTED: something the pack never writes",
    )


def test_text_groups_with_resource_rule_citation_and_message():
    text = render_text(report())
    lines = text.splitlines()
    assert lines[0] == "HIPAA policy gate: medeez-platform/dev: BLOCKED (3 mandatory violations)"
    assert lines[1] == (
        "pack medeez-hipaa-guardrails 0.1.0, pulumi-policy 1.21.0: 5 policies over 53 resources "
        "(the stack included); config policies/config/dev.json"
    )
    headings = [line for line in lines if re.fullmatch(r"[A-Z]+ / \w+ \(\d+\)", line)]
    assert headings == ["MANDATORY / critical (1)", "MANDATORY / high (2)", "ADVISORY / medium (1)"]
    row = next(line for line in lines if "hipaa-dynamodb-pitr-enabled" in line and "PITR" in line)
    assert row.split() == [
        "aws:dynamodb/table:Table",
        "app-table",
        "hipaa-dynamodb-pitr-enabled",
        "164.308(a)(7)(ii)(A)",
        "PITR",
        "off",
        "|",
        "really",
    ]
    assert any("pulumi:pulumi:Stack (stack)" in line for line in lines)
    assert "EXEMPTIONS AND CONFIG DEVIATIONS (1)" in lines
    assert lines[-2] == (
        "Summary: 3 mandatory, 1 advisory; exemptions: 1 applied, 0 expired, 0 unused; "
        "0 config deviations."
    )
    assert any(
        line.split()[:4] == ["EXEMPTED", "hipaa-dynamodb-pitr-enabled", "app-table", "SEC-142"]
        for line in lines
    )
    assert lines[-1] == "Exit 1: mandatory violations block the merge."


def test_markdown_is_a_pr_comment():
    markdown = render_markdown(report())
    lines = markdown.splitlines()
    assert lines[0] == "<!-- medeez-policy-gate:dev -->"
    assert lines[1] == "### ❌ HIPAA policy gate: `dev` blocked (3 mandatory violations)"
    assert "| 3 | 1 | 1 | 0 | 0 | 0 |" in lines
    assert (
        "| `aws:dynamodb/table:Table app-table` | `hipaa-dynamodb-pitr-enabled` | "
        "164.308(a)(7)(ii)(A) | PITR off \\| really |"
    ) in lines
    assert "<details open><summary><b>mandatory</b> / critical (1)</summary>" in lines
    assert "<details><summary><b>advisory</b> / medium (1)</summary>" in lines
    assert any(
        line.startswith(
            "| EXEMPTED | `hipaa-dynamodb-pitr-enabled` | `app-table` | SEC-142 | 2027-03-31 |"
        )
        for line in lines
    )
    assert "- `hipaa-dynamodb-pitr-enabled`: Turn on PITR." in lines
    advisory_only = report(exempted=False)
    advisory_only.violations = advisory_only.advisory
    passing = render_markdown(advisory_only)
    assert passing.splitlines()[1] == "### ✅ HIPAA policy gate: `dev` passed"


def test_json_lists_every_violation_and_exemption():
    document = json.loads(render_json(report()))
    assert document["passed"] is False
    assert document["exitCode"] == 1
    assert document["summary"] == {
        "mandatory": 3,
        "advisory": 1,
        "exemptionsApplied": 1,
        "exemptionsExpired": 0,
        "exemptionsUnused": 0,
        "configDeviations": 0,
    }
    assert document["violations"][0] == {
        "policyName": "hipaa-sns-topic-encrypted-with-cmk",
        "urn": TOPIC,
        "resourceType": "aws:sns/topic:Topic",
        "resourceName": "monitoring-topic",
        "enforcementLevel": "mandatory",
        "severity": "critical",
        "message": "no key",
        "citation": "164.312(a)(2)(iv)",
    }
    assert [v["enforcementLevel"] for v in document["violations"]] == [
        "mandatory",
        "mandatory",
        "mandatory",
        "advisory",
    ]
    assert document["exemptions"][0]["ticket"] == "SEC-142"
    assert document["exemptions"][0]["urn"] == TABLE


def test_sarif_has_the_required_fields_and_points_at_source():
    document = json.loads(render_sarif(report(), PROJECT_DIR))
    assert document["version"] == "2.1.0"
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "medeez-policy-gate"
    assert [r["id"] for r in driver["rules"]] == [p.name for p in POLICIES]
    pitr_rule = driver["rules"][0]
    assert pitr_rule["properties"]["security-severity"] == "8.0"
    assert pitr_rule["defaultConfiguration"] == {"level": "error"}
    for result in run["results"]:
        assert {"ruleId", "level", "message", "locations"} <= result.keys()
        assert result["message"]["text"]
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert (PROJECT_DIR / physical["artifactLocation"]["uri"]).is_file()
        assert physical["region"]["startLine"] >= 1
        if "ruleIndex" in result:
            assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    by_rule = {(r["ruleId"], r["level"]): r for r in run["results"]}
    table = by_rule[("hipaa-dynamodb-pitr-enabled", "error")]
    location = table["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "components/app_table.py"
    assert location["logicalLocations"] == [{"fullyQualifiedName": TABLE, "kind": "resource"}]
    stack = by_rule[("hipaa-stack-backup-covers-table", "error")]
    assert stack["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "Pulumi.dev.yaml"
    assert by_rule[("hipaa-iam-no-inline-policies", "warning")]
    exempted = by_rule[("hipaa-dynamodb-pitr-enabled", "note")]
    assert exempted["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "SEC-142: restore drill (phase 2) runs against a copy",
        }
    ]


def test_locations_find_the_declaring_line(tmp_path):
    (tmp_path / "components").mkdir()
    (tmp_path / "components" / "app_table.py").write_text(
        "import pulumi_aws as aws\n\n\nclass AppTable:\n    t = aws.dynamodb.Table(\n"
    )
    (tmp_path / "__main__.py").write_text("import pulumi_aws as aws\ntopic = aws.sns.Topic(\n")
    locator = SourceLocator(tmp_path, "prod")
    assert locator.locate(TABLE) == ("components/app_table.py", 5)
    top_level = "urn:pulumi:prod::medeez-platform::aws:sns/topic:Topic::alerts"
    assert locator.locate(top_level) == ("__main__.py", 2)
    # A component with no source file, of a type __main__ does not declare: the stack file.
    assert locator.locate(ROLE) == ("Pulumi.prod.yaml", 1)
    assert locator.locate("") == ("Pulumi.prod.yaml", 1)
    assert Path(tmp_path / "components" / "app_table.py").is_file()


def test_a_long_markdown_group_is_capped_and_says_how_many_more():
    many = report(exempted=False)
    first = many.violations[0]
    many.violations = [
        dataclasses.replace(first, urn=f"{first.urn}-{index}") for index in range(45)
    ]
    lines = render_markdown(many).splitlines()
    rows = [line for line in lines if line.startswith("| `aws:sns/topic:Topic")]
    assert len(rows) == 40
    assert "| … | 5 more | | every finding is in the text, JSON and SARIF reports |" in lines
    assert len(json.loads(render_json(many))["violations"]) == 45


def _every_kind_report():
    """A report with 3 mandatory, 1 advisory, 1 exemption applied, 1 expired, 2 unused and 3
    config deviations, the messages written by the pack's own ledger."""
    exemption = exemptions.Exemption(
        "hipaa-dynamodb-pitr-enabled",
        "app-table",
        "Restore drill on a copy.",
        "SEC-1",
        dt.date(2027, 1, 31),
    )
    entries = [
        exemptions.LedgerEntry("EXEMPTED", exemption, TABLE, "PITR is off"),
        exemptions.LedgerEntry("EXPIRED EXEMPTION", exemption, TOPIC, "PITR is off"),
        exemptions.LedgerEntry("UNUSED EXEMPTION", exemption, None),
        exemptions.LedgerEntry(
            "UNUSED EXEMPTION", dataclasses.replace(exemption, resource="x"), None
        ),
        exemptions.Deviation("hipaa-backup-vault-locked", "required", False, True),
        exemptions.Deviation("hipaa-dynamodb-pitr-enabled", "minRecoveryPeriodDays", 7, 35),
        exemptions.Deviation("hipaa-kms-key-deletion-guarded", "minDeletionWindowDays", 7, 30),
    ]
    built = report(exempted=False)
    run = PackRun(
        info=built.pack,
        diagnostics=[
            _diag("hipaa-iam-no-inline-policies", ROLE, "advisory", "medium", "inline"),
            _diag("hipaa-dynamodb-pitr-enabled", TABLE, "mandatory", "high", "PITR off"),
            _diag("hipaa-sns-topic-encrypted-with-cmk", TOPIC, "mandatory", "critical", "no key"),
            _diag("hipaa-stack-backup-covers-table", "", "mandatory", "high", "no selection"),
            *(
                _diag(
                    "hipaa-exemptions-reported",
                    getattr(e, "urn", None) or "",
                    "advisory",
                    "low",
                    e.message(),
                )
                for e in entries
            ),
        ],
    )
    return build_report(
        run,
        project="medeez-platform",
        stack="dev",
        plan_path=".build/plan-dev.json",
        pack_config_path="policies/config/dev.json",
        resource_count=53,
    )


def test_every_format_counts_the_same_report_by_kind():
    built = _every_kind_report()
    expected = {
        "mandatory": 3,
        "advisory": 1,
        "exemptionsApplied": 1,
        "exemptionsExpired": 1,
        "exemptionsUnused": 2,
        "configDeviations": 3,
    }
    assert built.counts() == expected
    text = render_text(built)
    assert (
        "Summary: 3 mandatory, 1 advisory; exemptions: 1 applied, 1 expired, 2 unused; "
        "3 config deviations." in text.splitlines()
    )
    assert "EXEMPTIONS AND CONFIG DEVIATIONS (7)" in text.splitlines()
    markdown = render_markdown(built).splitlines()
    header = markdown.index(
        "| Mandatory | Advisory | Exemptions applied | expired | unused | Config deviations |"
    )
    assert markdown[header + 2] == "| 3 | 1 | 1 | 1 | 2 | 3 |"
    document = json.loads(render_json(built))
    assert document["summary"] == expected
    assert [e["kind"] for e in document["exemptions"]].count("CONFIG DEVIATION") == 3
    sarif = json.loads(render_sarif(built, PROJECT_DIR))["runs"][0]
    assert sarif["properties"]["summary"] == expected
    exemption_results = [r["properties"].get("exemption") for r in sarif["results"]]
    assert {k: exemption_results.count(k) for k in notices.KINDS} == {
        "EXPIRED EXEMPTION": 1,
        "UNUSED EXEMPTION": 2,
        "EXEMPTED": 1,
        "CONFIG DEVIATION": 3,
    }
