"""make seed: deterministic data with consistent relationships, a clear refusal when the
environment is not ready or the arguments are bad, and batch writes that retry."""

from __future__ import annotations

import io
import signal
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from datalayer.entities import AppointmentStatus, InvoiceStatus, NoteStatus, Role, UserStatus
from datalayer.store import RetryPolicy, WriteError, write_items
from datalayer.synthetic import DatasetShape, generate_dataset
from scripts import seed_data
from scripts.aws_target import Clients, Target
from tests.datalayer.support import LocalEnv, build_env

AS_OF = date(2026, 11, 24)
SHAPE = DatasetShape(clinics=2, patients_per_clinic=5)
ARGS = ["--stack", "dev", "--clinics", "2", "--patients", "3", "--seed", "5"]
RUN = [*ARGS, "--as-of", "2026-11-24", "--no-progress"]


def table_keys(env: LocalEnv) -> dict[tuple[str, str], dict[str, Any]]:
    pages = env.dynamodb.get_paginator("scan").paginate(TableName=env.cfg.names.table)
    return {(i["PK"]["S"], i["SK"]["S"]): i for page in pages for i in page["Items"]}


def test_same_seed_same_data_and_another_seed_other_data() -> None:
    first = generate_dataset(11, AS_OF, SHAPE)
    assert generate_dataset(11, AS_OF, SHAPE) == first
    other = generate_dataset(12, AS_OF, SHAPE)
    assert {p.patient_id for p in other.patients}.isdisjoint(p.patient_id for p in first.patients)


def test_relationships_are_consistent() -> None:
    ds = generate_dataset(3, AS_OF, DatasetShape(clinics=3, patients_per_clinic=20))
    users = {u.user_id: u for u in ds.users}
    patients = {p.patient_id: p for p in ds.patients}
    appointments = {a.appointment_id: a for a in ds.appointments}
    midnight = f"{AS_OF.isoformat()}T00:00:00Z"
    tomorrow = f"{(AS_OF + timedelta(days=1)).isoformat()}T00:00:00Z"
    for a in ds.appointments:
        assert users[a.provider_id].role is Role.DOCTOR
        assert users[a.provider_id].clinic_id == a.clinic_id == patients[a.patient_id].clinic_id
        assert a.start_time < a.end_time
        if a.start_time < midnight:
            assert a.status in {"COMPLETED", "CANCELLED", "NO_SHOW"}
        elif a.start_time >= tomorrow:
            assert a.status in {"SCHEDULED", "CONFIRMED"}
    # A provider is never booked twice at the same time.
    slots = Counter((a.provider_id, a.start_time) for a in ds.appointments)
    assert max(slots.values()) == 1
    completed = {
        a.appointment_id for a in ds.appointments if a.status is AppointmentStatus.COMPLETED
    }
    assert {n.appointment_id for n in ds.notes} == completed
    assert {i.appointment_id for i in ds.invoices} == completed
    for n in ds.notes:
        assert appointments[n.appointment_id].patient_id == n.patient_id
        assert (n.signed_at is None) == (n.status is NoteStatus.DRAFT)
    for i in ds.invoices:
        assert i.total_cents > 0
        assert appointments[i.appointment_id].provider_id == i.provider_id
        if i.status is InvoiceStatus.OVERDUE:
            assert i.due_date < AS_OF.isoformat()
    invited = [u for u in ds.users if u.status is UserStatus.INVITED]
    assert len(invited) == 3
    as_of_epoch = datetime.fromisoformat(f"{AS_OF.isoformat()}T00:00:00+00:00").timestamp()
    assert all(u.expires_at is not None and u.expires_at > as_of_epoch for u in invited)
    assert {a.status for a in ds.appointments} == set(AppointmentStatus)
    assert {r for u in ds.users for r in [u.role]} == set(Role)


