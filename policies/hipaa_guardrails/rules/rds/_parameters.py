"""Reading a PostgreSQL parameter group's parameters (shared by the parameter-group rules)."""

from typing import Any

from hipaa_guardrails.props import UNKNOWN, get, items_of
from hipaa_guardrails.spec import NotApplicable, Resource


def postgres_parameters(group: Resource) -> dict[str, Any] | None:
    """name -> value of a PostgreSQL group's parameters; None when the list is unknown.
    Not applicable to other engines' groups."""
    family = get(group.props, "family")
    if family is UNKNOWN:
        return None
    if not (isinstance(family, str) and family.startswith("postgres")):
        raise NotApplicable("only PostgreSQL parameter groups are judged")
    parameters = items_of(get(group.props, "parameters"))
    if UNKNOWN in parameters:
        return None
    found: dict[str, Any] = {}
    for parameter in parameters:
        name = get(parameter, "name")
        if isinstance(name, str):
            found[name] = get(parameter, "value")
    return found
