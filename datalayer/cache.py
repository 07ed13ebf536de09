"""Read-through caching of the hot reads in Valkey: single items, a patient's timeline, a
provider's schedule.

What is cached. The items exactly as the table returned them (DynamoDB attribute values; the
``phi`` attribute stays the Encryption SDK ciphertext, base64 in the JSON value), never a
decrypted value, a beacon input or a query parameter in clear (key parts are hashed). A hit is
decrypted after the cache exactly as a table read is after the table: through
:class:`datalayer.audit.AuditedPhiReader`, so a cache hit on PHI is an audited PHI read and fails
closed the same way.

Keys. ``<key_prefix>c:<clinicId>:<kind>:<hash>``: every key carries the clinic, and the hash
covers the clinic, the kind, the scope's generation and the key parts, so a lookup for clinic A
never addresses clinic B's entry, whatever the entity ids. A served entry's clinic (recorded in
the value, and each item's ``clinicId``/``PK``) is checked against the reader's clinic as well;
a mismatch is a miss, never a hit.

Generations (O(1) invalidation). Every entry belongs to a scope: a patient (the patient's
items and timeline pages), a provider (schedule pages) or the clinic (items of the clinic's own
partition: the clinic, its users). A scope's generation is a random token under
``<key_prefix>c:<clinicId>:gen:<hash>``; entries are keyed under the generation current when
their read began. Invalidating a scope deletes its generation key (one ``UNLINK`` for every
scope a write touches); the next reader draws a fresh token, so every older entry of the scope
is unreachable at once (and expires by its TTL). ``UNLINK`` is allowed even when the server is
out of memory, unlike a ``SET`` of a new token.

Consistency.
- A reader reads the generation *before* the table, and a writer deletes the generations
  *after* its table write (and before it, too), so an entry filled from a table read that raced
  a write lands under a generation that is already gone: the writer, and any reader after the
  write's invalidation, never gets the pre-write state from the cache.
- An entry lives at most ``ttl_seconds`` counted from *before* its table read (``SET ... PX`` of
  what is left of the TTL), so any reader is at most ``ttl_seconds`` behind the table, whatever
  failed.
- Writes outside the application (another service, an operator, ``make seed``) are invalidated
  from the table's stream (:mod:`functions.cache_invalidator`); until then other readers are at
  most ``ttl_seconds`` stale, in practice the stream lag.
- Base-table misses read strongly consistent. GSI pages (timeline, schedule) cannot; a page
  filled from an index that had not caught up with a write is dropped by the stream
  invalidation (which follows the write), and the writer's own process does not fill pages of a
  scope it wrote for ``settle_seconds``.

Failure. Down, slow (connect and socket timeouts, 50 ms by default) or full (``OOM`` on
``SET``): the read goes to the table, without an error. After a connection failure the cache
is skipped for ``retry_after_seconds`` (no timeout paid per read while it is down). If a write's
invalidation fails, the writer's process bypasses the cache for the written scopes for
``ttl_seconds`` (its own reads go to the table), and every other reader is bounded by the TTL:
no entry can outlive it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from datalayer.audit import AuditedPhiReader, AuditSink, ReadContext
from datalayer.entities import (
    AnyEntity,
    Appointment,
    Clinic,
    User,
)
from datalayer.store import WriteStats, from_attribute_values
from stackspec.key_schema import (
    CLINIC_PARTITION,
    PATIENT_PARTITION,
    KeyFormatError,
)
from stackspec.tenancy import check_clinic_id

log = logging.getLogger(__name__)

#: Value format version: a value of another version is a miss.
FORMAT = 1

ITEM = "item"
TIMELINE = "timeline"
SCHEDULE = "schedule"
GENERATION = "gen"

#: A scope: ("patient", id), ("provider", id) or ("clinic", "").
Scope = tuple[str, str]


class CacheSettingsError(ValueError):
    """Cache settings out of bounds; the message names the setting and what is allowed."""


@dataclass(frozen=True, kw_only=True)
class CacheSettings:
    """How the data layer uses the cache. ``key_prefix`` and ``ttl_seconds`` come from the cache
    definition (``stackspec.definitions.cache``); the rest are client-side tunables."""

    key_prefix: str
    #: The staleness bound for other readers: no entry lives longer.
    ttl_seconds: int
    connect_timeout_seconds: float = 0.05
    socket_timeout_seconds: float = 0.05
    #: After a connection failure, skip the cache this long.
    retry_after_seconds: float = 1.0
    #: After a write, the writer's process does not fill that scope's index pages this long
    #: (a GSI may not have caught up).
    settle_seconds: float = 1.0
    #: Entries above this size are not cached.
    max_entry_bytes: int = 512 * 1024
    #: Connections in the pool.
    max_connections: int = 50

    def __post_init__(self) -> None:
        if not self.key_prefix or not self.key_prefix.endswith(":"):
            raise CacheSettingsError(
                f"cache key_prefix {self.key_prefix!r}: must be non-empty and end with ':'"
            )
        if not 1 <= self.ttl_seconds <= 86_400:
            raise CacheSettingsError(f"cache ttl_seconds {self.ttl_seconds}: allowed 1-86400")
        for name in ("connect_timeout_seconds", "socket_timeout_seconds"):
            value = getattr(self, name)
            if not 0.001 <= value <= 5:
                raise CacheSettingsError(f"cache {name} {value}: allowed 0.001-5 seconds")
        if self.retry_after_seconds < 0 or self.settle_seconds < 0:
            raise CacheSettingsError("cache retry_after_seconds and settle_seconds must be >= 0")
        if self.max_entry_bytes < 1 or self.max_connections < 1:
            raise CacheSettingsError("cache max_entry_bytes and max_connections must be >= 1")


def connect(url: str, settings: CacheSettings) -> Any:
    """A pooled valkey-py client with the settings' timeouts and no retries (a failure degrades
    to the table at once). No ``CLIENT SETINFO``/``SETNAME``/``SELECT``/``HELLO`` on connect, so
    the application user needs only AUTH and its data commands."""
    import valkey
    from valkey.backoff import NoBackoff
    from valkey.retry import Retry

    pool = valkey.BlockingConnectionPool.from_url(  # type: ignore[no-untyped-call]
        url,
        max_connections=settings.max_connections,
        timeout=settings.connect_timeout_seconds,
        socket_connect_timeout=settings.connect_timeout_seconds,
        socket_timeout=settings.socket_timeout_seconds,
        retry=Retry(NoBackoff(), 0),
        lib_name=None,
        lib_version=None,
    )
    return valkey.Valkey(connection_pool=pool)


def _digest(*parts: str) -> str:
    data = json.dumps(list(parts), separators=(",", ":")).encode()
    return hashlib.sha256(data).hexdigest()[:32]


# --- values: DynamoDB attribute values as JSON (binaries base64) ------------------------------


def _encode_value(value: Mapping[str, Any]) -> dict[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(bytes(inner)).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(bytes(b)).decode() for b in inner]}
    if kind == "M":
        return {"M": {k: _encode_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_encode_value(v) for v in inner]}
    return {kind: inner}


def _decode_value(value: Mapping[str, Any]) -> dict[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(b) for b in inner]}
    if kind == "M":
        return {"M": {k: _decode_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_decode_value(v) for v in inner]}
    return {kind: inner}


def encode_entry(clinic_id: str, items: Sequence[Mapping[str, Any]]) -> bytes:
    payload = {
        "v": FORMAT,
        "clinic": clinic_id,
        "items": [{k: _encode_value(v) for k, v in item.items()} for item in items],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def _belongs(item: Mapping[str, Any], clinic_id: str) -> bool:
    pk = str(item.get("PK", {}).get("S", ""))
    own = CLINIC_PARTITION.render(clinicId=clinic_id)
    stated = item.get("clinicId", {}).get("S")
    return (pk == own or pk.startswith(own + "#")) and stated in (None, clinic_id)


def decode_entry(raw: bytes, clinic_id: str) -> list[dict[str, Any]] | None:
    """The items of an entry, or None when it is unreadable or not entirely ``clinic_id``'s."""
    try:
        payload = json.loads(raw)
        if payload.get("v") != FORMAT or payload.get("clinic") != clinic_id:
            return None
        items = [{k: _decode_value(v) for k, v in item.items()} for item in payload["items"]]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not all(_belongs(item, clinic_id) for item in items):
        return None
    return items


