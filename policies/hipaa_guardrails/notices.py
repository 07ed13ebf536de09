"""The messages that report accepted risks: written by the pack, read back by tools (the gate).

Four kinds, each an advisory violation of ``hipaa-exemptions-reported``::

    EXEMPTED: <rule> on <resource> (ticket <T>, expires <date>: <reason>). Suppressed finding: <f>
    EXPIRED EXEMPTION: <rule> on <resource> (ticket <T>, expires <date>: <reason>). Not honoured
        any more: the finding is enforced at the rule's level (<f>); renew it with ...
    UNUSED EXEMPTION: <rule> on <resource> (ticket <T>, expires <date>: <reason>). It matched no
        finding: remove it from the pack config.
    CONFIG DEVIATION: <rule> runs with <key> = <json> (secure default <json>), as set in ...

:func:`exemption_message` and :func:`deviation_message` write them; :func:`parse` reads them back
from the same pieces, so the two cannot drift apart. Standard library only: the gate imports this
module from ``policies/`` without the pack's dependencies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

EXEMPTED: Final = "EXEMPTED"
EXPIRED: Final = "EXPIRED EXEMPTION"
UNUSED: Final = "UNUSED EXEMPTION"
DEVIATION: Final = "CONFIG DEVIATION"
#: Every kind, in the order reports list them (what needs action first).
KINDS: Final = (EXPIRED, UNUSED, EXEMPTED, DEVIATION)

_SUPPRESSED: Final = ". Suppressed finding: "
_NOT_HONOURED: Final = ". Not honoured any more: the finding is enforced at the rule's level"
_RENEW: Final = "; renew it with a new ticket or fix the resource."
_NO_MATCH: Final = ". It matched no finding: remove it from the pack config."
_RUNS_WITH: Final = " runs with "
_SECURE_DEFAULT: Final = " (secure default "
_AS_SET: Final = "), as set in this stack's pack config"


@dataclass(frozen=True)
class Notice:
    """One parsed message. Exemption kinds fill resource, ticket, expires, reason and (EXEMPTED,
    EXPIRED) finding; CONFIG DEVIATION fills key, value and default (JSON text) and ``reason``
    with what the rule runs with."""

    kind: str
    policy: str = ""
    resource: str = ""
    ticket: str = ""
    expires: str = ""
    reason: str = ""
    finding: str = ""
    key: str = ""
    value: str = ""
    default: str = ""


def _head(kind: str, policy: str, resource: str, ticket: str, expires: str, reason: str) -> str:
    return f"{kind}: {policy} on {resource} (ticket {ticket}, expires {expires}: {reason})"


def exemption_message(
    kind: str,
    *,
    policy: str,
    resource: str,
    ticket: str,
    expires: str,
    reason: str,
    finding: str | None = None,
) -> str:
    """The message reporting an exemption applied (EXEMPTED), expired or unused."""
    head = _head(kind, policy, resource, ticket, expires, reason)
    if kind == EXEMPTED:
        return f"{head}{_SUPPRESSED}{finding}"
    if kind == EXPIRED:
        return f"{head}{_NOT_HONOURED}{f' ({finding})' if finding else ''}{_RENEW}"
    if kind == UNUSED:
        return f"{head}{_NO_MATCH}"
    raise ValueError(f"{kind!r} is not an exemption kind ({EXEMPTED}, {EXPIRED}, {UNUSED})")


def _deviation_reason(key: str, value: str, default: str) -> str:
    return f"runs with {key} = {value}{_SECURE_DEFAULT}{default}{_AS_SET}"


def deviation_message(policy: str, key: str, value: Any, default: Any) -> str:
    """The message reporting a rule run with ``key`` other than its secure default."""
    reason = _deviation_reason(key, json.dumps(value), json.dumps(default))
    return f"{DEVIATION}: {policy} {reason}"


def _parse_deviation(rest: str) -> Notice | None:
    policy, sep, tail = rest.partition(_RUNS_WITH)
    if not sep or " " in policy or not tail.endswith(_AS_SET):
        return None
    key, sep, values = tail.removesuffix(_AS_SET).partition(" = ")
    value, sep2, default = values.rpartition(_SECURE_DEFAULT)
    if not sep or not sep2:
        return None
    return Notice(
        DEVIATION,
        policy=policy,
        reason=_deviation_reason(key, value, default),
        key=key,
        value=value,
        default=default,
    )


def _parse_exemption(kind: str, rest: str) -> Notice | None:
    policy, sep, rest = rest.partition(" on ")
    resource, sep2, rest = rest.partition(" (ticket ")
    ticket, sep3, rest = rest.partition(", expires ")
    expires, sep4, rest = rest.partition(": ")
    if not (sep and sep2 and sep3 and sep4) or " " in policy:
        return None
    finding = ""
    if kind == EXEMPTED:
        reason, sep, finding = rest.partition(_SUPPRESSED)
    elif kind == EXPIRED:
        reason, sep, tail = rest.partition(_NOT_HONOURED)
        if not tail.endswith(_RENEW):
            return None
        finding = tail.removesuffix(_RENEW).removeprefix(" (").removesuffix(")")
    else:
        reason, sep, tail = rest.partition(_NO_MATCH)
        if tail:
            return None
    if not sep or not reason.endswith(")"):
        return None
    return Notice(
        kind,
        policy=policy,
        resource=resource,
        ticket=ticket,
        expires=expires,
        reason=reason.removesuffix(")"),
        finding=finding,
    )


def parse(text: str) -> Notice | None:
    """The notice ``text`` is, or None when it is none. A message that starts with a kind but is
    not in its format still counts as that kind (with only ``kind`` set): never silently a
    violation of another sort."""
    for kind in KINDS:
        if text.startswith(f"{kind}: "):
            rest = text[len(kind) + 2 :]
            parsed = _parse_deviation(rest) if kind == DEVIATION else _parse_exemption(kind, rest)
            return parsed or Notice(kind)
    return None
