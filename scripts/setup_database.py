"""``make setup STACK=<stack>``: make the data layer of a stack usable from this machine.

Against the local emulator (``scripts.aws_target`` decides: an explicit endpoint,
``AWS_ENDPOINT_URL``, or the emulator ``make local-up`` recorded) it creates
what Pulumi creates in AWS, from the same definitions (``stackspec.definitions``): each service in
``scripts.services`` ensures its part in registry order (keys, table, alerting, backup, budget).
Each step first reads what exists, so a second run changes nothing and says so.

Against AWS (only with ``--target aws``) it creates nothing: Pulumi owns that infrastructure. It
waits (boto3 waiters) until the table and every GSI are ACTIVE, so a deploy pipeline can run it
right after ``pulumi up``.
It writes no bootstrap data, by decision: every item of the table is tenant-scoped (its PK begins
with the clinic), a platform-owned item would break that invariant, and the application owns the
schema version of its items. Creating anything requires the emulator's dummy credentials, which
AWS rejects, so no flag or endpoint can make this script build infrastructure in a real account.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict

from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from scripts.aws_target import (
    Clients,
    UsageError,
    add_target_arguments,
    announce_target,
    describe_call_failure,
    resolve_target,
    uses_dummy_credentials,
)
from scripts.interrupts import run_interruptible
from scripts.services import SERVICES
from scripts.services.base import SetupContext, SetupResult
from stackspec.config.stack import StackConfig, load_stack_config
from stackspec.definitions import stack_definition
from stackspec.errors import ConfigError
from stackspec.naming import KeyPurpose


class SetupError(Exception):
    """The environment cannot be set up; the message says what to do."""


# --- local: create what Pulumi would create ------------------------------------------------------


def setup_local(
    cfg: StackConfig, clients: Clients, *, target: str = "local endpoint"
) -> SetupResult:
    """Create (or leave as is) every resource of ``cfg`` on the local emulator behind ``clients``.

    Refuses unless the session carries the emulator's dummy credentials: the guarantee that this
    never builds anything in a real AWS account.
    """
    if not uses_dummy_credentials(clients.session):
        raise SetupError(
            "refusing to create resources: the session does not use the local emulator's dummy "
            "credentials (AWS_ACCESS_KEY_ID=testing). Local setup is only for a loopback "
            "AWS_ENDPOINT_URL; in AWS, Pulumi creates these resources."
        )
    ctx = SetupContext(
        stack=stack_definition(cfg),
        clients=clients,
        result=SetupResult(cfg.environment, target, "local"),
    )
    for service in SERVICES:
        service.ensure(ctx)
    return ctx.result


# --- AWS: create nothing, wait until usable ------------------------------------------------------


def wait_until_ready(
    cfg: StackConfig,
    clients: Clients,
    *,
    target: str = "AWS",
    timeout_seconds: int = 600,
    sleep: Callable[[float], None] = time.sleep,
) -> SetupResult:
    """Wait until the stack's table and every GSI are ACTIVE; create and write nothing."""
    result = SetupResult(cfg.environment, target, "aws")
    ddb = clients("dynamodb")
    name = cfg.names.table
    delay = 5
    try:
        ddb.get_waiter("table_exists").wait(
            TableName=name,
            WaiterConfig={"Delay": delay, "MaxAttempts": max(1, timeout_seconds // delay)},
        )
    except WaiterError as exc:
        raise SetupError(
            f"table {name} is not ACTIVE after {timeout_seconds}s ({exc}); has `pulumi up` for "
            f"stack {cfg.environment} run in {clients.region}?"
        ) from None
    deadline = time.monotonic() + timeout_seconds
    while True:
        table = ddb.describe_table(TableName=name)["Table"]
        pending = sorted(
            f"{index['IndexName']} ({index.get('IndexStatus')})"
            for index in table.get("GlobalSecondaryIndexes", [])
            if index.get("IndexStatus") != "ACTIVE"
        )
        if not pending:
            break
        if time.monotonic() > deadline:
            raise SetupError(
                f"GSIs of {name} not ACTIVE after {timeout_seconds}s: {', '.join(pending)}"
            )
        sleep(delay)
    indexes = len(table.get("GlobalSecondaryIndexes", []))
    result.add("dynamodb table", name, "ready", f"ACTIVE with {indexes} ACTIVE GSIs")
    return result


# --- command line --------------------------------------------------------------------------------


def render_text(result: SetupResult) -> str:
    width = max((len(a.resource) + len(a.name) for a in result.actions), default=20) + 3
    lines = [f"setup stack {result.stack} on {result.target}"]
    for action in result.actions:
        what = f"{action.resource}: {action.name}"
        detail = f"  {action.detail}" if action.detail else ""
        lines.append(f"  {action.outcome:<9}  {what:<{width}}{detail}".rstrip())
    lines.append(result.summary())
    return "\n".join(lines)


def render_json(result: SetupResult) -> str:
    payload = asdict(result)
    payload["changed"] = result.changed
    payload["drifted"] = result.drifted
    payload["summary"] = result.summary()
    return json.dumps(payload, indent=2)


def connection_info(cfg: StackConfig, endpoint_url: str) -> str:
    """How to point an application at the local environment of ``cfg``."""
    return "\n".join(
        [
            f"Local data layer of stack {cfg.environment} is ready. Point an app at it with:",
            f"  export AWS_ENDPOINT_URL={endpoint_url}",
            f"  export AWS_REGION={cfg.region} AWS_DEFAULT_REGION={cfg.region}",
            "  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing"
            "  # dummy: local emulator only",
            f"  export MEDEEZ_TABLE_NAME={cfg.names.table}",
            f"  export MEDEEZ_PHI_KEY_ID={cfg.names.key_alias(KeyPurpose.PHI)}",
            "Stop it with `make local-down` (the emulator keeps data in memory only).",
        ]
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.setup_database",
        description=(
            "Local endpoint: create the stack's keys, table, topic, alarms, backup and budget. "
            "AWS: create nothing; wait until the table and its GSIs are ACTIVE."
        ),
    )
    parser.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    add_target_arguments(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--connection-info",
        action="store_true",
        help="only print how to point an app at the local endpoint, then exit",
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=600,
        help="AWS only: seconds to wait for the table and GSIs to become ACTIVE (default 600)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.timeout < 1:
            raise UsageError(f"--timeout must be a positive number of seconds, got {args.timeout}")
        cfg = load_stack_config(args.stack)
        target = resolve_target(args.endpoint_url, target=args.target)
        clients = Clients.for_target(target, cfg.region)
        if args.connection_info and not target.is_local:
            raise UsageError(
                f"--connection-info describes the local emulator, not {target.describe()}"
            )
    except (ConfigError, UsageError) as exc:
        print(f"setup: {exc}", file=sys.stderr)
        return 2
    if args.connection_info:
        print(connection_info(cfg, str(target.endpoint_url)))
        return 0
    try:
        announce_target(clients, target, "setup", sys.stderr)
        if target.is_local:
            result = setup_local(cfg, clients, target=target.describe())
        else:
            result = wait_until_ready(
                cfg, clients, target=target.describe(), timeout_seconds=args.timeout
            )
    except SetupError as exc:
        print(f"setup: {exc}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as exc:
        print(f"setup: {describe_call_failure(target, exc)}", file=sys.stderr)
        return 1
    print(render_json(result) if args.format == "json" else render_text(result))
    return 1 if result.drifted else 0


def run(argv: Sequence[str] | None = None) -> int:
    """:func:`main`, with Ctrl-C (SIGINT) or SIGTERM ending in one line and exit 130 or 143."""
    return run_interruptible(
        lambda args: main(args),  # looked up when called, so a replaced main is the one run
        argv,
        prog="setup",
        what_stays=(
            "what was already created stays, and a second run picks up where this one stopped"
        ),
    )


if __name__ == "__main__":
    sys.exit(run())
