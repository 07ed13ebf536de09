"""Lambda handler: the table's DynamoDB stream into the audit trail (ReportBatchItemFailures).

``handler(event, context)`` takes the DynamoDB stream event Lambda delivers and returns
``{"batchItemFailures": [{"itemIdentifier": <SequenceNumber>}, ...]}``.

- Every well-formed record of the batch is written in one transaction (``auditlog.ingest``),
  chained per clinic; records already stored (same event id) are skipped, so a replayed batch,
  a retried record or a duplicate delivery changes nothing.
- A malformed (poison) record is reported as a failure and its neighbours are still written.
  Lambda retries from the lowest failed sequence number, so the records after it come again and
  are skipped as duplicates; after the mapping's MaximumRetryAttempts the poison record goes to
  its on-failure destination (the event source mapping, components/stream_consumer.py, sets
  ReportBatchItemFailures, BisectBatchOnFunctionError, MaximumRetryAttempts, MaximumRecordAge
  and OnFailure), so it never blocks the shard and never takes its neighbours with it.
- When the audit database cannot be written, the handler raises :class:`AuditStoreUnavailable`
  (nothing was stored: the transaction rolled back): a function error, so Lambda retries the whole
  batch, CloudWatch counts it in Errors, and an outage is never mistaken for poison records.

Logs name event ids and sequence numbers, never attribute values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import psycopg

from auditlog.chain import Event
from auditlog.connect import ConnectError, ingest_connection
from auditlog.ingest import append
from functions.stream_consumer.records import PoisonRecord, to_event

log = logging.getLogger("medeez.stream_consumer")


class AuditStoreUnavailable(RuntimeError):
    """The batch could not be stored; Lambda retries it whole."""


def _identifier(record: Any) -> str:
    if isinstance(record, Mapping):
        ddb = record.get("dynamodb")
        if isinstance(ddb, Mapping) and ddb.get("SequenceNumber"):
            return str(ddb["SequenceNumber"])
        if record.get("eventID"):
            return str(record["eventID"])
    return ""


class Consumer:
    """The handler with its connection factory (tests and the local poller pass their own)."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]] = ingest_connection) -> None:
        self._connect = connect
        self._conn: psycopg.Connection[Any] | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __call__(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        records = event.get("Records") if isinstance(event, Mapping) else None
        if not isinstance(records, list):
            raise ValueError("not a DynamoDB stream event: no Records list")
        events: list[Event] = []
        failed: list[str] = []
        for record in records:
            try:
                if not isinstance(record, Mapping):
                    raise PoisonRecord("record is not an object")
                events.append(to_event(record))
            except PoisonRecord as exc:
                log.error("poison record %s: %s", _identifier(record), exc)
                failed.append(_identifier(record))
        try:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            result = append(self._conn, events)
        except (psycopg.Error, ConnectError) as exc:
            log.error("audit store unavailable, batch of %d will be retried: %s", len(records), exc)
            self.close()
            raise AuditStoreUnavailable(f"audit store unavailable: {exc}") from None
        log.info(
            "audited %d records (%d already stored, %d poison)",
            result.inserted,
            result.duplicates,
            len(failed),
        )
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}


_default: Consumer | None = None


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point; the connection is reused across invocations."""
    global _default
    if _default is None:
        _default = Consumer()
    return _default(event, context)
