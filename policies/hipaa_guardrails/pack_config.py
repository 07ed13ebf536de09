"""Reading and checking a pack config file, exactly as the Pulumi CLI will apply it.

``pulumi preview --policy-pack-config <file>`` accepts a JSON object whose keys are policy names
or ``all`` and whose values are an enforcement level or an object of ``enforcementLevel`` plus
config properties. The CLI fills every policy's defaults, applies ``all``'s level, then each
policy's entry, and validates each policy's properties against its JSON Schema. It does not reject
unknown policy names; this module does, and adds the pack's own rules:

* ``all`` may only raise the level (``mandatory``): lowering every rule at once would hide a
  critical finding without saying which;
* the exemption reporter (``hipaa-exemptions-reported``) cannot be configured or disabled;
* exemption end dates must be real calendar dates.

Usage: ``python -m hipaa_guardrails.pack_config policies/config/prod.json`` prints the effective
config and every deviation from the secure defaults; exit 2 with a clear message when invalid.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from hipaa_guardrails import exemptions
from hipaa_guardrails.registry import all_rules, config_schema, effective_config
from hipaa_guardrails.spec import Guardrail

LEVELS: Final = ("advisory", "mandatory", "remediate", "disabled")
_STRENGTH: Final = {"disabled": 0, "advisory": 1, "mandatory": 2, "remediate": 2}


class PackConfigError(ValueError):
    """A pack config that cannot be used; the message names the file, key and what is allowed."""


@dataclass(frozen=True)
class PolicyConfig:
    """The effective config of one policy: what the CLI sends in ``Configure``."""

    enforcement_level: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PackConfig:
    """The effective config of every policy of the pack."""

    source: str
    policies: dict[str, PolicyConfig]

    def as_cli_config(self) -> dict[str, dict[str, Any]]:
        """``{policy: {"enforcementLevel": ..., "properties": {...}}}`` for a Configure request."""
        return {
            name: {"enforcementLevel": c.enforcement_level, "properties": dict(c.properties)}
            for name, c in self.policies.items()
        }

    def deviations(self) -> list[str]:
        """Every place this config departs from the pack's secure defaults, one line each."""
        lines = []
        for rule in all_rules():
            policy = self.policies[rule.name]
            default_level = rule.enforcement.value
            if policy.enforcement_level != default_level:
                lines.append(
                    f"{rule.name}: enforcement {policy.enforcement_level} (default {default_level})"
                )
            for key, default in rule.defaults().items():
                value = policy.properties.get(key, default)
                if value != default:
                    lines.append(
                        f"{rule.name}: {key} = {json.dumps(value)} (default {json.dumps(default)})"
                    )
        return lines

    def exemptions(self) -> list[exemptions.Exemption]:
        """Every exemption configured, in policy order."""
        found = []
        for rule in all_rules():
            found += exemptions.parse_exemptions(rule.name, self.policies[rule.name].properties)
        return found


def _schema(rule: Guardrail) -> dict[str, Any]:
    schema = config_schema(rule)
    return {"type": "object", "properties": schema.properties, "additionalProperties": False}


def _validate_properties(rule: Guardrail, properties: Mapping[str, Any], where: str) -> list[str]:
    # jsonschema is needed only here (gate and tests), never by the pack at runtime.
    from jsonschema import Draft7Validator

    problems = []
    validator = Draft7Validator(_schema(rule))
    for error in sorted(validator.iter_errors(dict(properties)), key=lambda e: list(e.path)):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path)
        if error.validator == "additionalProperties":
            allowed = ", ".join(["enforcementLevel", *_schema(rule)["properties"]])
            problems.append(f"{where}: {error.message}; allowed keys: {allowed}")
        else:
            problems.append(f"{where}{path}: {error.message}")
    return problems


def parse_pack_config(data: Any, source: str) -> PackConfig:
    """Check and reconcile a parsed pack config; :class:`PackConfigError` lists every problem."""
    if not isinstance(data, dict):
        raise PackConfigError(f"{source}: the pack config must be a JSON object of policy names")
    rules = {rule.name: rule for rule in all_rules()}
    problems: list[str] = []
    levels = {name: rule.enforcement.value for name, rule in rules.items()}
    given: dict[str, dict[str, Any]] = {}
    explicit: set[str] = set()
    for key, value in data.items():
        where = f"{source}: {key}"
        level: Any = None
        properties: dict[str, Any] = {}
        if isinstance(value, str):
            level = value
        elif isinstance(value, dict):
            properties = {k: v for k, v in value.items() if k != "enforcementLevel"}
            level = value.get("enforcementLevel")
        else:
            problems.append(
                f"{where}: must be an enforcement level or an object, got {json.dumps(value)}"
            )
            continue
        if level is not None and level not in LEVELS:
            problems.append(
                f"{where}: enforcementLevel {json.dumps(level)} is not one of {', '.join(LEVELS)}"
            )
            continue
        if key == "all":
            if properties:
                problems.append(
                    f"{where}: 'all' takes only an enforcement level "
                    "(the CLI ignores properties there)"
                )
            if level is not None and level != "mandatory":
                problems.append(
                    f"{where}: 'all' may only be 'mandatory'; lower a rule's level by naming it, "
                    "so the weakening is explicit"
                )
            continue
        if key == exemptions.REPORT_POLICY:
            problems.append(f"{where}: the exemption reporter cannot be configured or disabled")
            continue
        rule = rules.get(key)
        if rule is None:
            problems.append(
                f"{where}: no such policy in the pack; "
                f"policies: {', '.join(sorted(rules))}, or 'all'"
            )
            continue
        problems += _validate_properties(rule, properties, where)
        if level is not None:
            levels[key] = level
            explicit.add(key)
        given[key] = properties
    all_level = data.get("all")
    if isinstance(all_level, dict):
        all_level = all_level.get("enforcementLevel")
    if all_level == "mandatory":
        # The CLI applies 'all' first, then each policy's own level.
        levels = {n: (levels[n] if n in explicit else "mandatory") for n in levels}
    if problems:
        raise PackConfigError("invalid pack config:\n" + "\n".join(f"  - {p}" for p in problems))
    policies = {
        name: PolicyConfig(levels[name], effective_config(rule, given.get(name, {})))
        for name, rule in rules.items()
    }
    policies[exemptions.REPORT_POLICY] = PolicyConfig("advisory", {})
    config = PackConfig(source=source, policies=policies)
    try:
        config.exemptions()
    except exemptions.ExemptionConfigError as exc:
        raise PackConfigError(f"invalid pack config:\n  - {source}: {exc}") from None
    return config


def load_pack_config(path: str | Path) -> PackConfig:
    """Read, check and reconcile the pack config file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PackConfigError(f"{path}: cannot read the pack config ({exc.strerror})") from None
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise PackConfigError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    return parse_pack_config(data, str(path))


def main(argv: list[str] | None = None) -> int:
    """Check pack config files; print their deviations from the defaults and their exemptions."""
    parser = argparse.ArgumentParser(
        prog="python -m hipaa_guardrails.pack_config", description=main.__doc__
    )
    parser.add_argument("files", nargs="+", help="pack config JSON files")
    args = parser.parse_args(argv)
    status = 0
    for file in args.files:
        try:
            config = load_pack_config(file)
        except PackConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
            continue
        print(f"{file}: valid")
        for line in config.deviations():
            print(f"  deviation  {line}")
        for exemption in config.exemptions():
            print(
                f"  exemption  {exemption.policy} on {exemption.resource} ({exemption.describe()})"
            )
    return status


if __name__ == "__main__":
    raise SystemExit(main())