def test_seed_writes_the_dataset_and_reports_counts(
    cli_on_moto: None, capsys: pytest.CaptureFixture[str]
) -> None:
    env = build_env("dev")
    assert seed_data.main(RUN) == 0
    out = capsys.readouterr().out
    ds = generate_dataset(5, AS_OF, DatasetShape(clinics=2, patients_per_clinic=3))
    counts = ds.counts()
    assert (
        f"wrote {counts['clinics']} clinics, {counts['users']} users, {counts['patients']} "
        f"patients, {counts['appointments']} appointments, {counts['notes']} notes, "
        f"{counts['invoices']} invoices and {seed_data.item_total(ds) - sum(counts.values())} "
        "lookup items"
    ) in out
    stored = table_keys(env)
    assert len(stored) == seed_data.item_total(ds)
    assert {(p.pk, p.sk) for p in ds.patients} <= set(stored)
    # Two clinics: each onboarded with its own PHI key (looked up, created with rotation and
    # alias, resolved), one data key each for PHI, one new beacon key each; nothing per record.
    assert (
        "KMS calls: CreateAlias 2, CreateKey 2, DescribeKey 6, EnableKeyRotation 2, "
        "GenerateDataKey 4"
    ) in out
    assert "seed: verify: 16 of 16 access patterns find the seeded data" in out


def test_verify_reports_patterns_that_find_nothing(moto: None) -> None:
    env = build_env("dev")
    ds = generate_dataset(5, AS_OF, DatasetShape(clinics=1, patients_per_clinic=2))
    seed_data.seed(env.clients, env.cfg, ds, progress=False)
    assert all(found for _, found in seed_data.verify(env.clients, env.cfg, ds))
    # Another dataset's parameters against this table: only its clinic item is stored (so its
    # beacon key exists), none of its records, so every pattern finds nothing.
    other = generate_dataset(6, AS_OF, DatasetShape(clinics=1, patients_per_clinic=2))
    write_items(env.dynamodb, env.cfg.names.table, env.codec().items(other.clinics[0]))
    found = dict(seed_data.verify(env.clients, env.cfg, other))
    assert len(found) == 16
    assert set(found.values()) == {0}


def test_patterns_without_seeded_data_are_skipped_with_the_reason() -> None:
    # As of a day before every visit: no completed visits, so no notes and no invoices.
    ds = generate_dataset(5, AS_OF, DatasetShape(clinics=1, patients_per_clinic=3, past_days=0))
    samples = seed_data.sample_parameters(ds)
    assert samples["patient_notes"] == "no notes seeded"
    assert samples["invoices_by_status"] == "no invoices seeded"
    assert samples["patient_invoices"] == "no invoices seeded"
    assert isinstance(samples["provider_schedule"], dict)


def test_reseeding_is_idempotent_and_keeps_each_clinics_beacon_key(
    cli_on_moto: None, capsys: pytest.CaptureFixture[str]
) -> None:
    env = build_env("dev")
    assert seed_data.main(RUN) == 0
    before = table_keys(env)
    capsys.readouterr()
    assert seed_data.main(RUN) == 0
    after = table_keys(env)
    assert set(after) == set(before)
    beacons = {k: v["GSI5PK"]["S"] for k, v in before.items() if k[1].startswith("LOOKUP#")}
    assert beacons == {k: after[k]["GSI5PK"]["S"] for k in beacons}
    # The stored beacon keys are unwrapped (Decrypt), not replaced; the clinic keys are reused.
    assert "KMS calls: Decrypt 2, DescribeKey 4, GenerateDataKey 2" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--clinics", "2"], "the following arguments are required: --stack"),
        (["--stack", "dev", "--clinics", "0"], "--clinics must be in 1..200, got 0"),
        (["--stack", "dev", "--clinics", "two"], "--clinics must be a whole number, got 'two'"),
        (["--stack", "dev", "--seed", "-1"], "--seed must be in 0..9223372036854775807, got -1"),
        (["--stack", "dev", "--patients", "5000"], "--patients must be in 1..2000, got 5000"),
        (["--stack", "dev", "--as-of", "2026-13-01"], "--as-of must be a date YYYY-MM-DD"),
        (["--stack", "dev", "--colour", "red"], "unrecognized arguments: --colour red"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        seed_data.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stack", "nosuch"], "unknown stack 'nosuch': no Pulumi.nosuch.yaml; stacks: dev, prod"),
        (["--stack", "prod"], "stack prod holds production PHI; seed writes synthetic records"),
        (["--stack", "dev", "--endpoint-url", "ftp://x"], "endpoint URL 'ftp://x' is not usable"),
    ],
)
def test_unusable_stack_or_endpoint_exits_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert seed_data.main(argv) == 2
    assert message in capsys.readouterr().err


