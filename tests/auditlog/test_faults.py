"""Faults lose nothing and duplicate nothing: a real moto_server, the real poller process and a
real PostgreSQL. Afterwards the audit rows are exactly the stream's records and every chain
verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from auditlog.connect import connect
from auditlog.verify import verify
from scripts.servers.postgres import free_port
from tests.auditlog.support import REGION, patient_item, stream_records

REPO = Path(__file__).resolve().parents[2]
TABLE = "medeez-dev-app"  # the dev stack's table, which the poller follows


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[tuple[str, object, object]]:
    port = free_port()
    log = (tmp_path / "moto.log").open("w")
    proc = subprocess.Popen(
        [str(REPO / ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    ddb = session.client("dynamodb", endpoint_url=endpoint)
    cfg = Config(account_id_endpoint_mode="disabled")
    streams = session.client("dynamodbstreams", endpoint_url=endpoint, config=cfg)
    deadline = time.monotonic() + 30
    while True:
        try:
            ddb.list_tables()
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    try:
        yield endpoint, ddb, streams
    finally:
        proc.terminate()
        proc.wait(10)


class Poller:
    def __init__(self, endpoint: str, url: str, state: Path, *, pause: float = 0.0) -> None:
        self.args = [
            sys.executable,
            "-m",
            "scripts.stream_poller",
            "--stack",
            "dev",
            "--endpoint-url",
            endpoint,
            "--state-dir",
            str(state),
            "--interval",
            "0.05",
            # Fault injection: a window to kill it in, after a commit and before its checkpoint.
            "--pause-before-checkpoint",
            str(pause),
        ]
        self.env = {
            **os.environ,
            "AUDIT_INGEST_DATABASE_URL": url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        self.log_path = state / "poller.log"
        self.log = self.log_path.open("a")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.args, cwd=REPO, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def delivered(self) -> int:
        return self.log_path.read_text().count("medeez.stream_consumer audited")

    def kill_after_next_delivery(self) -> None:
        """SIGKILL right after a batch was committed, before its checkpoint is written."""
        seen = self.delivered()
        deadline = time.monotonic() + 20
        while self.delivered() == seen and time.monotonic() < deadline:
            time.sleep(0.01)
        self.kill()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def _writer(ddb, count: int, clinics: int = 3) -> threading.Thread:
    def run() -> None:
        for start in range(0, count, 25):
            ddb.batch_write_item(
                RequestItems={
                    TABLE: [
                        {"PutRequest": {"Item": patient_item(f"c{i % clinics}", f"p{i}", b"phi")}}
                        for i in range(start, min(start + 25, count))
                    ]
                }
            )
            time.sleep(0.01)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _settle(ddb, streams, url: str, timeout: float = 60) -> tuple[list[str], list[str]]:
    expected = sorted(r["eventID"] for r in stream_records(ddb, streams, table=TABLE))
    deadline = time.monotonic() + timeout
    with connect(url) as conn:
        while True:
            stored = sorted(e for (e,) in conn.execute("SELECT event_id FROM audit.event"))
            if len(stored) >= len(expected) or time.monotonic() > deadline:
                return expected, stored
            time.sleep(0.2)


def _assert_exact_and_verified(ddb, streams, audit_db) -> None:
    expected, stored = _settle(ddb, streams, audit_db.reader_url)
    assert stored == expected  # nothing lost, nothing twice
    with connect(audit_db.reader_url) as conn:
        result = verify(conn, None)
    assert result.intact, result.breaks
    assert result.rows == len(expected)


def test_poller_killed_mid_batch_and_restarted(emulator, audit_db, tmp_path: Path) -> None:
    endpoint, ddb, streams = emulator
    poller = Poller(endpoint, audit_db.ingest_url, tmp_path, pause=0.3)
    poller.start()
    writer = _writer(ddb, 1500)
    try:
        for _ in range(3):  # SIGKILL after a commit, before the checkpoint, writes going on
            poller.kill_after_next_delivery()
            poller.start()
        time.sleep(0.4)
        poller.kill()  # and once at an arbitrary moment
        poller.start()
        writer.join()
        _assert_exact_and_verified(ddb, streams, audit_db)
        log = poller.log_path.read_text()
        # Each restart got the killed batch again and stored none of it twice.
        assert log.count("medeez.stream_consumer audited 0 records (100 already stored") >= 3
    finally:
        writer.join()
        poller.stop()


def test_postgres_restarted_while_writes_continue(
    emulator, audit_db, audit_server, tmp_path: Path
) -> None:
    endpoint, ddb, streams = emulator
    poller = Poller(endpoint, audit_db.ingest_url, tmp_path)
    poller.start()
    writer = _writer(ddb, 1500)
    try:
        # The outage starts once the poller delivers (not after a fixed delay: a slow start
        # under load would miss it).
        deadline = time.monotonic() + 30
        while poller.delivered() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        audit_server.cluster.stop("immediate")  # a crash: uncommitted batches roll back
        time.sleep(1.0)  # writes go on; the poller's batches fail and are retried
        audit_server.cluster.start()
        writer.join()
        _assert_exact_and_verified(ddb, streams, audit_db)
        assert "batch not delivered" in poller.log_path.read_text()  # the outage was seen
    finally:
        writer.join()
        poller.stop()
        if audit_server.cluster.pid() is None:
            audit_server.cluster.start()
