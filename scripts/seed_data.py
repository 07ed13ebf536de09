"""``make seed STACK=<stack> [CLINICS=N SEED=S]``: write deterministic synthetic data.

Clinics, staff (admins, doctors, staff, one pending invitation with a TTL), patients with
beaconed lookup identifiers, appointments (past and upcoming around a fixed anchor day), SOAP
notes and invoices, with PHI encrypted under each clinic's own PHI key (created here, as
onboarding does, when it does not exist yet: ``datalayer.clinic_keys``). The same seed and shape
always give the same items, whatever the day, so a rerun rewrites them instead of adding more.

The target is resolved by :mod:`scripts.aws_target` (the emulator of ``make local-up`` unless
told otherwise). Seed writes only to the local emulator unless ``--force`` is given, and refuses
production stacks even then: synthetic records do not belong beside real PHI. Nothing is written
unless the table (ACTIVE, with every index of the stack config) and the PHI key alias exist.
Clinics are written one after the other, so an interruption (Ctrl-C, SIGTERM) or a failure can
say which clinics are complete. Exit codes: 0 done, 1 the environment is not ready or a write
failed, 2 bad arguments or a refused target, 130/143 interrupted by SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from types import FrameType
from typing import Any, TextIO
from urllib.parse import urlsplit

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from tqdm import tqdm

from datalayer.access_patterns import CATALOG, query_request, run_query
from datalayer.beacons import BeaconError, BeaconKeyring
from datalayer.clinic_keys import ClinicKeyError, ensure_clinic_key
from datalayer.entities import AnyEntity, EntityType, ItemCodec, Patient
from datalayer.phi import ClinicKeyring, PhiError
from datalayer.store import WriteError, WriteStats, clinic_beacon_key_source, write_items
from datalayer.synthetic import ANCHOR, Dataset, DatasetShape, generate_dataset
from scripts.aws_target import (
    Clients,
    Target,
    UsageError,
    add_target_arguments,
    announce_target,
    resolve_target,
)
from stackspec.config.stack import StackConfig, load_stack_config
from stackspec.definitions.table import table_definition
from stackspec.errors import ConfigError

MAX_CLINICS = 200
MAX_PATIENTS = 2_000

#: The principal of seeded items (``writtenBy``): the audit trail attributes them to this script.
SEED_PRINCIPAL = "script:seed_data"


class NotReady(Exception):
    """The target lacks what seeding needs; the message says what and how to fix it."""


def _bounded_int(name: str, low: int, high: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be a whole number, got '{text}'"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} must be in {low}..{high}, got {value}")
        return value

    return parse


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--as-of must be a date YYYY-MM-DD, got '{text}'"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="make seed",
        description="Write deterministic synthetic clinics, staff, patients, appointments, "
        "notes and invoices (PHI encrypted) into the stack's table.",
    )
    parser.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    parser.add_argument(
        "--clinics", type=_bounded_int("--clinics", 1, MAX_CLINICS), default=3,
        help=f"number of clinics, 1..{MAX_CLINICS} (default 3)",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=_bounded_int("--seed", 0, 2**63 - 1), default=42,
        help="random seed; the same seed and shape give the same data on any day (default 42)",
    )  # fmt: skip
    parser.add_argument(
        "--patients", type=_bounded_int("--patients", 1, MAX_PATIENTS), default=25,
        help=f"patients per clinic, 1..{MAX_PATIENTS} (default 25)",
    )  # fmt: skip
    parser.add_argument(
        "--as-of", type=_iso_date, default=ANCHOR,
        help=f"the day that separates past from upcoming appointments (default {ANCHOR}, fixed "
        "so reruns rewrite the same items; another day is another dataset, with other keys)",
    )  # fmt: skip
    add_target_arguments(parser)
    parser.add_argument(
        "--force", action="store_true",
        help="allow writing to a target other than the local emulator (e.g. --target aws) for "
        "a non-production stack; production stacks are refused regardless",
    )  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="no progress bar or lines")
    parser.add_argument(
        "--no-verify", action="store_true",
        help="skip running each access pattern once against the seeded data",
    )  # fmt: skip
    return parser


def check_ready(clients: Clients, cfg: StackConfig, target: Target) -> None:
    """Raise :class:`NotReady` unless the table and the PHI key alias exist and are usable."""
    where = f"{target.describe()} ({cfg.region})"
    fix = (
        f"create them first: make setup STACK={cfg.environment}"
        if target.is_local
        else (f"deploy the stack first: pulumi up --stack {cfg.environment}")
    )
    try:
        table = clients("dynamodb").describe_table(TableName=cfg.names.table)["Table"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            raise NotReady(f"table {cfg.names.table} does not exist on {where}; {fix}") from None
        raise NotReady(f"cannot read table {cfg.names.table} on {where}: {exc}") from None
    if table.get("TableStatus") != "ACTIVE":
        raise NotReady(f"table {cfg.names.table} is {table.get('TableStatus')}, not ACTIVE; wait")
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    missing = [i.name for i in table_definition(cfg).indexes if i.name not in present]
    if missing:
        raise NotReady(
            f"table {cfg.names.table} lacks the index(es) {', '.join(missing)} "
            f"the design needs; {fix}"
        )
    alias = cfg.names.key_alias("phi")
    try:
        key = clients("kms").describe_key(KeyId=alias)["KeyMetadata"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NotFoundException":
            raise NotReady(f"PHI key alias {alias} does not exist on {where}; {fix}") from None
        raise NotReady(f"cannot read PHI key {alias} on {where}: {exc}") from None
    if key.get("KeyState") != "Enabled":
        raise NotReady(f"PHI key {alias} is {key.get('KeyState')}, not Enabled")


def sample_parameters(dataset: Dataset) -> dict[str, dict[str, str] | str]:
    """Parameters for every catalog pattern, taken from the first clinic's seeded data; a
    pattern whose data this dataset lacks (e.g. no invoices yet) maps to the reason instead."""
    clinic = dataset.clinics[0].clinic_id
    patients = [p for p in dataset.patients if p.clinic_id == clinic]
    with_notes = {n.patient_id for n in dataset.notes}
    patient = next((p for p in patients if p.patient_id in with_notes), patients[0])
    visit = next(a for a in dataset.appointments if a.patient_id == patient.patient_id)
    invoice = next((i for i in dataset.invoices if i.clinic_id == clinic), None)
    admin = next(u for u in dataset.users if u.clinic_id == clinic)
    values = {
        "clinicId": clinic,
        "patientId": patient.patient_id,
        "providerId": visit.provider_id,
        "from": visit.start_time,
        "to": visit.end_time,
        "role": str(admin.role),
        "entityType": str(EntityType.PATIENT),
        "email": patient.email,
        "phone": patient.phone,
        "system": "ehr-mrn",
        "externalId": patient.external_ids["ehr-mrn"],
        "status": str(visit.status),
    }
    samples: dict[str, dict[str, str] | str] = {}
    for pattern in CATALOG:
        params = {name: values[name] for name in pattern.parameters}
        if EntityType.USER in pattern.returns and "email" in params:
            params["email"] = admin.email
        if pattern.returns == (EntityType.INVOICE,):
            if invoice is None:
                samples[pattern.name] = "no invoices seeded"
                continue
            if "status" in params:
                params["status"] = str(invoice.status)
            else:
                params["patientId"] = invoice.patient_id
        if pattern.returns == (EntityType.NOTE,) and patient.patient_id not in with_notes:
            samples[pattern.name] = "no notes seeded"
            continue
        samples[pattern.name] = params
    return samples


def verify(clients: Clients, cfg: StackConfig, dataset: Dataset) -> list[tuple[str, int | str]]:
    """Run every catalog pattern once against the seeded table: (pattern, items found or the
    reason it was skipped). One Query each; a 0 means the data or the table is wrong."""
    dynamodb = clients("dynamodb")
    alias = cfg.names.key_alias("phi")
    beacons = BeaconKeyring(
        clients("kms"), alias, clinic_beacon_key_source(dynamodb, cfg.names.table)
    )
    results: list[tuple[str, int | str]] = []
    for name, params in sample_parameters(dataset).items():
        if isinstance(params, str):
            results.append((name, params))
            continue
        request = query_request(name, cfg.names.table, params, beacons=beacons)
        results.append((name, len(run_query(dynamodb, request))))
    return results


def item_count(entities: Sequence[AnyEntity]) -> int:
    """Items ``entities`` become: one each, plus a patient's lookup items (email, phone and one
    per external id)."""
    lookups = sum(2 + len(e.external_ids) for e in entities if isinstance(e, Patient))
    return len(entities) + lookups


def item_total(dataset: Dataset) -> int:
    return item_count(list(dataset.entities()))


def _names(names: Sequence[str]) -> str:
    if len(names) <= 3:
        return ", ".join(names)
    return f"{', '.join(names[:2])} and {len(names) - 2} more"


@dataclass
class SeedProgress:
    """What seed has written so far, clinic by clinic: the line printed when it is interrupted
    or fails."""

    #: (clinic name, items) in write order.
    plan: list[tuple[str, int]] = field(default_factory=list)
    written: int = 0
    #: Index in ``plan`` of the clinic being written; len(plan) once all are.
    clinic: int = 0
    clinic_written: int = 0
    #: Items of a BatchWriteItem sent and not yet answered: they may or may not have landed.
    in_flight: int = 0

    @property
    def total(self) -> int:
        return sum(size for _, size in self.plan)

    def sent(self, items: int) -> None:
        self.in_flight = items

    def answered(self, landed: int) -> None:
        self.in_flight = 0
        self.written += landed
        self.clinic_written += landed

    def clinic_done(self) -> None:
        self.clinic += 1
        self.clinic_written = 0

    def report(self) -> str:
        if not self.plan or (self.written == 0 and not self.in_flight):
            return "nothing was written"
        if self.clinic >= len(self.plan):
            return f"all {self.total} items of {len(self.plan)} clinics were written"
        complete = [name for name, _ in self.plan[: self.clinic]]
        name, size = self.plan[self.clinic]
        untouched = [name for name, _ in self.plan[self.clinic + 1 :]]
        text = f"wrote {self.written} of {self.total} items; complete: "
        text += f"{len(complete)} of {len(self.plan)} clinics"
        text += f" ({_names(complete)})" if complete else ""
        if self.clinic_written:
            text += f", {name} partly ({self.clinic_written} of {size} items)"
        else:
            untouched.insert(0, name)
        text += f"; not written: {self.total - self.written} items"
        text += f", all of {_names(untouched)}" if untouched else ""
        if self.in_flight:
            text += f" (a batch of {self.in_flight} was sent unanswered: it may have landed)"
        return text


class _TrackedWrites:
    """The DynamoDB client as ``write_items`` uses it, telling ``progress`` what is in flight and
    what landed, so an interruption at any point reports what is known to be written."""

    def __init__(self, client: Any, progress: SeedProgress) -> None:
        self.client = client
        self.progress = progress

    def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> Any:
        ((table, requests),) = RequestItems.items()
        self.progress.sent(len(requests))
        try:
            response = self.client.batch_write_item(RequestItems=RequestItems)
        except ClientError:
            self.progress.sent(0)  # refused with an answer: nothing of it landed
            raise
        unprocessed = response.get("UnprocessedItems", {}).get(table, [])
        self.progress.answered(len(requests) - len(unprocessed))
        return response


class _ProgressLines:
    """Plain progress for logs (CI, a pipe): a line at every tenth of the items, where tqdm's
    carriage-return bar would be garbled or invisible."""

    def __init__(self, progress: SeedProgress, out: TextIO) -> None:
        self.progress = progress
        self.out = out
        self.next_tenth = 1

    def update(self, _: int) -> None:
        p = self.progress
        tenth = p.written * 10 // p.total if p.total else 10
        if tenth < self.next_tenth:
            return
        self.next_tenth = tenth + 1
        clinic = min(p.clinic + 1, len(p.plan))
        print(
            f"seed: progress: {p.written} of {p.total} items ({p.written * 100 // p.total}%), "
            f"clinic {clinic} of {len(p.plan)}",
            file=self.out,
            flush=True,
        )


@contextmanager
def _display(progress: SeedProgress, show: bool, out: TextIO) -> Iterator[Any]:
    """Something with ``update(n)``: tqdm's bar on a terminal, plain lines otherwise."""
    if show and out.isatty():
        with tqdm(total=progress.total, unit="item", desc="seed", file=out) as bar:
            yield bar
    elif show:
        yield _ProgressLines(progress, out)
    else:
        yield None


