"""``--policy-pack-config`` handled as the Pulumi CLI handles it: the one implementation here.

The CLI reads the JSON file (top-level keys are policy names or ``all``; a value is an enforcement
level string, or an object with an optional ``enforcementLevel`` and the policy's properties),
then reconciles it with the pack's metadata (pulumi/pulumi ``ReconcilePolicyPackConfig``): every
policy starts from its own enforcement level and its config-schema defaults, the pack's
``initialConfig`` is applied, then the file (``all``'s level first, then each key), and each
policy's resulting properties are validated against its config schema. Keys that name no policy
(``all`` included) are not rejected: they are passed on as given. The result is what ``Configure``
receives, and the pack judges it there (the HIPAA pack refuses misspelt names, see
``policies/hipaa_guardrails/pack_config.py``), under the CLI and under the gate alike.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

ENFORCEMENT_LEVELS = ("advisory", "mandatory", "remediate", "disabled")


class PackConfigError(Exception):
    """The pack config is unreadable or invalid; the message names the file and key."""


@dataclass(frozen=True)
class PolicyConfig:
    """One policy's effective configuration (``PolicyConfig`` on the wire)."""

    enforcement_level: str
    properties: dict[str, Any] | None


def _level(value: Any, where: str) -> str:
    if not isinstance(value, str) or value not in ENFORCEMENT_LEVELS:
        raise PackConfigError(
            f"{where}: {json.dumps(value)} is not an enforcement level "
            f"(allowed: {', '.join(ENFORCEMENT_LEVELS)})"
        )
    return value


def parse_pack_config(document: Any, source: str) -> dict[str, PolicyConfig]:
    """Parse the config file's JSON the way the CLI does (empty entries are dropped)."""
    if not isinstance(document, dict):
        raise PackConfigError(f"{source}: expected a JSON object keyed by policy name or 'all'")
    result: dict[str, PolicyConfig] = {}
    for key, value in document.items():
        level = ""
        properties: dict[str, Any] | None = None
        if isinstance(value, str):
            level = _level(value, f"{source}: {key}")
        elif isinstance(value, dict):
            props = dict(value)
            if "enforcementLevel" in props:
                level = _level(props.pop("enforcementLevel"), f"{source}: {key}.enforcementLevel")
            properties = props or None
        else:
            raise PackConfigError(
                f"{source}: {key}: {json.dumps(value)} is not a valid value; "
                "must be an enforcement level string or an object"
            )
        if level or properties:
            result[key] = PolicyConfig(level, properties)
    return result


def load_pack_config(path: Path) -> dict[str, PolicyConfig]:
    """Read and parse a pack config file; an empty file is an empty config, as for the CLI."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PackConfigError(f"{path}: no such pack config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise PackConfigError(f"{path}: cannot read the pack config: {reason}") from None
    if not text.strip():
        return {}
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PackConfigError(
            f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return parse_pack_config(document, str(path))


@dataclass(frozen=True)
class PolicySchema:
    """What reconciliation needs from a policy's ``PolicyInfo``."""

    name: str
    enforcement_level: str
    properties: dict[str, Any]
    required: tuple[str, ...]


def _apply(
    result: dict[str, PolicyConfig], config: Mapping[str, PolicyConfig]
) -> dict[str, PolicyConfig]:
    result = dict(result)
    everything = config.get("all")
    if everything is not None and everything.enforcement_level:
        result = {
            name: PolicyConfig(everything.enforcement_level, current.properties)
            for name, current in result.items()
        }
    for name, given in config.items():
        current = result.get(name)
        level = current.enforcement_level if current else ""
        properties = dict(current.properties) if current and current.properties else None
        if given.enforcement_level:
            level = given.enforcement_level
        if given.properties:
            properties = {**(properties or {}), **copy.deepcopy(given.properties)}
        result[name] = PolicyConfig(level, properties)
    return result


def reconcile(
    policies: list[PolicySchema],
    initial_config: Mapping[str, PolicyConfig],
    config: Mapping[str, PolicyConfig],
    source: str,
) -> dict[str, PolicyConfig]:
    """Defaults, then the pack's initial config, then ``config``; validated per policy schema.

    Every key of ``config`` reaches the result, as in the CLI, policy or not."""
    result = {
        p.name: PolicyConfig(
            p.enforcement_level,
            {
                k: v["default"]
                for k, v in p.properties.items()
                if isinstance(v, dict) and "default" in v
            }
            or None,
        )
        for p in policies
    }
    result = _apply(result, initial_config)
    result = _apply(result, config)
    problems: list[str] = []
    for policy in policies:
        schema: dict[str, Any] = {"type": "object"}
        if policy.properties:
            schema["properties"] = policy.properties
        if policy.required:
            schema["required"] = list(policy.required)
        properties = result[policy.name].properties or {}
        validator = jsonschema.Draft7Validator(schema)
        for error in sorted(validator.iter_errors(properties), key=lambda e: list(e.path)):
            where = ".".join(str(p) for p in error.absolute_path)
            problems.append(f"{policy.name}{'.' + where if where else ''}: {error.message}")
    if problems:
        raise PackConfigError(
            f"{source}: invalid policy pack configuration:\n  " + "\n  ".join(problems)
        )
    return result
