"""Plans for the review commands' tests: the real dev and prod plans, and edits of them."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from tools.gate.plan_input import Plan, parse_plan

Document = dict[str, Any]


def document(planned: Any) -> Document:
    """A ``tools.plan.Plan`` as the JSON document ``make plan OUT=`` writes."""
    return json.loads(json.dumps(planned.to_json()))


def edited(doc: Document, edit: Callable[[Document], None]) -> Plan:
    """The plan of ``doc`` after ``edit`` (on a copy)."""
    changed = copy.deepcopy(doc)
    edit(changed)
    return parse_plan(changed, "edited plan")


def resource(doc: Document, name: str) -> dict[str, Any]:
    (found,) = [r for r in doc["resources"] if r["name"] == name]
    return found


def add_copy(doc: Document, name: str, new_name: str) -> dict[str, Any]:
    """Add a copy of resource ``name`` named ``new_name`` (URN and physical name changed)."""
    original = resource(doc, name)
    twin = copy.deepcopy(original)
    twin["name"] = new_name
    twin["urn"] = original["urn"].rsplit("::", 1)[0] + "::" + new_name
    if "name" in twin["inputs"]:
        twin["inputs"]["name"] = str(twin["inputs"]["name"]) + "-copy"
    doc["resources"].append(twin)
    return twin
