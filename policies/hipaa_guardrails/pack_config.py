"""The pack's own checks of its configuration, run on what ``Configure`` receives.

The Pulumi CLI reads ``--policy-pack-config``, reconciles it (each policy's schema defaults, then
``all``'s level, then each entry), validates each policy's properties against its JSON Schema and
sends the result in ``Configure``: one entry per policy, plus every other key of the file as given
(``all``, and misspelt names, which the CLI does not reject). The offline gate applies the same
semantics (``tools/gate/pack_config.py``, the one implementation in this repository).

This module is what the pack adds, on that result, so that ``pulumi preview`` and ``make gate``
reject exactly the same configs: :class:`~hipaa_guardrails.analyzer.ConfigCheckingAnalyzer` runs
:func:`problems` in ``Configure`` and refuses the config (INVALID_ARGUMENT) with every problem:

* a key that names no policy of the pack (a misspelt rule would otherwise keep its default level);
* ``all`` below ``mandatory`` (lowering every rule at once hides a critical finding without saying
  which; lower a rule by naming it), or ``all`` with properties (the CLI ignores them);
* the exemption reporter not at ``advisory`` or configured (it must report, and must not block:
  with ``"all": "mandatory"`` name it as ``"hipaa-exemptions-reported": "advisory"``);
* a property a rule does not have (the CLI's schema check lets unknown keys through);
* an exemption that passed the schema but cannot be used (e.g. ``2027-02-30``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from hipaa_guardrails import exemptions
from hipaa_guardrails.registry import all_rules

LEVELS: Final = ("advisory", "mandatory", "remediate", "disabled")


@dataclass(frozen=True)
class PolicyConfig:
    """One entry of ``Configure``: a level and the policy's properties."""

    enforcement_level: str
    properties: Mapping[str, Any]


def problems(config: Mapping[str, PolicyConfig]) -> list[str]:
    """Everything wrong with a reconciled config, one line each naming the key and what is
    allowed; empty when the pack accepts it."""
    rules = {rule.name: rule for rule in all_rules()}
    found: list[str] = []
    for key, entry in sorted(config.items()):  # Configure's map has no order of its own
        if key == "all":
            if entry.enforcement_level != "mandatory":
                found.append(
                    f"all: {entry.enforcement_level!r} for every policy; 'all' may only be "
                    "'mandatory': lower a rule's level by naming it, so the weakening is explicit"
                )
            if entry.properties:
                found.append(
                    f"all: properties {', '.join(sorted(entry.properties))}; 'all' takes only an "
                    "enforcement level (the CLI ignores properties there)"
                )
            continue
        if key == exemptions.REPORT_POLICY:
            if entry.enforcement_level != "advisory" or entry.properties:
                found.append(
                    f"{key}: runs at {entry.enforcement_level!r}"
                    + (" with properties" if entry.properties else "")
                    + "; the exemption reporter only runs at 'advisory' with no properties "
                    f'(with "all": "mandatory", add "{key}": "advisory")'
                )
            continue
        rule = rules.get(key)
        if rule is None:
            close = difflib.get_close_matches(key, [*rules, exemptions.REPORT_POLICY], n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            found.append(
                f"{key}: no such policy in the pack{hint}; keys are the policy names listed in "
                "POLICIES.md, or 'all'"
            )
            continue
        allowed = [*rule.config_properties, "exemptions"]
        unknown = sorted(set(entry.properties) - set(allowed))
        if unknown:
            found.append(
                f"{key}: unknown propert{'y' if len(unknown) == 1 else 'ies'} "
                f"{', '.join(unknown)}; allowed keys: {', '.join(['enforcementLevel', *allowed])}"
            )
        try:
            exemptions.parse_exemptions(key, entry.properties)
        except exemptions.ExemptionConfigError as exc:
            found.append(str(exc))
    return found


def level_deviations(config: Mapping[str, PolicyConfig]) -> list[exemptions.Deviation]:
    """Every rule configured to run below its secure default level (reported, never silent)."""
    strength = {"disabled": 0, "advisory": 1, "mandatory": 2, "remediate": 2}
    found = []
    for rule in all_rules():
        entry = config.get(rule.name)
        default = rule.enforcement.value
        if entry is not None and strength[entry.enforcement_level] < strength[default]:
            found.append(
                exemptions.Deviation(
                    rule.name, "enforcementLevel", entry.enforcement_level, default
                )
            )
    return found


def describe(config_problems: list[str]) -> str:
    """The message the pack refuses a config with."""
    return "invalid pack config:\n" + "\n".join(f"  - {p}" for p in config_problems)
