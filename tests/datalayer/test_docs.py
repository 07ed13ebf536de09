"""docs/access-patterns.md is generated from the catalog and must be current; docs/data-model.md
names every entity and PHI field."""

from __future__ import annotations

from datalayer.access_patterns import CATALOG
from datalayer.docs import ACCESS_PATTERNS_DOC, render
from datalayer.entities import PHI_FIELDS, EntityType
from stackspec.stack_file import PROJECT_DIR


def test_access_patterns_doc_is_current() -> None:
    assert ACCESS_PATTERNS_DOC.read_text(encoding="utf-8") == render(), "run: make docs"


def test_doc_names_every_pattern_with_its_index() -> None:
    text = render()
    for pattern in CATALOG:
        assert f"| [{pattern.name}](#{pattern.name}) | {pattern.target} |" in text


def test_data_model_doc_names_every_entity_and_phi_field() -> None:
    text = (PROJECT_DIR / "docs" / "data-model.md").read_text(encoding="utf-8")
    for entity_type in EntityType:
        assert f"| {entity_type} " in text or f"| {entity_type.value} (" in text, entity_type
    for entity_type, fields in PHI_FIELDS.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| {entity_type}"))
        for name in fields:
            assert name in row, f"{entity_type}.{name} missing from the entities table"