def test_missing_table_exits_1_and_writes_nothing(
    moto: None, capsys: pytest.CaptureFixture[str]
) -> None:
    env = build_env("dev", table=False)
    assert seed_data.main([*RUN, "--target", "aws", "--force"]) == 1
    err = capsys.readouterr().err
    assert (
        "seed: not ready: table medeez-dev-app does not exist on AWS (us-east-1); "
        "deploy the stack first: pulumi up --stack dev"
    ) in err
    assert env.dynamodb.list_tables()["TableNames"] == []


def test_missing_phi_key_alias_exits_1_and_writes_nothing(
    moto: None, capsys: pytest.CaptureFixture[str]
) -> None:
    env = build_env("dev", phi_alias=False)
    assert seed_data.main([*RUN, "--target", "aws", "--force"]) == 1
    err = capsys.readouterr().err
    assert "seed: not ready: PHI key alias alias/medeez-dev-phi does not exist on AWS" in err
    assert table_keys(env) == {}
    # Against the local endpoint the advice is the local setup command.
    with pytest.raises(seed_data.NotReady) as not_ready:
        seed_data.check_ready(env.clients, env.cfg, Target("http://127.0.0.1:5000"))
    assert str(not_ready.value) == (
        "PHI key alias alias/medeez-dev-phi does not exist on local endpoint "
        "http://127.0.0.1:5000 (us-east-1); create them first: make setup STACK=dev"
    )


def test_unreachable_endpoint_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    assert seed_data.main([*RUN, "--endpoint-url", "http://127.0.0.1:9"]) == 1
    assert capsys.readouterr().err == (
        "seed: cannot reach http://127.0.0.1:9; start it with `make local-up`\n"
    )


class FlakyBatchClient:
    """Leaves the last item of each request unprocessed the first ``flaky`` times."""

    def __init__(self, flaky: int) -> None:
        self.flaky = flaky
        self.requests: list[int] = []

    def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> dict[str, Any]:
        ((table, requests),) = RequestItems.items()
        self.requests.append(len(requests))
        if self.flaky:
            self.flaky -= 1
            return {"UnprocessedItems": {table: requests[-1:]}}
        return {"UnprocessedItems": {}}


def test_unprocessed_items_are_retried_with_growing_backoff() -> None:
    client = FlakyBatchClient(flaky=3)
    delays: list[float] = []
    items = [{"PK": f"p{i}", "SK": "s"} for i in range(30)]
    stats = write_items(client, "t", items, sleep=delays.append)
    assert client.requests == [25, 1, 1, 1, 5]
    assert stats.items == 30
    assert stats.retried_items == 3
    assert len(delays) == 3
    policy = RetryPolicy()
    for attempt, delay in enumerate(delays, start=1):
        assert 0 <= delay <= min(policy.max_delay_seconds, policy.base_delay_seconds * 2**attempt)


def test_items_still_unprocessed_after_the_last_attempt_fail_loudly() -> None:
    client = FlakyBatchClient(flaky=100)
    with pytest.raises(WriteError) as err:
        write_items(
            client, "t", [{"PK": "p", "SK": "s"}], retry=RetryPolicy(max_attempts=3),
            sleep=lambda _: None,
        )  # fmt: skip
    assert str(err.value).startswith("1 items still unprocessed after 3 BatchWriteItem attempts")


def test_no_credentials_for_aws_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert seed_data.main([*RUN, "--target", "aws", "--force"]) == 1
    assert capsys.readouterr().err == (
        "seed: no AWS credentials for AWS: configure them (profile, SSO), or drop TARGET=aws "
        "to use the local emulator (make local-up)\n"
    )


# --- progress, interruptions ----------------------------------------------------------------