# --- the cache ----------------------------------------------------------------------------------


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    fills: int = 0
    #: Reads served by the table without asking the cache (down, or a scope bypassed).
    bypassed: int = 0
    #: Connection failures and timeouts.
    errors: int = 0
    #: Fills refused by the server (OOM) or too large.
    not_stored: int = 0
    #: Entries found but refused (another clinic's, unreadable).
    rejected: int = 0
    invalidations: int = 0
    invalidation_failures: int = 0

    @property
    def hit_ratio(self) -> float:
        asked = self.hits + self.misses
        return self.hits / asked if asked else 0.0


@dataclass
class ReadThroughCache:
    """The cache's keys, generations, fills and failure handling; ``client`` is a valkey-py
    client (:func:`connect`), or None for no cache at all."""

    client: Any
    settings: CacheSettings
    clock: Callable[[], float] = time.monotonic
    stats: CacheStats = field(default_factory=CacheStats)
    _skip_until: float = 0.0
    #: (clinic, scope) -> until when this process reads that scope from the table only.
    _bypass: dict[tuple[str, Scope], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- keys

    def _base(self, clinic_id: str) -> str:
        return f"{self.settings.key_prefix}c:{clinic_id}:"

    def generation_key(self, clinic_id: str, scope: Scope) -> str:
        return f"{self._base(clinic_id)}{GENERATION}:{_digest(clinic_id, *scope)}"

    def entry_key(self, clinic_id: str, kind: str, generation: str, parts: Sequence[str]) -> str:
        return f"{self._base(clinic_id)}{kind}:{_digest(clinic_id, kind, generation, *parts)}"

    # -- failure handling

    def _errors(self) -> tuple[type[BaseException], ...]:
        import valkey

        return (valkey.exceptions.ConnectionError, valkey.exceptions.TimeoutError, OSError)

    def _usable(self) -> bool:
        return self.client is not None and self.clock() >= self._skip_until

    def _failed(self, exc: BaseException) -> None:
        self.stats.errors += 1
        self._skip_until = self.clock() + self.settings.retry_after_seconds
        log.warning("cache unavailable (%s); reading from the table", type(exc).__name__)

    def _bypassed(self, clinic_id: str, scope: Scope) -> bool:
        with self._lock:
            until = self._bypass.get((clinic_id, scope))
            if until is None:
                return False
            if self.clock() < until:
                return True
            del self._bypass[(clinic_id, scope)]
            return False

    def _hold(self, clinic_id: str, scopes: Iterable[Scope], seconds: float) -> None:
        if seconds <= 0:
            return
        now = self.clock()
        with self._lock:
            for scope in scopes:
                key = (clinic_id, scope)
                self._bypass[key] = max(self._bypass.get(key, 0.0), now + seconds)
            if len(self._bypass) > 10_000:
                for key in [k for k, t in self._bypass.items() if t <= now]:
                    del self._bypass[key]

    # -- reads

    def read(
        self,
        clinic_id: str,
        kind: str,
        scope: Scope,
        parts: Sequence[str],
        load: Callable[[], list[dict[str, Any]]],
    ) -> list[dict[str, Any]]:
        """``load()``'s items (attribute values), from the cache when it holds them."""
        import valkey

        if not self._usable() or self._bypassed(clinic_id, scope):
            self.stats.bypassed += 1
            return load()
        started = self.clock()
        gen_key = self.generation_key(clinic_id, scope)
        ttl_ms = self.settings.ttl_seconds * 1000
        try:
            generation = self.client.get(gen_key)
            if generation is None:
                token = secrets.token_hex(16)
                # The generation outlives its entries; a lost one only costs misses.
                if self.client.set(gen_key, token, nx=True, px=2 * ttl_ms):
                    generation = token.encode()
                else:
                    generation = self.client.get(gen_key)
            if generation is None:
                self.stats.bypassed += 1
                return load()
            key = self.entry_key(clinic_id, kind, generation.decode(), parts)
            raw = self.client.get(key)
        except valkey.exceptions.ResponseError as exc:
            # OOM on the generation's SET (a full cache with noeviction): no caching now.
            self.stats.not_stored += 1
            log.info("cache refused a generation (%s); reading from the table", exc)
            return load()
        except self._errors() as exc:
            self._failed(exc)
            return load()
        if raw is not None:
            items = decode_entry(raw, clinic_id)
            if items is not None:
                self.stats.hits += 1
                return items
            self.stats.rejected += 1
            log.warning("cache entry %s refused (not clinic %s's, or unreadable)", key, clinic_id)
        self.stats.misses += 1
        items = load()
        self._fill(key, clinic_id, items, ttl_ms - (self.clock() - started) * 1000)
        return items

    def _fill(
        self, key: str, clinic_id: str, items: Sequence[Mapping[str, Any]], px: float
    ) -> None:
        import valkey

        if px < 1 or not self._usable():
            return
        value = encode_entry(clinic_id, items)
        if len(value) > self.settings.max_entry_bytes:
            self.stats.not_stored += 1
            return
        try:
            self.client.set(key, value, px=int(px))
            self.stats.fills += 1
        except valkey.exceptions.ResponseError as exc:
            self.stats.not_stored += 1
            log.info("cache refused an entry (%s); served from the table", exc)
        except self._errors() as exc:
            self._failed(exc)

    def hold_pages(self, clinic_id: str, scopes: Iterable[Scope]) -> None:
        """Read ``scopes`` from the table only, in this process, for ``settle_seconds``."""
        self._hold(clinic_id, scopes, self.settings.settle_seconds)

    # -- invalidation

    def invalidate(self, clinic_id: str, scopes: Iterable[Scope]) -> bool:
        """Drop every entry of ``scopes`` (delete their generations). On failure, this process
        reads those scopes from the table only for ``ttl_seconds`` (by then every entry that
        could predate the write has expired); returns whether the cache confirmed."""
        import valkey

        scopes = sorted(set(scopes))
        if not scopes or self.client is None:
            return True
        # Tried even while reads skip the cache after a failure: a write is rare, and an
        # invalidation that reaches the cache spares every other reader the stale entries.
        try:
            self.client.unlink(*(self.generation_key(clinic_id, s) for s in scopes))
            self.stats.invalidations += 1
            return True
        except valkey.exceptions.ResponseError as exc:
            log.warning("cache refused an invalidation: %s", exc)
        except self._errors() as exc:
            self._failed(exc)
        self.stats.invalidation_failures += 1
        self._hold(clinic_id, scopes, float(self.settings.ttl_seconds))
        return False


# --- scopes of items and writes ---------------------------------------------------------------


def item_scope(clinic_id: str, pk: str) -> Scope:
    """The scope of an item of ``clinic_id``'s: its patient's, or the clinic's own partition;
    ValueError for a key outside the clinic."""
    try:
        fields = PATIENT_PARTITION.parse(pk)
        if fields["clinicId"] == clinic_id:
            return ("patient", fields["patientId"])
    except KeyFormatError:
        pass
    if pk == CLINIC_PARTITION.render(clinicId=clinic_id):
        return ("clinic", "")
    raise ValueError(f"item key {pk} is not in clinic {clinic_id}'s patient or clinic partition")


def image_scopes(clinic_id: str, images: Iterable[Mapping[str, Any]]) -> set[Scope]:
    """The scopes a write of items (plain values, or stream images in attribute values) touches:
    the item's partition and, for appointments, their providers' schedules."""
    scopes: set[Scope] = set()
    for image in images:

        def text(name: str, image: Mapping[str, Any] = image) -> str | None:
            value = image.get(name)
            if isinstance(value, Mapping):
                value = value.get("S")
            return None if value is None else str(value)

        pk = text("PK")
        if pk is None:
            continue
        try:
            scopes.add(item_scope(clinic_id, pk))
        except ValueError:
            continue
        provider = text("providerId")
        if provider and text("entityType") == "APPOINTMENT":
            scopes.add(("provider", provider))
    return scopes


def entity_scopes(entity: AnyEntity) -> set[Scope]:
    if isinstance(entity, Clinic | User):
        return {("clinic", "")}
    scopes: set[Scope] = {("patient", entity.patient_id)}
    if isinstance(entity, Appointment):
        scopes.add(("provider", entity.provider_id))
    return scopes


# --- the application's cached reads and writes --------------------------------------------------


@dataclass(frozen=True)
class Record:
    """An item (plain values, PHI still ciphertext in ``phi``) and its decrypted PHI fields."""

    item: dict[str, Any]
    phi: dict[str, Any]


class CachedTenantData:
    """The hot reads and the writes of :class:`datalayer.tenant_access.TenantDataAccess`, through
    the cache. PHI is decrypted only through :class:`AuditedPhiReader` (audited first, fails
    closed), after the cache as after the table. ``cache=None`` reads the table only."""

    def __init__(self, access: Any, sink: AuditSink, cache: ReadThroughCache | None) -> None:
        self.access = access
        self.sink = sink
        self.cache = cache

    def _read(
        self,
        clinic_id: str,
        kind: str,
        scope: Scope,
        parts: Sequence[str],
        load: Callable[[], list[dict[str, Any]]],
    ) -> list[dict[str, Any]]:
        if self.cache is None:
            return load()
        return self.cache.read(clinic_id, kind, scope, parts, load)

    def _decrypted(
        self, ctx: ReadContext, items: Sequence[Mapping[str, Any]], pattern: str
    ) -> list[Record]:
        plain = [from_attribute_values(i) for i in items]
        reader = AuditedPhiReader(self.access.codec(ctx.clinic_id), self.sink)
        phi = reader.decrypt(plain, ctx, pattern)
        return [Record(item, fields) for item, fields in zip(plain, phi, strict=True)]

    def get(self, ctx: ReadContext, pk: str, sk: str) -> Record | None:
        """One item of the reader's clinic by key (strongly consistent on a miss)."""
        clinic = check_clinic_id(ctx.clinic_id)
        scope = item_scope(clinic, pk)

        def load() -> list[dict[str, Any]]:
            item = self.access.get_item(clinic, pk, sk)
            return [] if item is None else [item]

        items = self._read(clinic, ITEM, scope, (pk, sk), load)
        records = self._decrypted(ctx, items, "get_item")
        return records[0] if records else None

    def patient_timeline(self, ctx: ReadContext, patient_id: str) -> list[Record]:
        clinic = check_clinic_id(ctx.clinic_id)
        params = {"clinicId": clinic, "patientId": patient_id}
        items = self._read(
            clinic,
            TIMELINE,
            ("patient", patient_id),
            (patient_id,),
            lambda: self.access.query("patient_timeline", params),
        )
        return self._decrypted(ctx, items, "patient_timeline")

    def provider_schedule(
        self, clinic_id: str, provider_id: str, start: str, end: str
    ) -> list[dict[str, Any]]:
        """A provider's appointments starting in [start, end): plain items, not decrypted (a
        schedule shows no PHI), so not a PHI read."""
        clinic = check_clinic_id(clinic_id)
        params = {"clinicId": clinic, "providerId": provider_id, "from": start, "to": end}
        items = self._read(
            clinic,
            SCHEDULE,
            ("provider", provider_id),
            (provider_id, start, end),
            lambda: self.access.query("provider_schedule", params),
        )
        return [from_attribute_values(i) for i in items]

    def put(self, clinic_id: str, entities: Iterable[AnyEntity]) -> WriteStats:
        """Write through :class:`TenantDataAccess` and invalidate what the write touches:
        before (so a failure after the table write still leaves no old generation to fill) and
        after the write (so no entry filled from a pre-write read is reachable)."""
        clinic = check_clinic_id(clinic_id)
        entities = list(entities)
        scopes: set[Scope] = set()
        for entity in entities:
            scopes |= entity_scopes(entity)
            if isinstance(entity, Appointment):
                # A reassigned appointment leaves its old provider's schedule too.
                old = self.access.get_item(clinic, entity.pk, entity.sk)
                old_provider = (old or {}).get("providerId", {}).get("S")
                if old_provider:
                    scopes.add(("provider", str(old_provider)))
        if self.cache is None:
            return self.access.put(clinic, entities)  # type: ignore[no-any-return]
        self.cache.invalidate(clinic, scopes)
        try:
            stats: WriteStats = self.access.put(clinic, entities)
        finally:
            self.cache.invalidate(clinic, scopes)
            self.cache.hold_pages(clinic, {s for s in scopes if s[0] != "clinic"})
        return stats
