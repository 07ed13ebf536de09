"""``make offboard-clinic STACK=<stack> CLINIC=<id> [TARGET=aws CONFIRM=<id>]``: crypto-shred one
clinic's PHI by retiring its own KMS key, then prove it.

What it does (docs/data-model.md, "Per-clinic keys and crypto-shredding"):

1. finds the clinic's key (``alias/medeez-<env>-phi-clinic-<clinicId>``) and a sample of its PHI
   items, and checks they decrypt now (so "refused" afterwards means something);
2. schedules the key's deletion after the stack's ``keys.deletionWindowDays`` (the undo period:
   ``aws kms cancel-key-deletion``); on the local emulator it also disables the key first;
3. proves it: KMS refuses to unwrap the data key of every sampled item of the clinic (a direct
   ``Decrypt`` of the message's encrypted data key, under the key the message names) and the
   data layer cannot decrypt them; another clinic's PHI still decrypts; the key is
   ``PendingDeletion``;
4. records the act in the audit trail (action ``OFFBOARD``, source ``admin``, the principal and
   the clinic) when an audit database is configured (``AUDIT_INGEST_DATABASE_URL`` in the
   environment or in ``.local/env``; RDS IAM authentication with ``AUDIT_DB_HOST`` on AWS).

moto does not refuse a disabled key or a key pending deletion (verified: its Decrypt ignores the
key's state); only a key that is gone makes it refuse. So on the emulator the refusal check fails
honestly (the act is done, the proof is not) unless the key is really gone; AWS answers
``KMSInvalidStateException`` (pending deletion) or ``DisabledException`` at once.

The target is resolved by :mod:`scripts.aws_target` as setup and seed do. AWS only with
``--target aws`` and ``--confirm <clinic id>``; a production stack also needs
``--confirm-production <stack>``. Exit codes: 0 proven, 1 a check failed (or the clinic has no
key), 2 usage errors (one line).
"""

from __future__ import annotations

import argparse
import getpass
import io
import os
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_encryption_sdk.internal.formatting.deserialize import deserialize_header
from botocore.exceptions import BotoCoreError, ClientError

from datalayer.clinic_keys import ClinicKey, ClinicKeyError, describe_clinic_key, retire_clinic_key
from datalayer.entities import ENTITY_TYPE_ATTRIBUTE
from datalayer.phi import PHI_ATTRIBUTE, ClinicKeyring, ItemContext, PhiError
from datalayer.store import from_attribute_values
from scripts.aws_target import (
    Clients,
    Target,
    UsageError,
    add_target_arguments,
    announce_target,
    describe_call_failure,
    local_state_dir,
    read_env_file,
    resolve_target,
)
from stackspec.config.stack import StackConfig, load_stack_config
from stackspec.errors import ConfigError
from stackspec.key_schema import CLINIC_PARTITION, PARTITION_KEY, SORT_KEY
from stackspec.tenancy import CLINIC_CONTEXT_KEY, ClinicIdError, check_clinic_id

PROG = "offboard-clinic"
#: The principal of the audit event when no AWS identity is known (the local emulator).
SCRIPT_PRINCIPAL = "script:offboard_clinic"
DEFAULT_SAMPLE = 5
#: What KMS answers for a key that can no longer be used (AWS; moto: a key that is gone).
REFUSALS = (
    "KMSInvalidStateException",
    "DisabledException",
    "NotFoundException",
    "AccessDeniedException",
)


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"make {PROG}",
        description="Schedule deletion of a clinic's PHI key and prove its PHI no longer decrypts.",
    )
    parser.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    parser.add_argument("--clinic", required=True, help="the clinic id to offboard")
    add_target_arguments(parser)
    parser.add_argument(
        "--confirm", default="",
        help="the clinic id again: required for any target but the local emulator",
    )  # fmt: skip
    parser.add_argument(
        "--confirm-production", default="",
        help="the stack name again: required for a production stack",
    )  # fmt: skip
    parser.add_argument(
        "--sample", type=int, default=DEFAULT_SAMPLE,
        help=f"how many of the clinic's PHI items to prove (default {DEFAULT_SAMPLE})",
    )  # fmt: skip
    return parser


