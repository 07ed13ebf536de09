"""Per-resource exemptions: never silent.

An exemption lives in the pack config under the rule it exempts::

    "hipaa-dynamodb-pitr-enabled": {
      "exemptions": [{"resource": "legacy-table", "reason": "...", "ticket": "SEC-142",
                      "expires": "2027-03-31"}]
    }

``resource`` is a resource's URN or its logical name. ``reason``, ``ticket`` and ``expires`` are
required (the config schema enforces it). An exemption only ever suppresses a finding of *that*
rule on *that* resource, until the end of its ``expires`` day (UTC).

How it is reported (the messages are :mod:`hipaa_guardrails.notices`', which tools parse back):

* the exempted rule calls ``not_applicable`` with a reason starting ``EXEMPTED`` (structured, for
  tools reading ``AnalyzeResponse.not_applicable``);
* every use is recorded in the process-wide :class:`Ledger`, and the advisory stack policy
  :data:`REPORT_POLICY` (last in the pack) reports each one as an advisory violation on the
  resource, message starting ``EXEMPTED``; expired exemptions (``EXPIRED EXEMPTION``, the finding
  is then enforced normally) and exemptions that matched no finding (``UNUSED EXEMPTION``) are
  reported the same way. So an exemption appears in ``pulumi preview`` output and in every
  format of the gate.

The same reporter shows every config property a rule runs with that differs from its secure
default (``CONFIG DEVIATION``), so a weakened stack says so in its output.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from hipaa_guardrails import notices

#: The advisory stack policy that reports exemptions; must stay enabled.
REPORT_POLICY: Final = "hipaa-exemptions-reported"
# The message format is notices'; these names are the kinds.
EXEMPTED_PREFIX: Final = notices.EXEMPTED
EXPIRED_PREFIX: Final = notices.EXPIRED
UNUSED_PREFIX: Final = notices.UNUSED
DEVIATION_PREFIX: Final = notices.DEVIATION

TICKET_PATTERN: Final = r"^([A-Z][A-Z0-9]+-[0-9]+|#[0-9]+)$"
DATE_PATTERN: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

#: The JSON Schema of the ``exemptions`` config property every rule accepts.
EXEMPTIONS_SCHEMA: Final[dict[str, Any]] = {
    "type": "array",
    "description": (
        "Resources this rule does not block, each with a reason, a ticket and an end date. "
        "Every exemption is reported as an advisory violation by " + REPORT_POLICY + "."
    ),
    "default": [],
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["resource", "reason", "ticket", "expires"],
        "properties": {
            "resource": {
                "type": "string",
                "minLength": 1,
                "description": "The resource's URN or logical name.",
            },
            "reason": {
                "type": "string",
                "minLength": 20,
                "description": "Why the risk is accepted, in a sentence a reviewer can check.",
            },
            "ticket": {
                "type": "string",
                "pattern": TICKET_PATTERN,
                "description": "The tracking ticket, e.g. SEC-142 or #87.",
            },
            "expires": {
                "type": "string",
                "pattern": DATE_PATTERN,
                "description": "Last day (UTC, YYYY-MM-DD) the exemption holds.",
            },
        },
    },
}


@dataclass(frozen=True)
class Exemption:
    """One configured exemption of one rule."""

    policy: str
    resource: str
    reason: str
    ticket: str
    expires: dt.date

    def matches(self, urn: str, name: str) -> bool:
        """True if this exemption names the resource (by URN or logical name)."""
        return self.resource in (urn, name)

    def expired(self, today: dt.date) -> bool:
        """True once the ``expires`` day has passed."""
        return today > self.expires

    def describe(self) -> str:
        """``ticket SEC-142, expires 2027-03-31: <reason>``."""
        return f"ticket {self.ticket}, expires {self.expires.isoformat()}: {self.reason}"


class ExemptionConfigError(ValueError):
    """An exemption entry that passed the schema but still cannot be used (e.g. 2027-02-30)."""


def parse_exemptions(policy: str, config: Mapping[str, Any]) -> list[Exemption]:
    """The exemptions in a rule's config; raises :class:`ExemptionConfigError` naming the entry."""
    raw = config.get("exemptions") or []
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ExemptionConfigError(f"{policy}.exemptions must be a list")
    result = []
    for index, entry in enumerate(raw):
        where = f"{policy}.exemptions[{index}]"
        if not isinstance(entry, Mapping):
            raise ExemptionConfigError(f"{where} must be an object")
        missing = [k for k in ("resource", "reason", "ticket", "expires") if not entry.get(k)]
        if missing:
            raise ExemptionConfigError(f"{where} is missing {', '.join(missing)}")
        try:
            expires = dt.date.fromisoformat(str(entry["expires"]))
        except ValueError:
            raise ExemptionConfigError(
                f"{where}.expires: '{entry['expires']}' is not a calendar date (YYYY-MM-DD)"
            ) from None
        result.append(
            Exemption(
                policy=policy,
                resource=str(entry["resource"]),
                reason=str(entry["reason"]),
                ticket=str(entry["ticket"]),
                expires=expires,
            )
        )
    return result


