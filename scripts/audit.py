"""``make audit-verify`` and ``make audit-report``: check the audit trail, answer an accounting.

    python -m scripts.audit verify --stack dev [--target local|aws] [--digest-dir DIR]
    python -m scripts.audit report --stack dev --clinic C --patient P [--from D] [--to D]
                                   [--format text|csv|json]
    python -m scripts.audit digest --stack dev [--target local|aws] [--no-upload]
                                   (write a digest of the chain heads now, and put it into the
                                   audit bucket's audit-chain/<stack>/ prefix)

Where: ``--database-url`` or ``AUDIT_DATABASE_URL`` when set; else the local PostgreSQL that
``make local-up`` started (``.local/env``, the read-only auditor role) while it runs; RDS only
with ``--target aws`` (IAM authentication over verify-full TLS: auditlog.connect). Never falls
through to AWS.

The digest's upload goes to the same S3 target every script uses (scripts.aws_target): the local
emulator recorded in ``.local/env`` (or ``AWS_ENDPOINT_URL``), AWS only with ``--target aws``
(the account and region are printed first). On the local emulator the upload is attempted and
reported as skipped when moto refuses it: moto applies the audit bucket policy's TLS Deny
statements without evaluating their conditions.

Exit status: verify 0 every chain and the latest digest intact, 1 a break (the first broken row
of each broken chain is named, and why); 2 usage errors (bad arguments, unknown stack, no audit
database to read). report 0, or 2. digest 0 written and uploaded, 1 written but the upload failed
(the file stays; rerun to upload), 2 usage errors (no emulator to upload to included).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import psycopg
from botocore.exceptions import BotoCoreError, ClientError

from auditlog import schema
from auditlog.connect import ConnectError, connect, rds_iam_conninfo
from auditlog.digest import DigestError, upload_digest, write_digest
from auditlog.verify import verify
from scripts.aws_target import (
    Clients,
    UsageError,
    announce_target,
    error_code,
    local_state_dir,
    read_env_file,
    resolve_target,
)
from stackspec.config.stack import StackConfig, load_stack_config
from stackspec.definitions.audit_bucket import audit_bucket_definition

PROG = "audit"


class Usage(Exception):
    """Exit 2 with this one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2, never a usage dump
        raise Usage(message)


def _stack(name: str) -> StackConfig:
    try:
        return load_stack_config(name)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise Usage(first) from None


def _local_url(cfg: StackConfig) -> str:
    state = local_state_dir()
    env = read_env_file(state / "env")
    url = env.get("AUDIT_DATABASE_URL")
    pid_file = state / "postgres.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
        running = Path(f"/proc/{pid}/cmdline").read_bytes().find(b"postgres") >= 0
    except (OSError, ValueError, IndexError):
        running = False
    if not url or not running:
        raise Usage(
            f"no local audit database is running (nothing recorded in {state}/env or its "
            "PostgreSQL has stopped); start it with `make local-up`"
        )
    # The stack's own database on the local server (make local builds dev's).
    base, _, _ = url.rpartition("/")
    return f"{base}/{schema.database_name(cfg.environment)}"


@dataclass(frozen=True)
class Where:
    describe: str
    url: str | None = None
    conninfo: dict[str, Any] | None = None
    digest_dir: Path | None = None


def _where(args: argparse.Namespace, cfg: StackConfig) -> Where:
    digest_dir = Path(args.digest_dir) if args.digest_dir else None
    if args.database_url or os.environ.get("AUDIT_DATABASE_URL"):
        url = args.database_url or os.environ["AUDIT_DATABASE_URL"]
        return Where("AUDIT_DATABASE_URL", url=url, digest_dir=digest_dir)
    if args.target == "aws":
        try:
            info = rds_iam_conninfo()
        except ConnectError as exc:
            raise Usage(str(exc)) from None
        return Where(
            f"RDS {info['host']} (IAM auth, TLS verify-full)", conninfo=info, digest_dir=digest_dir
        )
    url = _local_url(cfg)
    default_digests = local_state_dir() / "audit-digests" / args.stack
    return Where("local PostgreSQL", url=url, digest_dir=digest_dir or default_digests)


