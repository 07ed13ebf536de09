"""What every local service shares: the setup result, the validate rows, and the two contexts the
services work in.

A service (one file beside this one) has ``ensure(ctx)`` for ``make setup`` and ``check(ctx)`` for
``make validate``, both built from the service's definition in ``stackspec.definitions``. The
check context's clients are read-only by construction: any call that is not a Describe, Get or
List is refused before it leaves the process, so validate cannot change what it inspects.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import unquote

from botocore.exceptions import ClientError

from scripts.aws_target import Clients, error_code, not_emulated
from stackspec.definitions import StackDefinition
from stackspec.naming import KeyPurpose

# --- setup ---------------------------------------------------------------------------------------

#: ``drifted``: exists, differs from the config, and cannot be changed in place (a GSI's
#: projection, the stream view, a plan the emulator cannot update): rebuild the local environment.
Outcome = Literal["created", "updated", "unchanged", "skipped", "drifted", "ready"]

REBUILD_HINT = "rebuild: make local-down local-up, then make setup"


@dataclass(frozen=True)
class Action:
    """One thing setup looked at, and what it did."""

    resource: str
    name: str
    outcome: Outcome
    detail: str = ""


@dataclass
class SetupResult:
    stack: str
    target: str
    mode: Literal["local", "aws"]
    actions: list[Action] = field(default_factory=list)

    def add(self, resource: str, name: str, outcome: Outcome, detail: str = "") -> None:
        self.actions.append(Action(resource, name, outcome, detail))

    def count(self, outcome: Outcome) -> int:
        return sum(1 for a in self.actions if a.outcome == outcome)

    @property
    def drifted(self) -> bool:
        return self.count("drifted") > 0

    @property
    def changed(self) -> bool:
        return any(a.outcome in ("created", "updated") for a in self.actions)

    def summary(self) -> str:
        if self.mode == "aws":
            return f"{self.target}: nothing created (Pulumi owns AWS resources); table is ready"
        counts = ", ".join(
            f"{self.count(o)} {o}"
            for o in ("created", "updated", "unchanged", "skipped", "drifted")
            if o != "drifted" or self.drifted
        )
        if self.drifted:
            return (
                f"{self.target} differs from stack {self.stack} in what setup cannot change in "
                f"place ({counts}); {REBUILD_HINT}"
            )
        if not self.changed:
            return f"nothing to change: {self.target} already matches stack {self.stack} ({counts})"
        return f"{self.target} set up for stack {self.stack}: {counts}"


class Identity:
    """The caller's account and partition, read from STS once (or given, in tests)."""

    def __init__(
        self, clients: Clients, *, account: str | None = None, partition: str | None = None
    ) -> None:
        self._clients = clients
        self._account = account
        self._partition = partition

    def _read(self) -> None:
        identity = self._clients("sts").get_caller_identity()
        self._account = str(identity["Account"])
        self._partition = str(identity["Arn"]).split(":")[1]

    @property
    def account(self) -> str:
        if self._account is None:
            self._read()
        return str(self._account)

    @property
    def partition(self) -> str:
        """``aws``, ``aws-us-gov``...: from the caller's ARN, for ARNs the tools have to build."""
        if self._partition is None:
            self._read()
        return self._partition or "aws"


@dataclass
class SetupContext:
    """What setup's services share while they run, in registry order."""

    stack: StackDefinition
    clients: Clients
    result: SetupResult
    key_arns: dict[KeyPurpose, str] = field(default_factory=dict)
    table_arn: str | None = None
    topic_arn: str | None = None
    identity: Identity = field(init=False)

    def __post_init__(self) -> None:
        self.identity = Identity(self.clients)


# --- validate ------------------------------------------------------------------------------------

Status = Literal["PASS", "FAIL", "SKIP"]
NOT_EMULATED = "not emulated locally"


@dataclass(frozen=True)
class Row:
    """One check: its stable id, the verdict, and what was expected and found."""

    check: str
    status: Status
    expected: str = ""
    found: str = ""
    detail: str = ""


@dataclass
class Report:
    stack: str
    target: str
    rows: list[Row] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def failed(self) -> bool:
        return self.count("FAIL") > 0

    def row(self, check: str) -> Row:
        for row in self.rows:
            if row.check == check:
                return row
        raise KeyError(check)

    def summary(self) -> str:
        return (
            f"{len(self.rows)} checks of stack {self.stack} on {self.target}: "
            f"{self.count('PASS')} PASS, {self.count('FAIL')} FAIL, {self.count('SKIP')} SKIP"
        )


