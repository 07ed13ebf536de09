"""Writing and reading items with the low-level DynamoDB client.

``write_items`` is BatchWriteItem in chunks of 25 that retries unprocessed items with capped
exponential backoff and full jitter (what the DynamoDB guide recommends under throttling), and
fails loudly if items remain unprocessed after the last attempt.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from datalayer.entities import BEACON_KEY_ATTRIBUTE, clinic_pk
from stackspec.key_schema import BASE_TABLE, CLINIC_SORT

BATCH_SIZE = 25  # the BatchWriteItem maximum

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class WriteError(Exception):
    """Items could not be written; says how many and why."""


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay_seconds: float = 0.05
    max_delay_seconds: float = 2.0


def to_attribute_values(item: Mapping[str, Any]) -> dict[str, Any]:
    """Plain Python values to DynamoDB attribute values (``{"S": ...}``)."""
    return {name: _serializer.serialize(value) for name, value in item.items()}


def from_attribute_values(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values to plain Python values (numbers as Decimal)."""
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


@dataclass
class WriteStats:
    items: int = 0
    requests: int = 0
    retried_items: int = 0


def write_items(
    dynamodb_client: Any,
    table_name: str,
    items: Iterable[Mapping[str, Any]],
    *,
    retry: RetryPolicy = RetryPolicy(),
    on_written: Callable[[int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> WriteStats:
    """Put ``items`` (plain Python values) with BatchWriteItem; ``on_written(n)`` per batch."""
    stats = WriteStats()
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append({"PutRequest": {"Item": to_attribute_values(item)}})
        if len(batch) == BATCH_SIZE:
            _write_batch(dynamodb_client, table_name, batch, retry, stats, on_written, sleep)
            batch = []
    if batch:
        _write_batch(dynamodb_client, table_name, batch, retry, stats, on_written, sleep)
    return stats


def _write_batch(
    client: Any,
    table_name: str,
    requests: list[dict[str, Any]],
    retry: RetryPolicy,
    stats: WriteStats,
    on_written: Callable[[int], None] | None,
    sleep: Callable[[float], None],
) -> None:
    pending = requests
    for attempt in range(retry.max_attempts):
        if attempt:
            cap = min(retry.max_delay_seconds, retry.base_delay_seconds * 2**attempt)
            sleep(random.uniform(0, cap))  # noqa: S311 - jitter, not cryptography
            stats.retried_items += len(pending)
        response = client.batch_write_item(RequestItems={table_name: pending})
        stats.requests += 1
        unprocessed = response.get("UnprocessedItems", {}).get(table_name, [])
        done = len(pending) - len(unprocessed)
        stats.items += done
        if on_written is not None and done:
            on_written(done)
        if not unprocessed:
            return
        pending = unprocessed
    raise WriteError(
        f"{len(pending)} items still unprocessed after {retry.max_attempts} BatchWriteItem "
        f"attempts on {table_name} (throttled); rerun later: writes are idempotent puts"
    )


def clinic_beacon_key_source(
    dynamodb_client: Any, table_name: str
) -> Callable[[str], bytes | None]:
    """Reads a clinic's wrapped beacon root key from its CLINIC item (None if it has none)."""

    def source(clinic_id: str) -> bytes | None:
        response = dynamodb_client.get_item(
            TableName=table_name,
            Key=to_attribute_values(BASE_TABLE.key(clinic_pk(clinic_id), CLINIC_SORT.render())),
            ProjectionExpression=BEACON_KEY_ATTRIBUTE,
            ConsistentRead=True,
        )
        value = response.get("Item", {}).get(BEACON_KEY_ATTRIBUTE, {}).get("B")
        return bytes(value) if value is not None else None

    return source