class _Usage(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2, no usage dump
        print(f"{PROG}: {message}", file=sys.stderr)
        raise SystemExit(2)


def _context(item: dict[str, Any]) -> ItemContext:
    return ItemContext(
        clinic_id=str(item[CLINIC_CONTEXT_KEY]),
        entity_type=str(item[ENTITY_TYPE_ATTRIBUTE]),
        pk=str(item[PARTITION_KEY]),
        sk=str(item[SORT_KEY]),
    )


def phi_items(
    dynamodb: Any, table: str, clinic: str, *, own: bool, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` PHI items of ``clinic`` (``own``) or of any other clinic (a paged Scan
    that stops as soon as it has enough)."""
    operator = "=" if own else "<>"
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": f"#c {operator} :c AND attribute_exists(#p)",
        "ExpressionAttributeNames": {"#c": CLINIC_CONTEXT_KEY, "#p": PHI_ATTRIBUTE},
        "ExpressionAttributeValues": {":c": {"S": clinic}},
    }
    while len(found) < limit:
        page = dynamodb.scan(**kwargs)
        found.extend(from_attribute_values(i) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found[:limit]


def _ciphertext(item: dict[str, Any]) -> bytes:
    blob = item[PHI_ATTRIBUTE]
    return bytes(blob.value if hasattr(blob, "value") else blob)


def kms_unwrap_answers(kms: Any, ciphertext: bytes) -> list[str]:
    """For each encrypted data key of the message: "decrypted" when KMS unwraps it under the key
    the message names (with the message's context), else KMS's error code."""
    header = deserialize_header(io.BytesIO(ciphertext), max_encrypted_data_keys=1)[0]
    answers = []
    for edk in header.encrypted_data_keys:
        try:
            kms.decrypt(
                CiphertextBlob=edk.encrypted_data_key,
                EncryptionContext=dict(header.encryption_context),
                KeyId=edk.key_provider.key_info.decode(),
            )
            answers.append("decrypted")
        except ClientError as exc:
            answers.append(str(exc.response.get("Error", {}).get("Code", "ClientError")))
    return answers


def decrypts(kms: Any, cfg: StackConfig, items: Sequence[dict[str, Any]]) -> list[str]:
    """The items whose PHI a cold keyring (no cached data keys) could not decrypt, with why."""
    keyring = ClinicKeyring(kms, cfg.names.clinic_key_alias, cache=None)
    failures = []
    for item in items:
        try:
            keyring.decrypt(_ciphertext(item), _context(item))
        except PhiError as exc:
            failures.append(str(exc))
    return failures


def prove(
    clients: Clients, cfg: StackConfig, key: ClinicKey, sample: Sequence[dict[str, Any]]
) -> list[Check]:
    kms = clients("kms")
    checks: list[Check] = []
    try:
        meta = kms.describe_key(KeyId=key.key_id)["KeyMetadata"]
        state = str(meta.get("KeyState", ""))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NotFoundException":
            raise
        meta, state = {}, "deleted"
    when = f", deleted on {meta['DeletionDate']}" if meta.get("DeletionDate") else ""
    checks.append(
        Check(
            "key.retired",
            state in ("PendingDeletion", "deleted"),
            f"{key.alias} ({key.key_id}) is {state}{when}",
        )
    )
    unwrapped = {
        i[PARTITION_KEY] + " / " + i[SORT_KEY]: kms_unwrap_answers(kms, _ciphertext(i))
        for i in sample
    }
    still = [k for k, answers in unwrapped.items() if "decrypted" in answers]
    codes = sorted({a for answers in unwrapped.values() for a in answers if a != "decrypted"})
    if still:
        emulator = (
            " (the emulator does not refuse a disabled key or a key pending deletion; AWS "
            "does: the proof needs AWS, or the key gone)"
            if clients.emulator
            else ""
        )
        checks.append(
            Check(
                "clinic.kms-refuses",
                False,
                f"KMS still unwraps {len(still)} of {len(sample)} sampled data keys, e.g. "
                f"{still[0]}{emulator}",
            )
        )
    else:
        checks.append(
            Check(
                "clinic.kms-refuses",
                True,
                f"KMS refuses all {len(sample)} sampled data keys ({', '.join(codes)})",
            )
        )
    failures = decrypts(kms, cfg, sample)
    checks.append(
        Check(
            "clinic.phi-unreadable",
            len(failures) == len(sample),
            f"{len(failures)} of {len(sample)} sampled PHI items no longer decrypt"
            + (f": {failures[0]}" if failures else ""),
        )
    )
    return checks


def survivor_check(clients: Clients, cfg: StackConfig, clinic: str) -> Check:
    others = phi_items(clients("dynamodb"), cfg.names.table, clinic, own=False, limit=1)
    if not others:
        return Check("other-clinic.decrypts", False, "no other clinic's PHI item to compare")
    failures = decrypts(clients("kms"), cfg, others)
    other = str(others[0][CLINIC_CONTEXT_KEY])
    if failures:
        return Check("other-clinic.decrypts", False, f"clinic {other}: {failures[0]}")
    return Check("other-clinic.decrypts", True, f"clinic {other}'s PHI still decrypts")


def audit_connection(target: Target, environ: dict[str, str] | None = None) -> Any | None:
    """A writer connection to the audit database, or None when none is configured."""
    from auditlog.connect import connect, ingest_connection

    env = dict(os.environ if environ is None else environ)
    url = env.get("AUDIT_INGEST_DATABASE_URL", "")
    if not url and target.is_local:
        url = read_env_file(local_state_dir(env) / "env").get("AUDIT_INGEST_DATABASE_URL", "")
    if url:
        return connect(url, application_name="medeez-offboard")
    if not target.is_local and env.get("AUDIT_DB_HOST"):
        return ingest_connection()
    return None


def record_audit(
    conn: Any, cfg: StackConfig, key: ClinicKey, principal: str, *, now: datetime
) -> Check:
    from auditlog.chain import Event
    from auditlog.ingest import append

    event = Event(
        clinic_id=key.clinic_id,
        event_id=f"offboard-{uuid.uuid4()}",
        source="admin",
        action="OFFBOARD",
        event_at=now,
        pk=CLINIC_PARTITION.render(clinicId=key.clinic_id),
        sk=f"KEY#{key.arn}",
        principal=principal,
    )
    append(conn, [event], fresh_ids=True)
    return Check("audit.recorded", True, f"OFFBOARD event {event.event_id} by {principal}")


def _principal(clients: Clients, target: Target) -> str:
    if target.is_local:
        return f"{SCRIPT_PRINCIPAL} ({getpass.getuser()})"
    return str(clients("sts").get_caller_identity()["Arn"])


def check_usage(args: argparse.Namespace) -> tuple[StackConfig, str, Target]:
    cfg = load_stack_config(args.stack)
    try:
        clinic = check_clinic_id(args.clinic)
    except ClinicIdError as exc:
        raise UsageError(str(exc)) from None
    if not 1 <= args.sample <= 1000:
        raise UsageError(f"--sample must be in 1..1000, got {args.sample}")
    target = resolve_target(args.endpoint_url, target=args.target)
    if not target.is_local:
        if args.target != "aws":
            raise UsageError(
                f"refusing to offboard on {target.describe()} (from {target.source}): only the "
                "local emulator, or AWS with TARGET=aws CONFIRM=<clinic id>"
            )
        if args.confirm != clinic:
            raise UsageError(
                f"offboarding on AWS schedules deletion of clinic {clinic}'s key: confirm with "
                f"CONFIRM={clinic} (--confirm {clinic})"
            )
    if cfg.is_production and args.confirm_production != cfg.environment:
        raise UsageError(
            f"stack {args.stack} is production: confirm with CONFIRM_PRODUCTION={args.stack} "
            f"(--confirm-production {args.stack}) as well"
        )
    return cfg, clinic, target


def main(
    argv: Sequence[str] | None = None,
    *,
    clients: Clients | None = None,
    after_retire: Callable[[Clients, ClinicKey], None] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """``clients`` and ``after_retire`` are for tests (moto in process): the hook runs between the
    retirement and the proof, e.g. to let the deletion window end."""
    parser = build_parser()
    parser.__class__ = _Usage
    args = parser.parse_args(argv)
    try:
        cfg, clinic, target = check_usage(args)
    except (ConfigError, UsageError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    clients = clients or Clients.for_target(target, cfg.region)
    try:
        announce_target(clients, target, PROG, sys.stderr)
        kms = clients("kms")
        key = describe_clinic_key(kms, cfg, clinic)
        if key is None:
            print(
                f"{PROG}: clinic {clinic} has no key ({cfg.names.clinic_key_alias(clinic)}) on "
                f"{target.describe()}: nothing to shred",
                file=sys.stderr,
            )
            return 1
        sample = phi_items(
            clients("dynamodb"), cfg.names.table, clinic, own=True, limit=args.sample
        )
        checks: list[Check] = []
        if not sample:
            checks.append(Check("clinic.sample", False, f"no PHI item of clinic {clinic} found"))
        elif key.state == "Enabled":
            before = decrypts(kms, cfg, sample)
            checks.append(
                Check(
                    "clinic.decrypts-before",
                    not before,
                    f"{len(sample) - len(before)} of {len(sample)} sampled PHI items decrypt "
                    "before the key is retired" + (f": {before[0]}" if before else ""),
                )
            )
        else:
            checks.append(
                Check("clinic.decrypts-before", True, f"key already {key.state}: not rechecked")
            )
        window = cfg.keys.deletion_window_days
        retired = retire_clinic_key(kms, key, window_days=window, disable=target.is_local)
        print(
            f"{PROG}: {key.alias} on {target.describe()}: deletion scheduled in {window} days "
            f"({retired['deletionDate'] or 'date not reported'}), state {retired['keyState']}; "
            f"undo before then with: aws kms cancel-key-deletion --key-id {key.key_id}",
            flush=True,
        )
        if after_retire is not None:
            after_retire(clients, key)
        if sample:
            checks.extend(prove(clients, cfg, key, sample))
        checks.append(survivor_check(clients, cfg, clinic))
        principal = _principal(clients, target)
    except (ClinicKeyError, PhiError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as exc:
        print(f"{PROG}: {describe_call_failure(target, exc)}", file=sys.stderr)
        return 1
    checks.append(_audit(cfg, key, principal, target, clock()))
    for check in checks:
        print(f"  {'PASS' if check.passed else 'FAIL'}  {check.name:<24} {check.detail}")
    failed = [c for c in checks if not c.passed]
    if failed:
        print(f"{PROG}: NOT proven: {len(failed)} check(s) failed", file=sys.stderr)
        return 1
    print(f"{PROG}: clinic {clinic}'s PHI is shredded: proven ({len(checks)} checks)")
    return 0


def _audit(
    cfg: StackConfig, key: ClinicKey, principal: str, target: Target, now: datetime
) -> Check:
    import psycopg

    from auditlog.connect import ConnectError

    try:
        conn = audit_connection(target)
        if conn is None:
            return Check("audit.recorded", True, "no audit database configured: not recorded")
        with conn:
            return record_audit(conn, cfg, key, principal, now=now)
    except (psycopg.Error, ConnectError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Check("audit.recorded", False, f"the audit database refused the event: {first}")


if __name__ == "__main__":
    sys.exit(main())