def fmt(value: Any) -> str:
    """How expected and found values read in a row."""
    if isinstance(value, list | tuple):
        return ", ".join(fmt(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}={fmt(v)}" for k, v in value.items()) if value else "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Skipped(Exception):
    """A prerequisite is missing; the dependent check is skipped with this reason."""


class MutationRefused(Exception):
    """validate tried a call that could change the environment."""


READ_ONLY_PREFIXES = ("Describe", "Get", "List")

#: Set while a check runs: the guard below refuses mutations only then, so clients shared with
#: setup or seed (one cache per session) are not changed for them.
_checking: contextvars.ContextVar[bool] = contextvars.ContextVar("checking", default=False)


def _refuse_mutation(model: Any, **_: Any) -> None:
    if _checking.get() and not str(model.name).startswith(READ_ONLY_PREFIXES):
        raise MutationRefused(f"validate is read-only; it may not call {model.name}")


class ReadOnlyClients:
    """``clients`` whose every client refuses, in process, any call but Describe*/Get*/List*
    while :meth:`checking` is active."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients

    @property
    def emulator(self) -> bool:
        return self.clients.emulator

    @property
    def region(self) -> str:
        return self.clients.region

    def __call__(self, service: str, region: str | None = None) -> Any:
        client = self.clients(service, region)
        client.meta.events.register(
            "before-call.*.*", _refuse_mutation, unique_id="medeez-validate-read-only"
        )
        return client

    @staticmethod
    @contextlib.contextmanager
    def checking() -> Iterator[None]:
        token = _checking.set(True)
        try:
            yield
        finally:
            _checking.reset(token)


@dataclass
class CheckContext:
    """What validate's services share while they run, in registry order."""

    stack: StackDefinition
    clients: ReadOnlyClients
    wait_seconds: int = 60
    rows: list[Row] = field(default_factory=list)
    key_arns: dict[KeyPurpose, str | None] = field(default_factory=dict)
    table: dict[str, Any] | None = None
    topic_arn: str | None = None
    identity: Identity = field(init=False)

    def __post_init__(self) -> None:
        self.identity = Identity(self.clients.clients)

    @property
    def cfg(self) -> Any:
        return self.stack.config

    def add(self, check: str, expected: Any, found: Any, ok: bool | None = None) -> None:
        passed = (expected == found) if ok is None else ok
        self.rows.append(Row(check, "PASS" if passed else "FAIL", fmt(expected), fmt(found)))

    def fail(self, check: str, expected: Any, found: Any, detail: str = "") -> None:
        self.rows.append(Row(check, "FAIL", fmt(expected), fmt(found), detail))

    def skip(self, check: str, reason: str, expected: Any = "") -> None:
        self.rows.append(Row(check, "SKIP", fmt(expected), "", reason))

    def guard(self, check: str, run: Callable[[], None], expected: Any = "") -> None:
        """Run one check; a missing prerequisite skips it, an unemulated call skips it with the
        reason, any other API error fails it with the error (never a traceback)."""
        try:
            run()
        except Skipped as exc:
            self.skip(check, str(exc), expected)
        except (ClientError, NotImplementedError) as exc:
            if not_emulated(exc, emulator=self.clients.emulator):
                operation = (
                    getattr(exc, "operation_name", "")
                    or (str(exc).removeprefix("The ").split(" action")[0])
                )
                self.skip(check, f"{NOT_EMULATED}: the endpoint does not implement {operation}")
            else:
                self.fail(check, expected, "could not read", f"{error_code(exc)}: {exc}")

    def topic_arn_or_built(self) -> str:
        """The alert topic's ARN as found, else as it would be (for rows that compare to it)."""
        return self.topic_arn or (
            f"arn:{self.identity.partition}:sns:{self.cfg.region}:{self.identity.account}:"
            f"{self.stack.monitoring.topic_name}"
        )


def policy_document(value: Any) -> Any:
    """A policy as data, whether the API returned it as JSON text or decoded (IAM does both)."""
    if isinstance(value, str):
        text = value if value.lstrip().startswith("{") else unquote(value)
        return json.loads(text)
    return value


class LocalService(Protocol):
    """One service of the local environment: a module with these two functions."""

    NAME: str

    def ensure(self, ctx: SetupContext) -> None: ...

    def check(self, ctx: CheckContext) -> None: ...


def tag_list(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in sorted(tags.items())]
