"""Write a generated file, or check that it is current (``--check``): the one way the review
commands keep their generated docs (docs/architecture.md, the README's cost table) in step."""

from __future__ import annotations

from pathlib import Path

from stackspec.stack_file import PROJECT_DIR


def write_or_check(path: Path, text: str, *, check: bool) -> int:
    """0 when written (or current under ``check``); 1 when ``check`` finds it stale."""
    shown = path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(f"{shown} is out of date: run make docs")
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {shown}")
    return 0


def replace_between(text: str, begin: str, end: str, body: str) -> str:
    """``text`` with what lies between the marker lines ``begin`` and ``end`` replaced."""
    head, found, rest = text.partition(begin)
    _, found_end, tail = rest.partition(end)
    if not found or not found_end:
        raise ValueError(f"markers {begin!r} and {end!r} not found")
    return f"{head}{begin}\n{body}{end}{tail}"
