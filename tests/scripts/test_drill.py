"""The restore drill on moto: a clean restore passes every check; each way a restore can be
wrong (a lost item, a changed item, a key that no longer decrypts, a GSI still building, a
missed target) fails its own check; the scratch table is gone afterwards whatever happened."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from datalayer.synthetic import DatasetShape, generate_dataset
from scripts import drill as drill_module
from scripts.aws_target import Clients, Target
from scripts.drill import Drill, DrillError, DrillRecord, Guard, Snapshot, main
from scripts.seed_data import seed
from scripts.setup_database import setup_local
from stackspec.config.stack import StackConfig
from tests.scripts.conftest import local_clients

LOCAL = Target("http://127.0.0.1:5831")
SHAPE = DatasetShape(clinics=1, staff_per_clinic=2, patients_per_clinic=4)


@pytest.fixture
def seeded(moto: None, dev: StackConfig) -> Iterator[Clients]:
    clients = local_clients(dev)
    setup_local(dev, clients)
    seed(clients, dev, generate_dataset(7, date(2026, 11, 30), SHAPE), progress=False)
    return clients


def run(dev: StackConfig, clients: Clients, **kwargs: Any) -> DrillRecord:
    return Drill(dev, clients, LOCAL, poll_seconds=0, **kwargs).run()


def status(record: DrillRecord) -> dict[str, str]:
    return {c.check: c.status for c in record.checks}


def tables(clients: Clients) -> list[str]:
    return list(clients("dynamodb").list_tables()["TableNames"])


def test_a_clean_restore_passes_every_check_and_leaves_no_copy(
    seeded: Clients, dev: StackConfig
) -> None:
    record = run(dev, seeded)
    assert status(record) == {
        "restore.completed": "PASS",
        "restore.gsis-active": "PASS",
        "items.counts": "PASS",
        "items.checksum": "PASS",
        "phi.decrypts": "PASS",
        "access-patterns": "PASS",
        "target.rto": "PASS",
        "target.rpo": "PASS",
    }, record.checks
    assert record.passed
    assert record.counts["source"] == record.counts["restored"]
    assert record.counts["source"]["PATIENT"] == 4
    assert record.checksums["source"] == record.checksums["restored"]
    access = next(c for c in record.checks if c.check == "access-patterns")
    assert access.detail.startswith("16 patterns return the same items"), access.detail
    assert record.cleanup["deleted"] is True
    assert tables(seeded) == [dev.names.table]


def test_the_scratch_table_is_named_and_tagged_as_a_drill(
    seeded: Clients, dev: StackConfig
) -> None:
    seen: dict[str, Any] = {}

    def inspect(scratch: str) -> None:
        dynamodb = seeded("dynamodb")
        arn = dynamodb.describe_table(TableName=scratch)["Table"]["TableArn"]
        seen["name"] = scratch
        seen["arn"] = arn

    record = run(dev, seeded, after_restore=inspect)
    assert seen["name"].startswith("medeez-dev-drill-")
    assert not seen["name"].endswith("-app")
    assert record.restore["scratchTable"] == seen["name"]


def _damage(
    clients: Clients, change: Callable[[Any, str, dict[str, Any]], None]
) -> Callable[[str], None]:
    def hook(scratch: str) -> None:
        dynamodb = clients("dynamodb")
        items = dynamodb.scan(TableName=scratch)["Items"]
        patient = sorted(
            (i for i in items if i["entityType"]["S"] == "PATIENT"), key=lambda i: i["SK"]["S"]
        )[0]
        change(dynamodb, scratch, patient)

    return hook


def test_a_missing_item_fails_counts_and_checksum(seeded: Clients, dev: StackConfig) -> None:
    def drop(dynamodb: Any, scratch: str, item: dict[str, Any]) -> None:
        dynamodb.delete_item(TableName=scratch, Key={"PK": item["PK"], "SK": item["SK"]})

    record = run(dev, seeded, after_restore=_damage(seeded, drop))
    checks = status(record)
    assert checks["items.counts"] == "FAIL"
    assert checks["items.checksum"] == "FAIL"
    detail = next(c.detail for c in record.checks if c.check == "items.checksum")
    assert detail.startswith("1 missing: ")
    assert checks["phi.decrypts"] == "PASS"
    assert not record.passed
    assert record.cleanup["deleted"]
    assert tables(seeded) == [dev.names.table]


def test_a_changed_item_fails_the_checksum_only(seeded: Clients, dev: StackConfig) -> None:
    def edit(dynamodb: Any, scratch: str, item: dict[str, Any]) -> None:
        dynamodb.put_item(TableName=scratch, Item={**item, "updatedAt": {"S": "1999-01-01"}})

    record = run(dev, seeded, after_restore=_damage(seeded, edit))
    checks = status(record)
    assert checks["items.counts"] == "PASS"
    assert checks["items.checksum"] == "FAIL"
    detail = next(c.detail for c in record.checks if c.check == "items.checksum")
    assert detail.startswith("1 changed: ")


def test_a_key_that_no_longer_decrypts_fails_the_phi_check(
    seeded: Clients, dev: StackConfig
) -> None:
    # Each clinic key alias now names a new key (a key replaced, or a restore into an account
    # whose keys differ): the copy's data keys were wrapped by the old ones and cannot be unwrapped.
    def replace_key(scratch: str) -> None:
        kms = seeded("kms")
        for alias in kms.list_aliases()["Aliases"]:
            if alias["AliasName"].startswith(dev.names.clinic_key_alias_prefix):
                new_key = kms.create_key(Description="not the key the PHI was encrypted with")
                kms.update_alias(
                    AliasName=alias["AliasName"], TargetKeyId=new_key["KeyMetadata"]["KeyId"]
                )

    record = run(dev, seeded, after_restore=replace_key)
    checks = status(record)
    assert checks["phi.decrypts"] == "FAIL"
    assert checks["items.checksum"] == "PASS"
    assert not record.passed


def test_a_damaged_ciphertext_fails_the_phi_check(seeded: Clients, dev: StackConfig) -> None:
    def corrupt(dynamodb: Any, scratch: str, item: dict[str, Any]) -> None:
        blob = bytearray(item["phi"]["B"])
        blob[-1] ^= 0xFF
        dynamodb.put_item(TableName=scratch, Item={**item, "phi": {"B": bytes(blob)}})

    record = run(dev, seeded, after_restore=_damage(seeded, corrupt))
    checks = status(record)
    assert checks["phi.decrypts"] == "FAIL", record.checks
    detail = next(c.detail for c in record.checks if c.check == "phi.decrypts")
    assert "cannot decrypt PHI" in detail


def test_a_gsi_still_creating_fails_and_the_copy_is_still_deleted(
    seeded: Clients, dev: StackConfig
) -> None:
    # moto builds indexes at once; make DescribeTable report one still CREATING for the copy.
    def creating(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        table = parsed.get("Table", {})
        if "-drill-" in table.get("TableName", ""):
            table["GlobalSecondaryIndexes"][0]["IndexStatus"] = "CREATING"

    dynamodb = seeded("dynamodb")
    dynamodb.meta.events.register("after-call.dynamodb.DescribeTable", creating)
    record = run(dev, seeded, wait_seconds=0)
    checks = status(record)
    assert checks["restore.gsis-active"] == "FAIL"
    detail = next(c.detail for c in record.checks if c.check == "restore.gsis-active")
    assert detail.endswith("is CREATING")
    assert record.cleanup["deleted"] is True
    assert tables(seeded) == [dev.names.table]


def test_a_missed_recovery_point_target_fails(seeded: Clients, dev: StackConfig) -> None:
    # The newest backup is 26 hours old when the drill restores it: more than the 25-hour
    # backup RPO (the drill's clock is moved, the backup's creation time is real).
    seeded("dynamodb").create_backup(TableName=dev.names.table, BackupName="yesterday")
    later = datetime.now(UTC) + timedelta(hours=26)
    record = run(dev, seeded, source="backup", clock=lambda: later)
    checks = status(record)
    assert checks["target.rpo"] == "FAIL"
    assert checks["target.rto"] == "PASS"
    assert record.recovery_point["met"] is False
    assert record.recovery_point["secondsLost"] > 25 * 3600
    assert not record.passed


def test_against_aws_pitr_waits_for_the_source_read_and_restores_exactly_it(
    seeded: Clients, dev: StackConfig
) -> None:
    # moto answers as AWS would, but its PITR clock is frozen: DescribeContinuousBackups is made
    # to lag (first answer) and then catch up (later answers), as PITR does in AWS.
    answers = {"n": 0}

    def lagging(parsed: dict[str, Any], **_: Any) -> None:
        answers["n"] += 1
        now = datetime.now(UTC)
        pitr = parsed["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        pitr["EarliestRestorableDateTime"] = now - timedelta(days=7)
        pitr["LatestRestorableDateTime"] = now - timedelta(minutes=5) if answers["n"] == 1 else now

    sent: list[dict[str, Any]] = []
    dynamodb = seeded("dynamodb")
    dynamodb.meta.events.register("after-call.dynamodb.DescribeContinuousBackups", lagging)
    dynamodb.meta.events.register(
        "provide-client-params.dynamodb.RestoreTableToPointInTime",
        lambda params, **_: sent.append(dict(params)),
    )
    record = Drill(dev, seeded, Target(None), poll_seconds=0).run()
    assert record.passed, record.checks
    assert answers["n"] >= 2
    (request,) = sent
    assert "UseLatestRestorableTime" not in request
    assert record.restore["point"] == request["RestoreDateTime"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert request["SSESpecificationOverride"]["KMSMasterKeyId"] == "alias/medeez-dev-table"
    assert record.recovery_point["secondsLost"] < 60
    assert record.target == "AWS"


def test_against_aws_a_restore_time_outside_the_window_is_refused(
    seeded: Clients, dev: StackConfig
) -> None:
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    with pytest.raises(DrillError, match="outside the restorable window"):
        Drill(dev, seeded, Target(None), at=long_ago, poll_seconds=0).run()
    assert tables(seeded) == [dev.names.table]


def test_a_source_that_changes_during_the_drill_is_reported(
    seeded: Clients, dev: StackConfig
) -> None:
    def write_to_source(scratch: str) -> None:
        seeded.session.client(
            "dynamodb", region_name=dev.region
        ).put_item(  # a writer the drill does not control
            TableName=dev.names.table,
            Item={"PK": {"S": "CLINIC#x"}, "SK": {"S": "CLINIC"}, "entityType": {"S": "CLINIC"}},
        )

    record = run(dev, seeded, after_restore=write_to_source)
    assert status(record)["source.unchanged"] == "FAIL"


def test_from_backup_restores_an_on_demand_backup_and_deletes_the_one_it_took(
    seeded: Clients, dev: StackConfig
) -> None:
    record = run(dev, seeded, source="backup")
    assert record.passed, record.checks
    assert record.restore["method"] == "RestoreTableFromBackup"
    assert record.restore["backupTakenByDrill"] is True
    assert seeded("dynamodb").list_backups(TableName=dev.names.table)["BackupSummaries"] == []


def test_the_guard_refuses_to_change_the_live_table(seeded: Clients, dev: StackConfig) -> None:
    drill = Drill(dev, seeded, LOCAL, poll_seconds=0)
    with pytest.raises(DrillError, match="refused DeleteTable on 'medeez-dev-app'"):
        seeded("dynamodb").delete_table(TableName=dev.names.table)
    assert isinstance(drill.guard, Guard)
    assert dev.names.table in tables(seeded)


def test_an_interrupt_during_the_checks_still_deletes_the_copy(
    seeded: Clients, dev: StackConfig
) -> None:
    def interrupt(scratch: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(dev, seeded, after_restore=interrupt)
    assert tables(seeded) == [dev.names.table]


def test_checksum_ignores_set_order_and_scan_order() -> None:
    a = {"PK": {"S": "p"}, "SK": {"S": "s"}, "tags": {"SS": ["b", "a"]}, "phi": {"B": b"\x00"}}
    b = {"PK": {"S": "p"}, "SK": {"S": "s"}, "tags": {"SS": ["a", "b"]}, "phi": {"B": b"\x00"}}
    c = {"PK": {"S": "q"}, "SK": {"S": "s"}}
    assert Snapshot.of([a, c]).checksum == Snapshot.of([c, b]).checksum
    assert Snapshot.of([a, c]).checksum != Snapshot.of([a]).checksum


# --- the command line ----------------------------------------------------------------------------


def test_main_json_record_and_exit_0(
    seeded: Clients,
    dev: StackConfig,
    cli_on_moto: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    # As if AWS_ENDPOINT_URL named the emulator; the clients stay on moto in process.
    monkeypatch.setattr(drill_module, "resolve_target", lambda *_a, **_k: LOCAL)
    monkeypatch.setattr(Drill, "poll_seconds", 0.0)
    out = tmp_path / "drill.json"
    assert main(["--stack", "dev", "--format", "json", "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.read_text())
    assert printed["passed"] is True
    assert set(printed) >= {
        "drill_id",
        "stack",
        "target",
        "operator",
        "started_at",
        "finished_at",
        "source",
        "restore",
        "counts",
        "checksums",
        "recovery_time",
        "recovery_point",
        "checks",
        "cleanup",
    }


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--stack", "nope"], {"AWS_ENDPOINT_URL": "http://127.0.0.1:5831"}, "nope"),
        (["--stack", "dev"], {"LOCAL_STATE_DIR": "/nonexistent"}, "no local emulator is running"),
        (
            ["--stack", "dev"],
            {"AWS_ENDPOINT_URL": "https://dynamodb.example.com"},
            "not endpoint https://dynamodb.example.com",
        ),
        (
            ["--stack", "dev", "--target", "aws"],
            {"AWS_ENDPOINT_URL": "http://127.0.0.1:5831"},
            "unset it to use AWS",
        ),
        (
            ["--stack", "dev", "--at", "yesterday"],
            {"AWS_ENDPOINT_URL": "http://127.0.0.1:5831"},
            "ISO 8601",
        ),
        (
            ["--stack", "dev", "--at", "2026-12-01T10:00:00"],
            {"AWS_ENDPOINT_URL": "http://127.0.0.1:5831"},
            "no time zone",
        ),
        (
            ["--stack", "dev", "--from", "backup", "--at", "2026-12-01T10:00:00Z"],
            {"AWS_ENDPOINT_URL": "http://127.0.0.1:5831"},
            "FROM=pitr only",
        ),
        (["--stack", "dev", "--from", "tape"], {}, "invalid choice"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    argv: list[str],
    env: dict[str, str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: "), err
    assert message in err
    assert err.count("\n") == 1, err


def test_a_failed_drill_exits_1(
    seeded: Clients,
    dev: StackConfig,
    cli_on_moto: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # As if AWS_ENDPOINT_URL named the emulator; the clients stay on moto in process.
    monkeypatch.setattr(drill_module, "resolve_target", lambda *_a, **_k: LOCAL)
    monkeypatch.setattr(Drill, "poll_seconds", 0.0)
    original = drill_module.Drill.__post_init__

    def damaged(self: Drill) -> None:
        original(self)
        self.after_restore = _damage(
            self.clients,
            lambda d, scratch, item: d.delete_item(
                TableName=scratch, Key={"PK": item["PK"], "SK": item["SK"]}
            ),
        )

    monkeypatch.setattr(Drill, "__post_init__", damaged)
    assert main(["--stack", "dev"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  items.counts" in out
    assert "cleanup: medeez-dev-drill-" in out


def test_sigterm_mid_drill_deletes_the_copy_and_exits_143(
    seeded: Clients,
    dev: StackConfig,
    cli_on_moto: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(drill_module, "resolve_target", lambda *_a, **_k: LOCAL)
    monkeypatch.setattr(Drill, "poll_seconds", 0.0)
    original = drill_module.Drill.__post_init__

    def terminated(self: Drill) -> None:
        original(self)
        self.after_restore = lambda scratch: os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(Drill, "__post_init__", terminated)
    assert main(["--stack", "dev"]) == 143
    err = capsys.readouterr().err
    assert err.startswith("drill interrupted by SIGTERM; the scratch table medeez-dev-drill-")
    assert err.endswith(" was deleted\n")
    assert tables(seeded) == [dev.names.table]
    # The handlers are given back: a later SIGTERM is not turned into a drill interrupt.
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_ctrl_c_during_cleanup_does_not_stop_the_deletion(
    seeded: Clients,
    dev: StackConfig,
    cli_on_moto: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(drill_module, "resolve_target", lambda *_a, **_k: LOCAL)
    monkeypatch.setattr(Drill, "poll_seconds", 0.0)
    original = drill_module.Drill.__post_init__

    def impatient(self: Drill) -> None:
        original(self)
        # The operator presses Ctrl-C just as the copy is being deleted.
        self.dynamodb.meta.events.register(
            "before-call.dynamodb.DeleteTable",
            lambda **_: os.kill(os.getpid(), signal.SIGINT),
        )

    monkeypatch.setattr(Drill, "__post_init__", impatient)
    assert main(["--stack", "dev"]) == 130
    assert "was deleted" in capsys.readouterr().err
    assert tables(seeded) == [dev.names.table]


# --- FROM=backup against AWS: AWS Backup restore jobs, which moto does not implement ----------


def _stubbed_backup(clients: Clients, dev: StackConfig, job_states: list[str]) -> Stubber:
    backup = clients.session.client("backup", region_name=dev.region)
    stubber = Stubber(backup)
    table_arn = f"arn:aws:dynamodb:{dev.region}:123456789012:table/{dev.names.table}"
    old, new = datetime(2026, 11, 29, 5, tzinfo=UTC), datetime(2026, 11, 30, 5, tzinfo=UTC)
    stubber.add_response(
        "list_recovery_points_by_resource",
        {
            "RecoveryPoints": [
                {"RecoveryPointArn": "arn:rp:old", "CreationDate": old, "Status": "COMPLETED"},
                {"RecoveryPointArn": "arn:rp:new", "CreationDate": new, "Status": "COMPLETED"},
                {
                    "RecoveryPointArn": "arn:rp:partial",
                    "CreationDate": new + timedelta(hours=1),
                    "Status": "PARTIAL",
                },
            ]
        },
        {"ResourceArn": table_arn},
    )
    stubber.add_response(
        "start_restore_job",
        {"RestoreJobId": "job-1"},
        {
            "RecoveryPointArn": "arn:rp:new",
            "IamRoleArn": f"arn:aws:iam::123456789012:role/{dev.names.backup_role}",
            "ResourceType": "DynamoDB",
            "Metadata": {"targetTableName": ANY},
        },
    )
    for state in job_states:
        stubber.add_response(
            "describe_restore_job",
            {"RestoreJobId": "job-1", "Status": state, "StatusMessage": "stubbed"},
            {"RestoreJobId": "job-1"},
        )
    stubber.activate()
    clients.use("backup", backup)
    return stubber


def test_from_backup_on_aws_restores_the_newest_completed_recovery_point(
    seeded: Clients, dev: StackConfig
) -> None:
    stubber = _stubbed_backup(seeded, dev, ["RUNNING", "COMPLETED"])
    now = datetime(2026, 11, 30, 6, tzinfo=UTC)
    drill = Drill(dev, seeded, Target(None), source="backup", poll_seconds=0, clock=lambda: now)
    point, lost, detail = drill._restore_aws_backup()
    stubber.assert_no_pending_responses()
    assert point == datetime(2026, 11, 30, 5, tzinfo=UTC)
    assert lost == 3600
    assert detail == {
        "method": "StartRestoreJob",
        "recoveryPointArn": "arn:rp:new",
        "restoreJobId": "job-1",
    }


def test_from_backup_on_aws_a_failed_restore_job_stops_the_drill(
    seeded: Clients, dev: StackConfig
) -> None:
    _stubbed_backup(seeded, dev, ["FAILED"])
    drill = Drill(dev, seeded, Target(None), source="backup", poll_seconds=0)
    with pytest.raises(DrillError, match="restore job job-1 is FAILED: stubbed"):
        drill._restore_aws_backup()
