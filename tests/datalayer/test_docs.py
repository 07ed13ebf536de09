"""docs/access-patterns.md is generated from the catalog and must be current."""

from __future__ import annotations

from datalayer.access_patterns import CATALOG
from datalayer.docs import ACCESS_PATTERNS_DOC, render


def test_access_patterns_doc_is_current() -> None:
    assert ACCESS_PATTERNS_DOC.read_text(encoding="utf-8") == render(), "run: make docs"


def test_doc_names_every_pattern_with_its_index() -> None:
    text = render()
    for pattern in CATALOG:
        assert f"| [{pattern.name}](#{pattern.name}) | {pattern.target} |" in text
