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
checkpoint, beside the audit consumer's, so neither delays the other), in the network's private
subnets with the consumer tier's security group, logging in over TLS as the cache's
``invalidator`` user (``UNLINK`` and ``PING`` on the stack's key prefix only), whose password it
reads from Secrets Manager at cold start; its ``MaximumRecordAgeInSeconds`` is the cache TTL (at
least 60, the mapping's minimum). Locally the stream poller runs it in a second thread with its
own checkpoint.

Failure: a record older than ``ttl_seconds`` is skipped, because every entry that could predate
it has already expired. When the cache cannot be reached, the handler raises
:class:`CacheUnavailable` (a function error: the batch is retried), which can last at most
``ttl_seconds`` per record; meanwhile other readers are bounded by the TTL.

Logs name counts and clinic ids, never attribute values.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

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


#: The environment of the deployed function (``stackspec.definitions.cache_invalidator``).
CLOUD_VARIABLES = ("CACHE_HOST", "CACHE_PORT", "CACHE_TLS", "CACHE_USER", "CACHE_SECRET_ARN")


def _secret_password(secret_arn: str) -> str:
    """The cache user's password from its Secrets Manager secret (``{"username", "password"}``,
    encrypted with the cache key), read once per cold start."""
    import boto3

    value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_arn)
    return str(json.loads(value["SecretString"])["password"])


def cache_url(
    environ: Mapping[str, str], read_password: Callable[[str], str] = _secret_password
) -> str:
    """Where the cache is and how to log in, as a valkey-py URL.

    Locally ``CACHE_URL`` (the local server has no TLS). In Lambda: ``CACHE_HOST``,
    ``CACHE_PORT``, ``CACHE_TLS`` (``true``: ``valkeys://``, certificate verified against the
    system CAs, as ElastiCache's in-transit encryption is required), ``CACHE_USER`` and
    ``CACHE_SECRET_ARN`` (the user's password secret)."""
    if environ.get("CACHE_URL"):
        return environ["CACHE_URL"]
    missing = [n for n in CLOUD_VARIABLES if not environ.get(n)]
    if missing:
        raise RuntimeError(f"cache invalidator: CACHE_URL or {', '.join(missing)} not set")
    tls = environ["CACHE_TLS"]
    if tls not in ("true", "false"):
        raise RuntimeError(f"cache invalidator: CACHE_TLS is {tls!r}; allowed: true, false")
    port = environ["CACHE_PORT"]
    if not port.isdigit():
        raise RuntimeError(f"cache invalidator: CACHE_PORT is {port!r}; allowed: a port number")
    user = quote(environ["CACHE_USER"], safe="")
    password = quote(read_password(environ["CACHE_SECRET_ARN"]), safe="")
    scheme = "valkeys" if tls == "true" else "valkey"
    return f"{scheme}://{user}:{password}@{environ['CACHE_HOST']}:{port}/0"


def from_environment(
    environ: Mapping[str, str] = os.environ,
    read_password: Callable[[str], str] = _secret_password,
) -> Invalidator:
    """``CACHE_KEY_PREFIX``, ``CACHE_TTL_SECONDS`` and the connection (:func:`cache_url`)."""
    from datalayer.cache import CacheSettings, connect

    missing = [n for n in ("CACHE_KEY_PREFIX", "CACHE_TTL_SECONDS") if not environ.get(n)]
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
    url = cache_url(environ, read_password)
    return Invalidator(ReadThroughCache(connect(url, settings), settings))


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point; the client's pool is reused across invocations."""
    global _default
    if _default is None:
        _default = from_environment()
    return _default(event, context)
