"""Generate ``docs/config-reference.md`` from the config model and the committed stacks.

Every key, what it accepts, its default and each stack's value come from the model and the YAML
themselves, so the reference cannot drift from the code; a test checks the file is current.
``python -m tools.config_docs`` rewrites it (``make docs``).
"""

from __future__ import annotations

import json
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined, to_jsonable_python

from stackspec.config.stack import StackConfig
from stackspec.stack_file import PROJECT, PROJECT_DIR, list_stacks, read_stack

OUTPUT = PROJECT_DIR / "docs" / "config-reference.md"
UNSET = "—"


def _model_type(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        models = [a for a in typing.get_args(annotation) if _model_type(a)]
        return _model_type(models[0]) if len(models) == 1 else None
    return None


def _describe_type(annotation: Any, metadata: list[Any]) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        more = [m for e in extra for m in (getattr(e, "metadata", None) or [e])]
        return _describe_type(inner, metadata + more)
    if origin in (types.UnionType, typing.Union):
        parts = [a for a in typing.get_args(annotation) if a is not type(None)]
        text = " or ".join(_describe_type(p, metadata) for p in parts)
        return f"{text}, or unset" if len(parts) < len(typing.get_args(annotation)) else text
    if origin is typing.Literal:
        return " | ".join(json.dumps(v) for v in typing.get_args(annotation))
    if origin in (tuple, list):
        item = typing.get_args(annotation)[0]
        return f"list of {_describe_type(item, [])}"
    if origin is dict:
        key, value = typing.get_args(annotation)
        return f"map of {_describe_type(key, [])} to {_describe_type(value, [])}"
    model = _model_type(annotation)
    if model is not None:
        return "object"
    name = getattr(annotation, "__name__", str(annotation))
    if name == "str" and any(getattr(m, "func", None) for m in metadata):
        name = "AWS region name"
    bounds = []
    for item in metadata:
        for attr, symbol in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if isinstance(item, getattr(annotated_types, attr.capitalize(), ())):
                bounds.append(f"{symbol} {getattr(item, attr)}")
        if getattr(item, "pattern", None):
            bounds.append(f"matching `{item.pattern}`")
    if hasattr(annotation, "__members__"):
        return " | ".join(json.dumps(m.value) for m in annotation)
    return name + (f" ({', '.join(bounds)})" if bounds else "")


def _default(field: FieldInfo) -> Any:
    if field.default is not PydanticUndefined:
        return field.default
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    return PydanticUndefined


def _render(value: Any) -> str:
    if value is PydanticUndefined:
        return "required"
    value = to_jsonable_python(value, by_alias=True)
    if value is None:
        return "unset"
    text = json.dumps(value, separators=(", ", ": ")) if not isinstance(value, str) else value
    return f"`{text}`".replace("|", "\\|")


def _rows(
    model: type[BaseModel], prefix: str, defaults: BaseModel | None
) -> Iterator[tuple[str, FieldInfo, bool, Any]]:
    """(key path, field, is_object, default) for every field, depth first. A nested object's
    default comes from its parent's default instance when the parent has one."""
    for name, field in model.model_fields.items():
        key = field.alias or name
        path = f"{prefix}.{key}" if prefix else key
        nested = _model_type(field.annotation)
        default = getattr(defaults, name) if defaults is not None else _default(field)
        yield path, field, nested is not None, default
        if nested is not None:
            yield from _rows(nested, path, default if isinstance(default, BaseModel) else None)


def _lookup(config: dict[str, Any], path: str) -> Any:
    top, *rest = path.split(".")
    node: Any = config.get(f"{PROJECT}:{top}", PydanticUndefined)
    for part in rest:
        if not isinstance(node, dict) or part not in node:
            return PydanticUndefined
        node = node[part]
    return node


def render() -> str:
    stacks = list_stacks()
    configs = {stack: read_stack(stack).config for stack in stacks}
    header = ["Key", "Accepts", "Default", *stacks, "Meaning"]
    lines = [
        "# Stack config reference",
        "",
        "<!-- Generated by `python -m tools.config_docs` (make docs) from stackspec/config/",
        "     and the committed Pulumi.<stack>.yaml files. Do not edit by hand. -->",
        "",
        f"Every key lives under the `{PROJECT}:` namespace of `Pulumi.<stack>.yaml`; `aws:region`",
        "must equal `region`. Unknown keys are rejected. A stack column shows the value its YAML",
        f"sets; {UNSET} means the default applies. Objects list their keys in the rows below them.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for path, field, is_object, default_value in _rows(StackConfig, "", None):
        accepts = "object" if is_object else _describe_type(field.annotation, list(field.metadata))
        accepts = accepts.replace("|", "\\|")
        default = "see keys below" if is_object else _render(default_value)
        values = []
        for stack in stacks:
            value = _lookup(configs[stack], path)
            if value is PydanticUndefined:
                values.append(UNSET)
            elif is_object:
                values.append("set")
            else:
                values.append(_render(value))
        meaning = (field.description or "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{path}` | {accepts} | {default} | {' | '.join(values)} | {meaning} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args == ["--check"]:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(PROJECT_DIR)} is out of date: run make docs")
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    Path(OUTPUT).write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(PROJECT_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
