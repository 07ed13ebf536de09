"""A small IAM policy evaluator for the semantics this stack's policies use, to prove tenant
isolation offline on the exact documents the plan renders.

Why our own: moto does not evaluate IAM conditions usefully, and no maintained offline evaluator
substitutes policy variables such as ``${aws:PrincipalTag/clinicId}`` (see the README, "Tenant
isolation"). In AWS, ``iam:SimulateCustomPolicy`` is the authority; ``make isolation-check
TARGET=aws`` runs the same case table there.

Implemented, after the IAM User Guide ("Policy evaluation logic", "Condition operators",
"Single-valued vs. multivalued context keys", "Policy variables"):

- ``Action``/``NotAction`` (case-insensitive ``*``/``?`` wildcards), ``Resource``/``NotResource``
  (case-sensitive wildcards, policy variables substituted);
- ``StringEquals``, ``StringNotEquals``, ``StringEqualsIgnoreCase``, ``StringNotEqualsIgnoreCase``,
  ``StringLike``, ``StringNotLike``, ``ArnEquals``, ``ArnLike``, ``ArnNotEquals``,
  ``ArnNotLike``, ``Bool``, ``Null``; the ``IfExists`` suffix; the ``ForAllValues:`` and
  ``ForAnyValue:`` set qualifiers (ForAllValues is true when the key is absent or empty);
- policy variables ``${key}`` with a default (``${key, 'default'}``) and the escapes ``${*}``,
  ``${?}``, ``${$}``; a variable whose key is absent makes its condition (or resource) not match;
- explicit deny wins; otherwise an identity-policy allow, intersected with a permissions boundary
  when one is given; otherwise implicit deny.

Anything else (another operator, a ``Principal`` in an identity policy) raises
:class:`UnsupportedPolicy` rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "Decision",
    "Request",
    "Result",
    "UnsupportedPolicy",
    "evaluate",
]


class UnsupportedPolicy(ValueError):
    """The policy uses an element or operator this evaluator does not implement."""


class Decision(StrEnum):
    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"


@dataclass(frozen=True)
class Request:
    """One API request: the action, the resource ARN and the request context (condition keys;
    a multivalued key is a sequence, an absent key is simply not given)."""

    action: str
    resource: str
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Result:
    decision: Decision
    #: Which statements decided: ``<policy>#<sid or position>``.
    matched: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW


Document = Mapping[str, Any]


def evaluate(
    request: Request,
    identity: Mapping[str, Document] | Sequence[Document],
    *,
    boundary: Document | None = None,
) -> Result:
    """The decision for ``request`` under the identity policies (named, or a list) and an
    optional permissions boundary."""
    named = (
        dict(identity)
        if isinstance(identity, Mapping)
        else {f"policy{i + 1}": doc for i, doc in enumerate(identity)}
    )
    context = _Context(request.context)
    denies: list[str] = []
    allows: list[str] = []
    for name, document in named.items():
        for label, effect in _matching(name, document, request, context):
            (denies if effect == "Deny" else allows).append(label)
    if boundary is not None:
        in_boundary: list[str] = []
        for label, effect in _matching("boundary", boundary, request, context):
            (denies if effect == "Deny" else in_boundary).append(label)
        if denies:
            return Result(Decision.EXPLICIT_DENY, tuple(denies))
        if not in_boundary:
            return Result(Decision.IMPLICIT_DENY)
    if denies:
        return Result(Decision.EXPLICIT_DENY, tuple(denies))
    if allows:
        return Result(Decision.ALLOW, tuple(allows))
    return Result(Decision.IMPLICIT_DENY)


# ---- request context ----


class _Context:
    """Condition keys are case-insensitive; values are kept as given (lists for multivalued)."""

    def __init__(self, values: Mapping[str, str | Sequence[str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for key, value in values.items():
            self._values[key.lower()] = [value] if isinstance(value, str) else list(value)

    def get(self, key: str) -> list[str] | None:
        """The key's values, or None when the request does not carry it."""
        return self._values.get(key.lower())

    def single(self, key: str) -> str | None:
        values = self.get(key)
        return values[0] if values else None


class _Unresolved(Exception):
    """A policy variable's key is absent from the request (and has no default)."""


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


def _substitute(text: str, context: _Context, *, literal_wildcards: bool) -> str:
    """Replace policy variables. In a pattern (``literal_wildcards``) a value's own ``*``/``?`` and
    the ``${*}``/``${?}`` escapes are literal characters, so they come back marked with NUL."""

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner in _ESCAPES:
            return _mark(_ESCAPES[inner]) if literal_wildcards else _ESCAPES[inner]
        default = _DEFAULT.match(inner)
        key, fallback = (default.group(1), default.group(2)) if default else (inner.strip(), None)
        value = context.single(key)
        if value is None:
            if fallback is None:
                raise _Unresolved(key)
            value = fallback
        return "".join(_mark(c) if c in "*?" else c for c in value) if literal_wildcards else value

    return _VARIABLE.sub(replace, text)


