"""The gate's result: what the pack reported, with each policy's metadata, ready to render.

Exemptions follow the pack's convention (policies/README.md, "Exemptions"): the pack reports every
exemption it applied, every expired one and every unused one as an *advisory* violation whose
message starts ``EXEMPTED``, ``EXPIRED EXEMPTION`` or ``UNUSED EXEMPTION``, and every pack-config
setting weaker than a rule's secure default as ``CONFIG DEVIATION``, in the format that
``policies/hipaa_guardrails/notices.py`` writes and parses. The gate lifts those out of
the violations into their own list (the accepted risks), so every output format shows them in
their own section and none can pass unseen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

# The pack owns the message format; the gate parses with the same definition (stdlib only).
from policies.hipaa_guardrails import notices
from tools.gate.protocol import PackInfo, PolicyMeta
from tools.gate.run_loop import Diagnostic, PackRun

if TYPE_CHECKING:
    from tools.review.sections import Review

SEVERITY_ORDER = ("critical", "high", "medium", "low", "")
ENFORCEMENT_ORDER = ("mandatory", "advisory")
EXEMPTION_KINDS = notices.KINDS


@dataclass(frozen=True)
class Exemption:
    """One accepted risk the pack reported: an exemption (applied, expired or unused) or a
    config deviation from a rule's secure default."""

    kind: str
    policy: str
    resource: str
    ticket: str
    expires: str
    reason: str
    detail: str
    urn: str
    message: str


@dataclass(frozen=True)
class Violation:
    """One policy violation on one resource (or on the stack, when ``urn`` is empty)."""

    policy: str
    urn: str
    enforcement: str
    severity: str
    message: str
    description: str
    citation: str
    remediation: str
    url: str

    @property
    def resource_type(self) -> str:
        """The resource's type token (``aws:dynamodb/table:Table``), or ``pulumi:pulumi:Stack``."""
        if not self.urn:
            return "pulumi:pulumi:Stack"
        return self.urn.split("::")[2].rsplit("$", 1)[-1]

    @property
    def resource_name(self) -> str:
        """The resource's logical name, or ``(stack)``."""
        return self.urn.rsplit("::", 1)[-1] if self.urn else "(stack)"

    @property
    def resource(self) -> str:
        """``<type> <name>``, the way ``pulumi preview`` names a resource."""
        return f"{self.resource_type} {self.resource_name}"


@dataclass
class GateReport:
    """Everything every output format shows."""

    project: str
    stack: str
    plan_path: str
    pack_config_path: str
    pack: PackInfo
    resource_count: int
    violations: list[Violation] = field(default_factory=list)
    exemptions: list[Exemption] = field(default_factory=list)
    pack_log: list[str] = field(default_factory=list)
    launch_note: str = ""
    #: Not verdicts: an estimated cost above the stack's budget (tools/review/sections.py).
    warnings: list[str] = field(default_factory=list)
    #: The PR comment's cost, capacity, diff and diagram sections, when asked for (--review).
    review: Review | None = None

    @property
    def mandatory(self) -> list[Violation]:
        """Violations that block the merge."""
        return [v for v in self.violations if v.enforcement == "mandatory"]

    @property
    def advisory(self) -> list[Violation]:
        """Violations that are reported but do not block."""
        return [v for v in self.violations if v.enforcement != "mandatory"]

    @property
    def passed(self) -> bool:
        """True when no mandatory violation was reported."""
        return not self.mandatory

    @property
    def exit_code(self) -> int:
        """1 on any mandatory violation, else 0."""
        return 0 if self.passed else 1

    def counts(self) -> dict[str, int]:
        """What every format counts, by kind: violations by enforcement, exemptions applied,
        expired and unused, config deviations (JSON names, in the order formats show them)."""
        kinds = [e.kind for e in self.exemptions]
        return {
            "mandatory": len(self.mandatory),
            "advisory": len(self.advisory),
            "exemptionsApplied": kinds.count(notices.EXEMPTED),
            "exemptionsExpired": kinds.count(notices.EXPIRED),
            "exemptionsUnused": kinds.count(notices.UNUSED),
            "configDeviations": kinds.count(notices.DEVIATION),
        }

    def groups(self) -> list[tuple[str, str, list[Violation]]]:
        """Violations grouped by enforcement level, then severity (most severe first)."""
        result = []
        for enforcement in ENFORCEMENT_ORDER:
            for severity in SEVERITY_ORDER:
                members = [
                    v
                    for v in self.violations
                    if (v.enforcement == "mandatory") == (enforcement == "mandatory")
                    and v.severity == severity
                ]
                if members:
                    result.append((enforcement, severity or "unspecified", members))
        return result

    def used_policies(self) -> list[PolicyMeta]:
        """The metadata of every policy that reported something, sorted by name."""
        names = {v.policy for v in self.violations} | {e.policy for e in self.exemptions}
        return [p for p in self.pack.policies if p.name in names]


def split_message(diagnostic: Diagnostic) -> str:
    """The policy's own message: the SDK prefixes the policy description and a newline."""
    prefix = diagnostic.description + "\n"
    if diagnostic.description and diagnostic.message.startswith(prefix):
        return diagnostic.message[len(prefix) :].strip()
    return diagnostic.message.strip()


def parse_exemption(text: str, urn: str) -> Exemption | None:
    """The exemption a pack message reports, or None when the message is not one."""
    notice = notices.parse(text)
    if notice is None:
        return None
    return Exemption(
        kind=notice.kind,
        policy=notice.policy,
        resource=notice.resource,
        ticket=notice.ticket,
        expires=notice.expires,
        reason=notice.reason,
        detail=notice.finding,
        urn=urn,
        message=text,
    )


def build_report(
    run: PackRun,
    *,
    project: str,
    stack: str,
    plan_path: str,
    pack_config_path: str,
    resource_count: int,
) -> GateReport:
    """Turn the pack's diagnostics into violations and exemptions, with policy metadata."""
    report = GateReport(
        project=project,
        stack=stack,
        plan_path=plan_path,
        pack_config_path=pack_config_path,
        pack=run.info,
        resource_count=resource_count,
    )
    for diagnostic in run.diagnostics:
        text = split_message(diagnostic)
        exemption = parse_exemption(text, diagnostic.urn)
        if exemption is not None:
            report.exemptions.append(exemption)
            continue
        meta = run.info.policy(diagnostic.policy_name)
        report.violations.append(
            Violation(
                policy=diagnostic.policy_name,
                urn=diagnostic.urn,
                enforcement=diagnostic.enforcement_level,
                severity=diagnostic.severity or (meta.severity if meta else ""),
                message=text or diagnostic.description,
                description=diagnostic.description,
                citation=meta.citation if meta else "",
                remediation=meta.remediation if meta else "",
                url=meta.url if meta else "",
            )
        )
    report.violations.sort(
        key=lambda v: (
            ENFORCEMENT_ORDER.index("mandatory" if v.enforcement == "mandatory" else "advisory"),
            SEVERITY_ORDER.index(v.severity if v.severity in SEVERITY_ORDER else ""),
            v.policy,
            v.urn,
            v.message,
        )
    )
    report.exemptions.sort(key=lambda e: (EXEMPTION_KINDS.index(e.kind), e.policy, e.resource))
    return report


def repo_relative(path: str | Path, root: Path) -> str:
    """``path`` relative to ``root`` when it is inside it, else as given."""
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