def _connect(where: Where) -> Any:
    try:
        if where.conninfo is not None:
            return connect(conninfo=where.conninfo)
        return connect(where.url)
    except ConnectError as exc:
        raise Usage(f"{exc} ({where.describe})") from None


def cmd_verify(args: argparse.Namespace, out: Any) -> int:
    cfg = _stack(args.stack)
    where = _where(args, cfg)
    with _connect(where) as conn:
        try:
            result = verify(conn, where.digest_dir)
        except DigestError as exc:
            print(f"{PROG} verify: BROKEN: {exc}", file=out)
            return 1
    summary = f"stack {args.stack} ({where.describe}): {result.clinics} chains, {result.rows} rows"
    if result.digest is not None:
        digest_note = (
            f"latest digest {result.digest.path.name} ({result.digest.taken_at}, "
            f"{result.digest_checked} heads)"
        )
    elif where.digest_dir is None:
        digest_note = "no digest location given: the tail of each chain is not anchored"
    else:
        digest_note = f"no digest yet in {where.digest_dir}: the tail of each chain is not anchored"
    if result.intact:
        print(f"{PROG} verify: intact: {summary}; {digest_note}", file=out)
        return 0
    for broken in result.breaks:
        print(f"{PROG} verify: BROKEN: {broken}", file=out)
    print(f"{PROG} verify: {len(result.breaks)} broken of {summary}; {digest_note}", file=out)
    return 1


def _day_or_time(text: str, *, end: bool) -> datetime:
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(0), UTC)
            return moment + timedelta(days=1) if end else moment
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Usage(f"'{text}' is not a date (YYYY-MM-DD) or an ISO 8601 time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


REPORT_FIELDS = (
    "at",
    "action",
    "principal",
    "pk",
    "sk",
    "entityType",
    "accessPattern",
    "purpose",
    "changedAttributes",
    "source",
    "eventId",
)


def report_events(
    conn: Any, clinic: str, patient: str, start: datetime | None, end: datetime | None
) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT event_at, action, principal, pk, sk, entity_type, access_pattern, purpose, "
        "changed_attributes, source, event_id FROM audit.event "
        "WHERE clinic_id = %s AND patient_id = %s "
        "AND (%s::timestamptz IS NULL OR event_at >= %s) "
        "AND (%s::timestamptz IS NULL OR event_at < %s) "
        "ORDER BY event_at, chain_seq",
        (clinic, patient, start, start, end, end),
    ).fetchall()
    return [
        {
            "at": r[0].astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "action": r[1],
            "principal": r[2],
            "pk": r[3],
            "sk": r[4],
            "entityType": r[5],
            "accessPattern": r[6],
            "purpose": r[7],
            "changedAttributes": list(r[8] or []),
            "source": r[9],
            "eventId": r[10],
        }
        for r in rows
    ]


def cmd_report(args: argparse.Namespace, out: Any) -> int:
    cfg = _stack(args.stack)
    for name in ("clinic", "patient"):
        if not (getattr(args, name) or "").strip():
            raise Usage(f"{name.upper()} is required (make audit-report CLINIC=<id> PATIENT=<id>)")
    start = _day_or_time(args.from_, end=False) if args.from_ else None
    end = _day_or_time(args.to, end=True) if args.to else None
    if start and end and start >= end:
        raise Usage("FROM must be before TO")
    where = _where(args, cfg)
    with _connect(where) as conn:
        events = report_events(conn, args.clinic, args.patient, start, end)
    if args.format == "json":
        json.dump(events, out, indent=2)
        out.write("\n")
    elif args.format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=REPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for event in events:
            writer.writerow({**event, "changedAttributes": " ".join(event["changedAttributes"])})
        out.write(buffer.getvalue())
    else:
        period = f"{args.from_ or 'the beginning'} to {args.to or 'now'}"
        print(
            f"Accounting of patient {args.patient} of clinic {args.clinic}, {period}: "
            f"{len(events)} events ({sum(e['action'] == 'READ' for e in events)} reads)",
            file=out,
        )
        for e in events:
            what = (
                e["accessPattern"] + f" ({e['purpose']})"
                if e["action"] == "READ"
                else (", ".join(e["changedAttributes"]) or "-")
            )
            print(
                f"{e['at']}  {e['action']:<10} {e['principal']:<28} {e['sk']:<48} {what}", file=out
            )
    return 0