def today() -> dt.date:
    """Today in UTC (a function so tests can pin the date)."""
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class LedgerEntry:
    """Something the reporter must show: an exemption used, expired or unused."""

    kind: str
    """``EXEMPTED``, ``EXPIRED EXEMPTION`` or ``UNUSED EXEMPTION``."""
    exemption: Exemption
    urn: str | None
    finding: str | None = None

    def message(self) -> str:
        """The advisory message the reporter emits."""
        exemption = self.exemption
        return notices.exemption_message(
            self.kind,
            policy=exemption.policy,
            resource=exemption.resource,
            ticket=exemption.ticket,
            expires=exemption.expires.isoformat(),
            reason=exemption.reason,
            finding=self.finding,
        )


@dataclass(frozen=True)
class Deviation:
    """A rule running with a config property weaker or other than its secure default."""

    policy: str
    key: str
    value: Any
    default: Any
    urn: str | None = None

    def message(self) -> str:
        """The advisory message the reporter emits."""
        return notices.deviation_message(self.policy, self.key, self.value, self.default)


class Ledger:
    """Exemption uses recorded by rules while the pack runs, reported by :data:`REPORT_POLICY`.

    The analyzer runs every policy of a request in pack order, in one process, and the reporter is
    the pack's last stack policy, so by the time it runs every resource and stack rule has recorded
    what it exempted. Thread-safe: the SDK serves requests from a thread pool.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str, str | None], LedgerEntry] = {}
        self._declared: dict[tuple[str, str], Exemption] = {}
        self._deviations: dict[tuple[str, str], Deviation] = {}

    def deviate(self, deviations: Sequence[Deviation]) -> None:
        """Remember a rule's config deviations from its defaults (reported once each)."""
        with self._lock:
            for deviation in deviations:
                self._deviations[(deviation.policy, deviation.key)] = deviation

    def declare(self, exemptions: Sequence[Exemption]) -> None:
        """Remember the exemptions a rule was configured with (to find unused ones)."""
        with self._lock:
            for exemption in exemptions:
                self._declared[(exemption.policy, exemption.resource)] = exemption

    def record(self, entry: LedgerEntry) -> None:
        """Record one use; repeated uses on one resource (several findings, or the same resource
        analyzed twice) become one entry."""
        key = (entry.exemption.policy, entry.exemption.resource, entry.urn)
        with self._lock:
            previous = self._entries.get(key)
            if previous is None:
                self._entries[key] = entry
            elif (
                previous.kind == entry.kind
                and entry.finding is not None
                and entry.finding not in (previous.finding or "")
            ):
                # One rule can find several things on one resource: keep them all in one notice.
                findings = "; ".join(f for f in (previous.finding, entry.finding) if f)
                self._entries[key] = LedgerEntry(entry.kind, entry.exemption, entry.urn, findings)

    def drain(self) -> list[LedgerEntry | Deviation]:
        """Everything to report: config deviations, then exemptions used, expired or matching
        nothing; then clear."""
        with self._lock:
            entries = list(self._entries.values())
            used = {(e.exemption.policy, e.exemption.resource) for e in entries}
            for key, exemption in self._declared.items():
                if key not in used:
                    entries.append(LedgerEntry(UNUSED_PREFIX, exemption, None))
            deviations = sorted(self._deviations.values(), key=lambda d: (d.policy, d.key))
            self._entries.clear()
            self._declared.clear()
            self._deviations.clear()
        ordered = sorted(
            entries, key=lambda e: (e.exemption.policy, e.exemption.resource, e.urn or "")
        )
        return [*deviations, *ordered]


#: The pack process's ledger.
LEDGER: Final = Ledger()
