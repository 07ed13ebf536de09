"""The local servers besides moto_server: PostgreSQL (the audit database), Valkey (the cache) and
the stream poller.

    python -m scripts.local_servers up --endpoint-url http://127.0.0.1:5000 [--stack dev]
    python -m scripts.local_servers down
    python -m scripts.local_servers status
    python -m scripts.local_servers audit-catch-up [--stack dev] [--timeout 120]

Called by ``scripts/start-local.sh`` (``make local-up``) after moto_server answers, and by
``scripts/stop-local.sh`` (``make local-down``) before it stops moto_server.

State, as every local service keeps it, in ``LOCAL_STATE_DIR`` (default ``.local``):
``postgres.pid`` (``<pid> <port>``), ``postgres.log``, ``postgres/`` (data directory and the
generated role passwords, mode 0600: the cluster survives restarts, its data too);
``valkey.pid`` (``<pid> <port>``), ``valkey.log``, ``valkey/`` (config, ACL file, generated user
passwords, all 0600; the server persists nothing);
``stream-poller.pid`` (``<pid> <endpoint>``), ``stream-poller.log``, its checkpoint and
on-failure file; and in ``env`` the lines ``AUDIT_DATABASE_URL`` (auditor, read-only),
``AUDIT_INGEST_DATABASE_URL`` (writer: the consumer and the app's read auditing) and
``AUDIT_ADMIN_DATABASE_URL`` (the owner; local only), ``CACHE_URL`` (the cache's application user)
and ``CACHE_ADMIN_URL`` (its admin; local only). ``up`` is idempotent and restarts a server
that died; ``down`` stops only what ``up`` started (a pid is signalled only while it is still that
server) and removes those lines.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from auditlog import schema
from scripts.aws_target import REPO_DIR, local_state_dir, read_env_file
from scripts.servers.postgres import Cluster, PostgresError, free_port, port_in_use
from scripts.servers.valkey import ValkeyError

PROG = "local-servers"
ENV_KEYS = (
    "AUDIT_DATABASE_URL",
    "AUDIT_INGEST_DATABASE_URL",
    "AUDIT_ADMIN_DATABASE_URL",
    "CACHE_URL",
    "CACHE_ADMIN_URL",
    "CACHE_INVALIDATOR_URL",
)


def say(message: str) -> None:
    print(f"{PROG}: {message}", flush=True)


def set_env_lines(state: Path, values: dict[str, str | None]) -> None:
    """Set (or, for None, remove) KEY=VALUE lines of ``state/env``, keeping the others; the file
    holds local passwords, so it is written 0600."""
    path = state / "env"
    lines = path.read_text().splitlines() if path.is_file() else []
    kept = [line for line in lines if line.partition("=")[0] not in values]
    kept += [f"{k}={v}" for k, v in values.items() if v is not None]
    if not kept:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_name(f"env.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("\n".join(kept) + "\n")
    os.replace(tmp, path)


def _cmdline(pid: int) -> str:
    """The command line of a live, non-zombie process, or ''."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            return ""
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _read_pidfile(path: Path) -> tuple[int, str] | None:
    try:
        pid, _, rest = path.read_text().strip().partition(" ")
        return int(pid), rest.strip()
    except (OSError, ValueError):
        return None


# --- PostgreSQL --------------------------------------------------------------------------------


def _cluster(state: Path, port: int) -> Cluster:
    return Cluster(state / "postgres" / "data", port, state / "postgres.log")


def _credentials(state: Path) -> dict[str, str]:
    path = state / "postgres" / "credentials.json"
    if path.is_file():
        data: dict[str, str] = json.loads(path.read_text())
        return data
    creds = {"postgres": secrets.token_urlsafe(18)}
    creds.update({role: secrets.token_urlsafe(18) for role in schema.ROLES})
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o755)  # noqa: S103 - the pgserver user must reach data/
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(creds, out)
    return creds