def _s3_clients(args: argparse.Namespace, cfg: StackConfig, out: Any) -> Clients:
    """Where the digest is uploaded: the scripts' one rule for choosing a target."""
    try:
        target = resolve_target(target=args.target)
    except UsageError as exc:
        raise Usage(f"cannot upload the digest: {exc} (or pass --no-upload)") from None
    clients = Clients.for_target(target, cfg.region)
    announce_target(clients, target, f"{PROG} digest", out)
    return clients


def cmd_digest(args: argparse.Namespace, out: Any) -> int:
    cfg = _stack(args.stack)
    where = _where(args, cfg)
    if where.digest_dir is None:
        raise Usage("--digest-dir is required outside the local environment")
    clients = None if args.no_upload else _s3_clients(args, cfg, out)
    with _connect(where) as conn:
        path = write_digest(conn, where.digest_dir, label=args.stack)
    print(f"{PROG} digest: wrote {path}", file=out)
    if clients is None:
        return 0
    bucket = audit_bucket_definition(cfg)
    try:
        account = str(clients("sts").get_caller_identity()["Account"])
        name = bucket.bucket_name(account)
        key = upload_digest(
            clients("s3"),
            path,
            bucket=name,
            key_prefix=f"{bucket.audit_chain_prefix}/{args.stack}",
        )
    except (BotoCoreError, ClientError) as exc:
        if clients.emulator and error_code(exc) in ("403", "AccessDenied"):
            # moto 5.2.5 applies a bucket policy's Deny statements without evaluating their
            # conditions, so the audit bucket's TLS statements refuse every object request
            # locally; AWS evaluates them (requests over TLS 1.2+ pass). Attempted, not faked.
            print(
                f"{PROG} digest: upload skipped: the local emulator refuses objects in {name} "
                "(it applies the bucket policy's TLS Deny statements without their conditions); "
                f"{path} stays",
                file=out,
            )
            return 0
        first = str(exc).strip().splitlines()[0]
        print(
            f"{PROG} digest: not uploaded ({first}); {path} stays, rerun to upload",
            file=out,
        )
        return 1
    print(f"{PROG} digest: uploaded s3://{name}/{key} (object-locked by default)", file=out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m scripts.audit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    common = _Parser(add_help=False)
    common.add_argument("--stack", required=True)
    common.add_argument("--target", choices=("local", "aws"), default=None)
    common.add_argument("--database-url", default=None, help="libpq URL (overrides the target)")
    common.add_argument("--digest-dir", default=None, help="where digests of chain heads live")
    sub.add_parser("verify", parents=[common], help="verify every chain and the latest digest")
    report = sub.add_parser("report", parents=[common], help="a patient's accounting")
    report.add_argument("--clinic", default="")
    report.add_argument("--patient", default="")
    report.add_argument("--from", dest="from_", default=None)
    report.add_argument("--to", default=None)
    report.add_argument("--format", choices=("text", "csv", "json"), default="text")
    digest = sub.add_parser(
        "digest", parents=[common], help="write a digest of the chain heads now and upload it"
    )
    digest.add_argument(
        "--no-upload", action="store_true", help="write the file only; do not put it in S3"
    )
    return parser


def main(argv: Sequence[str] | None = None, out: Any = None) -> int:
    out = out or sys.stdout
    try:
        args = build_parser().parse_args(argv)
        command = {"verify": cmd_verify, "report": cmd_report, "digest": cmd_digest}
        return command[args.command](args, out)
    except Usage as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"{PROG}: error: the audit database refused the query: {first}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
