"""The local stand-in for Lambda's DynamoDB event source mapping: read the table's stream on the
local emulator and call the stream consumer's handler with the event Lambda would send.

Lambda-shaped records come from the raw GetRecords JSON (botocore's
``before-parse.dynamodb-streams.GetRecords`` hook): epoch-number timestamps and base64 binaries,
as Lambda delivers them, plus ``eventSourceARN`` and ``awsRegion``, which Lambda adds.

It honours the event source mapping's settings from the stream consumer's definition
(``stackspec.definitions.stream_consumer``): the batch size; ReportBatchItemFailures, so a batch
whose response names failures is retried from the lowest failed sequence number; after
``maximumRetryAttempts`` retries the rest of that batch (the poison record and the neighbours the
consumer has already stored) is discarded and its stream positions are sent to the on-failure
destination, the local failure queue in moto, in the message shape Lambda sends
(``DDBStreamBatchInfo``: shard and sequence numbers, never values), and also appended to
``stream-poller.failed.jsonl``; records older than ``maximumRecordAgeSeconds`` are discarded the
same way without being delivered. A function error (the handler raised: the audit store is
unavailable) halves the next batch (bisect on error; splitting costs no retry, as in Lambda) and
retries until it lands: locally an outage is waited out, where Lambda would count the failed
invocations against ``maximumRetryAttempts`` and park the batch in the failure queue. The position
of each shard is checkpointed in a file after each handled batch, so a killed poller resumes from
its last checkpoint; the batch it was in is delivered again and the consumer drops what it had
already stored. ``make local-up`` runs this as a background process (``.local/stream-poller.pid``
and ``.log``).

With ``CACHE_INVALIDATOR_URL`` set (``make local-up`` passes the local Valkey's ``invalidator``
user, limited to UNLINK and PING on the key prefix as in the cloud), a second
poller in its own thread, with its own checkpoint (``stream-poller.cache.checkpoint.json``),
calls the cache invalidator (``functions/cache_invalidator``) with the same events: the local
stand-in for the second event source mapping, so neither handler delays the other.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stackspec.definitions.cache_invalidator import CacheInvalidatorDefinition
    from stackspec.definitions.stream_consumer import StreamConsumerDefinition

Handler = Callable[[Mapping[str, Any], Any], Mapping[str, Any]]
OnFailure = Callable[[dict[str, Any]], None]


class RawRecords:
    """Keeps the raw JSON body of the last GetRecords response of a streams client."""

    def __init__(self, streams_client: Any) -> None:
        self.body: dict[str, Any] = {}
        streams_client.meta.events.register(
            "before-parse.dynamodb-streams.GetRecords", self._capture
        )

    def _capture(self, response_dict: Mapping[str, Any], **_: Any) -> None:
        try:
            self.body = json.loads(response_dict.get("body") or b"{}")
        except ValueError:
            self.body = {}


def lambda_records(
    raw: Sequence[Mapping[str, Any]], stream_arn: str, region: str
) -> list[dict[str, Any]]:
    return [{**record, "eventSourceARN": stream_arn, "awsRegion": region} for record in raw]


class StreamPoller:
    def __init__(
        self,
        *,
        dynamodb: Any,
        streams: Any,
        table: str,
        handler: Handler,
        checkpoint_path: Path,
        failed_path: Path,
        batch_size: int = 100,
        max_retries: int = 3,
        bisect: bool = True,
        max_record_age_seconds: float | None = None,
        on_failure: OnFailure | None = None,
        function_arn: str | Callable[[], str] = "",
        clock: Callable[[], float] = time.time,
        log: Callable[[str], None] = print,
        pause_before_checkpoint: float = 0.0,
    ) -> None:
        self.dynamodb, self.streams, self.table = dynamodb, streams, table
        self.handler = handler
        self.checkpoint_path, self.failed_path = checkpoint_path, failed_path
        self.batch_size, self.max_retries = batch_size, max_retries
        self.bisect, self.max_record_age_seconds = bisect, max_record_age_seconds
        self.on_failure, self.function_arn, self.clock = on_failure, function_arn, clock
        #: Per shard, the size of the next batch after a function error split it (bisect).
        self.limits: dict[str, int] = {}
        self.log = log
        self.raw = RawRecords(streams)
        self.region = streams.meta.region_name
        self.checkpoints: dict[str, dict[str, str]] = self._load()
        self.attempts: dict[str, int] = {}
        self.outage_polls = 0
        #: Fault injection (tests): a window between a delivered batch and its checkpoint.
        self.pause_before_checkpoint = pause_before_checkpoint

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.checkpoint_path.read_text())
            return {str(k): {str(s): str(q) for s, q in v.items()} for k, v in data.items()}
        except (OSError, ValueError, AttributeError):
            return {}

    def _save(self) -> None:
        tmp = self.checkpoint_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.checkpoints, indent=1, sort_keys=True))
        os.replace(tmp, self.checkpoint_path)

    def stream_arn(self) -> str | None:
        try:
            table = self.dynamodb.describe_table(TableName=self.table)["Table"]
        except self.dynamodb.exceptions.ResourceNotFoundException:
            return None
        arn = table.get("LatestStreamArn")
        return str(arn) if arn else None

    def poll_once(self) -> int:
        """Deliver at most one batch per shard; returns the number of records delivered."""
        arn = self.stream_arn()
        if arn is None:
            return 0
        delivered = 0
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        for shard in shards:
            delivered += self._poll_shard(arn, str(shard["ShardId"]))
        return delivered

    def _poll_shard(self, arn: str, shard_id: str) -> int:
        position = self.checkpoints.get(arn, {}).get(shard_id)
        if position is None:
            it = self.streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )
        else:
            it = self.streams.get_shard_iterator(
                StreamArn=arn,
                ShardId=shard_id,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                SequenceNumber=position,
            )
        self.raw.body = {}
        limit = self.limits.get(shard_id, self.batch_size)
        self.streams.get_records(ShardIterator=it["ShardIterator"], Limit=limit)
        raw = self.raw.body.get("Records") or []
        if not raw:
            return 0
        records = lambda_records(raw, arn, self.region)
        expired = self._expired(records)
        if expired:
            # Too old to deliver: its positions go to the on-failure destination, unread.
            self._discard(arn, shard_id, records[:expired], "RecordAgeExceeded", attempts=0)
            self._advance(arn, shard_id, _seq(records[expired - 1]))
            return expired
        try:
            response = self.handler({"Records": records}, None)
        except Exception as exc:
            # The audit store is unavailable (or the function failed as a whole): retry until it
            # lands, nothing is parked for an outage; the next batch is half this one (bisect).
            # Back off a little.
            if self.bisect and len(records) > 1:
                self.limits[shard_id] = max(1, len(records) // 2)
            self.outage_polls += 1
            if self.outage_polls in (1, 10) or self.outage_polls % 100 == 0:
                self.log(f"stream-poller: batch not delivered ({exc}); retrying")
            time.sleep(min(2.0, 0.1 * self.outage_polls))
            return 0
        self.outage_polls = 0
        self.limits.pop(shard_id, None)
        if self.pause_before_checkpoint:
            time.sleep(self.pause_before_checkpoint)
        failed = {str(f.get("itemIdentifier")) for f in response.get("batchItemFailures", [])}
        if not failed:
            self._advance(arn, shard_id, str(records[-1]["dynamodb"]["SequenceNumber"]))
            return len(records)
        # Retry from the first failed record, as Lambda does; skip it after max_retries.
        index = next(
            (
                i
                for i, r in enumerate(records)
                if str(r.get("dynamodb", {}).get("SequenceNumber", "")) in failed
                or str(r.get("eventID")) in failed
            ),
            0,  # an identifier naming no record of the batch: Lambda retries the whole batch
        )
        record = records[index]
        seq = str(record.get("dynamodb", {}).get("SequenceNumber", ""))
        if index > 0:
            self._advance(arn, shard_id, str(records[index - 1]["dynamodb"]["SequenceNumber"]))
        self.outage_polls = 0
        self.attempts[seq] = self.attempts.get(seq, 0) + 1
        if self.attempts[seq] > self.max_retries:
            # As Lambda does once the retries are spent: the batch from the failed record on is
            # discarded (the consumer stored its good records in this very delivery) and its
            # positions go to the on-failure destination; reading resumes after it.
            rest = records[index:]
            self._discard(
                arn, shard_id, rest, "RetryAttemptsExhausted", attempts=self.attempts.pop(seq)
            )
            self.log(
                f"stream-poller: record {seq} failed {self.max_retries + 1} times; batch "
                f"{seq}..{_seq(rest[-1])} sent to the on-failure destination and skipped"
            )
            self._advance(arn, shard_id, _seq(rest[-1]))
            return len(records)
        return index

    def _expired(self, records: Sequence[Mapping[str, Any]]) -> int:
        """How many records at the head of the batch are older than the maximum record age."""
        if self.max_record_age_seconds is None:
            return 0
        now = self.clock()
        count = 0
        for record in records:
            created = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
            if created is None or now - float(created) <= self.max_record_age_seconds:
                break
            count += 1
        return count

    def _discard(
        self,
        arn: str,
        shard_id: str,
        batch: Sequence[Mapping[str, Any]],
        condition: str,
        *,
        attempts: int,
    ) -> None:
        """Send the on-failure message Lambda sends for ``batch`` (positions only) to the
        destination, and keep a copy in the failed file."""
        from stackspec.definitions.stream_consumer import on_failure_message

        def arrival(record: Mapping[str, Any]) -> str:
            created = float(record.get("dynamodb", {}).get("ApproximateCreationDateTime", 0))
            return datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        message = on_failure_message(
            request_id=str(uuid.uuid4()),
            timestamp=datetime.fromtimestamp(self.clock(), UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            function_arn=self.function_arn() if callable(self.function_arn) else self.function_arn,
            stream_arn=arn,
            shard_id=shard_id,
            start_sequence_number=_seq(batch[0]),
            end_sequence_number=_seq(batch[-1]),
            approximate_arrival_of_first_record=arrival(batch[0]),
            approximate_arrival_of_last_record=arrival(batch[-1]),
            batch_size=len(batch),
            condition=condition,
            status_code=200 if condition == "RetryAttemptsExhausted" else None,
            retry_attempts=max(attempts - 1, 0),
        )
        with self.failed_path.open("a") as out:
            out.write(json.dumps(message, sort_keys=True) + "\n")
        if self.on_failure is not None:
            self.on_failure(message)

    def _advance(self, arn: str, shard_id: str, seq: str) -> None:
        self.checkpoints.setdefault(arn, {})[shard_id] = seq
        self._save()


def _start_cache_invalidation(
    session: Any, args: argparse.Namespace, cfg: Any, stopping: list[bool]
) -> None:
    """The cache invalidator on its own poller and checkpoint, in a daemon thread."""
    import threading

    from datalayer.cache import CacheSettings, ReadThroughCache, connect
    from functions.cache_invalidator.handler import Invalidator
    from stackspec.definitions.cache import cache_definition
    from stackspec.definitions.cache_invalidator import cache_invalidator_definition

    definition = cache_definition(cfg)
    settings = CacheSettings(
        key_prefix=definition.key_prefix,
        ttl_seconds=definition.ttl_seconds,
        retry_after_seconds=0.0,
        connect_timeout_seconds=0.5,
        socket_timeout_seconds=0.5,
    )
    cache = ReadThroughCache(connect(os.environ["CACHE_INVALIDATOR_URL"], settings), settings)
    poller = StreamPoller(
        dynamodb=session.client("dynamodb", endpoint_url=args.endpoint_url),
        streams=session.client("dynamodbstreams", endpoint_url=args.endpoint_url),
        table=cfg.names.table,
        handler=Invalidator(cache),
        # The deployed mapping's batch size, retries, bisect and record age (the cache's TTL).
        **mapping_settings(cache_invalidator_definition(cfg)),
        checkpoint_path=args.state_dir / "stream-poller.cache.checkpoint.json",
        failed_path=args.state_dir / "stream-poller.cache.failed.jsonl",
        log=lambda line: print(line.replace("stream-poller:", "cache-invalidation:"), flush=True),
    )

    def run() -> None:
        print(f"cache-invalidation: following {cfg.names.table}", flush=True)
        while not stopping:
            try:
                n = poller.poll_once()
            except Exception as exc:
                print(f"cache-invalidation: {type(exc).__name__}: {exc}", flush=True)
                n = 0
                time.sleep(1)
            if not n:
                time.sleep(args.interval)

    threading.Thread(target=run, name="cache-invalidation", daemon=True).start()


def mapping_settings(
    definition: StreamConsumerDefinition | CacheInvalidatorDefinition,
) -> dict[str, Any]:
    """The :class:`StreamPoller` arguments that stand for the event source mapping's settings
    (the on-failure destination is the queue named ``definition.queue_name``)."""
    return {
        "batch_size": definition.batch_size,
        "max_retries": definition.maximum_retry_attempts,
        "bisect": definition.bisect_batch_on_function_error,
        "max_record_age_seconds": definition.maximum_record_age_seconds,
    }


def _seq(record: Mapping[str, Any]) -> str:
    return str(record.get("dynamodb", {}).get("SequenceNumber", ""))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--digest-every", type=float, default=60.0)
    parser.add_argument(
        "--pause-before-checkpoint", type=float, default=0.0, help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    import logging

    # The consumer's own lines (audited / already stored / poison) go to the poller's log.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)

    import boto3

    from auditlog.connect import connect
    from auditlog.digest import write_digest
    from functions.stream_consumer.handler import Consumer
    from scripts.aws_target import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY
    from stackspec.config.stack import load_stack_config
    from stackspec.definitions.stream_consumer import stream_consumer_definition

    cfg = load_stack_config(args.stack)
    mapping = stream_consumer_definition(cfg)
    url = os.environ.get("AUDIT_INGEST_DATABASE_URL")
    if not url:
        print("stream-poller: AUDIT_INGEST_DATABASE_URL is not set", file=sys.stderr)
        return 2
    session = boto3.Session(
        aws_access_key_id=DUMMY_ACCESS_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
        region_name=cfg.region,
    )
    consumer = Consumer(lambda: connect(url, application_name="medeez-stream-poller"))

    # Built on the first failure only: a poller that starts fast sees an outage that starts fast.
    @functools.cache
    def client(service: str) -> Any:
        return session.client(service, endpoint_url=args.endpoint_url)  # type: ignore[call-overload]

    @functools.cache
    def function_arn() -> str:
        try:
            account = str(client("sts").get_caller_identity()["Account"])
        except Exception as exc:  # it only names the function in failure messages
            print(f"stream-poller: account unknown ({exc})", flush=True)
            account = "000000000000"
        return f"arn:aws:lambda:{cfg.region}:{account}:function:{mapping.function_name}"

    def to_failure_queue(message: dict[str, Any]) -> None:
        # The queue `make setup` built from the definition; without it the file keeps the copy.
        sqs = client("sqs")
        try:
            url = sqs.get_queue_url(QueueName=mapping.queue_name)["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message, sort_keys=True))
        except Exception as exc:
            print(f"stream-poller: failure queue {mapping.queue_name}: {exc}", flush=True)

    poller = StreamPoller(
        dynamodb=session.client("dynamodb", endpoint_url=args.endpoint_url),
        streams=session.client("dynamodbstreams", endpoint_url=args.endpoint_url),
        table=cfg.names.table,
        handler=consumer,
        checkpoint_path=args.state_dir / "stream-poller.checkpoint.json",
        failed_path=args.state_dir / "stream-poller.failed.jsonl",
        **mapping_settings(mapping),
        on_failure=to_failure_queue,
        function_arn=function_arn,
        log=lambda line: print(line, flush=True),
        pause_before_checkpoint=args.pause_before_checkpoint,
    )
    digest_dir = args.state_dir / "audit-digests" / args.stack
    stopping: list[bool] = []
    if os.environ.get("CACHE_INVALIDATOR_URL"):
        _start_cache_invalidation(session, args, cfg, stopping)
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    print(f"stream-poller: following {cfg.names.table} at {args.endpoint_url}", flush=True)
    since_digest, last_digest = 0, time.monotonic()
    while not stopping:
        try:
            n = poller.poll_once()
        except Exception as exc:
            print(f"stream-poller: {type(exc).__name__}: {exc}", flush=True)
            n = 0
            time.sleep(1)
        if n:
            since_digest += n
            print(f"stream-poller: delivered {n} records", flush=True)
        if since_digest and time.monotonic() - last_digest >= args.digest_every:
            try:
                with connect(url) as conn:
                    path = write_digest(conn, digest_dir, label=args.stack)
                print(f"stream-poller: wrote {path.name}", flush=True)
                since_digest, last_digest = 0, time.monotonic()
            except Exception as exc:
                print(f"stream-poller: digest failed: {exc}", flush=True)
        if not n:
            time.sleep(args.interval)
    consumer.close()
    print("stream-poller: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