def test_progress_is_plain_lines_when_stderr_is_not_a_terminal(
    cli_on_moto: None, capsys: pytest.CaptureFixture[str]
) -> None:
    build_env("dev")
    argv = ["--stack", "dev", "--clinics", "2", "--patients", "10", "--no-verify"]
    assert seed_data.main(argv) == 0
    err = capsys.readouterr().err
    assert "\r" not in err  # no carriage-return bar in a log
    lines = err.splitlines()
    assert lines
    assert all(line.startswith("seed: progress: ") for line in lines)
    total = seed_data.item_total(
        generate_dataset(42, shape=DatasetShape.for_patients(clinics=2, patients_per_clinic=10))
    )
    written = [int(line.split()[2]) for line in lines]
    assert written == sorted(written)
    assert len(lines) >= 5  # about one per tenth, not one per batch nor just the last
    assert lines[-1] == f"seed: progress: {total} of {total} items (100%), clinic 2 of 2"


def test_a_terminal_gets_the_bar_instead(
    cli_on_moto: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    build_env("dev")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert seed_data.main(["--stack", "dev", "--clinics", "1", "--patients", "3"]) == 0
    assert "seed: progress:" not in terminal.getvalue()
    assert "\r" in terminal.getvalue()
    assert "item/s" in terminal.getvalue()
    assert "--no-progress" not in capsys.readouterr().out


def test_no_progress_means_none(cli_on_moto: None, capsys: pytest.CaptureFixture[str]) -> None:
    build_env("dev")
    assert seed_data.main([*ARGS, "--no-progress", "--no-verify"]) == 0
    assert capsys.readouterr().err == ""


def test_an_interrupt_before_writing_says_nothing_was_written(
    cli_on_moto: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = build_env("dev")
    before = signal.getsignal(signal.SIGINT)

    def ctrl_c(*_: Any) -> None:
        signal.raise_signal(signal.SIGINT)  # as the terminal sends it on Ctrl-C

    monkeypatch.setattr(seed_data, "check_ready", ctrl_c)
    assert seed_data.main(RUN) == 130
    assert capsys.readouterr().err == (
        "seed: interrupted by SIGINT: nothing was written; rerun the same command to finish "
        "(it rewrites the same items)\n"
    )
    assert table_keys(env) == {}
    assert signal.getsignal(signal.SIGINT) is before  # the caller's handler is back


def test_a_sigterm_between_batches_reports_whole_and_partial_clinics(
    cli_on_moto: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = build_env("dev")
    dataset = generate_dataset(5, shape=DatasetShape.for_patients(3, 10))
    sizes = [seed_data.item_count(entities) for _, entities in dataset.by_clinic()]
    names = [clinic.name for clinic in dataset.clinics]
    total = sum(sizes)
    # Clinics are written one by one in batches of 25: stop on the second batch of clinic 2.
    first_clinic_batches = -(-sizes[0] // 25)
    stop_at = first_clinic_batches + 2
    assert sizes[1] > 50  # so that batch is clinic 2's, and a full one
    answered = 0

    def terminate(**_: Any) -> None:
        nonlocal answered
        answered += 1
        if answered == stop_at:
            signal.raise_signal(signal.SIGTERM)

    # The signal arrives while that BatchWriteItem's answer is being handled: moto wrote the
    # batch, but seed never saw the answer.
    client_for = Clients.__call__

    def with_hook(self: Clients, service: str, region: str | None = None) -> Any:
        client = client_for(self, service, region)
        if service == "dynamodb":
            client.meta.events.register_last(
                "after-call.dynamodb.BatchWriteItem", terminate, unique_id="terminate"
            )
        return client

    monkeypatch.setattr(Clients, "__call__", with_hook)
    argv = ["--stack", "dev", "--clinics", "3", "--patients", "10", "--seed", "5"]
    assert seed_data.main([*argv, "--no-progress"]) == 143
    written = sizes[0] + 25
    assert capsys.readouterr().err == (
        f"seed: interrupted by SIGTERM: wrote {written} of {total} items; complete: 1 of 3 "
        f"clinics ({names[0]}), {names[1]} partly (25 of {sizes[1]} items); "
        f"not written: {total - written} items, all of {names[2]} (a batch of 25 was sent "
        "unanswered: it may have landed); rerun the same command to finish (it rewrites the "
        "same items)\n"
    )
    assert len(table_keys(env)) == written + 25  # the unanswered batch did land
    # Rerunning finishes it: every item, once.
    assert seed_data.main([*argv, "--no-progress"]) == 0
    assert len(table_keys(env)) == total