def seed(
    clients: Clients,
    cfg: StackConfig,
    dataset: Dataset,
    *,
    progress: bool = True,
    tracker: SeedProgress | None = None,
) -> dict[str, Any]:
    """Write ``dataset``, one clinic after the other; returns the summary (counts, requests, KMS
    calls, seconds). ``tracker`` follows what has been written, for an interruption's report.
    Progress goes to stderr: a bar on a terminal, a line per tenth of the items otherwise."""
    tracker = tracker if tracker is not None else SeedProgress()
    groups = dataset.by_clinic()
    tracker.plan = [(clinic.name, item_count(entities)) for clinic, entities in groups]
    kms = clients("kms")
    dynamodb = clients("dynamodb")
    writes = _TrackedWrites(dynamodb, tracker)
    kms_calls: dict[str, int] = {}

    def count_kms(model: Any, **_: Any) -> None:
        kms_calls[model.name] = kms_calls.get(model.name, 0) + 1

    kms.meta.events.register("before-call.kms", count_kms)
    stats = WriteStats()
    try:
        alias = cfg.names.key_alias("phi")
        # Onboarding: every clinic gets its own PHI key (policy, tags, rotation, alias) first.
        for clinic, _ in groups:
            ensure_clinic_key(kms, cfg, clinic.clinic_id)
        codec = ItemCodec(
            cipher=ClinicKeyring(kms, cfg.names.clinic_key_alias),
            beacons=BeaconKeyring(kms, alias, clinic_beacon_key_source(dynamodb, cfg.names.table)),
            ttl_attribute=cfg.table.ttl_attribute,
            written_by=SEED_PRINCIPAL,
        )
        started = time.perf_counter()

        def items(entities: Sequence[AnyEntity]) -> Iterator[dict[str, Any]]:
            for entity in entities:
                yield from codec.items(entity)

        with _display(tracker, progress, sys.stderr) as display:
            on_written = display.update if display is not None else None
            # One clinic at a time: when interrupted, every clinic but one is whole or untouched.
            for _, entities in groups:
                done = write_items(writes, cfg.names.table, items(entities), on_written=on_written)
                stats.items += done.items
                stats.requests += done.requests
                stats.retried_items += done.retried_items
                tracker.clinic_done()
        seconds = time.perf_counter() - started
    finally:
        kms.meta.events.unregister("before-call.kms", count_kms)
    return {
        **dataset.counts(),
        "lookupItems": stats.items - sum(dataset.counts().values()),
        "items": stats.items,
        "batchRequests": stats.requests,
        "retriedItems": stats.retried_items,
        "kmsCalls": dict(sorted(kms_calls.items())),
        "seconds": round(seconds, 2),
    }


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived. A BaseException, like KeyboardInterrupt, so no ``except
    Exception`` in a library on the way up swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # One report however often Ctrl-C is pressed: further signals are ignored while unwinding.
    for each in (signal.SIGINT, signal.SIGTERM):
        signal.signal(each, signal.SIG_IGN)
    raise Interrupted(signum)


