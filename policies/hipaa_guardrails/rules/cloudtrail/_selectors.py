"""Reading a trail's event selectors: advanced (``advancedEventSelectors``) and basic
(``eventSelectors``)."""

from collections.abc import Iterator
from typing import Any

from hipaa_guardrails.props import MISSING, UNKNOWN, get, items_of


def fields(selector: Any) -> dict[str, Any]:
    """An advanced selector's field selectors by field name (``UNKNOWN`` entries kept aside)."""
    result: dict[str, Any] = {}
    for field in items_of(get(selector, "fieldSelectors")):
        name = get(field, "field")
        if isinstance(name, str):
            result[name] = field
    return result


def equals(field: Any) -> list[Any]:
    return items_of(get(field, "equals"))


def advanced(trail_props: Any) -> list[Any]:
    return items_of(get(trail_props, "advancedEventSelectors"))


def records_management_events(trail_props: Any) -> Any:
    """True, False or UNKNOWN: does the trail record management events?"""
    selectors = advanced(trail_props)
    if selectors:
        if UNKNOWN in selectors:
            return UNKNOWN
        for selector in selectors:
            category = fields(selector).get("eventCategory")
            if category is None:
                continue
            values = equals(category)
            if UNKNOWN in values:
                return UNKNOWN
            if "Management" in values:
                # A readOnly field narrows it to reads or writes only: not all management events.
                return "readOnly" not in fields(selector)
        return False
    basic = items_of(get(trail_props, "eventSelectors"))
    if not basic:
        return True  # CloudTrail's default: all management events
    if UNKNOWN in basic:
        return UNKNOWN
    for selector in basic:
        include = get(selector, "includeManagementEvents")
        kind = get(selector, "readWriteType")
        if include in (True, MISSING) and kind in ("All", MISSING):
            return True
        if UNKNOWN in (include, kind):
            return UNKNOWN
    return False


def data_event_resource_arns(trail_props: Any, resource_type: str) -> Iterator[Any]:
    """For each advanced selector of data events on ``resource_type``: its ``resources.ARN``
    equals values, or ``["*"]`` when it selects every resource of the type."""
    for selector in advanced(trail_props):
        if selector is UNKNOWN:
            yield [UNKNOWN]
            continue
        by_field = fields(selector)
        if "Data" not in equals(by_field.get("eventCategory")):
            continue
        if resource_type not in equals(by_field.get("resources.type")):
            continue
        arn = by_field.get("resources.ARN")
        if arn is None:
            yield ["*"]
            continue
        yield equals(arn)
