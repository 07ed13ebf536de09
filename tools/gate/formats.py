"""Render a :class:`GateReport` as text (terminal), Markdown (PR comment), JSON or SARIF 2.1.0."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.gate.report import Exemption, GateReport, Violation

if TYPE_CHECKING:
    from tools.review.sections import Review

FORMATS = ("text", "markdown", "json", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
#: GitHub code scanning reads ``security-severity`` (0-10) to rank alerts.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "": "5.0"}
TOOL_NAME = "medeez-policy-gate"
TOOL_URI = "https://github.com/pulumi/pulumi-policy"
#: A PR comment stays readable (and under GitHub's 65,536-character limit): rows per group.
MARKDOWN_ROWS_PER_GROUP = 40


def _verdict(report: GateReport) -> str:
    if report.passed:
        return "PASSED"
    count = len(report.mandatory)
    return f"BLOCKED ({count} mandatory violation{'s' if count != 1 else ''})"


def _summary(report: GateReport) -> str:
    counts = report.counts()
    deviations = counts["configDeviations"]
    return (
        f"{counts['mandatory']} mandatory, {counts['advisory']} advisory; exemptions: "
        f"{counts['exemptionsApplied']} applied, {counts['exemptionsExpired']} expired, "
        f"{counts['exemptionsUnused']} unused; {deviations} config deviation"
        f"{'s' if deviations != 1 else ''}"
    )


def _pack_line(report: GateReport) -> str:
    sdk = f", pulumi-policy {report.pack.sdk_version}" if report.pack.sdk_version else ""
    return (
        f"pack {report.pack.name} {report.pack.version}{sdk}: {len(report.pack.policies)} "
        f"policies over {report.resource_count} resources (the stack included); "
        f"config {report.pack_config_path}"
    )


# -- text -----------------------------------------------------------------------------------------


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append(indent + "  ".join([*cells, row[-1]]).rstrip())
    return lines


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render_text(report: GateReport) -> str:
    """A terminal report: violations grouped by enforcement level and severity."""
    lines = [
        f"HIPAA policy gate: {report.project}/{report.stack}: {_verdict(report)}",
        _pack_line(report),
    ]
    if report.launch_note:
        lines.append(f"note: {report.launch_note}")
    for enforcement, severity, members in report.groups():
        lines += ["", f"{enforcement.upper()} / {severity} ({len(members)})"]
        rows = [["RESOURCE", "RULE", "HIPAA", "MESSAGE"]]
        rows += [[v.resource, v.policy, v.citation or "-", _one_line(v.message)] for v in members]
        lines += _table(rows)
    if report.exemptions:
        lines += ["", f"EXEMPTIONS AND CONFIG DEVIATIONS ({len(report.exemptions)})"]
        rows = [["KIND", "RULE", "RESOURCE", "TICKET", "EXPIRES", "REASON"]]
        rows += [
            [
                e.kind,
                e.policy or "-",
                e.resource or "-",
                e.ticket or "-",
                e.expires or "-",
                _one_line(e.reason or e.message),
            ]
            for e in report.exemptions
        ]
        lines += _table(rows)
    if report.pack_log:
        lines += ["", "PACK LOG", *(f"  {line}" for line in report.pack_log)]
    if report.warnings:
        lines += ["", *(f"warning: {w}" for w in report.warnings)]
    lines += [
        "",
        f"Summary: {_summary(report)}.",
        "Exit 1: mandatory violations block the merge."
        if not report.passed
        else "Exit 0: no mandatory violation.",
    ]
    return "\n".join(lines) + "\n"


# -- markdown -------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def comment_marker(stack: str) -> str:
    """The hidden line CI uses to find and update this stack's PR comment."""
    return f"<!-- medeez-policy-gate:{stack} -->"