def postgres_up(state: Path, stack: str, requested_port: int) -> None:
    from scripts.servers.audit_db import provision
    from stackspec.config.stack import load_stack_config

    pidfile = state / "postgres.pid"
    recorded = _read_pidfile(pidfile)
    port = requested_port or (int(recorded[1]) if recorded and recorded[1].isdigit() else 0)
    cluster = _cluster(state, port or 1)
    running = cluster.pid()
    if recorded and running == recorded[0]:
        cluster = _cluster(state, int(recorded[1]))
        say(f"PostgreSQL is already running (pid {running}) on 127.0.0.1:{cluster.port}")
    else:
        if recorded:
            say(f"our PostgreSQL (pid {recorded[0]}) had died; its data is kept; restarting it")
            pidfile.unlink(missing_ok=True)
        if running is not None:
            raise PostgresError(
                f"a PostgreSQL that local-up did not record (pid {running}) runs on "
                f"{cluster.datadir}; stop it first"
            )
        if not port or port_in_use(port):
            port = free_port()
        cluster = _cluster(state, port)
        creds = _credentials(state)
        if not cluster.initialized:
            say(f"initializing a PostgreSQL 16 cluster in {cluster.datadir} (SCRAM auth)")
            cluster.init(creds["postgres"])
        pid = cluster.start()
        pidfile.write_text(f"{pid} {port}\n")
        say(f"PostgreSQL running (pid {pid}) on 127.0.0.1:{port}; log: {cluster.log}")
    creds = _credentials(state)
    cfg = load_stack_config(stack)
    db = provision(
        cluster,
        creds["postgres"],
        {r: creds[r] for r in schema.ROLES},
        schema.database_name(cfg.environment),
    )
    what = "created" if db.created else "kept"
    migrations = f"applied {', '.join(db.applied)}" if db.applied else "migrations up to date"
    say(f"audit database {db.name} {what}; {migrations}")
    set_env_lines(
        state,
        {
            "AUDIT_DATABASE_URL": db.reader_url,
            "AUDIT_INGEST_DATABASE_URL": db.ingest_url,
            "AUDIT_ADMIN_DATABASE_URL": db.owner_url,
        },
    )


def postgres_down(state: Path) -> None:
    pidfile = state / "postgres.pid"
    recorded = _read_pidfile(pidfile)
    if recorded is None:
        say("PostgreSQL is not running (no pid file)")
        return
    cluster = _cluster(state, int(recorded[1]) if recorded[1].isdigit() else 1)
    if cluster.pid() == recorded[0]:
        cluster.stop("fast")
        say(f"stopped PostgreSQL (pid {recorded[0]}); its data stays in {cluster.datadir}")
    else:
        say(f"our PostgreSQL (pid {recorded[0]}) had already exited")
    pidfile.unlink(missing_ok=True)


# --- Valkey (the cache) -------------------------------------------------------------------------


def cache_up(state: Path, stack: str) -> None:
    """Valkey 8.1 on a free loopback port with the definition's users (scripts/servers/valkey);
    restarts it (empty: it persists nothing) when it died. ``CACHE_URL`` is the application user,
    ``CACHE_ADMIN_URL`` the admin (local only), ``CACHE_INVALIDATOR_URL`` the stream invalidator's
    user (a password here; the deployed function reads its password from Secrets Manager)."""
    from scripts.servers import valkey as vk
    from stackspec.config.stack import load_stack_config
    from stackspec.definitions.cache import CacheUserRole, cache_definition

    cfg = load_stack_config(stack)
    definition = cache_definition(cfg)
    policy = dict(definition.parameters).get("maxmemory-policy", "volatile-lru")
    pidfile = state / "valkey.pid"
    recorded = _read_pidfile(pidfile)
    port = int(recorded[1]) if recorded and recorded[1].isdigit() else 0
    server = vk.local_server(state, port or 1, policy)
    passwords = vk.local_credentials(state, definition.users)
    app = definition.user(CacheUserRole.APPLICATION).user_name
    admin = definition.user(CacheUserRole.ADMIN).user_name
    invalidator = definition.user(CacheUserRole.INVALIDATOR).user_name
    if recorded and server.pid() == recorded[0]:
        say(f"Valkey is already running (pid {recorded[0]}) on 127.0.0.1:{port}")
    else:
        if recorded:
            say(f"our Valkey (pid {recorded[0]}) had died (it keeps nothing); restarting it")
            pidfile.unlink(missing_ok=True)
        if not port or port_in_use(port):
            port = free_port()
        server = vk.local_server(state, port, policy)
        server.configure(definition.users, passwords)
        pid = server.start((admin, passwords[admin]))
        pidfile.write_text(f"{pid} {port}\n")
        say(
            f"Valkey 8.1 running (pid {pid}) on 127.0.0.1:{port}, ACL users "
            f"{', '.join(u.user_name for u in definition.users)} (default off); log: {server.log}"
        )
    set_env_lines(
        state,
        {
            "CACHE_URL": server.url(app, passwords[app]),
            "CACHE_ADMIN_URL": server.url(admin, passwords[admin]),
            "CACHE_INVALIDATOR_URL": server.url(invalidator, passwords[invalidator]),
        },
    )


