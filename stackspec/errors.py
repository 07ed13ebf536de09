"""Config errors, worded for the person who wrote the config.

Every message names where the value is (``medeez-platform:backup.retentionDays``) and what is
allowed there; pydantic's own wording is turned into that shape here and nowhere else.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

PROJECT_NAMESPACE = "medeez-platform"


class ConfigError(Exception):
    """A stack config that cannot be used; the message is meant for the person who wrote it."""


def describe_validation_error(error: Any, root: type[BaseModel]) -> str:
    """One ``<key path>: <what is wrong and what is allowed>`` line for a pydantic error dict."""
    loc = [str(part) for part in error["loc"]]
    message = str(error["msg"]).removeprefix("Value error, ")
    if not loc:  # whole-stack invariants already name their key paths, one per line
        return "\n  - ".join(f"{PROJECT_NAMESPACE}:{line}" for line in message.splitlines())
    path = f"{PROJECT_NAMESPACE}:{loc[0]}"
    for part in loc[1:]:
        path += f"[{part}]" if part.isdigit() else f".{part}"
    if error["type"] == "extra_forbidden":
        message = "unknown key; allowed here: " + ", ".join(allowed_keys(root, loc[:-1]))
    elif error["type"] == "missing":
        message = "missing; this key is required"
    elif not isinstance(error.get("input"), dict | list | type(None)):
        message += f" (got {error['input']!r})"
    return f"{path}: {message}"


def allowed_keys(root: type[BaseModel], loc: list[str]) -> list[str]:
    """The keys a config object at ``loc`` accepts, by walking the model tree from ``root``."""
    model: Any = root
    for part in loc:
        if part.isdigit():
            continue
        fields = {(f.alias or n): f for n, f in model.model_fields.items()}
        field = fields.get(part)
        if field is None:
            return []
        model = _model_of(field.annotation)
        if model is None:
            return []
    return [(f.alias or n) for n, f in model.model_fields.items()]


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
