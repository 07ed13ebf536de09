"""Lambda handler: the table's DynamoDB stream invalidates the data layer's cache.

Writes made outside the application (another service, an operator, ``make seed``, a restore)
do not pass the data layer's write path, so nothing invalidated their cache entries. This
function does, from the same stream the audit trail is built from, with the same event shape:
for each record it finds the clinic (from ``Keys.PK``) and the scopes the write touches (the
item's patient or clinic partition; for appointments, the providers of both the old and the new
image, so a reassignment leaves the old provider's schedule), and deletes their generations
(:meth:`datalayer.cache.ReadThroughCache.invalidate`, one ``UNLINK`` per clinic). It is
idempotent, so a redelivered batch is harmless.

In the cloud it is a second event source mapping on the table's stream (its own iterator and
checkpoint, beside the audit consumer's, so neither delays the other), in the application's
subnets with the application tier's security group and the cache's application user; its
``MaximumRecordAgeInSeconds`` is the cache TTL (at least 60, the mapping's minimum). Locally the
stream poller runs it in a second thread with its own checkpoint.

Failure: a record older than ``ttl_seconds`` is skipped, because every entry that could predate
it has already expired. When the cache cannot be reached, the handler raises
:class:`CacheUnavailable` (a function error: the batch is retried), which can last at most
``ttl_seconds`` per record; meanwhile other readers are bounded by the TTL.

Logs name counts and clinic ids, never attribute values.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from datalayer.cache import ReadThroughCache, Scope, image_scopes
from stackspec.key_schema import CLINIC_PARTITION, PATIENT_PARTITION, KeyFormatError

log = logging.getLogger("medeez.cache_invalidator")


class CacheUnavailable(RuntimeError):
    """The batch's invalidations did not reach the cache; Lambda retries it whole."""


def _clinic(pk: str) -> str | None:
    for fmt in (PATIENT_PARTITION, CLINIC_PARTITION):
        try:
            return fmt.parse(pk)["clinicId"]
        except KeyFormatError:
            continue
    return None


class Invalidator:
    def __init__(self, cache: ReadThroughCache, *, clock: Callable[[], float] = time.time) -> None:
        self.cache = cache
        self._clock = clock

    def scopes(self, event: Mapping[str, Any]) -> dict[str, set[Scope]]:
        """The scopes each clinic's records of ``event`` touch (records older than the TTL
        left out)."""
        records = event.get("Records") if isinstance(event, Mapping) else None
        if not isinstance(records, list):
            raise ValueError("not a DynamoDB stream event: no Records list")
        oldest = self._clock() - self.cache.settings.ttl_seconds
        touched: dict[str, set[Scope]] = {}
        for record in records:
            ddb = record.get("dynamodb") if isinstance(record, Mapping) else None
            if not isinstance(ddb, Mapping):
                continue
            created = ddb.get("ApproximateCreationDateTime")
            if isinstance(created, int | float) and created < oldest:
                continue
            pk = ddb.get("Keys", {}).get("PK", {}).get("S")
            clinic = _clinic(str(pk)) if pk else None
            if clinic is None:
                continue
            images = [ddb.get("Keys", {}), ddb.get("NewImage") or {}, ddb.get("OldImage") or {}]
            touched.setdefault(clinic, set()).update(image_scopes(clinic, images))
        return touched

    def __call__(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        touched = self.scopes(event)
        failed = [
            c for c, scopes in sorted(touched.items()) if not self.cache.invalidate(c, scopes)
        ]
        if failed:
            log.error("cache invalidation failed for clinics %s; batch will be retried", failed)
            raise CacheUnavailable(f"cache invalidation failed for {len(failed)} clinic(s)")
        log.info(
            "invalidated %d scopes of %d clinics",
            sum(len(s) for s in touched.values()),
            len(touched),
        )
        return {"batchItemFailures": []}


_default: Invalidator | None = None


def from_environment(environ: Mapping[str, str] = os.environ) -> Invalidator:
    """``CACHE_URL`` (the application user), ``CACHE_KEY_PREFIX`` and ``CACHE_TTL_SECONDS``."""
    from datalayer.cache import CacheSettings, connect

    missing = [
        n for n in ("CACHE_URL", "CACHE_KEY_PREFIX", "CACHE_TTL_SECONDS") if not environ.get(n)
    ]
    if missing:
        raise RuntimeError(f"cache invalidator: {', '.join(missing)} not set")
    settings = CacheSettings(
        key_prefix=environ["CACHE_KEY_PREFIX"],
        ttl_seconds=int(environ["CACHE_TTL_SECONDS"]),
        # An invalidation is retried by the mapping, so no reason to skip the cache between.
        retry_after_seconds=0.0,
        socket_timeout_seconds=0.5,
        connect_timeout_seconds=0.5,
    )
    return Invalidator(ReadThroughCache(connect(environ["CACHE_URL"], settings), settings))


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point; the client's pool is reused across invocations."""
    global _default
    if _default is None:
        _default = from_environment()
    return _default(event, context)