@contextmanager
def _signals_raise_interrupted() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` inside the block (main thread only), and
    the previous handlers are back afterwards (tests call ``main`` in process)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {each: signal.getsignal(each) for each in (signal.SIGINT, signal.SIGTERM)}
    for each in previous:
        signal.signal(each, _interrupt)
    try:
        yield
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)


def _answers(url: str) -> bool:
    """Whether anything still accepts connections at ``url`` (a TCP connect, no request)."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        with socket.create_connection((parts.hostname, port), timeout=2):
            return True
    except OSError:
        return False


def _lost(target: Target, exc: BaseException, progress: SeedProgress) -> str:
    """What a failure while writing means for the data already written."""
    url = target.endpoint_url
    connection = isinstance(exc, (BotoConnectionError, HTTPClientError))
    if target.is_local and url and connection and not _answers(url):
        return (
            f"nothing answers at {url} any more: the emulator has stopped, and since it keeps "
            "data in memory only, everything it held is gone with it (keys, table and every "
            "item written); start over with make local-up, make setup, make seed"
        )
    if progress.written:
        return "what was written stays; rerun the same command to finish (same items again)"
    return "rerun the same command once the cause is fixed"


def planned_dataset(args: argparse.Namespace) -> Dataset:
    """The dataset the arguments ask for: a function of them alone (never of today's date)."""
    return generate_dataset(
        args.seed, args.as_of, DatasetShape.for_patients(args.clinics, args.patients)
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # exits 2 with a usage message on bad arguments
    progress = SeedProgress()
    with _signals_raise_interrupted():
        try:
            return _run(args, progress)
        except Interrupted as exc:
            print(
                f"seed: interrupted by {exc.name}: {progress.report()}; rerun the same command "
                "to finish (it rewrites the same items)",
                file=sys.stderr,
            )
            return 128 + exc.signum


def _run(args: argparse.Namespace, progress: SeedProgress) -> int:
    try:
        cfg = load_stack_config(args.stack)
        if cfg.is_production:
            raise UsageError(
                f"stack {args.stack} holds production PHI; seed writes synthetic records and "
                "refuses production stacks"
            )
        target = resolve_target(args.endpoint_url, target=args.target)
        if not target.is_local and not args.force:
            raise UsageError(
                f"refusing to write synthetic data to {target.describe()} (from {target.source}):"
                " seed writes only to the local emulator unless forced (make seed TARGET=aws "
                "FORCE=1, or --force); production stacks are refused either way"
            )
    except (ConfigError, UsageError) as exc:
        print(f"seed: {exc}", file=sys.stderr)
        return 2
    clients = Clients.for_target(target, cfg.region)
    try:
        announce_target(clients, target, "seed", sys.stderr)
        check_ready(clients, cfg, target)
        dataset = planned_dataset(args)
        anchor = " (the fixed default)" if args.as_of == ANCHOR else ""
        print(
            f"seed: {cfg.names.table} on {target.describe()} ({cfg.region}): "
            f"seed {args.seed}, as of {args.as_of}{anchor}, "
            f"{args.clinics} clinics x {args.patients} patients",
            flush=True,
        )
        summary = seed(clients, cfg, dataset, progress=not args.no_progress, tracker=progress)
        checks = [] if args.no_verify else verify(clients, cfg, dataset)
    except NotReady as exc:
        print(f"seed: not ready: {exc}", file=sys.stderr)
        return 1
    except NoCredentialsError:
        print(
            f"seed: no AWS credentials for {target.describe()}: configure them (profile, SSO), "
            "or drop TARGET=aws to use the local emulator (make local-up)",
            file=sys.stderr,
        )
        return 1
    except (WriteError, PhiError, BeaconError, ClinicKeyError, ClientError, BotoCoreError) as exc:
        if isinstance(exc, EndpointConnectionError) and not progress.written:
            where = target.endpoint_url or exc.kwargs.get("endpoint_url")
            hint = "; start it with `make local-up`" if target.is_local else ""
            print(f"seed: cannot reach {where}{hint}", file=sys.stderr)
        else:
            print(
                f"seed: failed: {exc}; {progress.report()}; {_lost(target, exc, progress)}",
                file=sys.stderr,
            )
        return 1
    rate = summary["items"] / summary["seconds"] if summary["seconds"] else 0.0
    kms = ", ".join(f"{name} {n}" for name, n in summary["kmsCalls"].items()) or "none"
    print(
        "seed: wrote "
        + ", ".join(f"{summary[k]} {k}" for k in ("clinics", "users", "patients", "appointments"))
        + f", {summary['notes']} notes, {summary['invoices']} invoices"
        + f" and {summary['lookupItems']} lookup items"
    )
    print(
        f"seed: {summary['items']} items in {summary['batchRequests']} BatchWriteItem requests "
        f"({summary['retriedItems']} retried), {summary['seconds']} s, {rate:.0f} items/s; "
        f"KMS calls: {kms}"
    )
    if checks:
        empty = [name for name, found in checks if found == 0]
        ran = [(name, found) for name, found in checks if isinstance(found, int)]
        print(
            f"seed: verify: {len(ran) - len(empty)} of {len(ran)} access patterns find the "
            "seeded data (one Query each; items found per pattern):\n  "
            + ", ".join(f"{name} {found}" for name, found in checks)
        )
        if empty:
            print(f"seed: verify failed: no items for {', '.join(empty)}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