def _mark(char: str) -> str:
    return "\0" + char


def _glob(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """``*`` any run of characters, ``?`` one character; marked (``\\0``) ones are literal."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\0":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        i += 1
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


# ---- statements ----


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _matching(
    name: str, document: Document, request: Request, context: _Context
) -> Iterable[tuple[str, str]]:
    statements = _as_list(document.get("Statement"))
    for index, statement in enumerate(statements):
        if not isinstance(statement, Mapping):
            raise UnsupportedPolicy(f"{name}: statement {index + 1} is not an object")
        if "Principal" in statement or "NotPrincipal" in statement:
            raise UnsupportedPolicy(f"{name}: identity policies carry no Principal")
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise UnsupportedPolicy(f"{name}: statement {index + 1} has Effect {effect!r}")
        if (
            _action_matches(statement, request.action)
            and _resource_matches(statement, request.resource, context)
            and _conditions_hold(statement.get("Condition") or {}, context)
        ):
            sid = statement.get("Sid") or str(index + 1)
            yield f"{name}#{sid}", str(effect)


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "Action" in statement:
        return any(
            _glob(str(a), ignore_case=True).fullmatch(action) for a in _as_list(statement["Action"])
        )
    if "NotAction" in statement:
        return not any(
            _glob(str(a), ignore_case=True).fullmatch(action)
            for a in _as_list(statement["NotAction"])
        )
    raise UnsupportedPolicy("a statement needs Action or NotAction")


def _resource_matches(statement: Mapping[str, Any], resource: str, context: _Context) -> bool:
    key = "Resource" if "Resource" in statement else "NotResource"
    if key not in statement:
        raise UnsupportedPolicy("a statement needs Resource or NotResource")
    hit = False
    for pattern in _as_list(statement[key]):
        try:
            text = _substitute(str(pattern), context, literal_wildcards=True)
        except _Unresolved:
            continue  # a resource with an unresolvable variable matches nothing
        if _glob(text).fullmatch(resource):
            hit = True
            break
    return hit if key == "Resource" else not hit


# ---- conditions ----

_STRING_OPERATORS: dict[str, tuple[str, bool, bool]] = {
    # operator: (kind, negated, ignore case)
    "StringEquals": ("equals", False, False),
    "StringNotEquals": ("equals", True, False),
    "StringEqualsIgnoreCase": ("equals", False, True),
    "StringNotEqualsIgnoreCase": ("equals", True, True),
    "StringLike": ("like", False, False),
    "StringNotLike": ("like", True, False),
    "ArnEquals": ("like", False, False),
    "ArnLike": ("like", False, False),
    "ArnNotEquals": ("like", True, False),
    "ArnNotLike": ("like", True, False),
    "Bool": ("bool", False, True),
}


def _conditions_hold(block: Mapping[str, Any], context: _Context) -> bool:
    """Every operator of the block, and every key under each, must hold (AND); the values
    listed for one key are alternatives (OR)."""
    for operator, keys in block.items():
        if not isinstance(keys, Mapping):
            raise UnsupportedPolicy(f"condition {operator} is not an object")
        for key, values in keys.items():
            if not _condition(str(operator), str(key), _as_list(values), context):
                return False
    return True


def _condition(operator: str, key: str, wanted: list[Any], context: _Context) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    if if_exists:
        base = base[: -len("IfExists")]
    actual = context.get(key)
    if base == "Null":
        if qualifier or if_exists:
            raise UnsupportedPolicy(f"{operator} is not an operator")
        absent = not actual
        return any(str(v).lower() == ("true" if absent else "false") for v in wanted)
    if base not in _STRING_OPERATORS:
        raise UnsupportedPolicy(f"condition operator {operator} is not implemented")
    kind, negated, ignore_case = _STRING_OPERATORS[base]
    if qualifier not in ("", "ForAllValues", "ForAnyValue"):
        raise UnsupportedPolicy(f"set qualifier {qualifier} is not one")
    if not actual:
        if qualifier == "ForAllValues":
            return True  # vacuously: the documented pitfall a Null guard closes
        if qualifier == "ForAnyValue":
            return False
        # A missing key: positive operators fail, negated ones hold; IfExists holds either way.
        return if_exists or negated
    try:
        patterns = [_substitute(str(v), context, literal_wildcards=kind == "like") for v in wanted]
    except _Unresolved:
        return False

    def matches(value: str) -> bool:
        if kind == "like":
            return any(_glob(p).fullmatch(value) for p in patterns)
        if ignore_case:
            return any(p.lower() == value.lower() for p in patterns)
        return value in patterns

    if qualifier == "ForAllValues":
        # Negated: every request value matches none of the listed values.
        return all(matches(v) != negated for v in actual)
    if qualifier == "ForAnyValue":
        return any(matches(v) != negated for v in actual)
    hit = any(matches(v) for v in actual)
    return not hit if negated else hit
