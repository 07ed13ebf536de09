"""Helpers of the audit-trail tests: a streamed table on moto and Lambda-shaped records."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import boto3
import psycopg
from botocore.config import Config

from auditlog.connect import connect
from functions.stream_consumer.handler import Consumer
from scripts.stream_poller import StreamPoller

TABLE = "medeez-test-app"
REGION = "us-east-1"


def make_table() -> tuple[Any, Any]:
    ddb = boto3.client("dynamodb", region_name=REGION)
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
    # botocore would route StreamArn calls to an account-based endpoint that moto in process does
    # not match; moto_server (an explicit endpoint URL) is unaffected.
    cfg = Config(account_id_endpoint_mode="disabled")
    return ddb, boto3.client("dynamodbstreams", region_name=REGION, config=cfg)


def patient_item(clinic: str, patient: str, secret: bytes, by: str = "user:u1") -> dict[str, Any]:
    return {
        "PK": {"S": f"CLINIC#{clinic}#PATIENT#{patient}"},
        "SK": {"S": "PROFILE"},
        "entityType": {"S": "PATIENT"},
        "clinicId": {"S": clinic},
        "patientId": {"S": patient},
        "writtenBy": {"S": by},
        "phi": {"B": secret},
    }


def poller(ddb: Any, streams: Any, url: str, state: Path, **kwargs: Any) -> StreamPoller:
    consumer = Consumer(lambda: connect(url))
    return StreamPoller(
        dynamodb=ddb,
        streams=streams,
        table=TABLE,
        handler=consumer,
        checkpoint_path=state / "checkpoint.json",
        failed_path=state / "failed.jsonl",
        log=lambda _line: None,
        **kwargs,
    )


def drain(p: StreamPoller) -> int:
    total = 0
    while n := p.poll_once():
        total += n
    return total


def stream_records(ddb: Any, streams: Any, table: str = TABLE) -> list[dict[str, Any]]:
    """Every record of the table's stream, Lambda-shaped."""
    from scripts.stream_poller import RawRecords, lambda_records

    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    raw = RawRecords(streams)
    out: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while True:
            raw.body = {}
            resp = streams.get_records(ShardIterator=it, Limit=1000)
            got = raw.body.get("Records") or []
            out.extend(lambda_records(got, arn, REGION))
            if not got or not resp.get("NextShardIterator"):
                break
            it = resp["NextShardIterator"]
    return out


def record(
    event_id: str,
    seq: int,
    name: str = "INSERT",
    *,
    clinic: str = "c1",
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    ttl: bool = False,
) -> dict[str, Any]:
    """A Lambda-shaped record (as Lambda delivers it: base64 binaries, epoch seconds)."""

    def lam(item: dict[str, Any] | None) -> dict[str, Any] | None:
        if item is None:
            return None
        return {
            k: ({"B": base64.b64encode(v["B"]).decode()} if "B" in v else v)
            for k, v in item.items()
        }

    base = new or old or patient_item(clinic, "p1", b"x")
    ddb: dict[str, Any] = {
        "ApproximateCreationDateTime": 1764547200 + seq,
        "Keys": {"PK": base["PK"], "SK": base["SK"]},
        "SequenceNumber": f"{seq:021d}",
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        ddb["NewImage"] = lam(new)
    if old is not None:
        ddb["OldImage"] = lam(old)
    rec: dict[str, Any] = {
        "eventID": event_id,
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": ddb,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
    }
    if ttl:
        rec["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return rec


def rows(url: str) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute("SELECT * FROM audit.event ORDER BY clinic_id, chain_seq")
        return list(cur.fetchall())


def dumps(value: Any) -> str:
    return json.dumps(value, default=str)