def render_markdown(report: GateReport) -> str:
    """A pull-request comment."""
    icon = "✅" if report.passed else "❌"
    lines = [
        comment_marker(report.stack),
        f"### {icon} HIPAA policy gate: `{report.stack}` {_verdict(report).lower()}",
        "",
        f"{_pack_line(report)}.",
        "",
        "| Mandatory | Advisory | Exemptions applied | expired | unused | Config deviations |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        "| " + " | ".join(str(n) for n in report.counts().values()) + " |",
    ]
    for enforcement, severity, members in report.groups():
        opened = " open" if enforcement == "mandatory" else ""
        lines += [
            "",
            f"<details{opened}><summary><b>{enforcement}</b> / {severity} ({len(members)})"
            "</summary>",
            "",
            "| Resource | Rule | HIPAA | Message |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| `{_cell(v.resource)}` | `{v.policy}` | {_cell(v.citation) or '-'} | "
            f"{_cell(v.message)} |"
            for v in members[:MARKDOWN_ROWS_PER_GROUP]
        ]
        hidden = len(members) - MARKDOWN_ROWS_PER_GROUP
        if hidden > 0:
            lines.append(
                f"| … | {hidden} more | | every finding is in the text, JSON and SARIF reports |"
            )
        lines += ["", "</details>"]
    if report.exemptions:
        lines += [
            "",
            "<details open><summary><b>Exemptions and config deviations</b> "
            f"({len(report.exemptions)})</summary>",
            "",
            "| Kind | Rule | Resource | Ticket | Expires | Reason |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {e.kind} | `{e.policy or '-'}` | `{_cell(e.resource or '-')}` | "
            f"{_cell(e.ticket or '-')} | {e.expires or '-'} | {_cell(e.reason or e.message)} |"
            for e in report.exemptions
        ]
        lines += ["", "</details>"]
    failing = {v.policy for v in report.violations}
    remediations = [p for p in report.used_policies() if p.remediation and p.name in failing]
    if remediations and not report.passed:
        lines += ["", "<details><summary>How to fix</summary>", ""]
        for policy in remediations:
            lines.append(f"- `{policy.name}`: {_one_line(policy.remediation)}")
        lines += ["", "</details>"]
    footer = [
        "",
        *([f"<sub>Note: {report.launch_note}.</sub>", ""] if report.launch_note else []),
        f"<sub>Offline plan `{report.plan_path}` analyzed by the policy pack over the Pulumi "
        "analyzer protocol (`make preview STACK=" + report.stack + "`).</sub>",
    ]
    if report.warnings:
        lines[3:3] = [*(f"> [!WARNING]\n> {w}\n" for w in report.warnings)]
    body = "\n".join(lines) + "\n"
    tail = "\n".join(footer) + "\n"
    if report.review is not None:
        body += _review_sections(report.review, COMMENT_LIMIT - len(body) - len(tail))
    return body + tail


#: GitHub refuses an issue comment longer than this many characters.
COMMENT_LIMIT = 65_536
#: Kept free for the note that says what was folded.
_FOLD_NOTE_ROOM = 400


def _review_sections(review: Review, room: int) -> str:
    """The review sections in full while they fit in ``room``, then folded, then left out; the
    comment says which (the job summary and the make targets have everything)."""
    room -= _FOLD_NOTE_ROOM
    out: list[str] = []
    folded: list[str] = []
    for section in review.sections:
        if len(section.full) + 1 <= room:
            out.append(section.full)
            room -= len(section.full) + 1
        elif section.folded and len(section.folded) + 1 <= room:
            out.append(section.folded)
            room -= len(section.folded) + 1
            folded.append(section.key)
        else:
            folded.append(section.key)
    if folded:
        out.append(
            f"<sub>Folded to fit GitHub's {COMMENT_LIMIT:,}-character comment limit: "
            f"{', '.join(folded)}; `make {' / make '.join(folded)} STACK={review.stack}` shows "
            "them whole.</sub>\n"
        )
    return "".join(f"\n{part}" for part in out)


# -- json -----------------------------------------------------------------------------------------


def _violation_json(v: Violation) -> dict[str, Any]:
    return {
        "policyName": v.policy,
        "urn": v.urn,
        "resourceType": v.resource_type,
        "resourceName": v.resource_name,
        "enforcementLevel": v.enforcement,
        "severity": v.severity or None,
        "message": v.message,
        "citation": v.citation or None,
    }


def _exemption_json(e: Exemption) -> dict[str, Any]:
    return {
        "kind": e.kind,
        "policyName": e.policy or None,
        "resource": e.resource or None,
        "urn": e.urn or None,
        "ticket": e.ticket or None,
        "expires": e.expires or None,
        "reason": e.reason or None,
        "message": e.message,
    }


def render_json(report: GateReport) -> str:
    """Every violation and exemption, machine-readable."""
    document: dict[str, Any] = {
        "project": report.project,
        "stack": report.stack,
        "plan": report.plan_path,
        "packConfig": report.pack_config_path,
        "pack": {
            "name": report.pack.name,
            "version": report.pack.version,
            "sdkVersion": report.pack.sdk_version or None,
            "policies": len(report.pack.policies),
        },
        "packLaunchNote": report.launch_note or None,
        "resources": report.resource_count,
        "passed": report.passed,
        "exitCode": report.exit_code,
        "summary": report.counts(),
        "violations": [_violation_json(v) for v in report.violations],
        "exemptions": [_exemption_json(e) for e in report.exemptions],
    }
    if report.warnings:
        document["warnings"] = report.warnings
    return json.dumps(document, indent=2) + "\n"


