"""Reading ``Pulumi.<stack>.yaml``: strictly, once, with its ``secure:`` values masked.

Strict means what a person editing the file would expect: a key written twice is an error naming
both lines (PyYAML would silently keep the last), and a syntax error is one line with the file,
line and column. Only the Pulumi CLI can decrypt ``secure:`` values, so offline readers see
:data:`OFFLINE_SECRET_PLACEHOLDER` in their place and learn where they were.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from stackspec.errors import ConfigError

PROJECT = "medeez-platform"
PROJECT_DIR = Path(__file__).resolve().parent.parent

#: Shown in place of a ``secure:`` value when the stack config is read without the Pulumi CLI,
#: which is the only thing that can decrypt it.
OFFLINE_SECRET_PLACEHOLDER = "[secret: not decryptable offline]"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping key written twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key '{key}' appears twice (lines {seen[key]} and {line}); keep one",
                    key_node.start_mark,
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, name: str) -> Any:
    """Parse ``text`` strictly; errors name ``name``, the line and the column."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        problem = exc.problem or exc.context or "not valid YAML"
        raise ConfigError(f"{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: not valid YAML: {exc}") from None


def list_stacks(project_dir: Path = PROJECT_DIR) -> list[str]:
    """The stacks with a ``Pulumi.<stack>.yaml`` in ``project_dir``."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


@dataclass(frozen=True)
class StackFile:
    """``Pulumi.<stack>.yaml`` read once: its config with ``secure:`` values masked, and where
    those values were."""

    config: dict[str, Any]
    """The ``config:`` mapping; ``secure:`` values are :data:`OFFLINE_SECRET_PLACEHOLDER`."""
    secret_paths: list[str]
    """Config paths (``medeez-platform:alarms.subscribers[0].endpoint``) holding ``secure:``."""

    @property
    def secret_keys(self) -> list[str]:
        """The top-level config keys holding a secret, as the CLI lists them to a program."""
        return sorted({path.split(".")[0].split("[")[0] for path in self.secret_paths})


def read_stack(stack: str, project_dir: Path = PROJECT_DIR) -> StackFile:
    """Read ``Pulumi.<stack>.yaml`` (only the Pulumi CLI can decrypt its ``secure:`` values)."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", stack) or not path.is_file():
        known = ", ".join(list_stacks(project_dir)) or "none"
        raise ConfigError(f"unknown stack '{stack}': no Pulumi.{stack}.yaml; stacks: {known}")
    document = load_yaml(path.read_text(encoding="utf-8"), path.name) or {}
    raw = document.get("config") if isinstance(document, dict) else None
    if not isinstance(raw, dict):
        raise ConfigError(f"stack {stack}: {path.name} has no 'config:' mapping")
    return StackFile(
        config={str(k): _mask_secure(v) for k, v in raw.items()},
        secret_paths=[
            f"{key}.{path}" if path else str(key)
            for key, value in raw.items()
            for path in secret_paths(value)
        ],
    )


def secret_paths(value: Any, path: str = "") -> list[str]:
    """Paths of ``secure:`` leaves in a raw YAML config value (for reporting placeholders)."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return [path]
        return [p for k, v in value.items() for p in secret_paths(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in secret_paths(v, f"{path}[{i}]")]
    return []


def _mask_secure(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return OFFLINE_SECRET_PLACEHOLDER
        return {k: _mask_secure(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_secure(v) for v in value]
    return value
