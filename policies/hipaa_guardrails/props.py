"""Reading resource properties the way the analyzer hands them over.

At runtime ``args.props`` is the SDK's unknown-checking proxy: any read of a value that is unknown
during preview raises ``UnknownValueError`` (even ``"key" in props``). Rules never touch the proxy
directly. :func:`plain` copies it into ordinary dicts and lists once, turning every unknown leaf
into the :data:`UNKNOWN` marker, so each rule decides explicitly what an unknown means for it:

* fail closed (an unknown boolean cannot prove a safeguard is on) - :func:`is_true`;
* count as present (an unknown ARN that is set will hold a real ARN) - :func:`is_present`;
* defer to the update (a policy document that cannot be read now is checked at ``pulumi up``,
  where inputs are known) - :func:`require_known`, which makes the SDK report its standard advisory
  "can't run policy ... during preview" note.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError


class _Unknown:
    """The one value standing for "not known until the update runs"."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        # Truthiness of an unknown is a bug in a rule: it must decide via the helpers below.
        raise TypeError("an unknown value has no truth value; use is_true/is_present/require_known")


UNKNOWN: Final = _Unknown()


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: Returned by :func:`get` when a key (or a step of the path) is absent or null.
MISSING: Final = _Missing()


def plain(value: Any) -> Any:
    """A plain copy of (possibly proxied) properties with :data:`UNKNOWN` for unknown values.

    Uses only the proxy's public Mapping/Sequence interface: each read that raises
    ``UnknownValueError`` becomes :data:`UNKNOWN`.
    """
    if isinstance(value, str | bytes):
        return value
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key in list(value.keys()):
            try:
                item = value[key]
            except UnknownValueError:
                result[str(key)] = UNKNOWN
                continue
            result[str(key)] = plain(item)
        return result
    if isinstance(value, Sequence):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                element = value[index]
            except UnknownValueError:
                items.append(UNKNOWN)
                continue
            items.append(plain(element))
        return items
    return value


def get(props: Any, *path: str | int) -> Any:
    """The value at ``path`` in plain props; :data:`MISSING` if absent or null on the way,
    :data:`UNKNOWN` if the value or any container on the way is unknown."""
    current = props
    for step in path:
        if current is UNKNOWN:
            return UNKNOWN
        if isinstance(step, int):
            if not isinstance(current, list) or step >= len(current):
                return MISSING
            current = current[step]
        else:
            if not isinstance(current, dict) or step not in current:
                return MISSING
            current = current[step]
        if current is None:
            return MISSING
    return current


def describe(value: Any) -> str:
    """How a value reads in a message: ``not set``, ``unknown during preview ...`` or the value."""
    if value is MISSING:
        return "not set"
    if value is UNKNOWN:
        return "unknown during preview (fails closed)"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def is_true(value: Any) -> bool:
    """True only for a known ``True``; unknown fails closed."""
    return value is True


def is_unknown(value: Any) -> bool:
    """True for :data:`UNKNOWN`."""
    return value is UNKNOWN


def is_present(value: Any) -> bool:
    """A set, non-empty value; an unknown value that is set counts as present."""
    if value is UNKNOWN:
        return True
    if value is MISSING or value is None:
        return False
    if isinstance(value, str | list | dict):
        return len(value) > 0
    return True


def items_of(value: Any) -> list[Any]:
    """A list value as a list ([] when missing); an unknown list is returned as [UNKNOWN]."""
    if value is UNKNOWN:
        return [UNKNOWN]
    if isinstance(value, list):
        return value
    return []


class Deferred(Exception):
    """Raised by a rule that cannot decide until the value is known (see :func:`require_known`)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path

    def as_sdk_error(self) -> UnknownValueError:
        """The SDK's own exception, so the analyzer reports its standard preview note."""
        return UnknownValueError(UNKNOWN_STRING_VALUE, self.path.split("."))


def require_known(value: Any, path: str) -> Any:
    """``value`` if known; otherwise defer the whole check to the update."""
    if contains_unknown(value):
        raise Deferred(path)
    return value


def contains_unknown(value: Any) -> bool:
    """True if ``value`` is or holds :data:`UNKNOWN` anywhere."""
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False


def policy_document(value: Any, path: str) -> dict[str, Any] | None:
    """An IAM-style policy document from a property (JSON text or an object).

    Missing gives None; an unknown document defers the check; text that is not a JSON object raises
    ``ValueError`` with the property path (the rule reports it as a violation).
    """
    if value is MISSING:
        return None
    value = require_known(value, path)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path} must be a JSON object, got {type(value).__name__}")
    return value


def statements(document: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The statements of a policy document (a single statement object is allowed by IAM)."""
    raw = document.get("Statement", [])
    for statement in raw if isinstance(raw, list) else [raw]:
        if isinstance(statement, dict):
            yield statement


def as_list(value: Any) -> list[Any]:
    """IAM fields accept a string or a list of strings."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
