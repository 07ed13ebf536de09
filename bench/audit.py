"""The audit trail, measured on a real PostgreSQL 16 (pgserver's binaries, durable settings:
fsync and synchronous commit on, as locally), one consumer in one thread (one core):

- stream batches into PostgreSQL with chaining: Lambda-shaped records of realistic size (a note
  item with its PHI ciphertext, ~1.4 KB), through the stream consumer's handler (parse, digest,
  lock, dedupe, chain, COPY, commit). Goal: >= 10,000 records/s;
- verify: rows/s re-hashed and checked by ``auditlog.verify``;
- end-to-end lag locally: moto_server, the real poller process (0.2 s poll interval, batches of
  100) and the consumer, from a write's acknowledgement to its row's ``recorded_at``; p50/p99;
- read auditing on a PHI read: a patient-timeline read of 8 items (decrypt with the cached data
  key) with and without ``datalayer.audit`` (one batch insert + commit per read). Goal: < 10 % of
  the read path. The read path here excludes the DynamoDB Query itself (3-10 ms in AWS), so the
  ratio is an upper bound.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from moto import mock_aws

from auditlog import schema
from auditlog.connect import connect
from auditlog.verify import verify
from functions.stream_consumer.handler import Consumer
from scripts.servers.audit_db import AuditDatabase, provision
from scripts.servers.postgres import Cluster, free_port

REPO = Path(__file__).resolve().parent.parent
RECORDS = 30_000
CLINICS = 20
GOAL_RECORDS_PER_SECOND = 10_000
GOAL_READ_OVERHEAD = 0.10


def _record(i: int, base_time: int) -> dict[str, Any]:
    clinic = f"clinic-{i % CLINICS:02d}"
    patient = f"patient-{i // 7:06d}"
    pk = f"CLINIC#{clinic}#PATIENT#{patient}"
    sk = f"NOTE#2026-11-24T09:{i % 60:02d}:00Z#note-{i:07d}"
    image = {
        "PK": {"S": pk},
        "SK": {"S": sk},
        "entityType": {"S": "NOTE"},
        "clinicId": {"S": clinic},
        "patientId": {"S": patient},
        "noteId": {"S": f"note-{i:07d}"},
        "appointmentId": {"S": f"appt-{i:07d}"},
        "providerId": {"S": "provider-0001"},
        "status": {"S": "SIGNED"},
        "createdAt": {"S": "2026-11-24T09:00:00Z"},
        "updatedAt": {"S": "2026-11-24T09:30:00Z"},
        "GSI1PK": {"S": "ENTITY#NOTE"},
        "GSI1SK": {"S": f"{clinic}#note-{i:07d}"},
        "GSI2PK": {"S": f"PATIENT#{patient}"},
        "GSI2SK": {"S": f"NOTE#2026-11-24T09:00:00Z#note-{i:07d}"},
        "writtenBy": {"S": "user:provider-0001"},
        "phi": {"B": base64.b64encode(secrets.token_bytes(900)).decode()},
    }
    return {
        "eventID": secrets.token_hex(16),
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/medeez-bench-app/stream/x",
        "dynamodb": {
            "ApproximateCreationDateTime": base_time + i // 1000,
            "Keys": {"PK": image["PK"], "SK": image["SK"]},
            "NewImage": image,
            "SequenceNumber": f"{10**20 + i:021d}",
            "SizeBytes": 1400,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


class _Server:
    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="medeez-bench-pg-"))
        os.chmod(self.base, 0o755)  # noqa: S103 - the pgserver user must reach the data dir
        self.cluster = Cluster(self.base / "data", free_port(), self.base / "pg.log")
        self.password = secrets.token_urlsafe(18)
        self.roles = {r: secrets.token_urlsafe(18) for r in schema.ROLES}
        self.cluster.init(self.password)
        self.cluster.start()

    def database(self, name: str) -> AuditDatabase:
        return provision(self.cluster, self.password, self.roles, name)

    def close(self) -> None:
        self.cluster.stop("fast")
        shutil.rmtree(self.base, ignore_errors=True)


def ingest_and_verify(server: _Server) -> None:
    for batch_size in (1000, 100):
        db = server.database(f"bench_ingest_{batch_size}")
        records = [_record(i, 1764547200) for i in range(RECORDS)]
        consumer = Consumer(partial(connect, db.ingest_url))
        consumer({"Records": records[:10]}, None)  # connect, warm up
        rest = records[10:]
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(rest), batch_size):
            out = consumer({"Records": rest[start : start + batch_size]}, None)
            assert not out["batchItemFailures"]
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rate = len(rest) / wall
        verdict = "meets" if rate >= GOAL_RECORDS_PER_SECOND else "MISSES"
        print(
            f"  ingest, batches of {batch_size:>4}: {rate:>8,.0f} records/s "
            f"({len(rest):,} records in {wall:.2f} s; consumer CPU {cpu:.2f} s, "
            f"{len(rest) / cpu:,.0f} records per CPU-second) {verdict} the "
            f"{GOAL_RECORDS_PER_SECOND:,}/s goal ({rate / GOAL_RECORDS_PER_SECOND:.2f}x)"
        )
        consumer.close()
        if batch_size == 1000:
            with connect(db.reader_url) as conn:
                wall = time.perf_counter()
                result = verify(conn, None)
                wall = time.perf_counter() - wall
            assert result.intact
            print(
                f"  verify: {result.rows / wall:>8,.0f} rows/s ({result.rows:,} rows, "
                f"{result.clinics} chains, {wall:.2f} s)"
            )


def end_to_end_lag(server: _Server) -> None:
    db = server.database("bench_lag")
    state = Path(tempfile.mkdtemp(prefix="medeez-bench-lag-"))
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = subprocess.Popen(  # noqa: S603
        [str(REPO / ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    poller = None
    try:
        session = boto3.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - the emulator's dummy
            region_name="us-east-1",
        )
        ddb = session.client(
            "dynamodb", endpoint_url=endpoint, config=Config(retries={"max_attempts": 10})
        )
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
            TableName="medeez-dev-app",
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
        poller = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "scripts.stream_poller",
                "--stack",
                "dev",
                "--endpoint-url",
                endpoint,
                "--state-dir",
                str(state),
            ],
            cwd=REPO,
            env={**os.environ, "AUDIT_INGEST_DATABASE_URL": db.ingest_url},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        acked: dict[str, datetime] = {}
        items = 1000
        for i in range(0, items, 10):  # 10 writes every 50 ms: ~200 writes/s
            batch = [_record(j, 0)["dynamodb"]["NewImage"] for j in range(i, i + 10)]
            for item in batch:
                item["phi"] = {"B": base64.b64decode(item["phi"]["B"])}
            ddb.batch_write_item(
                RequestItems={"medeez-dev-app": [{"PutRequest": {"Item": it}} for it in batch]}
            )
            now = datetime.now(UTC)
            for item in batch:
                acked[item["SK"]["S"]] = now
            time.sleep(0.05)
        deadline = time.monotonic() + 60
        with connect(db.admin_url) as conn:
            while time.monotonic() < deadline:
                rows = conn.execute("SELECT sk, recorded_at FROM audit.event").fetchall()
                if len(rows) >= items:
                    break
                time.sleep(0.2)
        lags = sorted((at - acked[sk]).total_seconds() * 1000 for sk, at in rows)
        p50 = statistics.median(lags)
        p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
        print(
            f"  end-to-end lag (write acknowledged -> audit row), {len(lags)} writes at ~200/s: "
            f"p50 {p50:.0f} ms, p99 {p99:.0f} ms (poll interval 200 ms)"
        )
    finally:
        if poller is not None:
            poller.send_signal(signal.SIGTERM)
            poller.wait(10)
        moto.terminate()
        moto.wait(10)
        shutil.rmtree(state, ignore_errors=True)


def read_audit_cost(server: _Server) -> None:
    from datalayer.audit import AuditedPhiReader, PostgresAuditSink, ReadContext
    from datalayer.beacons import BeaconKeyring
    from datalayer.entities import ItemCodec
    from datalayer.phi import ItemContext, PhiCipher

    db = server.database("bench_reads")
    with mock_aws():
        kms = boto3.client("kms", region_name="us-east-1")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        cipher = PhiCipher(kms, key)
        codec = ItemCodec(
            cipher=cipher,
            beacons=BeaconKeyring(kms, key),
            ttl_attribute="expiresAt",
            written_by="bench",
        )
        timeline = []
        for n in range(8):
            ctx = ItemContext(
                clinic_id="clinic-01",
                entity_type="NOTE",
                pk="CLINIC#clinic-01#PATIENT#patient-1",
                sk=f"NOTE#2026-11-{n + 1:02d}T09:00:00Z#note-{n}",
            )
            phi = {
                "subjective": "s" * 300,
                "objective": "o" * 200,
                "assessment": "a" * 150,
                "plan": "p" * 150,
            }
            timeline.append(
                {
                    "PK": ctx.pk,
                    "SK": ctx.sk,
                    "entityType": "NOTE",
                    "clinicId": "clinic-01",
                    "patientId": "patient-1",
                    "phi": cipher.encrypt(phi, ctx),
                }
            )
        who = ReadContext(principal="user:dr-1", clinic_id="clinic-01", purpose="treatment")
        reads = 300
        for item in timeline:
            codec.decrypt_phi(item)  # warm the data-key cache
        readers = {
            durable: AuditedPhiReader(
                codec, PostgresAuditSink(lambda: connect(db.ingest_url), durable=durable)
            )
            for durable in (True, False)
        }
        for reader in readers.values():
            reader.decrypt(timeline, who, "patient_timeline")  # connect
        plain = 0.0
        audited = dict.fromkeys(readers, 0.0)
        for _ in range(reads):  # interleaved, so all three see the same machine
            t = time.perf_counter()
            for item in timeline:
                codec.decrypt_phi(item)
            plain += time.perf_counter() - t
            for durable, reader in readers.items():
                t = time.perf_counter()
                reader.decrypt(timeline, who, "patient_timeline")
                audited[durable] += time.perf_counter() - t
    plain_ms = plain / reads * 1000
    dynamo_ms = 5.0
    print(
        f"  read auditing, timeline of {len(timeline)} PHI items, {reads} reads: decrypt alone "
        f"{plain_ms:.2f} ms; the read path with a {dynamo_ms:.0f} ms DynamoDB Query "
        f"{plain_ms + dynamo_ms:.2f} ms"
    )
    for durable, total in audited.items():
        extra = total / reads * 1000 - plain_ms
        share = extra / (plain_ms + dynamo_ms)
        verdict = "meets" if share < GOAL_READ_OVERHEAD else "MISSES"
        name = "durable commit (default)" if durable else "synchronous_commit=off"
        print(
            f"    audit, {name:<24}: +{extra:.2f} ms per read = {share:.0%} of the read path "
            f"({extra / plain_ms:.0%} of decrypt alone) {verdict} the "
            f"<{GOAL_READ_OVERHEAD:.0%} goal"
        )


def run() -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        "== audit trail: stream -> PostgreSQL 16 (real, durable), one consumer, one core "
        f"({os.cpu_count()} CPUs, load average {load})"
    )
    server = _Server()
    try:
        ingest_and_verify(server)
        end_to_end_lag(server)
        read_audit_cost(server)
    finally:
        server.close()


if __name__ == "__main__":
    run()