# -- sarif ----------------------------------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class SourceLocator:
    """Point a resource at the source line that declares it, as well as the repo allows.

    A resource inside a component (URN type chain ``medeez:data:AppTable$aws:dynamodb/table:Table``)
    maps to ``components/app_table.py``; a top-level resource maps to ``__main__.py``. In that file
    the line is the first call of the resource's class (``dynamodb.Table(``); when none is found,
    line 1. Stack-level findings, and resources with no source file, point at
    ``Pulumi.<stack>.yaml``, where the stack's settings live.
    """

    def __init__(self, root: Path, stack: str) -> None:
        self.root = root
        self.stack_file = f"Pulumi.{stack}.yaml"
        self._lines: dict[str, list[str]] = {}

    def _read(self, relative: str) -> list[str] | None:
        if relative not in self._lines:
            path = self.root / relative
            self._lines[relative] = (
                path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
            )
        return self._lines[relative] or None

    def locate(self, urn: str) -> tuple[str, int]:
        """``(repo-relative path, 1-based line)`` for the resource ``urn`` ("" = the stack)."""
        if not urn:
            return self.stack_file, 1
        chain = urn.split("::")[2].split("$")
        own_type = chain[-1]
        candidates = [
            f"components/{_snake(t.rsplit(':', 1)[-1])}.py"
            for t in reversed(chain[:-1])
            if not t.startswith(("pulumi:", "aws:"))
        ] + ["__main__.py"]
        parts = own_type.split(":")
        module, cls = (parts[1].split("/")[0], parts[2]) if len(parts) == 3 else ("", "")
        call = re.compile(rf"\b{re.escape(module)}\.{re.escape(cls)}\(") if cls else None
        for relative in candidates:
            lines = self._read(relative)
            if lines is None:
                continue
            for number, line in enumerate(lines, start=1):
                if call is not None and call.search(line):
                    return relative, number
            if relative != "__main__.py":
                return relative, 1
        return self.stack_file, 1


def _level(v: Violation) -> str:
    return "error" if v.enforcement == "mandatory" else "warning"


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def render_sarif(report: GateReport, root: Path) -> str:
    """SARIF 2.1.0 for GitHub code scanning: one rule per policy, one result per finding."""
    locator = SourceLocator(root, report.stack)
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for policy in report.pack.policies:
        index[policy.name] = len(rules)
        help_text = policy.remediation or policy.description
        rules.append(
            {
                "id": policy.name,
                "name": policy.name,
                "shortDescription": {"text": policy.description or policy.name},
                "fullDescription": {
                    "text": f"{policy.description} (HIPAA {policy.citation})"
                    if policy.citation
                    else policy.description or policy.name
                },
                "help": {"text": help_text, "markdown": help_text},
                **({"helpUri": policy.url} if policy.url else {}),
                "defaultConfiguration": {
                    "level": "error" if policy.enforcement_level == "mandatory" else "warning"
                },
                "properties": {
                    "tags": ["security", "hipaa", *policy.tags],
                    "security-severity": SECURITY_SEVERITY.get(policy.severity, "5.0"),
                    "precision": "high",
                    "severity": policy.severity or "unspecified",
                    "enforcementLevel": policy.enforcement_level,
                },
            }
        )

    def location(urn: str) -> dict[str, Any]:
        path, line = locator.locate(urn)
        entry: dict[str, Any] = {
            "physicalLocation": {
                "artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": line},
            }
        }
        if urn:
            entry["logicalLocations"] = [{"fullyQualifiedName": urn, "kind": "resource"}]
        return entry

    results: list[dict[str, Any]] = []
    for v in report.violations:
        result: dict[str, Any] = {
            "ruleId": v.policy,
            "level": _level(v),
            "message": {
                "text": f"{v.resource}: {_one_line(v.message)}"
                + (f" (HIPAA {v.citation})" if v.citation else "")
            },
            "locations": [location(v.urn)],
            "partialFingerprints": {"medeezPolicyGate/v1": _fingerprint(v.policy, v.urn)},
            "properties": {"stack": report.stack, "enforcementLevel": v.enforcement},
        }
        if v.policy in index:
            result["ruleIndex"] = index[v.policy]
        results.append(result)
    for e in report.exemptions:
        rule_id = e.policy if e.policy in index else (e.policy or "exemption")
        result = {
            "ruleId": rule_id,
            "level": "note",
            "message": {"text": _one_line(e.message)},
            "locations": [location(e.urn)],
            "partialFingerprints": {
                "medeezPolicyGate/v1": _fingerprint(e.kind, e.policy, e.resource, e.urn)
            },
            "properties": {"stack": report.stack, "exemption": e.kind, "ticket": e.ticket},
        }
        if rule_id in index:
            result["ruleIndex"] = index[rule_id]
        if e.kind == "EXEMPTED":
            result["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": f"{e.ticket}: {e.reason}" if e.ticket else e.message,
                }
            ]
        results.append(result)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "informationUri": TOOL_URI,
                        "semanticVersion": report.pack.version or "0.0.0",
                        "rules": rules,
                        "properties": {"policyPack": report.pack.name},
                    }
                },
                "automationDetails": {"id": f"policy-gate/{report.stack}/"},
                "properties": {"summary": report.counts()},
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def renderer(name: str, root: Path) -> Callable[[GateReport], str]:
    """The render function of format ``name``."""
    if name == "sarif":
        return lambda report: render_sarif(report, root)
    return {"text": render_text, "markdown": render_markdown, "json": render_json}[name]
