"""``make validate STACK=<stack> [FORMAT=json]``: does the live environment match the stack config?

Read-only, by construction: validate's clients refuse any call but Describe/Get/List. Where it
reads is decided by ``scripts.aws_target`` (an explicit endpoint, ``AWS_ENDPOINT_URL``, the
emulator ``make local-up`` recorded, or AWS only with ``--target aws``). Each
service in ``scripts.services`` checks its part against its definition (``stackspec.definitions``),
in registry order: the KMS keys (aliases, descriptions, key policies, rotation), the table
(status, key schema, attribute definitions, every GSI and its projection, billing, SSE key, PITR
and its period, streams, TTL, deletion protection, tags, contributor insights), the alert topic
(encryption, policy, subscriptions), the alarms and their actions, the dashboard, the backup
vaults, locks, region settings, plan, copy rule, selection and role, and the budget with its
notifications and subscribers.

One row per check: PASS, FAIL with what was expected and what was found, or SKIP with the reason
(for example a call the local emulator does not implement). Exit 0 when nothing FAILs, 1 when
something does, 2 for usage errors (unknown stack, bad arguments).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict

from botocore.exceptions import BotoCoreError, ClientError

from scripts.aws_target import (
    Clients,
    UsageError,
    add_target_arguments,
    announce_target,
    describe_call_failure,
    resolve_target,
)
from scripts.interrupts import run_interruptible
from scripts.services import SERVICES
from scripts.services.base import CheckContext, ReadOnlyClients, Report
from stackspec.config.stack import StackConfig, load_stack_config
from stackspec.definitions import stack_definition
from stackspec.errors import ConfigError


def validate(cfg: StackConfig, clients: Clients, *, target: str, wait_seconds: int = 60) -> Report:
    """Every check of ``cfg`` against the environment behind ``clients``."""
    ctx = CheckContext(
        stack=stack_definition(cfg), clients=ReadOnlyClients(clients), wait_seconds=wait_seconds
    )
    with ReadOnlyClients.checking():
        for service in SERVICES:
            service.check(ctx)
    return Report(cfg.environment, target, ctx.rows)


# --- output --------------------------------------------------------------------------------------


def render_text(report: Report) -> str:
    width = max((len(row.check) for row in report.rows), default=10) + 2
    lines = []
    for row in report.rows:
        if row.status == "PASS":
            text = row.found
        elif row.status == "FAIL":
            text = f"expected {row.expected}; found {row.found}"
            if row.detail:
                text += f" ({row.detail})"
        else:
            text = row.detail
        lines.append(f"{row.status:<5} {row.check:<{width}}{text}")
    lines.append(report.summary())
    return "\n".join(lines)


def render_json(report: Report) -> str:
    return json.dumps(
        {
            "stack": report.stack,
            "target": report.target,
            "counts": {s: report.count(s) for s in ("PASS", "FAIL", "SKIP")},
            "checks": [asdict(row) for row in report.rows],
        },
        indent=2,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.validate_setup",
        description="Compare the live environment with the stack config (read-only).",
    )
    parser.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    add_target_arguments(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--wait",
        type=int,
        default=60,
        metavar="SECONDS",
        help="how long to wait for a table that is still CREATING or UPDATING (default 60)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.wait < 0:
            raise UsageError(f"--wait must be 0 or more seconds, got {args.wait}")
        cfg = load_stack_config(args.stack)
        target = resolve_target(args.endpoint_url, target=args.target)
    except (ConfigError, UsageError) as exc:
        print(f"validate: {exc}", file=sys.stderr)
        return 2
    clients = Clients.for_target(target, cfg.region)
    try:
        announce_target(clients, target, "validate", sys.stderr)
        report = validate(cfg, clients, target=target.describe(), wait_seconds=args.wait)
    except (ClientError, BotoCoreError) as exc:
        print(f"validate: {describe_call_failure(target, exc)}", file=sys.stderr)
        return 1
    print(render_json(report) if args.format == "json" else render_text(report))
    return 1 if report.failed else 0


def run(argv: Sequence[str] | None = None) -> int:
    """:func:`main`, with Ctrl-C (SIGINT) or SIGTERM ending in one line and exit 130 or 143."""
    return run_interruptible(
        lambda args: main(args),  # looked up when called, so a replaced main is the one run
        argv,
        prog="validate",
        what_stays="nothing was changed (validate only reads)",
    )


if __name__ == "__main__":
    sys.exit(run())