def cache_down(state: Path) -> None:
    from scripts.servers import valkey as vk

    pidfile = state / "valkey.pid"
    recorded = _read_pidfile(pidfile)
    if recorded is None:
        say("Valkey is not running (no pid file)")
        return
    server = vk.local_server(state, int(recorded[1]) if recorded[1].isdigit() else 1, "")
    if server.pid() == recorded[0]:
        server.stop()
        say(f"stopped Valkey (pid {recorded[0]}); it kept nothing")
    else:
        say(f"our Valkey (pid {recorded[0]}) had already exited")
    pidfile.unlink(missing_ok=True)


# --- stream poller ------------------------------------------------------------------------------


def _is_poller(pid: int) -> bool:
    return "scripts.stream_poller" in _cmdline(pid)


def poller_up(state: Path, stack: str, endpoint: str) -> None:
    pidfile = state / "stream-poller.pid"
    recorded = _read_pidfile(pidfile)
    if recorded and _is_poller(recorded[0]):
        if recorded[1] == endpoint:
            say(f"stream poller is already running (pid {recorded[0]}) on {endpoint}")
            return
        say(f"stream poller (pid {recorded[0]}) follows {recorded[1]}; restarting it on {endpoint}")
        _stop(recorded[0])
    elif recorded:
        say(f"our stream poller (pid {recorded[0]}) had died; restarting it")
    url = read_env_file(state / "env").get("AUDIT_INGEST_DATABASE_URL")
    if not url:
        raise PostgresError("the audit database is not recorded in .local/env; run local-up again")
    log = (state / "stream-poller.log").open("a")
    cache_url = read_env_file(state / "env").get("CACHE_INVALIDATOR_URL")
    env = {
        **os.environ,
        **({"CACHE_INVALIDATOR_URL": cache_url} if cache_url else {}),
        "AUDIT_INGEST_DATABASE_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    process = subprocess.Popen(  # noqa: S603 - our own module
        [
            sys.executable,
            "-m",
            "scripts.stream_poller",
            "--stack",
            stack,
            "--endpoint-url",
            endpoint,
            "--state-dir",
            str(state),
        ],
        cwd=REPO_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    pidfile.write_text(f"{process.pid} {endpoint}\n")
    say(f"stream poller running (pid {process.pid}) on {endpoint}; log: {log.name}")


def _stop(pid: int) -> None:
    os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        if not _cmdline(pid):
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def poller_down(state: Path) -> None:
    pidfile = state / "stream-poller.pid"
    recorded = _read_pidfile(pidfile)
    if recorded is None:
        say("stream poller is not running (no pid file)")
        return
    if _is_poller(recorded[0]):
        _stop(recorded[0])
        say(f"stopped the stream poller (pid {recorded[0]})")
    else:
        say(f"our stream poller (pid {recorded[0]}) had already exited")
    pidfile.unlink(missing_ok=True)


# --- commands -----------------------------------------------------------------------------------


def _valkey_alive(state: Path, recorded: tuple[int, str]) -> bool:
    from scripts.servers import valkey as vk

    return vk.local_server(state, int(recorded[1]), "").pid() == recorded[0]


def cmd_status(state: Path) -> int:
    rows = []
    moto = _read_pidfile(state / "moto.pid")
    alive = moto is not None and "moto_server" in _cmdline(moto[0])
    rows.append(("moto_server", moto, alive, f"http://127.0.0.1:{moto[1]}" if moto else "-"))
    pg = _read_pidfile(state / "postgres.pid")
    pg_alive = pg is not None and _cluster(state, 1).pid() == pg[0]
    rows.append(("postgres", pg, pg_alive, f"127.0.0.1:{pg[1]} (PostgreSQL 16)" if pg else "-"))
    vk = _read_pidfile(state / "valkey.pid")
    vk_alive = vk is not None and vk[1].isdigit() and _valkey_alive(state, vk)
    rows.append(("valkey", vk, vk_alive, f"127.0.0.1:{vk[1]} (Valkey 8.1)" if vk else "-"))
    poller = _read_pidfile(state / "stream-poller.pid")
    p_alive = poller is not None and _is_poller(poller[0])
    rows.append(("stream-poller", poller, p_alive, f"following {poller[1]}" if poller else "-"))
    logs = {"moto_server": "moto.log"}
    for name, rec, up, where in rows:
        state_text = "running" if up else ("dead (stale pid file)" if rec else "stopped")
        pid = str(rec[0]) if rec else "-"
        log = state / logs.get(name, f"{name}.log")
        print(f"{name:<14} {state_text:<22} pid {pid:<8} {where}  log: {log}")
    return 0


def cmd_catch_up(state: Path, stack: str, timeout: float) -> int:
    """Wait until every record of the stack's stream is in the audit trail, write a digest, then
    verify every chain: what ``make local`` ends with."""
    import boto3
    from botocore.config import Config

    from auditlog.connect import connect
    from auditlog.digest import write_digest
    from auditlog.verify import verify
    from scripts.stream_poller import RawRecords, lambda_records
    from stackspec.config.stack import load_stack_config

    cfg = load_stack_config(stack)
    env = read_env_file(state / "env")
    endpoint, url = env.get("AWS_ENDPOINT_URL"), env.get("AUDIT_DATABASE_URL")
    if not endpoint or not url:
        say("nothing to catch up: the emulator or the audit database is not running")
        return 2
    session = boto3.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - dummy
        region_name=cfg.region,
    )
    ddb = session.client("dynamodb", endpoint_url=endpoint)
    streams = session.client(
        "dynamodbstreams",
        endpoint_url=endpoint,
        config=Config(account_id_endpoint_mode="disabled"),
    )
    arn = ddb.describe_table(TableName=cfg.names.table)["Table"]["LatestStreamArn"]
    raw = RawRecords(streams)
    ids: list[str] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while it:
            raw.body = {}
            response = streams.get_records(ShardIterator=it, Limit=1000)
            got = lambda_records(raw.body.get("Records") or [], arn, cfg.region)
            ids += [r["eventID"] for r in got]
            if not got:
                break
            it = response.get("NextShardIterator")
    deadline = time.monotonic() + timeout
    with connect(url) as conn:
        while True:
            (stored,) = conn.execute(
                "SELECT count(*) FROM audit.event WHERE event_id = ANY(%s)", (ids,)
            ).fetchone() or (0,)
            if stored == len(ids) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if stored != len(ids):
            say(
                f"audit trail has {stored} of {len(ids)} stream records after {timeout:.0f}s; "
                f"see {state / 'stream-poller.log'}"
            )
            return 1
        digest_dir = state / "audit-digests" / stack
        path = write_digest(conn, digest_dir, label=stack)
        result = verify(conn, digest_dir)
    if not result.intact:
        for broken in result.breaks:
            say(f"audit verify: BROKEN: {broken}")
        return 1
    say(
        f"audit trail: all {len(ids)} stream records of {cfg.names.table} recorded; "
        f"{result.clinics} chains, {result.rows} rows verified; digest {path.name}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.local_servers")
    parser.add_argument("command", choices=("up", "down", "status", "audit-catch-up"))
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--endpoint-url", default=None)
    parser.add_argument("--pg-port", type=int, default=int(os.environ.get("AUDIT_PG_PORT") or 0))
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    state = local_state_dir()
    state.mkdir(parents=True, exist_ok=True)
    try:
        if args.command == "up":
            if not args.endpoint_url:
                parser.error("up needs --endpoint-url (the emulator's)")
            postgres_up(state, args.stack, args.pg_port)
            cache_up(state, args.stack)
            poller_up(state, args.stack, args.endpoint_url)
            return 0
        if args.command == "down":
            poller_down(state)
            cache_down(state)
            postgres_down(state)
            set_env_lines(state, dict.fromkeys(ENV_KEYS))
            return 0
        if args.command == "status":
            return cmd_status(state)
        return cmd_catch_up(state, args.stack, args.timeout)
    except (PostgresError, ValkeyError) as exc:
        say(str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())
